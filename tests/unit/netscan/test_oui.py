"""The OUI registry: a few rows of Debian's ieee-data files (tests/unit/fixtures/oui)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlict.netscan.oui import (
    LOCALLY_ADMINISTERED,
    UNKNOWN,
    OuiRegistry,
    is_locally_administered,
    normalise_mac,
)

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "oui"


def test_vendors_by_their_24_bit_prefix() -> None:
    registry = OuiRegistry(SAMPLE)
    assert registry.vendor("b8:27:eb:12:34:56") == "Raspberry Pi Foundation"
    assert registry.vendor("F4-BD-9E-00-00-01") == "Cisco Systems, Inc"
    assert registry.vendor("00163e0a000b") == "Xensource, Inc."


def test_smaller_blocks_win_over_the_ieee_block_they_are_carved_from() -> None:
    registry = OuiRegistry(SAMPLE)
    assert registry.vendor("20:85:93:b0:00:01") == "IOG Products LLC"  # MA-M 208593B
    assert registry.vendor("20:85:93:c0:00:01") == "IEEE Registration Authority"
    assert registry.vendor("70:b3:d5:f2:f0:01") == "TELEPLATFORMS"  # MA-S 70B3D5F2F


def test_unknown_and_locally_administered() -> None:
    registry = OuiRegistry(SAMPLE)
    assert registry.vendor("00:00:5e:00:53:01") == UNKNOWN
    assert registry.vendor("02:42:ac:11:00:02") == LOCALLY_ADMINISTERED  # Docker's
    assert registry.vendor("da:a1:19:00:00:01") == LOCALLY_ADMINISTERED  # a phone's random MAC
    assert is_locally_administered("b8:27:eb:12:34:56") is False


def test_the_registry_is_read_once_on_first_lookup(tmp_path: Path) -> None:
    registry = OuiRegistry(SAMPLE)
    assert registry._tables is None
    registry.vendor("b8:27:eb:00:00:01")
    tables = registry._tables
    registry.vendor("f4:bd:9e:00:00:01")
    assert registry._tables is tables
    assert OuiRegistry(tmp_path).vendor("b8:27:eb:00:00:01") == UNKNOWN  # no ieee-data


def test_mac_spellings() -> None:
    assert normalise_mac("B8-27-EB-12-34-56") == "b8:27:eb:12:34:56"
    with pytest.raises(ValueError, match="not a MAC address"):
        normalise_mac("b8:27:eb:12:34")
