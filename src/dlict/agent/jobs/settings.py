"""The ``jobs:`` section of the agent's configuration (owned by the jobs; one model a job)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class JobSettings(BaseModel):
    """What every job has: whether it runs, how often, and when it is cut."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    interval_s: float = Field(default=60, ge=5, le=86_400)
    deadline_s: float = Field(default=30, ge=1, le=3_600)


class JobsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
