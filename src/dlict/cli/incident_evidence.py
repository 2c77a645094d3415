"""``dlict incident evidence add|verify`` and ``dlict incident logs``: evidence with its proof."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
