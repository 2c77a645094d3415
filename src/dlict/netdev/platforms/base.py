"""What every device platform is made of: the ``DevicePlatform`` protocol, its built-in
implementation ``SshPlatform``, and the vocabulary of the device rules (pure functions over a
device's command outputs, one per catalog control)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from dlict.core.results import Status

# Output names every platform has.
CONFIG = "config"


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


@dataclass(frozen=True)
class RuleSet:
    """The rules every platform writes, by what they judge; ``by_control`` is the one table
    that says which catalog control each one answers (FW-10 comes from the firmware parser)."""

    management_from_wan: Rule
    clear_text_management: Rule
    input_ends_in_drop: Rule
    dns_not_open: Rule
    no_blank_passwords: Rule
    snmp_communities: Rule
    remote_syslog: Rule
    ntp_configured: Rule

    def by_control(self) -> dict[str, Rule]:
        return {
            "FW-06": self.management_from_wan,
            "FW-07": self.clear_text_management,
            "FW-08": self.input_ends_in_drop,
            "FW-09": self.dns_not_open,
            "ID-10": self.no_blank_passwords,
            "ID-11": self.snmp_communities,
            "LOG-05": self.remote_syslog,
            "LOG-06": self.ntp_configured,
        }


FirmwareParser = Callable[[Outputs], str | None]


class DevicePlatform(Protocol):
    """One device operating system, everything dlict knows about it in one object.

    ``name``: the catalog's platform name (a control's ``platforms``, ``min_firmware`` keys,
    the fixture folder). ``device_types``: the netmiko device types it serves; the first is the
    driver dlict connects with. ``network_os``: the ansible_network_os names (FQCN and short)
    that mean this platform. ``commands``: output name → command; ``config`` is the one kept
    in the backup history. ``error_markers``: how the device says a command failed (netmiko
    hands that back as ordinary output). ``needs_enable``: the commands need privileged mode.
    ``rules``: control ID → rule. ``normalize``: the configuration as the backup history keeps
    it. ``firmware_version``: the running version read from the outputs, or None.
    """

    @property
    def name(self) -> str: ...
    @property
    def device_types(self) -> tuple[str, ...]: ...
    @property
    def network_os(self) -> tuple[str, ...]: ...
    @property
    def commands(self) -> Mapping[str, str]: ...
    @property
    def error_markers(self) -> tuple[str, ...]: ...
    @property
    def needs_enable(self) -> bool: ...
    @property
    def rules(self) -> Mapping[str, Rule]: ...
    @property
    def normalize(self) -> Callable[[str], str]: ...
    @property
    def firmware_version(self) -> FirmwareParser: ...
    @property
    def device_type(self) -> str: ...
    @property
    def config_command(self) -> str: ...
    def command_error(self, output: str) -> str | None: ...


@dataclass(frozen=True)
class SshPlatform:
    """A platform worked on through netmiko over SSH: the built-in ``DevicePlatform``."""

    name: str
    device_types: tuple[str, ...]
    commands: Mapping[str, str]
    error_markers: tuple[str, ...]
    rule_set: RuleSet
    normalize: Callable[[str], str]
    firmware_version: FirmwareParser
    network_os: tuple[str, ...] = ()
    needs_enable: bool = False

    @property
    def device_type(self) -> str:
        """The netmiko driver dlict connects with."""
        return self.device_types[0]

    @property
    def config_command(self) -> str:
        return self.commands[CONFIG]

    @property
    def rules(self) -> dict[str, Rule]:
        return {**self.rule_set.by_control(), "FW-10": self.firmware_rule}

    def firmware_rule(self, outputs: Outputs, context: AuditContext) -> Finding:
        """FW-10: the version the device reports against the district's minimum."""
        return firmware_finding("FW-10", self.name, self.firmware_version(outputs), context)

    def command_error(self, output: str) -> str | None:
        """The device's error line when ``output`` is a refusal rather than an answer."""
        for line in output.strip().splitlines()[:3]:
            if any(line.lstrip().startswith(m) for m in self.error_markers):
                return line.strip()
        return None
