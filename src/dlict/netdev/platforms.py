"""What dlict runs on each device platform: the command whose output is the configuration,
and the further show commands the device rules read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Output names every platform has.
CONFIG = "config"


@dataclass(frozen=True)
class Platform:
    """One device platform.

    ``name`` is the catalog's platform name (and the fixture folder), ``device_type`` netmiko's.
    ``commands`` maps an output name to the command that produces it; ``config`` is the one kept
    in the backup history, the others are read by the rules only.
    """

    name: str
    device_type: str
    commands: Mapping[str, str]
    # How the device says a command failed: netmiko hands that back as ordinary output.
    error_markers: tuple[str, ...] = ()

    def command_error(self, output: str) -> str | None:
        """The device's error line when ``output`` is a refusal rather than an answer."""
        for line in output.strip().splitlines()[:3]:
            if any(line.lstrip().startswith(m) for m in self.error_markers):
                return line.strip()
        return None

    @property
    def config_command(self) -> str:
        return self.commands[CONFIG]


ROUTEROS = Platform(
    name="routeros",
    device_type="mikrotik_routeros",
    # RouterOS 7 leaves secrets out of an export unless told show-sensitive; the rules need the
    # services and users, which an export shows only where they differ from the defaults.
    commands={
        CONFIG: "/export terse",
        "services": "/ip service print detail without-paging",
        "users": "/user print detail without-paging",
    },
    error_markers=("bad command name", "syntax error", "expected end of command",
                   "no such item", "input does not match any value"),
)
IOS = Platform(
    name="ios",
    device_type="cisco_ios",
    commands={CONFIG: "show running-config", "version": "show version"},
    error_markers=("% Invalid input", "% Incomplete command", "% Ambiguous command",
                   "% Authorization failed"),
)
FORTIOS = Platform(
    name="fortios",
    device_type="fortinet",
    commands={CONFIG: "show full-configuration"},
    error_markers=("command parse error", "Command fail.", "Unknown action"),
)

PLATFORMS: dict[str, Platform] = {p.device_type: p for p in (ROUTEROS, IOS, FORTIOS)}
# Platforms whose device_type netmiko names differently but which speak the same language.
PLATFORMS["cisco_xe"] = IOS


def platform_for(device_type: str | None) -> Platform | None:
    """The platform dlict backs up and audits for a netmiko device_type, or None."""
    return PLATFORMS.get(device_type or "")
