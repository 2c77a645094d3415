"""The long-running commands (monitor, intake, incident intake) stop on SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def stop_on_signals() -> threading.Event:
    """An event SIGTERM and SIGINT set. Call it before anything listens: a SIGTERM sent as
    soon as the port answers still stops the command cleanly."""
    stop = threading.Event()

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop
