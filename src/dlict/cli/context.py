"""What every command gets from the global options."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from dlict.core.config import Settings
from dlict.core.errors import InputError
from dlict.core.logging import redact_known_in, setup_logging
from dlict.core.store import EvidenceStore
from dlict.inventory import Inventory, load_inventory


@dataclass
class AppContext:
    settings: Settings
    json_output: bool = False
    console: Console = field(default_factory=lambda: Console(highlight=False))
    _log_file_on: bool = False

    @property
    def lang(self) -> str:
        return self.settings.lang

    def inventory_path(self) -> Path:
        if self.settings.inventory is None:
            raise InputError("no inventory given: use -i/--inventory PATH or set DLICT_INVENTORY")
        return self.settings.inventory

    def inventory(self) -> Inventory:
        return load_inventory(self.inventory_path())

    def open_store(self) -> EvidenceStore:
        """The evidence store; commands that record runs also start the log file then."""
        if not self._log_file_on:
            setup_logging(self.settings.log_level, self.settings.log_json,
                          log_file=self.settings.log_file)
            self._log_file_on = True
        return EvidenceStore.open(self.settings.store_path)

    def print_json(self, data: Any) -> None:
        """``data`` as JSON on stdout, any registered secret masked (a probed service may
        echo one back)."""
        text = json.dumps(redact_known_in(data), ensure_ascii=False, indent=2, default=str)
        sys.stdout.write(text + "\n")


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        raise RuntimeError("the root command did not set up the application context")
    return obj
