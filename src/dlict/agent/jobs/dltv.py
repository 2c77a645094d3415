"""DLTV from inside the school, read with ``dlict.dltv``'s sources: Tvheadend on the LAN,
the local tuner through ``dvb-fe-tool`` (``adapterN``, or a file of its output), the online
HLS streams from the school's own connection.

Samples carry the monitor's DLTV families and labels (``channel`` per stream) plus
``source`` and ``receiver`` (its configured address: a school may watch its dish and the
streams, or two tuners) and ``vantage="agent"``. Each
receiver gives one result, judged as ``dlict monitor --once`` judges it: a fail when it
cannot be read or its tuner is not locked.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.recorder import Recorder
from dlict.agent.jobs.settings import DltvJobSettings, DltvReceiver
from dlict.agent.records import Record
from dlict.core.metric_names import (
    DLTV_AGE,
    DLTV_BER,
    DLTV_BITRATE,
    DLTV_LOCKED,
    DLTV_SIGNAL,
    DLTV_SNR,
    DLTV_SNR_MIN,
    DLTV_STREAM,
    DLTV_UNC,
    DLTV_UP,
)
from dlict.core.results import Status
from dlict.dltv import ReceiverSource, ReceiverStatus, Thresholds, make_source, thresholds_from

NAME = "dltv"


def receiver_target(receiver: DltvReceiver) -> str:
    return f"dltv {receiver.source} {receiver.address or 'local'}"


class DltvJob:
    """Every configured receiver, read once a run."""

    name = NAME

    def __init__(self, settings: DltvJobSettings) -> None:
        self.settings = settings
        self.interval_s = settings.interval_s
        self.deadline_s = settings.deadline_s
        self.readers: list[tuple[DltvReceiver, ReceiverSource, Thresholds]] = []
        for receiver in settings.receivers:
            thresholds = thresholds_from(None, receiver.source)
            self.readers.append((receiver, make_source(receiver.source, receiver.address,
                                                       receiver.channels, thresholds),
                                 thresholds))

    def run(self, context: JobContext) -> Sequence[Record]:
        out = Recorder(context)
        # side by side: a dead receiver costs its read timeout once, not once per receiver
        with ThreadPoolExecutor(max_workers=max(1, len(self.readers))) as pool:
            statuses = list(pool.map(self._read, self.readers))
        for (receiver, _reader, thresholds), status in zip(self.readers, statuses, strict=True):
            _samples(out, {"source": receiver.source, "receiver": receiver.address or "local"},
                     status, thresholds)
            good = status.reachable and status.locked is not False
            evidence = (status.error or "not readable" if not status.reachable
                        else _described(status))
            out.result(Status.PASS if good else Status.FAIL, evidence,
                       target=receiver_target(receiver))
        return out.records

    def _read(self, item: tuple[DltvReceiver, ReceiverSource, Thresholds]) -> ReceiverStatus:
        receiver, reader, _thresholds = item
        try:
            return reader.read(self.settings.read_timeout_s)
        except Exception as exc:  # one receiver's surprise must not stop the others
            return ReceiverStatus.unreadable(receiver.source,
                                             f"unexpected {type(exc).__name__}: {exc}")


def _described(status: ReceiverStatus) -> str:
    parts = [f"{status.source}: locked {status.locked}"]
    if status.snr_db is not None:
        parts.append(f"C/N {status.snr_db:g} dB")
    down = [f"{n} ({ch.problem})" for n, ch in sorted(status.channels.items())
            if not ch.stream_up]
    if status.channels:
        parts.append(f"channels down: {', '.join(down)}" if down else
                     f"channels {', '.join(str(n) for n in sorted(status.channels))} up")
    return "; ".join(parts)


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


def _samples(out: Recorder, labels: dict[str, str], status: ReceiverStatus,
             thresholds: Thresholds) -> None:
    out.sample(DLTV_UP, labels, float(status.reachable))
    out.sample(DLTV_LOCKED, labels, _flag(status.locked))
    out.sample(DLTV_SIGNAL, labels, status.signal_ratio)
    out.sample(DLTV_SNR, labels, status.snr_db)
    out.sample(DLTV_BER, labels, status.ber)
    out.sample(DLTV_UNC, labels, None if status.uncorrected_blocks is None
               else float(status.uncorrected_blocks))
    out.sample(DLTV_SNR_MIN, labels, thresholds.snr_min_db)
    for number, channel in sorted(status.channels.items()):
        channel_labels = {**labels, "channel": str(number)}
        out.sample(DLTV_STREAM, channel_labels, float(channel.stream_up))
        out.sample(DLTV_BITRATE, channel_labels, channel.bitrate_bps)
        out.sample(DLTV_AGE, channel_labels, channel.segment_age_s)
