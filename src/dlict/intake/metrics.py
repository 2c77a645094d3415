"""The agents' state and the newest value of what they sent, as Prometheus text for /metrics.

Read from the evidence store at scrape time (``dlict.intake.ingest`` keeps it), written with
the project's one text writer. The agent-sent series are bounded: at most
``MAX_SERIES_PER_AGENT`` per agent are kept (the ingest counts the rest in
``dlict_agent_series_over_cap_total``), only those with a value from the last hour (by the
agent's clock corrected by its measured offset) are served, and only under a valid metric
name that is not one of the intake's own; ``site`` and ``host`` always come from the agent's
certificate, never from the agent's labels.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from dlict.core import metric_names as names
from dlict.core.promtext import Family, Writer, labels
from dlict.core.store import EvidenceStore

UP_WITHIN = timedelta(minutes=10)
FRESH_WITHIN = timedelta(hours=1)
_METRIC_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FAMILIES = (names.AGENT_UP, names.AGENT_LAST_SEEN, names.AGENT_OUTBOX, names.AGENT_DROPPED,
             names.AGENT_CLOCK_OFFSET, names.AGENT_SERIES_OVER_CAP)
_OWN = frozenset(family.name for family in _FAMILIES)  # an agent cannot serve these
_NAMED = {family.name: family for family in names.ALL}
_KINDS = ("result", "event", "sample")


@dataclass(frozen=True, slots=True)
class AgentState:
    site: str
    host: str
    last_seen: datetime
    clock_offset_s: float
    outbox_records: int
    dropped: dict[str, int]
    series_over_cap: int


def agent_states(store: EvidenceStore) -> list[AgentState]:
    with store.reading() as conn:
        rows = conn.execute(
            "SELECT site, host, last_seen, clock_offset_s, outbox_records, dropped_results,"
            " dropped_events, dropped_samples, series_over_cap FROM agent_state"
            " ORDER BY site, host").fetchall()
    return [AgentState(site, host, datetime.fromisoformat(seen), offset, outbox,
                       dict(zip(_KINDS, (results, events, samples), strict=True)), over)
            for site, host, seen, offset, outbox, results, events, samples, over in rows]


def _agent_families(writer: Writer, states: list[AgentState], now: datetime,
                    up_within: timedelta) -> None:
    who = [(labels({"site": s.site, "host": s.host}), s) for s in states]
    writer.family(names.AGENT_UP, [(key, 1.0 if now - s.last_seen <= up_within else 0.0)
                                   for key, s in who])
    writer.family(names.AGENT_LAST_SEEN, [(key, s.last_seen.timestamp()) for key, s in who])
    writer.family(names.AGENT_OUTBOX, [(key, float(s.outbox_records)) for key, s in who])
    writer.family(names.AGENT_DROPPED, [
        (labels({"site": s.site, "host": s.host, "kind": kind}), float(s.dropped[kind]))
        for _key, s in who for kind in _KINDS])
    writer.family(names.AGENT_CLOCK_OFFSET, [(key, s.clock_offset_s) for key, s in who])
    writer.family(names.AGENT_SERIES_OVER_CAP, [(key, float(s.series_over_cap))
                                                for key, s in who])


def _servable(name: str, pairs: dict[str, str]) -> bool:
    return (bool(_METRIC_NAME.fullmatch(name)) and name not in _OWN
            and all(_LABEL_NAME.fullmatch(key) and not key.startswith("__") for key in pairs))


def _sample_families(writer: Writer, store: EvidenceStore, states: list[AgentState],
                     now: datetime) -> None:
    offsets = {(s.site, s.host): timedelta(seconds=s.clock_offset_s) for s in states}
    with store.reading() as conn:
        rows = conn.execute("SELECT site, host, name, labels, value, observed_at FROM"
                            " agent_series ORDER BY name, site, host, labels").fetchall()
    by_name: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for site, host, name, label_json, value, observed in rows:
        seen = datetime.fromisoformat(observed) + offsets.get((site, host), timedelta())
        pairs = json.loads(label_json)
        if now - seen > FRESH_WITHIN or not _servable(name, pairs):
            continue
        pairs.pop("site", None)
        pairs.pop("host", None)
        by_name[name].append((labels({"site": site, "host": host, **pairs}), float(value)))
    for name, samples in by_name.items():
        # a series named in metric_names (the agent's jobs) keeps its own help and type
        family = _NAMED.get(name) or Family(
            name, names.AGENT_SAMPLE_HELP, "counter" if name.endswith("_total") else "gauge")
        writer.family(family, samples)


def render(store: EvidenceStore, now: datetime, *, up_within: timedelta = UP_WITHIN) -> str:
    """The intake's /metrics text at ``now``."""
    writer = Writer()
    states = agent_states(store)
    _agent_families(writer, states, now, up_within)
    _sample_families(writer, store, states, now)
    return writer.text()
