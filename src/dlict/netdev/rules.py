"""The device rules as the audit and backup read them: a platform's rules and normaliser by
platform name, from the registry (the rules themselves live in ``platforms/<name>/``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dlict.netdev.platforms import platform_named
from dlict.netdev.platforms.base import (
    AuditContext,
    Finding,
    Outputs,
    Rule,
    firmware_finding,
    version_at_least,
    version_key,
)

__all__ = ["AuditContext", "Finding", "Outputs", "Rule", "firmware_finding", "normalizer",
           "platform_rules", "version_at_least", "version_key"]


def platform_rules(platform: str) -> Mapping[str, Rule]:
    """The rules of a platform (routeros, ios, fortios), by control ID."""
    return platform_named(platform).rules


def normalizer(platform: str) -> Callable[[str], str]:
    """The platform's volatile-line stripper for the backup history."""
    return platform_named(platform).normalize
