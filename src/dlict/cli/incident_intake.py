"""``dlict incident intake``: Alertmanager webhooks and findings become cases."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
