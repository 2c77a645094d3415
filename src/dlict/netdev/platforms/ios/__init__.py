"""Cisco IOS (and IOS XE, which speaks the same configuration language)."""

from __future__ import annotations

from dlict.netdev.platforms.base import CONFIG, SshPlatform
from dlict.netdev.platforms.ios.normalise import normalize_config
from dlict.netdev.platforms.ios.rules import RULES, VERSION, firmware_version

IOS = SshPlatform(
    name="ios",
    network_os=("cisco.ios.ios", "ios"),
    device_types=("cisco_ios", "cisco_xe"),
    commands={CONFIG: "show running-config", VERSION: "show version"},
    error_markers=("% Invalid input", "% Incomplete command", "% Ambiguous command",
                   "% Authorization failed"),
    rule_set=RULES,
    normalize=normalize_config,
    firmware_version=firmware_version,
    # show running-config needs privileged mode; a prompt that already ends in # is there.
    needs_enable=True,
)
