"""The online DLTV streams (HLS, RFC 8216): is each channel's playlist fresh, at what bitrate.

Where a channel's playlist is, from the receiver ``address``:

* an address with ``{channel}`` in it is a template, ``str.format``-ed with the channel
  number: ``https://cdn.example/live/dltv{channel:02d}/playlist.m3u8``;
* any other address is a base URL under which each channel has a folder:
  ``{address}/{channel}/index.m3u8`` (``http://192.0.2.5/dltv/7/index.m3u8``).

The playlist may be a master playlist; then the variant with the lowest ``BANDWIDTH`` is
followed (every variant comes from the same encoder, the lowest is the cheapest to check).
The newest segment is the media playlist's last URI. Its age is taken from
``EXT-X-PROGRAM-DATE-TIME`` (the tag's time plus the durations of the segments after it, to the
end of the newest one) or, without that tag, from the ``Last-Modified`` of the segment (a HEAD
request, which also shows the segment can be fetched). The bitrate is the segment's size
(``Content-Length`` or ``EXT-X-BYTERANGE``) over its ``EXTINF`` duration, else the variant's
``AVERAGE-BANDWIDTH`` or ``BANDWIDTH``. A channel is up when its newest segment is no older
than ``max_segment_age_s`` and the playlist has not ended.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from dlict.core.errors import InputError
from dlict.dltv.fetch import FetchError, HttpClient, Response, display_url
from dlict.dltv.model import (
    DEFAULT_MAX_SEGMENT_AGE_S,
    DEFAULT_THRESHOLDS,
    HLS,
    ChannelStatus,
    ReceiverStatus,
    Thresholds,
)
from dlict.probes.tcp import Deadline

_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')
_NO_HEAD = frozenset({405, 501})


class PlaylistError(ValueError):
    """Text that is not a usable M3U8 playlist."""


@dataclass
class Segment:
    uri: str
    duration: float
    starts: datetime | None = None  # from EXT-X-PROGRAM-DATE-TIME
    size: int | None = None  # from EXT-X-BYTERANGE

    @property
    def ends(self) -> datetime | None:
        return None if self.starts is None else self.starts + timedelta(seconds=self.duration)


@dataclass
class Variant:
    uri: str
    bandwidth: int | None = None
    average_bandwidth: int | None = None


@dataclass
class Playlist:
    segments: list[Segment] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    target_duration: float | None = None
    ended: bool = False


def _attributes(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _ATTRIBUTE.findall(text)}


def _int(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise PlaylistError(f"bad EXT-X-PROGRAM-DATE-TIME {text.strip()!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_playlist(text: str) -> Playlist:
    """Parse a master or media playlist (the parts dlict needs).

    Raises:
        PlaylistError: the text does not start with ``#EXTM3U`` or a tag's value is unusable.
    """
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines()]
    if not lines or lines[0] != "#EXTM3U":
        raise PlaylistError("not an M3U8 playlist (no #EXTM3U)")
    playlist = Playlist()
    clock: datetime | None = None
    duration: float | None = None
    size: int | None = None
    variant: Variant | None = None
    for line in lines[1:]:
        if not line:
            continue
        tag, _colon, value = line.partition(":")
        if tag == "#EXTINF":
            try:
                duration = float(value.split(",", 1)[0])
            except ValueError:
                raise PlaylistError(f"bad EXTINF {value!r}") from None
        elif tag == "#EXT-X-PROGRAM-DATE-TIME":
            clock = _moment(value)
        elif tag == "#EXT-X-DISCONTINUITY":
            clock = None  # times after a discontinuity need a tag of their own
        elif tag == "#EXT-X-BYTERANGE":
            size = _int(value.split("@", 1)[0])
        elif tag == "#EXT-X-TARGETDURATION":
            playlist.target_duration = float(_int(value) or 0) or None
        elif tag == "#EXT-X-ENDLIST":
            playlist.ended = True
        elif tag == "#EXT-X-STREAM-INF":
            attributes = _attributes(value)
            variant = Variant("", _int(attributes.get("BANDWIDTH")),
                              _int(attributes.get("AVERAGE-BANDWIDTH")))
        elif line.startswith("#"):
            continue
        elif variant is not None:
            variant.uri = line
            playlist.variants.append(variant)
            variant = None
        else:
            seconds = duration or 0.0
            playlist.segments.append(Segment(line, seconds, clock, size))
            if clock is not None:
                clock += timedelta(seconds=seconds)
            duration = size = None
    return playlist


def playlist_url(address: str, channel: int) -> str:
    """Where channel ``channel``'s playlist is, by the conventions the module describes."""
    if "{" in address:
        return address.format(channel=channel)
    return f"{address.rstrip('/')}/{channel}/index.m3u8"


