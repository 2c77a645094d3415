"""Scores per site and area: the share of checked controls that hold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dlict.controls import Catalog
from dlict.core.results import Result, Status


@dataclass
class Score:
    site: str
    area: str
    counts: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))

    @property
    def checked(self) -> int:
        return sum(n for s, n in self.counts.items() if s is not Status.SKIPPED)

    @property
    def percent(self) -> float | None:
        """Passed out of checked (skipped ones excluded); None when nothing was checked."""
        return 100.0 * self.counts[Status.PASS] / self.checked if self.checked else None


def scores(results: Sequence[Result], catalog: Catalog) -> list[Score]:
    """One score per (site, area), plus a district-wide line per area (site ``*``)."""
    table: dict[tuple[str, str], Score] = {}
    for result in results:
        control = catalog.by_id.get(result.control or "")
        if control is None:
            continue
        for site in (result.site, "*"):
            key = (site, control.area)
            table.setdefault(key, Score(site, control.area)).counts[result.status] += 1
    order = {area: i for i, area in enumerate(catalog.areas)}
    return sorted(table.values(),
                  key=lambda s: (s.site == "*", s.site, order.get(s.area, 99)))
