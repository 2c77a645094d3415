"""``dlict incident open|list|show|update|task|note|observable|close|reopen``: the case itself."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
