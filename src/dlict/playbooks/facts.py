"""Reach every Linux host and record what it runs: the first proof that dlict can work."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dlict.core.paths import data_path
from dlict.core.results import Result, Status
from dlict.inventory.models import Inventory
from dlict.playbooks.runner import AnsibleEvent, run_playbook

TARGET = "ssh"


def _evidence(event: AnsibleEvent) -> str:
    facts = event.result.get("ansible_facts", {}).get("dlict_host_facts", {})
    if not facts:
        return event.message
    return (f"{facts.get('hostname')}: {facts.get('os')}, service manager "
            f"{facts.get('service_mgr')}, Python {facts.get('python')}")


def gather_facts(
    inventory: Inventory,
    *,
    limit: str | None = None,
    forks: int = 20,
    timeout: int = 20,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """One result per Linux host: pass with its OS facts, unreachable, or error."""
    outcome: dict[str, Result] = {}

    def record(event: AnsibleEvent) -> None:
        host = inventory.hosts.get(event.host)
        if host is None:
            return
        if event.unreachable:
            status = Status.UNREACHABLE
        elif event.failed:
            status = Status.ERROR
        elif event.task.startswith("Record the facts"):
            status = Status.PASS
        else:
            return
        result = Result(site=host.site, host=host.name, target=TARGET, status=status,
                        evidence=_evidence(event))
        outcome[host.name] = result
        if on_result is not None:
            on_result(result)

    run = run_playbook(Path(data_path("playbooks")) / "facts.yml", Path(inventory.source),
                       limit=limit, forks=forks, timeout=timeout, on_event=record)
    # Hosts Ansible worked on but that gave no usable event still get a row: silence is no pass.
    for name in sorted(run.hosts_with("processed") - outcome.keys()):
        host = inventory.hosts.get(name)
        if host is not None:
            outcome[name] = Result(site=host.site, host=name, target=TARGET, status=Status.ERROR,
                                   evidence=f"Ansible ended with status {run.status}, no facts")
    return sorted(outcome.values(), key=lambda r: (r.site, r.host))
