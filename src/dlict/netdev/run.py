"""Work on many devices at once (bounded), then turn what they said into history and results."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from dlict.controls import CheckedBy, load_catalog
from dlict.core.errors import InputError
from dlict.core.extras import require_extra
from dlict.core.results import Result, Status
from dlict.inventory.models import Host, Inventory, Role
from dlict.inventory.select import select_hosts
from dlict.netdev.credentials import Credentials, credentials_for
from dlict.netdev.history import ConfigHistory
from dlict.netdev.platforms import CONFIG, Platform, platform_for
from dlict.netdev.rules import AuditContext, normalizer, platform_rules
from dlict.netdev.session import DeviceError, Failure, SessionOptions, fetch_outputs

CONFIG_TARGET = "config"
NETDEV_EXTRA = ("netdev", "netmiko", "paramiko")  # the extra, and what it installs


@dataclass(frozen=True)
class Device:
    host: Host
    platform: Platform
    credentials: Credentials


@dataclass
class Outcome:
    device: Device
    outputs: dict[str, str] = field(default_factory=dict)
    error: DeviceError | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Selection:
    devices: list[Device]
    unsupported: list[Host]
    # Devices without a usable login, with why (only when the caller asked not to stop).
    no_login: list[tuple[Host, str]] = field(default_factory=list)


def select_devices(inventory: Inventory, limit: str | None,
                   environ: Mapping[str, str] | None = None, *,
                   strict: bool = True) -> Selection:
    """The network devices ``limit`` names, each with its platform and login.

    Raises:
        InputError: no network device matches (strict), or a device has no usable login
            (strict; nothing is contacted then).
    """
    hosts = [h for h in select_hosts(inventory, limit) if Role.NETWORK_DEVICE in h.roles]
    if not hosts and strict:
        raise InputError(f"no network device in {inventory.source} matches --limit "
                         f"{limit or 'all'}")
    devices, unsupported, no_login = [], [], []
    for host in hosts:
        platform = platform_for(host.device_type)
        if platform is None:
            unsupported.append(host)
            continue
        try:
            devices.append(Device(host, platform, credentials_for(host, environ)))
        except InputError as exc:
            if strict:
                raise
            no_login.append((host, str(exc)))
    return Selection(devices, unsupported, no_login)


def session_options(inventory: Inventory) -> SessionOptions:
    configured = inventory.netdev.known_hosts
    if configured is None:
        known_hosts = Path("~/.ssh/known_hosts").expanduser()
    else:
        known_hosts = Path(configured).expanduser()
        if not known_hosts.is_absolute():
            source = Path(inventory.source)
            base = source if source.is_dir() else source.parent
            known_hosts = base / known_hosts
    return SessionOptions(known_hosts=known_hosts, timeout_s=inventory.netdev.timeout_s)


def work_on(devices: Iterable[Device], options: SessionOptions, workers: int,
            names: Callable[[Platform], tuple[str, ...] | None],
            on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Fetch each device's outputs, at most ``workers`` devices at once; a device that hangs
    holds one worker for at most its timeouts, never the others.

    Raises:
        OperationalError: there are devices, but netmiko (the netdev extra) is not installed.
    """
    outcomes: list[Outcome] = []
    todo = list(devices)
    if todo:
        require_extra(*NETDEV_EXTRA)

    def one(device: Device) -> Outcome:
        started = time.monotonic()
        outcome = Outcome(device)
        try:
            outcome.outputs = fetch_outputs(device.host, device.platform, device.credentials,
                                            options, names(device.platform))
        except DeviceError as exc:
            outcome.error = exc
        outcome.seconds = time.monotonic() - started
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo) or 1)),
                            thread_name_prefix="netdev") as pool:
        for future in as_completed([pool.submit(one, d) for d in todo]):
            outcome = future.result()
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
    outcomes.sort(key=lambda o: o.device.host.name)
    return outcomes


def failure_status(error: DeviceError) -> Status:
    return Status.UNREACHABLE if error.failure is Failure.UNREACHABLE else Status.ERROR


