"""Weeks of audit history for a district, recorded through dlict.runs as the real commands
record them: for the documentation's picture of the compliance report and for trying the report
without a fleet.

Every third day an ``audit`` run judges each Linux server's and Windows PC's playbook controls and a
``netdev-audit`` run each network device's rules. A few controls fail and are fixed later,
one school's server is unreachable on the last audit, LOG-02 is not applicable outside the log
server. The same seed gives the same history.

    python -m lab.compliance_history -i inventory/example --data-dir DIR [--days 60]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from dlict.controls import CheckedBy, load_catalog
from dlict.core.clock import BANGKOK, to_utc
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from dlict.inventory import Inventory, load_inventory
from dlict.inventory.models import Role
from dlict.playbooks.sop import controls_for
from dlict.runs import record_run

EVERY_DAYS = 3
NOT_A_LOG_SERVER = "not a log server (group log_servers): this host keeps no district log tree"


def _audit_results(inventory: Inventory, when: datetime, rng: random.Random, *,
                   last: bool) -> tuple[list[Result], list[Result]]:
    catalog = load_catalog()
    servers, devices = [], []
    schools = sorted({h.site for h in inventory.hosts.values() if Role.LINUX_SERVER in h.roles})
    unreachable_site = schools[-1] if last else None
    for host in sorted(inventory.hosts.values(), key=lambda h: h.name):
        if Role.LINUX_SERVER in host.roles or Role.WINDOWS_ENDPOINT in host.roles:
            for control in controls_for(host, catalog.checked_by(CheckedBy.ANSIBLE)):
                if host.site == unreachable_site:
                    status, evidence = Status.UNREACHABLE, "ssh: connect to host: timed out"
                elif control.id == "LOG-02" and Role.LOG_SERVER not in host.roles:
                    status, evidence = Status.SKIPPED, NOT_A_LOG_SERVER
                elif rng.random() < 0.06:
                    status, evidence = Status.FAIL, f"{control.id}: {control.check[:80]}"
                else:
                    status, evidence = Status.PASS, "ok"
                servers.append(Result(host.site, host.name, status, control=control.id,
                                      evidence=evidence, observed_at=when))
        elif Role.NETWORK_DEVICE in host.roles:
            for control in catalog.checked_by(CheckedBy.NETDEV):
                failing = rng.random() < 0.08
                devices.append(Result(
                    host.site, host.name, Status.FAIL if failing else Status.PASS,
                    control=control.id, evidence=control.check[:80] if failing else "ok",
                    observed_at=when + timedelta(minutes=5)))
    return servers, devices


def write_history(store: EvidenceStore, inventory: Inventory, end: date, days: int,
                  seed: int = 2569) -> int:
    """Record audits every EVERY_DAYS days from ``days`` days before ``end`` to ``end``; the
    number of runs recorded."""
    rng = random.Random(seed)  # a repeatable picture, not a secret
    count = 0
    day = end - timedelta(days=days - 1)
    while day <= end:
        when = to_utc(datetime.combine(day, time(9, 30), BANGKOK))
        last = day + timedelta(days=EVERY_DAYS) > end
        servers, devices = _audit_results(inventory, when, rng, last=last)
        for kind, results in (("audit", servers), ("netdev-audit", devices)):
            if results:
                record_run(store, kind, results, command=f"dlict {kind.replace('-', ' ')}")
                count += 1
        day += timedelta(days=EVERY_DAYS)
    return count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--inventory", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--end", type=date.fromisoformat,
                        default=datetime.now(BANGKOK).date())
    arguments = parser.parse_args(argv)
    arguments.data_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    with EvidenceStore.open(arguments.data_dir / "evidence.sqlite") as store:
        runs = write_history(store, load_inventory(arguments.inventory), arguments.end,
                             arguments.days)
    print(f"recorded {runs} runs in {arguments.data_dir / 'evidence.sqlite'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
