"""Device rules: pure functions over a device's command outputs, one per catalog control.

Each platform module exposes ``RULES: dict[str, Rule]`` keyed by control ID (every control the
catalog checks with netdev) and, where it can tell, ``firmware_version(outputs)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dlict.core.results import Status


@dataclass(frozen=True)
class AuditContext:
    """What the district decided, which the rules compare a device against.

    ``log_servers``: addresses of the inventory's log_servers (LOG-05).
    ``min_firmware``: minimum version per platform name (routeros, ios, fortios) (FW-10).
    ``wan_interfaces``: interfaces that face the internet, when the inventory names them for
    this device; otherwise each platform's own convention (RouterOS interface list WAN, IOS
    ip nat outside, FortiOS role wan).
    """

    log_servers: tuple[str, ...] = ()
    min_firmware: Mapping[str, str] = field(default_factory=dict)
    wan_interfaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one device: pass or fail, and what was seen (one short paragraph)."""

    control: str
    status: Status
    evidence: str


Outputs = Mapping[str, str]
Rule = Callable[[Outputs, AuditContext], Finding]


def version_key(version: str) -> tuple[int, ...]:
    """Numbers of a firmware version in order: ``7.12.1`` → (7, 12, 1); ``15.2(4)M7`` →
    (15, 2, 4, 7); letters and other separators only divide the numbers."""
    numbers: list[int] = []
    digits = ""
    for ch in version:
        if ch.isdigit():
            digits += ch
        elif digits:
            numbers.append(int(digits))
            digits = ""
    if digits:
        numbers.append(int(digits))
    return tuple(numbers)


def version_at_least(found: str, minimum: str) -> bool:
    return version_key(found) >= version_key(minimum)


def firmware_finding(control: str, platform: str, found: str | None,
                     context: AuditContext) -> Finding:
    """FW-10 on any platform: the reported version against the district's minimum."""
    minimum = context.min_firmware.get(platform)
    if found is None:
        return Finding(control, Status.FAIL, "the device did not report its firmware version")
    if minimum is None:
        return Finding(control, Status.PASS, f"version {found}; no minimum set for {platform} "
                       "(dlict_netdev.min_firmware)")
    if version_at_least(found, minimum):
        return Finding(control, Status.PASS, f"version {found} ≥ minimum {minimum}")
    return Finding(control, Status.FAIL, f"version {found} is below the minimum {minimum}")


def platform_rules(platform: str) -> Mapping[str, Rule]:
    """The rules of a platform (routeros, ios, fortios), by control ID."""
    module = importlib.import_module(f"dlict.netdev.rules.{platform}")
    rules: Mapping[str, Rule] = module.RULES
    return rules


def normalizer(platform: str) -> Callable[[str], str]:
    """The platform's volatile-line stripper for the backup history."""
    module = importlib.import_module(f"dlict.netdev.rules.{platform}")
    normalize: Callable[[str], str] = module.normalize_config
    return normalize
