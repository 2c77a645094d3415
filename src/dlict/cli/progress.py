"""Progress bars the library's work reports into (through the callbacks it takes)."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from dlict.cli.context import AppContext
from dlict.netdev.run import Outcome


class DeviceBar:
    """One bar over the devices being worked on; nothing in JSON mode. Use as a context
    manager around the work; it is the ``DeviceProgress`` of ``dlict.netdev.operations``."""

    def __init__(self, actx: AppContext) -> None:
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), console=actx.console,
                                  disable=actx.json_output, transient=True)
        self._task: TaskID | None = None

    def __enter__(self) -> DeviceBar:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()

    def start(self, total: int) -> None:
        self._task = self._progress.add_task("devices", total=total)

    def done(self, outcome: Outcome) -> None:
        if self._task is not None:
            self._progress.advance(self._task)
