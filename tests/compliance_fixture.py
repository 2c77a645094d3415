"""A fixed evidence store for the compliance report's tests, recorded through dlict.runs as the
real commands record it. The figures the tests expect are worked out by hand in the tests from
what is written here.

Schools of the example district: 4401010001 โรงเรียนสารคามพิทยาคม (S1), 4401010002
โรงเรียนผดุงนารี (S2). The report's period is November 2026 (B.E. 2569); the previous period is
2-31 October 2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from dlict.core.clock import BANGKOK, to_utc
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from dlict.runs import record_run

S1, S2 = "4401010001", "4401010002"
S1_NAME, S2_NAME = "โรงเรียนสารคามพิทยาคม", "โรงเรียนผดุงนารี"
NOT_A_LOG_SERVER = "not a log server (group log_servers): this host keeps no district log tree"
WINBOX_OPEN = "winbox service listens on 0.0.0.0/0 (address not restricted)"


def at(month: int, day: int, hour: int = 9) -> datetime:
    """A Bangkok time in 2026, as UTC."""
    return to_utc(datetime.combine(datetime(2026, month, day).date(), time(hour), BANGKOK))


@dataclass(frozen=True)
class Runs:
    previous: int
    first: int
    second: int
    devices: int
    apply: int
    after: int


def write_store(data_dir: Path) -> Runs:
    """The store: one audit in the previous period, two audits and a device audit in the
    period, an ``apply`` run (not evidence) and an audit after the period."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with EvidenceStore.open(data_dir / "evidence.sqlite") as store:
        def run(kind: str, *results: Result) -> int:
            return record_run(store, kind, results).id

        when = at(10, 15)
        previous = run("audit",
                       Result(S1, "s4401010001-srv", Status.PASS, "FW-01", observed_at=when),
                       Result(S1, "s4401010001-srv", Status.FAIL, "AV-01", observed_at=when,
                              evidence="clamav-daemon is not running"),
                       Result(S2, "s4401010002-srv", Status.FAIL, "FW-01", observed_at=when,
                              evidence="input policy accept"),
                       Result(S2, "s4401010002-srv", Status.PASS, "AV-01", observed_at=when))
        when = at(11, 10)
        first = run("audit",
                    Result(S1, "s4401010001-srv", Status.PASS, "FW-01", observed_at=when),
                    Result(S1, "s4401010001-srv", Status.FAIL, "AV-01", observed_at=when,
                           evidence="clamav-daemon is not running"),
                    Result(S2, "s4401010002-srv", Status.PASS, "FW-01", observed_at=when),
                    Result(S2, "s4401010002-srv", Status.PASS, "AV-01", observed_at=when))
        when = at(11, 20)
        unreachable = "ssh: connect to host 127.10.2.10 port 22: Connection timed out"
        second = run("audit",
                     Result(S1, "s4401010001-srv", Status.PASS, "FW-01", observed_at=when),
                     Result(S1, "s4401010001-srv", Status.PASS, "AV-01", observed_at=when),
                     Result(S1, "s4401010001-srv", Status.SKIPPED, "LOG-02", observed_at=when,
                            evidence=NOT_A_LOG_SERVER),
                     Result(S2, "s4401010002-srv", Status.UNREACHABLE, "FW-01",
                            observed_at=when, evidence=unreachable),
                     Result(S2, "s4401010002-srv", Status.UNREACHABLE, "AV-01",
                            observed_at=when, evidence=unreachable))
        when = at(11, 21)
        devices = run("netdev-audit",
                      Result(S1, "s4401010001-gw", Status.FAIL, "FW-06", observed_at=when,
                             evidence=WINBOX_OPEN),
                      Result(S2, "s4401010002-gw", Status.PASS, "FW-06", observed_at=when))
        # Not evidence: an apply run changes hosts, it does not prove them.
        apply = run("apply", Result(S1, "s4401010001-srv", Status.FAIL, "FW-01",
                                    observed_at=at(11, 22), evidence="apply failed"))
        after = run("audit", Result(S2, "s4401010002-gw", Status.FAIL, "FW-06",
                                    observed_at=at(12, 1, 8), evidence="after the period"))
    return Runs(previous, first, second, devices, apply, after)
