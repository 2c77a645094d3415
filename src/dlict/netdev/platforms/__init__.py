"""The device platforms dlict backs up and audits: one folder each, and this one registry that
inventory validation, the control catalog and the device session all read.

Adding a platform is a new folder ``platforms/<name>/`` whose ``__init__`` builds its
``DevicePlatform``, plus one line in ``REGISTRY``.
"""

from __future__ import annotations

from dlict.netdev.platforms.base import (
    CONFIG,
    AuditContext,
    DevicePlatform,
    Finding,
    Outputs,
    Rule,
    RuleSet,
    SshPlatform,
)
from dlict.netdev.platforms.fortios import FORTIOS
from dlict.netdev.platforms.ios import IOS
from dlict.netdev.platforms.routeros import ROUTEROS

REGISTRY: tuple[DevicePlatform, ...] = (
    ROUTEROS,
    IOS,
    FORTIOS,
)

# The name other modules have used for a platform's type.
Platform = DevicePlatform

# netmiko device_type → the platform that serves it.
PLATFORMS: dict[str, DevicePlatform] = {t: p for p in REGISTRY for t in p.device_types}

__all__ = ["CONFIG", "FORTIOS", "IOS", "PLATFORMS", "REGISTRY", "ROUTEROS", "AuditContext",
           "DevicePlatform", "Finding", "Outputs", "Platform", "Rule", "RuleSet", "SshPlatform",
           "platform_for", "platform_named", "platform_names", "served_device_types"]


def platform_for(device_type: str | None) -> DevicePlatform | None:
    """The platform that serves a netmiko device_type, or None."""
    return PLATFORMS.get(device_type or "")


def platform_named(name: str) -> DevicePlatform:
    """The platform called ``name`` (routeros, ios, fortios).

    Raises:
        KeyError: no platform has that name.
    """
    for platform in REGISTRY:
        if platform.name == name:
            return platform
    raise KeyError(name)


def platform_names() -> tuple[str, ...]:
    return tuple(p.name for p in REGISTRY)


def served_device_types() -> tuple[str, ...]:
    """Every netmiko device_type some platform serves, sorted."""
    return tuple(sorted(PLATFORMS))
