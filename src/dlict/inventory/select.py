"""Which hosts a ``--limit`` names, the way Ansible reads a host pattern (the common forms)."""

from __future__ import annotations

import fnmatch
import re

from dlict.core.errors import InputError
from dlict.inventory.models import Host, Inventory


def select_hosts(inventory: Inventory, limit: str | None) -> list[Host]:
    """Hosts matching ``limit``: names, groups, site IDs or glob patterns of any of them,
    separated by ``,`` or ``:``; ``!x`` removes, ``&x`` intersects. None or ``all`` is every
    host. Sorted by name.

    Raises:
        InputError: a plain name (no wildcard) that is no host, group or site.
    """
    hosts = inventory.hosts
    if limit is None or limit.strip() in ("", "all", "*"):
        return [hosts[name] for name in sorted(hosts)]
    chosen: set[str] = set()
    for raw in (p.strip() for p in re.split(r"[,:]", limit) if p.strip()):
        op, pattern = (raw[0], raw[1:]) if raw[0] in "!&" else ("", raw)
        matched = {name for name, host in hosts.items() if _matches(host, pattern)}
        if not matched and not any(ch in pattern for ch in "*?["):
            raise InputError(f"--limit: '{pattern}' matches no host, group or site of "
                             f"{inventory.source}")
        if op == "!":
            chosen -= matched
        elif op == "&":
            chosen &= matched
        else:
            chosen |= matched
    return [hosts[name] for name in sorted(chosen)]


def _matches(host: Host, pattern: str) -> bool:
    names = (host.name, host.site, *host.groups)
    return any(fnmatch.fnmatchcase(name, pattern) for name in names)
