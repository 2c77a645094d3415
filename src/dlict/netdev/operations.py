"""What ``dlict netdev backup``, ``dlict netdev audit`` and the device part of ``dlict audit``
do, for any caller: select the devices, fetch from them (reporting progress to the caller),
keep the status file ``dlict monitor`` serves, and return ``Result``s to record as a run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from dlict.core.extras import missing_extra
from dlict.core.results import Result, Status
from dlict.inventory.models import Inventory
from dlict.netdev.history import ConfigHistory
from dlict.netdev.run import (
    CONFIG_TARGET,
    NETDEV_EXTRA,
    BackupReport,
    Outcome,
    Selection,
    audit_results,
    backup,
    select_devices,
    session_options,
    work_on,
)
from dlict.netdev.status import netdev_dir, update_status


class DeviceProgress(Protocol):
    """What a caller is told while devices are worked on (a progress bar, or nothing)."""

    def start(self, total: int) -> None: ...

    def done(self, outcome: Outcome) -> None: ...


def config_history(data_dir: Path) -> ConfigHistory:
    return ConfigHistory(netdev_dir(data_dir) / "configs")


def fetch(inventory: Inventory, selection: Selection, names: tuple[str, ...] | None,
          data_dir: Path, progress: DeviceProgress) -> list[Outcome]:
    """Work on the selected devices (at most dlict_netdev.workers at once) and note which
    answered in the status file."""
    progress.start(len(selection.devices))
    outcomes = work_on(selection.devices, session_options(inventory), inventory.netdev.workers,
                       lambda _p: names, on_done=progress.done)
    now = datetime.now().timestamp()
    update_status(data_dir, {
        o.device.host.name: {"site": o.device.host.site, "reachable": o.error is None,
                             "checked_at": now} for o in outcomes})
    return outcomes


@dataclass(frozen=True)
class DeviceBackup:
    report: BackupReport
    history: ConfigHistory
    results: list[Result]


def backup_devices(inventory: Inventory, limit: str | None, data_dir: Path, command: str,
                   progress: DeviceProgress) -> DeviceBackup:
    """Fetch every selected device's running configuration and keep a version when it
    changed (one commit, message ``command``).

    Raises:
        InputError: no device matches, or one has no usable login (nothing contacted then).
        OperationalError: netmiko (the netdev extra) is not installed.
    """
    selection = select_devices(inventory, limit)
    outcomes = fetch(inventory, selection, ("config",), data_dir, progress)
    history = config_history(data_dir)
    report = backup(outcomes, history, command)
    update_status(data_dir, {
        e.host.name: {"site": e.host.site,
                      "config_changed_at": history.versions(e.host.name)[0].at.timestamp()}
        for e in report.entries if e.state != "failed" and history.versions(e.host.name)})
    results = report.results + [
        Result(site=h.site, host=h.name, target=CONFIG_TARGET, status=Status.SKIPPED,
               evidence=f"dlict cannot back up device type {h.device_type}")
        for h in selection.unsupported]
    return DeviceBackup(report, history, results)


@dataclass(frozen=True)
class DeviceAudit:
    results: list[Result]
    # Why the devices could not be reached at all (the netdev extra is missing), if so.
    problem: str | None = None


def audit_devices(inventory: Inventory, limit: str | None, data_dir: Path,
                  progress: DeviceProgress, *, strict: bool) -> DeviceAudit:
    """Judge every netdev control on the devices ``limit`` names.

    ``strict`` (dlict netdev audit): no device matching, a device without a login or a
    missing netdev extra stop the command. Not strict (the device part of dlict audit): no
    device is no result, and a device that cannot be judged gives error results saying why,
    so the hosts' part still runs.

    Raises:
        InputError: strict, and no device matches or one has no usable login.
        OperationalError: strict, and netmiko (the netdev extra) is not installed.
    """
    selection = select_devices(inventory, limit, strict=strict)
    if not selection.devices and not selection.unsupported and not selection.no_login:
        return DeviceAudit([])
    problem = None if strict or not selection.devices else missing_extra(*NETDEV_EXTRA)
    if problem is not None:
        # the one line naming what to install is the caller's to print; the evidence says why
        why = f"not audited: the {NETDEV_EXTRA[0]} extra ({NETDEV_EXTRA[1]}) is not installed"
        cannot_reach = [(d.host, why) for d in selection.devices]
        return DeviceAudit(audit_results(inventory, [], selection.unsupported,
                                         [*selection.no_login, *cannot_reach]), problem)
    outcomes = fetch(inventory, selection, None, data_dir, progress)
    results = audit_results(inventory, outcomes, selection.unsupported, selection.no_login)
    failures: dict[str, int] = {}
    for r in results:
        failures[r.host] = failures.get(r.host, 0) + (r.status is Status.FAIL)
    now = datetime.now().timestamp()
    update_status(data_dir, {
        o.device.host.name: {"site": o.device.host.site, "audited_at": now,
                             "audit_failures": failures.get(o.device.host.name, 0)}
        for o in outcomes if o.error is None})
    return DeviceAudit(results)

