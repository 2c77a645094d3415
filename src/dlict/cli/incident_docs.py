"""``dlict incident report|export``: the memo, notifications and annexes; JSON, DFIR-IRIS."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
