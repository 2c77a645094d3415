"""DLTV satellite receivers behind one protocol: Tvheadend's API, a DVB tuner through
``dvb-fe-tool``, and the online HLS streams, all normalised to :class:`ReceiverStatus`.

>>> status = read_receiver("tvheadend", "http://127.10.1.20:9981", [1, 2], timeout_s=5)
>>> status.reachable, status.locked, status.snr_db, status.channels[1].stream_up
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dlict.core.errors import InputError
from dlict.dltv.femon import FemonSource, parse_femon
from dlict.dltv.hls import HlsSource, parse_playlist
from dlict.dltv.model import (
    DEFAULT_THRESHOLDS,
    DLTV_CHANNELS,
    DVB_FEMON,
    HLS,
    NO_SOURCE,
    SATELLITE_SOURCES,
    SOURCES,
    STREAM_SOURCES,
    TVHEADEND,
    ChannelStatus,
    ReceiverSource,
    ReceiverStatus,
    Thresholds,
    check_kind,
    thresholds_from,
)
from dlict.dltv.tvheadend import TvheadendSource, status_from_api

__all__ = [
    "DEFAULT_THRESHOLDS", "DVB_FEMON", "HLS", "NO_SOURCE", "SATELLITE_SOURCES", "SOURCES",
    "STREAM_SOURCES", "TVHEADEND", "ChannelStatus", "FemonSource", "HlsSource",
    "ReceiverSource", "ReceiverStatus", "Thresholds", "TvheadendSource", "make_source",
    "parse_femon", "parse_playlist", "read_receiver", "status_from_api", "thresholds_from",
]

_FACTORIES: dict[str, Callable[[str, Sequence[int], Thresholds], ReceiverSource]] = {
    TVHEADEND: TvheadendSource,
    DVB_FEMON: FemonSource,
    HLS: HlsSource,
}


def make_source(source: str, address: str, channels: Sequence[int],
                thresholds: Thresholds | None = None) -> ReceiverSource:
    """The source object for one receiver; build it once and ``read`` it every round.

    Raises:
        InputError: one line: an unknown source, a channel outside 1-15, an unusable address.
    """
    check_kind(source)
    wrong = [c for c in channels if c not in DLTV_CHANNELS]
    if wrong:
        raise InputError(f"DLTV channels are 1-15, got {wrong}")
    return _FACTORIES[source](address, list(channels), thresholds or DEFAULT_THRESHOLDS[source])


def read_receiver(source: str, address: str, channels: Sequence[int], timeout_s: float,
                  thresholds: Thresholds | None = None) -> ReceiverStatus:
    """Read one receiver once.

    Arguments:
        source: ``tvheadend``, ``dvb_femon`` or ``hls``.
        address: the Tvheadend URL, the tuner (``adapter0``, ``host[:port]`` of a
            dvbv5-daemon, or a file of ``dvb-fe-tool`` output), or the HLS base URL/template.
        channels: the DLTV channels (1-15) the site should receive.
        timeout_s: the most the read may take, every request and program run included.
        thresholds: for this kind of receiver; its defaults when None.

    Returns:
        The receiver's status; ``reachable=False`` with a one-line ``error`` when it could not
        be read, whatever the reason (network, missing program, an unexpected answer).

    Raises:
        InputError: the arguments themselves are wrong (unknown source, bad channel or
            address, a timeout that is not positive).
    """
    if not timeout_s > 0:
        raise InputError(f"DLTV receiver timeout must be above 0 s, got {timeout_s}")
    reader = make_source(source, address, channels, thresholds)
    try:
        return reader.read(timeout_s)
    except Exception as exc:  # one receiver's surprise must not stop the others
        return ReceiverStatus.unreadable(source, f"{source} at {address}: unexpected "
                                         f"{type(exc).__name__}: {exc}")
