"""What every command gets from the global options."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from dlict.cli.text import json_text
from dlict.core.config import Settings
from dlict.core.errors import InputError
from dlict.core.files import make_private_dirs, os_failure
from dlict.core.logging import redact_known_in, setup_logging
from dlict.core.results import Result
from dlict.core.store import EvidenceStore
from dlict.runs import RunRecord, RunRecorder, record_run, recording

if TYPE_CHECKING:
    from dlict.inventory import Inventory


@dataclass
class AppContext:
    settings: Settings
    json_output: bool = False
    # Emoji codes off: a ``:name:`` in a school's name is text. Markup stays on for dlict's own
    # styles; every value that is not ours goes through ``dlict.cli.text.shown``. Soft wrap:
    # a message is one line however long its path (rich would break it at 80 columns when the
    # output is a pipe, and `grep` would miss it); tables still fit their columns.
    console: Console = field(default_factory=lambda: Console(highlight=False, emoji=False,
                                                             soft_wrap=True))
    _log_file_on: bool = False
    _district: Inventory | None = None  # the inventory this command loaded last, if any

    @property
    def lang(self) -> str:
        return self.settings.lang

    def inventory_path(self) -> Path:
        if self.settings.inventory is None:
            raise InputError("no inventory given: use -i/--inventory PATH or set DLICT_INVENTORY")
        return self.settings.inventory

    def inventory(self) -> Inventory:
        # Ansible's inventory parser is heavy: the school agent's commands never load it.
        from dlict.inventory import load_inventory

        self._district = load_inventory(self.inventory_path())
        return self._district

    def district_for_findings(self) -> Inventory | None:
        """The inventory whose ``dlict_incidents`` says which findings raise a case: the one
        this command loaded, else loaded now; None when no inventory is given."""
        if self._district is None and self.settings.inventory is not None:
            return self.inventory()
        return self._district

    def open_store(self) -> EvidenceStore:
        """The evidence store; commands that record runs also start the log file then."""
        settings = self.settings
        if not self._log_file_on:
            try:
                make_private_dirs(settings.data_dir)
            except OSError as exc:
                raise os_failure(settings.data_dir, "create the data directory", exc) from exc
            try:
                setup_logging(settings.log_level, settings.log_json, log_file=settings.log_file)
            except OSError as exc:
                raise os_failure(settings.log_file, "open the log file", exc) from exc
            self._log_file_on = True
        return EvidenceStore.open(settings.store_path)

    def _run_origin(self) -> dict[str, str]:
        inventory = self.settings.inventory
        return {"command": shlex.join(["dlict", *sys.argv[1:]]),
                "inventory": "" if inventory is None else str(inventory)}

    def record(self, kind: str, results: Sequence[Result], *, failed: bool = False
               ) -> RunRecord:
        """Record a finished run of this command in the evidence store (``dlict.runs``)."""
        with self.open_store() as store:
            return record_run(store, kind, results, failed=failed,
                              findings=self.district_for_findings, **self._run_origin())

    @contextmanager
    def recording(self, kind: str) -> Iterator[RunRecorder]:
        """A run of this command that starts now and is finished by the caller."""
        with self.open_store() as store, recording(store, kind, **self._run_origin(),
                                                   findings=self.district_for_findings) as rec:
            yield rec

    def print_json(self, data: Any) -> None:
        """``data`` as JSON on stdout, any registered secret masked (a probed service may
        echo one back)."""
        sys.stdout.write(json_text(redact_known_in(data)) + "\n")


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        raise RuntimeError("the root command did not set up the application context")
    return obj
