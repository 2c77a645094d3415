"""MikroTik RouterOS, v6.4x and v7."""

from __future__ import annotations

from dlict.netdev.platforms.base import CONFIG, SshPlatform
from dlict.netdev.platforms.routeros.normalise import normalize_config
from dlict.netdev.platforms.routeros.rules import RULES, firmware_version

ROUTEROS = SshPlatform(
    name="routeros",
    network_os=("community.routeros.routeros", "routeros"),
    device_types=("mikrotik_routeros",),
    # RouterOS 7 leaves secrets out of an export unless told show-sensitive; the rules need the
    # services and users, which an export shows only where they differ from the defaults.
    commands={
        CONFIG: "/export terse",
        "services": "/ip service print detail without-paging",
        "users": "/user print detail without-paging",
    },
    error_markers=("bad command name", "syntax error", "expected end of command",
                   "no such item", "input does not match any value"),
    rule_set=RULES,
    normalize=normalize_config,
    firmware_version=firmware_version,
)
