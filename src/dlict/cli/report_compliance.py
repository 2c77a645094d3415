"""``dlict report compliance``: the cyber-security operations report by SOP clause 5.5.1-5.5.5."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
