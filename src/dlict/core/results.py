"""The one result model every runner produces and every report and metric reads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dlict.core.clock import to_utc, utc_now


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    ERROR = "error"
    UNREACHABLE = "unreachable"
    # Not applicable on this host (the evidence says why): neither a pass nor a finding.
    SKIPPED = "skipped"

    @property
    def needs_attention(self) -> bool:
        """A fail, an error or an unreachable host: what the operator must look at."""
        return self not in (Status.PASS, Status.SKIPPED)


@dataclass(frozen=True, slots=True)
class Result:
    """One observation: on ``host`` at ``site``, a ``control`` or probe ``target`` has ``status``.

    ``evidence`` is what was observed (a diff, a value, an error text), kept for the auditor.
    """

    site: str
    host: str
    status: Status
    control: str | None = None
    target: str | None = None
    evidence: str = ""
    observed_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        if not self.control and not self.target:
            raise ValueError("a result names a control or a target")
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "observed_at", to_utc(self.observed_at))


def count_by_status(results: Iterable[Result]) -> dict[Status, int]:
    """How many results have each status; every status is present, zero included."""
    counts = Counter(r.status for r in results)
    return {status: counts.get(status, 0) for status in Status}