@dataclass(frozen=True)
class BackupEntry:
    host: Host
    state: str  # new | changed | unchanged | failed
    diff: str = ""
    error: str = ""
    lines: int = 0


@dataclass
class BackupReport:
    entries: list[BackupEntry]
    commit: str | None
    results: list[Result]


def backup(outcomes: list[Outcome], history: ConfigHistory, command: str) -> BackupReport:
    """Normalise and store every fetched configuration; one commit for those that changed."""
    configs: dict[str, str] = {}
    previous: dict[str, str | None] = {}
    for outcome in outcomes:
        if outcome.error is None:
            name = outcome.device.host.name
            text = normalizer(outcome.device.platform.name)(outcome.outputs[CONFIG])
            configs[name] = text if text.endswith("\n") else text + "\n"
            previous[name] = history.current(name)
    commit, changed = history.record(configs, command)
    entries, results = [], []
    for outcome in outcomes:
        host = outcome.device.host
        if outcome.error is not None:
            entries.append(BackupEntry(host, "failed", error=str(outcome.error)))
            results.append(Result(site=host.site, host=host.name, target=CONFIG_TARGET,
                                  status=failure_status(outcome.error),
                                  evidence=str(outcome.error)))
            continue
        lines = len(configs[host.name].splitlines())
        if host.name in changed:
            state = "new" if previous[host.name] is None else "changed"
            diff = history.diff(host.name, f"{commit}~1" if state == "changed" else None,
                                commit or "HEAD")
            evidence = f"{state}: {lines} lines, version {commit[:12] if commit else ''}"
        else:
            state, diff, evidence = "unchanged", "", f"unchanged: {lines} lines"
        entries.append(BackupEntry(host, state, diff=diff, lines=lines))
        results.append(Result(site=host.site, host=host.name, target=CONFIG_TARGET,
                              status=Status.PASS, evidence=evidence))
    return BackupReport(entries, commit, results)


def audit_context(inventory: Inventory, host: Host) -> AuditContext:
    wan = host.settings.get("dlict_wan_interfaces") or ()
    return AuditContext(
        log_servers=tuple(h.address for h in inventory.hosts_in_role(Role.LOG_SERVER)),
        min_firmware=dict(inventory.netdev.min_firmware),
        wan_interfaces=tuple(str(i) for i in wan) if isinstance(wan, list | tuple) else (),
    )


def audit_results(inventory: Inventory, outcomes: list[Outcome],
                  unsupported: Iterable[Host] = (),
                  no_login: Iterable[tuple[Host, str]] = ()) -> list[Result]:
    """One result per device × netdev control: the rule's verdict, or why there is none."""
    controls = [c.id for c in load_catalog().checked_by(CheckedBy.NETDEV)]
    results: list[Result] = []
    for outcome in outcomes:
        host = outcome.device.host
        if outcome.error is not None:
            status = failure_status(outcome.error)
            results += [Result(site=host.site, host=host.name, control=c, status=status,
                               evidence=str(outcome.error)) for c in controls]
            continue
        rules = platform_rules(outcome.device.platform.name)
        context = audit_context(inventory, host)
        for control in controls:
            rule = rules.get(control)
            if rule is None:
                results.append(Result(site=host.site, host=host.name, control=control,
                                      status=Status.SKIPPED,
                                      evidence=f"no {outcome.device.platform.name} rule"))
                continue
            try:
                finding = rule(outcome.outputs, context)
            except Exception as exc:  # a parser bug must not hide the other rules' verdicts
                results.append(Result(site=host.site, host=host.name, control=control,
                                      status=Status.ERROR,
                                      evidence=f"rule failed: {type(exc).__name__}: {exc}"))
                continue
            results.append(Result(site=host.site, host=host.name, control=control,
                                  status=finding.status, evidence=finding.evidence))
    for host in unsupported:
        results += [Result(site=host.site, host=host.name, control=c, status=Status.SKIPPED,
                           evidence=f"dlict has no rules for device type {host.device_type}")
                    for c in controls]
    for host, why in no_login:
        results += [Result(site=host.site, host=host.name, control=c, status=Status.ERROR,
                           evidence=why) for c in controls]
    return results
