"""Fortinet FortiGate (FortiOS)."""

from __future__ import annotations

from dlict.netdev.platforms.base import CONFIG, SshPlatform
from dlict.netdev.platforms.fortios.normalise import normalize_config
from dlict.netdev.platforms.fortios.rules import RULES, firmware_version

FORTIOS = SshPlatform(
    name="fortios",
    network_os=("fortinet.fortios.fortios", "fortios"),
    device_types=("fortinet",),
    commands={CONFIG: "show full-configuration"},
    error_markers=("command parse error", "Command fail.", "Unknown action"),
    rule_set=RULES,
    normalize=normalize_config,
    firmware_version=firmware_version,
)
