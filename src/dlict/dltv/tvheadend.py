"""Tvheadend: signal, SNR and errors per tuner, and which DLTV channels are being received.

Two calls of Tvheadend's HTTP API (both need a user with admin rights):

* ``/api/status/inputs`` lists each tuner. While a tuner is in use its entry names the
  multiplex (``stream``) and carries ``signal``/``signal_scale``, ``snr``/``snr_scale`` (scale
  0 = not available, 1 = relative 0-65535, 2 = absolute in 1/1000: dBm for signal, dB for
  SNR), ``ber``, ``unc`` (the driver's running count of uncorrected blocks), ``ec_bit`` and
  ``tc_bit`` (error and total bit counts before error correction) and ``bps`` (bits a second
  arriving from the tuner). An idle tuner is listed without ``stream`` and with zeros.
* ``/api/status/subscriptions`` lists who is watching what: ``channel`` (the channel's name),
  ``service``, ``state`` (Idle, Testing, Running, Bad), ``errors`` and ``in``/``out``, the
  bytes of the last second.

Credentials come from ``DLICT_TVHEADEND_USER`` and ``DLICT_TVHEADEND_PASSWORD``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dlict.dltv.fetch import Credentials, FetchError, HttpClient, credentials_from_env, display_url
from dlict.dltv.model import TVHEADEND, ChannelStatus, ReceiverStatus, Thresholds
from dlict.probes.tcp import Deadline

USER_VAR = "DLICT_TVHEADEND_USER"
PASSWORD_VAR = "DLICT_TVHEADEND_PASSWORD"  # noqa: S105 (the variable's name, no secret)
SCALE_RELATIVE = 1
SCALE_DECIBEL = 2
_RELATIVE_FULL = 65535
_DLTV_NAME = re.compile(r"\bDLTV\s*0*(1[0-5]|[1-9])(?!\d)", re.IGNORECASE)
# Tvheadend translates ``state`` into the API user's language; these are its English words.
_NOT_RUNNING = frozenset({"idle", "testing", "bad"})


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class _Input:
    tuned: bool
    locked: bool
    signal_ratio: float | None
    signal_dbm: float | None
    snr_db: float | None
    ber: float | None
    uncorrected_blocks: int | None


def _read_input(entry: Mapping[str, Any]) -> _Input:
    signal, signal_scale = _number(entry.get("signal")), _number(entry.get("signal_scale"))
    snr, snr_scale = _number(entry.get("snr")), _number(entry.get("snr_scale"))
    bps = _number(entry.get("bps")) or 0.0
    tuned = bool(entry.get("stream"))
    ratio = dbm = snr_db = None
    if signal is not None and signal_scale == SCALE_RELATIVE:
        ratio = min(1.0, max(0.0, signal / _RELATIVE_FULL))
    elif signal is not None and signal_scale == SCALE_DECIBEL:
        dbm = signal / 1000
    if snr is not None and snr_scale == SCALE_DECIBEL:
        snr_db = snr / 1000
    # Tvheadend's API has no lock flag. It lists an input with a ``stream`` only while a mux is
    # tuned on it, and its Linux DVB frontend starts reading the transport stream only once
    # the demodulator reports lock, so bytes arriving (``bps`` > 0) on a tuned input mean
    # lock. Asking for signal and SNR readings as well (scale not 0) keeps inputs without any
    # RF side, such as IPTV, from passing for a locked satellite tuner.
    locked = tuned and bps > 0 and bool(signal_scale) and bool(snr_scale)
    ec_bit, tc_bit = _number(entry.get("ec_bit")), _number(entry.get("tc_bit"))
    ber = ec_bit / tc_bit if ec_bit is not None and tc_bit else None
    unc = _number(entry.get("unc"))
    return _Input(tuned, locked, ratio, dbm, snr_db, ber,
                  int(unc) if tuned and unc is not None else None)


def channel_number(entry: Mapping[str, Any]) -> int | None:
    """The DLTV channel a subscription is for: a channel number field, else a name such as
    ``DLTV 7`` or ``DLTV07`` in the channel (or, failing that, the service) name."""
    for key in ("channel_number", "channelNumber", "number"):
        number = _number(entry.get(key))
        if number is not None and number.is_integer() and 1 <= number <= 15:
            return int(number)
    for key in ("channel", "service"):
        name = entry.get(key)
        if isinstance(name, str) and (match := _DLTV_NAME.search(name)):
            return int(match.group(1))
    return None


def _channel(subscriptions: list[Mapping[str, Any]]) -> ChannelStatus:
    if not subscriptions:
        return ChannelStatus(False, problem="no subscription")
    best: tuple[bool, float] = (False, 0.0)
    states = []
    for entry in subscriptions:
        state = str(entry.get("state", ""))
        states.append(state or "?")
        running = state.lower() not in _NOT_RUNNING
        bitrate = (_number(entry.get("in")) or 0.0) * 8
        best = max(best, (running and bitrate > 0, bitrate if running else 0.0))
    up, bitrate = best
    problem = None if up else f"subscription {'/'.join(sorted(set(states)))}, no data"
    return ChannelStatus(up, bitrate_bps=bitrate, problem=problem)


def status_from_api(inputs: Sequence[Mapping[str, Any]],
                    subscriptions: Sequence[Mapping[str, Any]],
                    channels: Sequence[int]) -> ReceiverStatus:
    """Normalise the ``entries`` of ``/api/status/inputs`` and ``/api/status/subscriptions``.

    Arguments:
        inputs: the tuners as Tvheadend lists them.
        subscriptions: the active subscriptions.
        channels: the DLTV channels (1-15) the site should receive.

    Returns:
        ``locked`` True when a tuned input is locked, False when inputs are tuned but none is,
        None when no tuner is in use (Tvheadend tunes only while someone watches). The
        signal, SNR, BER and uncorrected blocks are those of the locked input with the lowest
        SNR (the one nearest to failing), else of the first tuned input. A channel is up when
        a subscription for it is running with bytes coming in; its bitrate is that input rate.
    """
    tuned = [i for i in (_read_input(e) for e in inputs if isinstance(e, Mapping)) if i.tuned]
    locked_inputs = [i for i in tuned if i.locked]
    shown: _Input | None = None
    if locked_inputs:
        shown = min(locked_inputs, key=lambda i: math.inf if i.snr_db is None else i.snr_db)
    elif tuned:
        shown = tuned[0]
    by_channel: dict[int, list[Mapping[str, Any]]] = {}
    for entry in subscriptions:
        if isinstance(entry, Mapping) and (number := channel_number(entry)) is not None:
            by_channel.setdefault(number, []).append(entry)
    return ReceiverStatus(
        source=TVHEADEND, reachable=True,
        locked=bool(locked_inputs) if tuned else None,
        signal_ratio=shown.signal_ratio if shown else None,
        signal_dbm=shown.signal_dbm if shown else None,
        snr_db=shown.snr_db if shown else None,
        ber=shown.ber if shown else None,
        uncorrected_blocks=shown.uncorrected_blocks if shown else None,
        channels={n: _channel(by_channel.get(n, [])) for n in channels},
    )


class TvheadendSource:
    """A Tvheadend server at ``address`` (``http://host:9981``, with its web root if any).

    ``credentials`` default to those in ``DLICT_TVHEADEND_USER``/``DLICT_TVHEADEND_PASSWORD``,
    read at each :meth:`read`.
    """

    def __init__(self, address: str, channels: Sequence[int],
                 thresholds: Thresholds | None = None,
                 credentials: Credentials | None = None) -> None:
        self.address = address.strip().rstrip("/")
        self.channels = list(channels)
        self.thresholds = thresholds
        self.credentials = credentials

    def read(self, timeout_s: float) -> ReceiverStatus:
        """Read both status lists within ``timeout_s``; never raises for the network."""
        credentials = self.credentials or credentials_from_env(USER_VAR, PASSWORD_VAR)
        shown = display_url(self.address)
        with HttpClient(Deadline(timeout_s), credentials) as client:
            try:
                inputs = self._entries(client, "/api/status/inputs")
                subscriptions = self._entries(client, "/api/status/subscriptions")
            except FetchError as exc:
                return ReceiverStatus.unreadable(
                    TVHEADEND, f"tvheadend at {shown}: {_explain(exc, credentials)}")
        return status_from_api(inputs, subscriptions, self.channels)

    def _entries(self, client: HttpClient, path: str) -> list[Mapping[str, Any]]:
        response = client.get(self.address + path)
        try:
            answer = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise FetchError(f"{path} did not answer JSON", response.status) from None
        entries = answer.get("entries") if isinstance(answer, dict) else None
        if not isinstance(entries, list):
            raise FetchError(f"{path} answered JSON without an 'entries' list",
                             response.status)
        return [e for e in entries if isinstance(e, Mapping)]


def _explain(exc: FetchError, credentials: Credentials | None) -> str:
    if exc.status != 401:
        return str(exc)
    if credentials is None:
        return (f"{exc}: set {USER_VAR} and {PASSWORD_VAR} to a Tvheadend user with admin "
                "rights (the status API needs them)")
    return (f"{exc}: Tvheadend refused the user in {USER_VAR} (wrong password, or no admin "
            "rights)")
