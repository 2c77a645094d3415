"""``dlict report monthly``: the computer and network statistics report."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
