"""Scores per site and area: the share of judged controls that hold.

An unreachable host was not judged: it is counted apart (``unreachable``), never as a 0 % that
drags its site's and the district's score down. A not-applicable result (skipped) is counted
apart too. A fail or an error (the check ran and could not show the control holds) is judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dlict.controls import Catalog
from dlict.core.results import Result, Status

#: Statuses that say nothing about whether a control holds.
NOT_JUDGED = frozenset({Status.SKIPPED, Status.UNREACHABLE})


@dataclass
class Score:
    site: str
    area: str
    counts: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))

    @property
    def checked(self) -> int:
        """Results that judged the control: pass, fail or error."""
        return sum(n for s, n in self.counts.items() if s not in NOT_JUDGED)

    @property
    def unreachable(self) -> int:
        return self.counts[Status.UNREACHABLE]

    @property
    def percent(self) -> float | None:
        """Passed out of checked (not applicable and unreachable excluded); None when nothing
        was checked."""
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
