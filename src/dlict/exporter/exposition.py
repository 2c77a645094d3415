"""The /metrics text, read from the monitor's state at scrape time.

Two parts. The small one — the monitor's own figures and the process metrics — goes through
prometheus-client's registry and a Collector. The per-site families (30,000 sites make about
half a million samples) and the info families are written by ``SiteExposition`` with
``dlict.core.promtext`` (the writer ``logs check --metrics`` uses too): prometheus-client's
generic writer needs about 2 s for that many (measured), so the label sets are formatted
once from the plan and each scrape only appends values. The text is the same exposition
format (a test runs promtool on it); it is rendered again only when the state has changed.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

import dlict
from dlict.core.metric_names import (
    BUILD_INFO,
    DLTV_AGE,
    DLTV_BER,
    DLTV_BITRATE,
    DLTV_LOCKED,
    DLTV_SIGNAL,
    DLTV_SNR,
    DLTV_SNR_MIN,
    DLTV_STREAM,
    DLTV_SUCCESS,
    DLTV_UNC,
    DLTV_UP,
    LINK_UP,
    MONITOR_CYCLE,
    MONITOR_LAST_CYCLE,
    MONITOR_OVERRUN,
    MONITOR_TARGETS,
    PROBE_JITTER,
    PROBE_LOSS,
    PROBE_MAX,
    PROBE_MIN,
    PROBE_RTT,
    PROBE_SUCCESS,
    PROBE_UP,
    SITE_INFO,
)
from dlict.core.promtext import Family, Writer, labels
from dlict.dltv import ReceiverStatus
from dlict.exporter.plan import MonitorPlan
from dlict.exporter.service_registry import SERVICE_PROBES
from dlict.exporter.state import LinkSample, MonitorState


def _labels(**pairs: str) -> str:
    return labels(pairs)


TRICKLE_S = 1.0


class _Section:
    """One part of the text, kept (plain and gzip-compressed) until its data changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = -1
        self.rendered_at = 0.0
        self.text = b""
        self.zipped: bytes | None = None

    def get(self, generation: int, min_age_s: float, render: Callable[[], str],
            compressed: bool) -> bytes:
        with self.lock:  # concurrent scrapes wait for one render, then share it
            now = time.monotonic()
            if generation != self.generation and (
                    self.generation < 0 or now - self.rendered_at >= min_age_s):
                self.text = render().encode()
                self.zipped = None
                self.generation = generation
                self.rendered_at = now
            if not compressed:
                return self.text
            if self.zipped is None:
                # gzip members may follow one another; Prometheus reads them as one stream
                self.zipped = gzip.compress(self.text, compresslevel=1) if self.text else b""
            return self.zipped


# the families SiteExposition writes, in the order it writes them
ALL_FAMILIES = (BUILD_INFO, SITE_INFO, LINK_UP, PROBE_UP, PROBE_RTT, PROBE_MIN, PROBE_MAX,
                PROBE_JITTER, PROBE_LOSS, PROBE_SUCCESS,
                *(metric.family for probe in SERVICE_PROBES.values() for metric in probe.metrics),
                DLTV_UP, DLTV_LOCKED, DLTV_SIGNAL, DLTV_SNR, DLTV_BER,
                DLTV_UNC, DLTV_SNR_MIN, DLTV_STREAM, DLTV_BITRATE, DLTV_AGE, DLTV_SUCCESS)


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


