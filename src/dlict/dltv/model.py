"""One shape for what every DLTV receiver source reports, and the thresholds it is judged by.

A source (Tvheadend, a Linux DVB frontend read with ``dvb-fe-tool``, or the online HLS
streams) is a small class with ``read(timeout_s) -> ReceiverStatus``; the exporter runs many at
once in a thread pool, so ``read`` is synchronous, keeps to its timeout and never raises for a
network problem: it returns ``reachable=False`` with a one-line ``error``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from dlict.core.errors import InputError

# The receiver sources dlict reads: the one list of their names (the inventory's
# dlict_site.dltv.source, dltv_thresholds keys, ReceiverStatus.source).
TVHEADEND = "tvheadend"
DVB_FEMON = "dvb_femon"
HLS = "hls"
SOURCES = (TVHEADEND, DVB_FEMON, HLS)
SATELLITE_SOURCES = (TVHEADEND, DVB_FEMON)  # they read the dish's tuner
STREAM_SOURCES = (HLS,)  # the online streams: nothing about a dish
NO_SOURCE = "none"  # the inventory's word for a school without a receiver to watch
DLTV_CHANNELS = range(1, 16)


@dataclass
class ChannelStatus:
    """One DLTV channel (1-15) as the source sees it.

    ``problem`` says in a few words why a channel is not up (no subscription, HTTP 404, the
    newest segment too old …); it is ``None`` when the channel is up.
    """

    stream_up: bool
    bitrate_bps: float | None = None
    segment_age_s: float | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"stream_up": self.stream_up, "bitrate_bps": self.bitrate_bps,
                "segment_age_s": self.segment_age_s, "problem": self.problem}


@dataclass
class ReceiverStatus:
    """A receiver as one read found it; every figure is ``None`` when the source has none.

    ``locked`` is ``None`` when the source cannot tell (Tvheadend with no tuner in use).
    ``channels`` is keyed by DLTV channel number and empty when the receiver could not be read.
    """

    source: str
    reachable: bool
    locked: bool | None = None
    signal_ratio: float | None = None
    signal_dbm: float | None = None
    snr_db: float | None = None
    ber: float | None = None
    uncorrected_blocks: int | None = None
    channels: dict[int, ChannelStatus] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def unreadable(cls, source: str, error: str) -> ReceiverStatus:
        """The answer for a receiver that could not be read."""
        return cls(source, reachable=False, error=" ".join(error.split()))

    def as_dict(self) -> dict[str, object]:
        """JSON-ready; channel numbers become string keys."""
        return {
            "source": self.source, "reachable": self.reachable, "locked": self.locked,
            "signal_ratio": self.signal_ratio, "signal_dbm": self.signal_dbm,
            "snr_db": self.snr_db, "ber": self.ber,
            "uncorrected_blocks": self.uncorrected_blocks,
            "channels": {str(n): ch.as_dict() for n, ch in sorted(self.channels.items())},
            "error": self.error,
        }


class ReceiverSource(Protocol):
    """What every receiver source implements."""

    def read(self, timeout_s: float) -> ReceiverStatus:
        """Read the receiver once, within ``timeout_s`` seconds; never raises for the network."""
        ...


@dataclass(frozen=True)
class Thresholds:
    """When a receiver of one kind counts as weak, or its stream as stale.

    ``snr_min_db`` and ``signal_min_ratio`` are for the satellite tuners (alerts compare the
    readings with them); ``max_segment_age_s`` decides whether an HLS channel is up.
    """

    snr_min_db: float | None = None
    signal_min_ratio: float | None = None
    max_segment_age_s: float | None = None


# SNR (C/N, strictly Es/N0) floor for a satellite tuner. The quasi-error-free points of
# ETSI EN 302 307-1 (DVB-S2) for QPSK are about 1.0 dB at rate 1/2, 3.1 dB at 2/3, 4.0 dB at
# 3/4, 5.2 dB at 5/6 and 6.4 dB at 9/10; real demodulators need some 0.5-1 dB more. 7 dB
# therefore raises the alarm while a QPSK 3/4-5/6 carrier still has about 1-2 dB left, which on
# Ku-band is what a heavy tropical shower takes away. A legacy DVB-S carrier at 3/4 needs about
# 6.9 dB by itself (EN 300 421: Eb/N0 5.5 dB), so a site on DVB-S or on 8PSK should raise this
# (9-10 dB) in the inventory. The signal ratio floor is loose on purpose: relative levels are
# each driver's own scale, and a failed LNB often shows a level with no usable C/N.
#
# HLS: a live playlist gains a segment every target duration (2-10 s in practice); 30 s is
# three 10-s segments missing, past any CDN cache delay, so the encoder or the feed has stalled.
DEFAULT_SNR_MIN_DB = 7.0
DEFAULT_MAX_SEGMENT_AGE_S = 30.0
DEFAULT_THRESHOLDS: dict[str, Thresholds] = {
    TVHEADEND: Thresholds(snr_min_db=DEFAULT_SNR_MIN_DB, signal_min_ratio=0.3),
    DVB_FEMON: Thresholds(snr_min_db=DEFAULT_SNR_MIN_DB, signal_min_ratio=0.3),
    HLS: Thresholds(max_segment_age_s=DEFAULT_MAX_SEGMENT_AGE_S),
}

# key: (lowest allowed, highest allowed, lowest is allowed itself)
_LIMITS: dict[str, tuple[float, float, bool]] = {
    "snr_min_db": (0.0, 40.0, True),
    "signal_min_ratio": (0.0, 1.0, True),
    "max_segment_age_s": (0.0, 86400.0, False),
}


def check_kind(kind: str, where: str = "DLTV receiver source") -> None:
    """Raises InputError (one line) unless ``kind`` is a receiver source dlict can read."""
    if kind not in SOURCES:
        raise InputError(f"{where}: unknown receiver kind {kind!r} "
                         f"(expected one of {', '.join(SOURCES)})")


def thresholds_from(mapping: Mapping[str, object] | None, kind: str) -> Thresholds:
    """The thresholds for one receiver kind: its defaults, overridden by ``mapping``.

    Arguments:
        mapping: that kind's entry of the inventory's ``dltv_thresholds``, e.g.
            ``{"snr_min_db": 7}``; ``None`` or empty for the defaults. Numbers may come as
            strings (INI inventories give strings).
        kind: ``tvheadend``, ``dvb_femon`` or ``hls``.

    Returns:
        The kind's :data:`DEFAULT_THRESHOLDS` with the given values in place.

    Raises:
        InputError: one line naming the kind and key: an unknown kind or key, a value that is
            not a number, or one out of range.
    """
    check_kind(kind, "dltv_thresholds")
    base = DEFAULT_THRESHOLDS[kind]
    if mapping is None:
        return base
    if not isinstance(mapping, Mapping):
        raise InputError(f"dltv_thresholds.{kind}: expected a mapping of threshold names to "
                         f"numbers, got {type(mapping).__name__}")
    values = {"snr_min_db": base.snr_min_db, "signal_min_ratio": base.signal_min_ratio,
              "max_segment_age_s": base.max_segment_age_s}
    for key, raw in mapping.items():
        where = f"dltv_thresholds.{kind}.{key}"
        if key not in _LIMITS:
            raise InputError(f"dltv_thresholds.{kind}: unknown key {key!r} "
                             f"(expected {', '.join(sorted(_LIMITS))})")
        if raw is None:
            continue
        values[key] = _number(raw, where, *_LIMITS[key])
    return Thresholds(**values)


def _number(raw: object, where: str, low: float, high: float, low_included: bool) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise InputError(f"{where}: expected a number, got {raw!r}")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{where}: expected a number, got {raw!r}") from None
    above_low = value >= low if low_included else value > low
    if not math.isfinite(value) or not above_low or value > high:
        bound = "from" if low_included else "above"
        raise InputError(f"{where}: {raw!r} is out of range ({bound} {low:g} to {high:g})")
    return value
