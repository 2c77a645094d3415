"""Who made a network card: the IEEE registry of MAC prefixes, as Debian's ``ieee-data``
package ships it (``/usr/share/ieee-data``).

``oui.csv`` holds the 24-bit MA-L blocks; ``mam.csv`` (28-bit) and ``oui36.csv`` (36-bit) the
smaller blocks carved out of IEEE's own, which are looked up first. The files are read once, on
the first lookup.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

from loguru import logger

IEEE_DATA = Path("/usr/share/ieee-data")
UNKNOWN = "unknown vendor"
LOCALLY_ADMINISTERED = "locally administered (random)"
# registry file -> how many hex digits of the MAC its assignments hold
_FILES = (("oui36.csv", 9), ("mam.csv", 7), ("oui.csv", 6))
_MAC = re.compile(r"^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$")


def normalise_mac(mac: str) -> str:
    """``aa:bb:cc:dd:ee:ff`` from any of the usual spellings.

    Raises:
        ValueError: not a MAC address.
    """
    text = mac.strip().lower()
    if not _MAC.match(text):
        raise ValueError(f"'{mac}' is not a MAC address")
    digits = re.sub(r"[:-]", "", text)
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def is_locally_administered(mac: str) -> bool:
    """The U/L bit of the first octet: set by software (random or virtual), not a vendor's."""
    return bool(int(normalise_mac(mac)[:2], 16) & 0x02)


class OuiRegistry:
    """MAC prefix → organisation, from the IEEE registry files in one directory."""

    def __init__(self, directory: Path = IEEE_DATA) -> None:
        self.directory = directory
        self._tables: list[tuple[int, dict[str, str]]] | None = None

    def _load(self) -> list[tuple[int, dict[str, str]]]:
        tables = []
        for name, digits in _FILES:
            path = self.directory / name
            if not path.is_file():
                continue
            table: dict[str, str] = {}
            with path.open(encoding="utf-8", errors="replace", newline="") as handle:
                rows = csv.DictReader(handle)
                try:
                    for row in rows:
                        prefix = (row.get("Assignment") or "").strip().lower()
                        organisation = (row.get("Organization Name") or "").strip()
                        if len(prefix) == digits and organisation:
                            table[prefix] = organisation
                except csv.Error as exc:  # a damaged file: keep the rows read so far
                    logger.warning("{} line {}: {}; the rest of it is not used", path,
                                   rows.line_num, exc)
            tables.append((digits, table))
        if not any(table for _digits, table in tables):
            logger.warning("no IEEE registry in {} (install Debian's ieee-data): vendors of "
                           "MAC addresses are shown as unknown", self.directory)
        return tables

    @property
    def tables(self) -> list[tuple[int, dict[str, str]]]:
        if self._tables is None:
            self._tables = self._load()
        return self._tables

    def vendor(self, mac: str) -> str:
        """The organisation the MAC's block is assigned to, or why there is none."""
        if is_locally_administered(mac):
            return LOCALLY_ADMINISTERED
        digits = normalise_mac(mac).replace(":", "")
        for length, table in self.tables:
            found = table.get(digits[:length])
            if found is not None:
                return found
        return UNKNOWN


@functools.cache
def default_registry() -> OuiRegistry:
    return OuiRegistry()


def vendor(mac: str) -> str:
    """Vendor of ``mac`` from the system's IEEE registry (read on first use)."""
    return default_registry().vendor(mac)
