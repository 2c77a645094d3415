"""What every agent job is: a name, an interval, a deadline, and a run that returns records.

A job never writes to the outbox itself and never sends anything: the service puts what it
returns into the outbox, so a job that is cut at its deadline loses only its own run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dlict.agent.records import Record


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job knows of where it runs: the site and host its certificate names."""

    site: str
    host: str
    now: datetime


class Job(Protocol):
    name: str
    interval_s: float
    deadline_s: float

    def run(self, context: JobContext) -> Sequence[Record]:
        """Observe once; every record carries ``context.site``."""
        ...