class SiteExposition:
    """Renders the per-site families; label sets come from the plan, values from the state."""

    def __init__(self, plan: MonitorPlan, state: MonitorState) -> None:
        self.plan = plan
        self.state = state
        # (address, its label sets): one per site probing it, formatted once
        self._icmp = [(address, [_labels(site=s, target=address) for s in sites])
                      for address, sites in plan.icmp_sites.items()]
        self._sites = [(_labels(site=site), addresses)
                       for site, addresses in plan.sites_with_links().items()]
        self._sections = {name: _Section()
                          for name in ("info", "links", "services", "receivers")}

    def body(self, compressed: bool) -> bytes:
        """The newest text (gzip-compressed if asked). Each section is rendered again only
        when its part of the state has changed: the links once per ICMP cycle, the service
        and DLTV results, which arrive one by one, at most once every ``TRICKLE_S``."""
        state = self.state
        parts = [
            self._sections["info"].get(0, 0.0, self._render_info, compressed),
            self._sections["links"].get(state.link_generation, 0.0, self._render_links,
                                        compressed),
            self._sections["services"].get(state.service_generation, TRICKLE_S,
                                           self._render_services, compressed),
            self._sections["receivers"].get(state.receiver_generation, TRICKLE_S,
                                            self._render_receivers, compressed),
        ]
        return b"".join(parts)

    def render(self) -> str:
        """The whole per-site text, rendered now."""
        return (self._render_info() + self._render_links() + self._render_services()
                + self._render_receivers())

    def _render_info(self) -> str:
        out = Writer()
        out.family(BUILD_INFO, [(_labels(version=dlict.__version__), 1.0)])
        out.family(SITE_INFO, ((_labels(site=site, name_th=names.name_th,
                                        name_en=names.name_en, amphoe=names.amphoe), 1.0)
                               for site, names in self.plan.sites.items()))
        return out.text()

    def _render_links(self) -> str:
        with self.state.lock:
            links, success = self.state.links, dict(self.state.link_success)
        out = Writer()
        self._links(out, links, success)
        return out.text()

    def _render_services(self) -> str:
        with self.state.lock:
            services = dict(self.state.services)
        out = Writer()
        for kind, probe in SERVICE_PROBES.items():
            labelled = [(_labels(site=key[0], target=key[2]), s)
                        for key, s in services.items() if key[1] == kind]
            for metric in probe.metrics:
                out.family(metric.family, ((lab, metric.value(s)) for lab, s in labelled))
        return out.text()

    def _render_receivers(self) -> str:
        with self.state.lock:
            receivers = dict(self.state.receivers)
            success = dict(self.state.receiver_success)
        out = Writer()
        self._receivers(out, receivers, success)
        return out.text()

    def _links(self, out: Writer, links: dict[str, LinkSample],
               success: dict[str, float]) -> None:
        rows = [(labels, links.get(address), success.get(address))
                for address, labels in self._icmp]
        present = [(labels, sample, last) for labels, sample, last in rows if sample is not None]

        def each(pick: str) -> Iterator[tuple[str, float | None]]:
            for label_sets, sample, _last in present:
                value = getattr(sample, pick)
                for lab in label_sets:
                    yield lab, value

        out.family(LINK_UP, ((site_labels, float(any(
            (s := links.get(a)) is not None and s.received for a in addresses)))
            for site_labels, addresses in self._sites
            if any(a in links for a in addresses)))
        out.family(PROBE_UP, ((lab, float(sample.received > 0))
                              for labels, sample, _ in present for lab in labels))
        out.family(PROBE_RTT, each("rtt_s"))
        out.family(PROBE_MIN, each("min_s"))
        out.family(PROBE_MAX, each("max_s"))
        out.family(PROBE_JITTER, each("jitter_s"))
        out.family(PROBE_LOSS, each("loss_ratio"))
        out.family(PROBE_SUCCESS, ((lab, last) for labels, _sample, last in rows
                                   if last is not None for lab in labels))

    def _receivers(self, out: Writer, receivers: dict[str, ReceiverStatus],
                   success: dict[str, float]) -> None:
        checks = {c.site: c for c in self.plan.receivers}
        rows = [(site, _labels(site=site), status) for site, status in receivers.items()]
        out.family(DLTV_UP, ((lab, float(st.reachable)) for _, lab, st in rows))
        out.family(DLTV_LOCKED, ((lab, _flag(st.locked)) for _, lab, st in rows))
        out.family(DLTV_SIGNAL, ((lab, st.signal_ratio) for _, lab, st in rows))
        out.family(DLTV_SNR, ((lab, st.snr_db) for _, lab, st in rows))
        out.family(DLTV_BER, ((lab, st.ber) for _, lab, st in rows))
        out.family(DLTV_UNC, ((lab, st.uncorrected_blocks) for _, lab, st in rows))
        out.family(DLTV_SNR_MIN, ((_labels(site=site), c.thresholds.snr_min_db)
                                  for site, c in checks.items()))
        streams = [(_labels(site=site, channel=str(n)), ch)
                   for site, _, st in rows for n, ch in sorted(st.channels.items())]
        out.family(DLTV_STREAM, ((lab, float(ch.stream_up)) for lab, ch in streams))
        out.family(DLTV_BITRATE, ((lab, ch.bitrate_bps) for lab, ch in streams))
        out.family(DLTV_AGE, ((lab, ch.segment_age_s) for lab, ch in streams))
        out.family(DLTV_SUCCESS, ((_labels(site=site), last) for site, last in success.items()))


class MonitorCollector(Collector):
    """The monitor's own figures, read at scrape time."""

    def __init__(self, plan: MonitorPlan, state: MonitorState) -> None:
        self.plan = plan
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = self.state
        yield _gauge(MONITOR_TARGETS, len(self.plan.icmp_sites))
        if state.cycle_seconds is not None and state.last_cycle is not None:
            yield _gauge(MONITOR_CYCLE, state.cycle_seconds)
            yield _gauge(MONITOR_LAST_CYCLE, state.last_cycle)
        yield _gauge(MONITOR_OVERRUN, state.overruns)


def _gauge(family: Family, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(family.name, family.help, value=value)

class Exposition:
    """The whole /metrics answer: the registry's part, then the per-site part."""

    def __init__(self, plan: MonitorPlan, state: MonitorState,
                 data_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(MonitorCollector(plan, state))
        if data_dir is not None:
            from dlict.exporter.netdev_metrics import NetdevCollector

            self.registry.register(NetdevCollector(data_dir))
        ProcessCollector(registry=self.registry)
        self.sites = SiteExposition(plan, state)

    def body(self, compressed: bool) -> bytes:
        own = generate_latest(self.registry)
        if compressed:
            return gzip.compress(own, compresslevel=1) + self.sites.body(compressed=True)
        return own + self.sites.body(compressed=False)
