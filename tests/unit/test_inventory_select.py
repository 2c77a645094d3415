"""--limit as Ansible reads the common host patterns: names, groups, sites, globs, ! and &."""

from __future__ import annotations

import pytest

from dlict.core.errors import InputError
from dlict.inventory.models import Host, Inventory, Role
from dlict.inventory.select import select_hosts


def inventory() -> Inventory:
    def host(name: str, site: str, *groups: str) -> Host:
        return Host(name=name, address="127.0.0.1", site=site,
                    roles=frozenset({Role.NETWORK_DEVICE}), groups=frozenset(groups))

    hosts = [host("office-fw", "office", "office", "fortios"),
             host("s1-gw", "4401010001", "school_4401010001", "routeros"),
             host("s2-gw", "4401010002", "school_4401010002", "ios"),
             host("s2-srv", "4401010002", "school_4401010002", "linux_servers")]
    return Inventory(source="inv", sites=(), hosts={h.name: h for h in hosts})


def names(limit: str | None) -> list[str]:
    return [h.name for h in select_hosts(inventory(), limit)]


def test_patterns() -> None:
    assert names(None) == names("all") == ["office-fw", "s1-gw", "s2-gw", "s2-srv"]
    assert names("s1-gw") == ["s1-gw"]
    assert names("school_4401010002") == names("4401010002") == ["s2-gw", "s2-srv"]
    assert names("*-gw") == ["s1-gw", "s2-gw"]
    assert names("routeros:ios,fortios") == ["office-fw", "s1-gw", "s2-gw"]
    assert names("school_*,!linux_servers") == ["s1-gw", "s2-gw"]
    assert names("*-gw,&ios") == ["s2-gw"]
    assert names("nothing-*") == []


def test_a_plain_name_that_is_nothing_is_bad_input() -> None:
    with pytest.raises(InputError, match="--limit: 's9-gw' matches no host, group or site of inv"):
        select_hosts(inventory(), "s1-gw,s9-gw")