def check_address(address: str) -> None:
    """Raises InputError (one line) unless ``address`` gives http(s) playlist URLs."""
    try:
        url = playlist_url(address.strip(), 1)
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(f"HLS address {address!r}: only {{channel}} may appear in braces "
                         f"({exc})") from None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"HLS address {address!r}: expected an http:// or https:// URL")


@dataclass
class _Check:
    status: ChannelStatus
    answered: bool  # the server answered something (a 404 counts)
    error: str | None = None


class HlsSource:
    """The HLS playlists of ``channels`` under ``address``.

    Raises:
        InputError: the address does not give http(s) URLs, or no channels are given.
    """

    def __init__(self, address: str, channels: Sequence[int],
                 thresholds: Thresholds | None = None) -> None:
        check_address(address)
        if not channels:
            raise InputError(f"HLS address {address!r}: list the DLTV channels to check")
        self.address = address.strip()
        self.channels = list(channels)
        self.thresholds = thresholds or DEFAULT_THRESHOLDS[HLS]
        limit = self.thresholds.max_segment_age_s
        self.max_age_s = limit if limit is not None else DEFAULT_MAX_SEGMENT_AGE_S

    def read(self, timeout_s: float) -> ReceiverStatus:
        """Check every channel within ``timeout_s``; never raises for the network.

        Channels are checked one after another on kept-alive connections. No channel but
        the last may use more than half of the time left, so one that hangs cannot starve
        the others.
        """
        deadline = Deadline(timeout_s)
        checks: dict[int, _Check] = {}
        with HttpClient(deadline) as client:
            for index, channel in enumerate(self.channels):
                left = deadline.end - time.monotonic()
                if left <= 0:
                    checks[channel] = _Check(ChannelStatus(False, problem="not checked: time "
                                                           "ran out"), False, "timed out")
                    continue
                last = index == len(self.channels) - 1
                checks[channel] = self._check(client, channel, Deadline(left if last
                                                                        else left / 2))
        if checks and not any(c.answered for c in checks.values()):
            error = next((c.error for c in checks.values() if c.error), "no answer")
            return ReceiverStatus.unreadable(HLS, f"HLS at {display_url(self.address)}: "
                                             f"{error}")
        channels = {n: c.status for n, c in checks.items()}
        return ReceiverStatus(HLS, reachable=True,
                              locked=all(c.stream_up for c in channels.values())
                              if channels else None,
                              channels=channels)

    def _check(self, client: HttpClient, channel: int, deadline: Deadline) -> _Check:
        try:
            response = client.get(playlist_url(self.address, channel), deadline)
            playlist = parse_playlist(_text(response))
            bandwidth = None
            if playlist.variants:
                variant = min(playlist.variants,
                              key=lambda v: v.bandwidth if v.bandwidth is not None else 2**63)
                bandwidth = variant.average_bandwidth or variant.bandwidth
                response = client.get(urljoin(response.url, variant.uri), deadline)
                playlist = parse_playlist(_text(response))
                if playlist.variants:
                    raise PlaylistError("a master playlist points to another master playlist")
        except FetchError as exc:
            problem = f"playlist: {exc}"
            return _Check(ChannelStatus(False, problem=problem), exc.answered, str(exc))
        except PlaylistError as exc:
            return _Check(ChannelStatus(False, problem=f"playlist: {exc}"), True)
        if not playlist.segments:
            return _Check(ChannelStatus(False, problem="playlist lists no segments"), True)
        newest = playlist.segments[-1]
        try:
            head: Response | None = client.head(urljoin(response.url, newest.uri), deadline)
        except FetchError as exc:
            if exc.status not in _NO_HEAD:
                return _Check(ChannelStatus(False, problem=f"newest segment: {exc}"), True)
            head = None
        return _Check(self._judge(playlist, newest, head, bandwidth), True)

    def _judge(self, playlist: Playlist, newest: Segment, head: Response | None,
               bandwidth: int | None) -> ChannelStatus:
        size = newest.size
        ends = newest.ends
        if head is not None:
            size = size or _int(head.headers.get("Content-Length"))
            if ends is None and (modified := head.headers.get("Last-Modified")):
                try:
                    ends = parsedate_to_datetime(modified)
                except (TypeError, ValueError):
                    ends = None
        bitrate: float | None = float(bandwidth) if bandwidth else None
        if size and newest.duration > 0:
            bitrate = size * 8 / newest.duration
        age = None if ends is None else max(0.0, time.time() - ends.timestamp())
        if playlist.ended:
            problem: str | None = "the playlist has ended (EXT-X-ENDLIST)"
        elif age is None:
            problem = "segment age unknown: no EXT-X-PROGRAM-DATE-TIME and no Last-Modified"
        elif age > self.max_age_s:
            problem = f"newest segment is {age:.0f} s old (limit {self.max_age_s:g} s)"
        else:
            problem = None
        return ChannelStatus(problem is None, bitrate_bps=bitrate, segment_age_s=age,
                             problem=problem)


def _text(response: Response) -> str:
    return response.body.decode("utf-8", errors="replace")
