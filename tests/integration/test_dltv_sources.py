"""DLTV receiver sources against real HTTP servers on 127.0.0.1 and the real ``dvb-fe-tool``.

Tvheadend: a local server answers ``/api/status/inputs`` and ``/api/status/subscriptions``
with recorded answers in ``fixtures/dltv/tvheadend/`` (the shape of Tvheadend 4.3's
``tvh_input_stream_create_msg`` and ``subscription_create_msg``): tuners locked on two
multiplexes, a tuner seeing RF without lock, and idle tuners with nobody watching. Its
401 challenges are the ones Tvheadend sends (two Digest headers, SHA-256 first, or Basic).
HLS: playlists are written at test time so their EXT-X-PROGRAM-DATE-TIME is now (or ten
minutes ago), with segments answering HEAD with Content-Length or Last-Modified.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dlict.core.errors import InputError
from dlict.dltv import (
    FemonSource,
    Thresholds,
    TvheadendSource,
    make_source,
    read_receiver,
    status_from_api,
)

FIXTURES = Path(__file__).parent / "fixtures" / "dltv" / "tvheadend"
USER, PASSWORD = "dlict-monitor", "s3cret-Pass"
NONCE = "bm9uY2UtZm9yLWRsaWN0LXRlc3Rz"


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # answer only when the test ends


@dataclass
class Seen:
    connections: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)
    algorithms: list[str] = field(default_factory=list)


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.pages: dict[str, Page] = {}
        self.auth: str | None = None  # None, "digest" or "basic"
        self.seen = Seen()
        self.release = threading.Event()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up on a hanging page closed its end; nothing to report

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FixtureServer

    def setup(self) -> None:
        super().setup()
        self.server.seen.connections += 1

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.answer(head=False)

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def answer(self, head: bool) -> None:
        self.server.seen.requests.append((self.command, self.path))
        if not self.authorised():
            challenges = ([f'Digest realm="tvheadend", qop=auth, algorithm=SHA-256, '
                           f'nonce="{NONCE}", opaque="b3BhcXVl"',
                           f'Digest realm="tvheadend", qop=auth, nonce="{NONCE}", '
                           f'opaque="b3BhcXVl"']
                          if self.server.auth == "digest" else ['Basic realm="tvheadend"'])
            page = Page(b"<HTML><BODY><H1>401 Unauthorized</H1></BODY></HTML>\r\n", 401,
                        {"Content-Type": "text/html"})
            self.reply(page, head, [("WWW-Authenticate", c) for c in challenges])
            return
        page = self.server.pages.get(self.path) or Page(b"Not Found\r\n", 404)
        if page.hang:
            self.server.release.wait(10)
        self.reply(page, head, [])

    def reply(self, page: Page, head: bool, extra: list[tuple[str, str]]) -> None:
        self.send_response(page.status)
        headers = {"Content-Length": str(len(page.body)), **page.headers}
        for name, value in [*headers.items(), *extra]:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(page.body)

    def authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        if self.server.auth == "basic":
            expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            return given == f"Basic {expected}"
        if self.server.auth != "digest":
            return True
        if not given.startswith("Digest "):
            return False
        params = {k: a or b for k, a, b in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))',
                                                     given[7:])}
        algorithm = params.get("algorithm", "MD5")
        self.server.seen.algorithms.append(algorithm)

        def digest(text: str) -> str:
            name = {"MD5": "md5", "SHA-256": "sha256"}[algorithm]
            return hashlib.new(name, text.encode()).hexdigest()

        ha1 = digest(f"{USER}:tvheadend:{PASSWORD}")
        ha2 = digest(f"{self.command}:{params.get('uri')}")
        expected = digest(f"{ha1}:{NONCE}:{params.get('nc')}:{params.get('cnonce')}:"
                          f"{params.get('qop')}:{ha2}")
        return (params.get("username") == USER and params.get("uri") == self.path
                and params.get("nonce") == NONCE and params.get("opaque") == "b3BhcXVl"
                and params.get("response") == expected)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    httpd = FixtureServer()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class SilentServer:
    """Accepts connections and then says nothing, or trickles one byte at a time."""

    def __init__(self, trickle: bytes = b"") -> None:
        self.trickle = trickle
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        held: list[socket.socket] = []
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
                held.append(conn)
            except TimeoutError:
                pass
            for conn in held:
                if self.trickle:
                    try:
                        conn.send(self.trickle[:1])
                    except OSError:
                        continue
            self.trickle = self.trickle[1:] + self.trickle[:1]
            self.stop.wait(0.1)
        for conn in held:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def silent() -> Iterator[Callable[[bytes], SilentServer]]:
    started: list[SilentServer] = []

    def start(trickle: bytes = b"") -> SilentServer:
        started.append(SilentServer(trickle))
        return started[-1]

    yield start
    for one in started:
        one.close()


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLICT_TVHEADEND_USER", raising=False)
    monkeypatch.delenv("DLICT_TVHEADEND_PASSWORD", raising=False)


def serve_tvheadend(server: FixtureServer, case: str) -> None:
    for name in ("inputs", "subscriptions"):
        body = (FIXTURES / case / f"{name}.json").read_bytes()
        server.pages[f"/api/status/{name}"] = Page(
            body, headers={"Content-Type": "text/x-json; charset=UTF-8"})


# --- Tvheadend ---------------------------------------------------------------------------


@pytest.mark.usefixtures("no_credentials")
def test_tvheadend_locked_on_two_muxes(server: FixtureServer) -> None:
    serve_tvheadend(server, "locked")
    status = read_receiver("tvheadend", server.base, [1, 2, 3, 4, 5], timeout_s=3)
    assert status.reachable is True, status.error
    assert status.locked is True
    # the locked tuner nearest to failing: 3880H at 10.8 dB, not 3840H at 12.3 dB
    assert status.snr_db == pytest.approx(10.8)
    assert status.signal_dbm == pytest.approx(-47.85)
    assert status.signal_ratio is None
    assert status.ber == pytest.approx(63 / 150_000_000)
    assert status.uncorrected_blocks == 14
    up = {n: ch.stream_up for n, ch in status.channels.items()}
    assert up == {1: True, 2: True, 3: True, 4: False, 5: False}
    assert status.channels[1].bitrate_bps == 262144 * 8
    assert status.channels[3].bitrate_bps == 240000 * 8  # "DLTV3 ป.3" is channel 3
    assert status.channels[4].problem == "subscription Testing, no data"
    assert status.channels[5].problem == "no subscription"
    assert status.error is None
    assert server.seen.connections == 1  # both API calls on one kept-alive connection
    json.dumps(status.as_dict())


@pytest.mark.usefixtures("no_credentials")
def test_tvheadend_tuned_without_lock(server: FixtureServer) -> None:
    serve_tvheadend(server, "unlocked")
    status = read_receiver("tvheadend", server.base + "/", [1, 2], timeout_s=3)
    assert (status.reachable, status.locked) == (True, False)
    assert status.signal_dbm == pytest.approx(-78.5)
    assert status.snr_db is None  # the driver has no C/N without a carrier
    assert {n: ch.stream_up for n, ch in status.channels.items()} == {1: False, 2: False}
    assert status.channels[2].bitrate_bps == 0.0


@pytest.mark.usefixtures("no_credentials")
def test_tvheadend_with_nobody_watching_cannot_tell_lock(server: FixtureServer) -> None:
    serve_tvheadend(server, "no_subscription")
    status = read_receiver("tvheadend", server.base, [1, 7], timeout_s=3)
    assert status.reachable is True
    assert status.locked is None  # no tuner in use, so no lock to see
    assert (status.snr_db, status.signal_dbm, status.uncorrected_blocks) == (None, None, None)
    assert all(not ch.stream_up and ch.bitrate_bps is None
               for ch in status.channels.values())
    assert sorted(status.channels) == [1, 7]


def test_relative_scales_give_a_ratio_and_no_db() -> None:
    inputs = [{"input": "SAT>IP DVB-S #0", "stream": "3840H", "signal": 39321,
               "signal_scale": 1, "snr": 52000, "snr_scale": 1, "bps": 9_000_000, "unc": 2}]
    status = status_from_api(inputs, [{"channel": "DLTV 01", "state": "Running",
                                       "in": 100}], [1])
    assert status.locked is True
    assert status.signal_ratio == pytest.approx(0.6)
    assert status.snr_db is None
    assert status.channels[1].stream_up is True


@pytest.mark.usefixtures("no_credentials")
def test_tvheadend_401_without_credentials_says_what_to_set(server: FixtureServer) -> None:
    serve_tvheadend(server, "locked")
    server.auth = "digest"
    status = read_receiver("tvheadend", server.base, [1], timeout_s=3)
    assert status.reachable is False
    assert status.error is not None and "\n" not in status.error
    assert status.error.startswith(f"tvheadend at {server.base}: HTTP 401 Unauthorized")
    assert "DLICT_TVHEADEND_USER" in status.error and "DLICT_TVHEADEND_PASSWORD" in status.error


@pytest.mark.parametrize("scheme", ["digest", "basic"])
def test_tvheadend_credentials_from_the_environment(server: FixtureServer, scheme: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    serve_tvheadend(server, "locked")
    server.auth = scheme
    monkeypatch.setenv("DLICT_TVHEADEND_USER", USER)
    monkeypatch.setenv("DLICT_TVHEADEND_PASSWORD", PASSWORD)
    status = read_receiver("tvheadend", server.base, [1], timeout_s=3)
    assert status.reachable is True, status.error
    assert status.locked is True
    if scheme == "digest":
        assert server.seen.algorithms[0] == "SHA-256"  # the stronger of the two offered
        # the second call reuses the challenge (one 401 in all, not one per call)
        assert len(server.seen.requests) == 3


def test_tvheadend_wrong_password_is_refused_without_showing_it(
        server: FixtureServer, monkeypatch: pytest.MonkeyPatch) -> None:
    serve_tvheadend(server, "locked")
    server.auth = "digest"
    monkeypatch.setenv("DLICT_TVHEADEND_USER", USER)
    monkeypatch.setenv("DLICT_TVHEADEND_PASSWORD", "not-the-password")
    source = TvheadendSource(server.base, [1])
    status = source.read(3)
    assert status.reachable is False
    assert status.error is not None and "refused the user" in status.error
    assert "not-the-password" not in status.error + repr(status) + repr(source)


def test_tvheadend_that_accepts_and_never_answers_times_out(
        silent: Callable[[bytes], SilentServer]) -> None:
    dead = silent(b"")
    started = time.monotonic()
    status = read_receiver("tvheadend", f"http://127.0.0.1:{dead.port}", [1], timeout_s=0.5)
    elapsed = time.monotonic() - started
    assert status.reachable is False
    assert status.error == f"tvheadend at http://127.0.0.1:{dead.port}: timed out after 0.5 s"
    assert 0.45 <= elapsed < 0.8


def test_a_receiver_trickling_bytes_still_ends_by_the_timeout(
        silent: Callable[[bytes], SilentServer]) -> None:
    slow = silent(b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 64)
    started = time.monotonic()
    status = read_receiver("tvheadend", f"http://127.0.0.1:{slow.port}", [1], timeout_s=0.8)
    elapsed = time.monotonic() - started
    assert status.reachable is False
    assert status.error is not None and "timed out" in status.error
    assert elapsed < 1.1


# --- HLS ---------------------------------------------------------------------------------


def media_playlist(first_starts: datetime | None, segments: int = 3,
                   duration: float = 6.0) -> bytes:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{int(duration)}",
             "#EXT-X-MEDIA-SEQUENCE:1200"]
    if first_starts is not None:
        lines.append("#EXT-X-PROGRAM-DATE-TIME:"
                     + first_starts.astimezone(UTC).isoformat(timespec="milliseconds"))
    for n in range(segments):
        lines += [f"#EXTINF:{duration:.3f},", f"seg{1200 + n}.ts"]
    return ("\n".join(lines) + "\n").encode()


def serve_hls(server: FixtureServer) -> None:
    now = datetime.now(UTC)
    ts = {"Content-Type": "video/mp2t"}
    pages = server.pages
    # channel 1: fresh, three 6-s segments ending now, 1.5 MB each (2 Mbit/s)
    pages["/dltv/1/index.m3u8"] = Page(media_playlist(now - timedelta(seconds=18)))
    pages["/dltv/1/seg1202.ts"] = Page(headers={**ts, "Content-Length": "1500000"})
    # channel 2: the encoder stopped ten minutes ago
    pages["/dltv/2/index.m3u8"] = Page(media_playlist(now - timedelta(seconds=618)))
    pages["/dltv/2/seg1202.ts"] = Page(headers={**ts, "Content-Length": "1500000"})
    # channel 3: no such playlist (404)
    # channel 4: a master playlist; only the lower variant exists, without program times
    pages["/dltv/4/index.m3u8"] = Page(
        b"#EXTM3U\n#EXT-X-VERSION:3\n"
        b'#EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720,CODECS="avc1.4d401f,'
        b'mp4a.40.2"\nhi/index.m3u8\n'
        b'#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,'
        b'mp4a.40.2"\nlo/index.m3u8\n')
    pages["/dltv/4/lo/index.m3u8"] = Page(media_playlist(None))
    pages["/dltv/4/lo/seg1202.ts"] = Page(
        headers={**ts, "Last-Modified": formatdate(time.time() - 3, usegmt=True)})


def test_hls_fresh_stale_missing_and_master(server: FixtureServer) -> None:
    serve_hls(server)
    status = read_receiver("hls", server.base + "/dltv", [1, 2, 3, 4], timeout_s=3,
                           thresholds=Thresholds(max_segment_age_s=30))
    assert status.reachable is True, status.error
    assert status.locked is False  # not every channel is up
    one, two, three, four = (status.channels[n] for n in (1, 2, 3, 4))
    assert one.stream_up is True
    assert one.segment_age_s is not None and one.segment_age_s < 5
    assert one.bitrate_bps == pytest.approx(2_000_000)
    assert two.stream_up is False
    assert two.segment_age_s == pytest.approx(600, abs=5)
    assert two.problem is not None and two.problem.startswith("newest segment is 60")
    assert three.stream_up is False
    assert (three.problem, three.segment_age_s) == ("playlist: HTTP 404 Not Found", None)
    assert four.stream_up is True  # the lower variant, aged by its Last-Modified
    assert four.segment_age_s is not None and 1 <= four.segment_age_s <= 6
    assert four.bitrate_bps == 800_000  # no size given: the variant's BANDWIDTH
    assert ("GET", "/dltv/4/hi/index.m3u8") not in server.seen.requests
    assert server.seen.connections == 1  # every request on one kept-alive connection
    assert status.signal_ratio is None and status.snr_db is None


def test_hls_channel_that_hangs_does_not_starve_the_others(server: FixtureServer) -> None:
    serve_hls(server)
    server.pages["/dltv/1/index.m3u8"].hang = True
    started = time.monotonic()
    status = read_receiver("hls", server.base + "/dltv", [1, 4], timeout_s=1)
    elapsed = time.monotonic() - started
    assert status.channels[1].stream_up is False
    assert status.channels[1].problem is not None
    assert re.fullmatch(r"playlist: timed out after 0\.(49\d|5) s", status.channels[1].problem)
    assert status.channels[4].stream_up is True
    assert (status.reachable, status.locked) == (True, False)
    assert elapsed < 1.2


def test_hls_every_channel_fresh_counts_as_locked(server: FixtureServer) -> None:
    serve_hls(server)
    status = read_receiver("hls", server.base + "/dltv/", [1, 4], timeout_s=3)
    assert (status.reachable, status.locked) == (True, True)


def test_hls_address_template(server: FixtureServer) -> None:
    now = datetime.now(UTC)
    server.pages["/live/dltv07.m3u8"] = Page(media_playlist(now - timedelta(seconds=15),
                                                            duration=5.0))
    server.pages["/live/seg1202.ts"] = Page(headers={"Content-Length": "625000"})
    status = read_receiver("hls", server.base + "/live/dltv{channel:02d}.m3u8", [7],
                           timeout_s=3)
    assert status.channels[7].stream_up is True
    assert status.channels[7].bitrate_bps == pytest.approx(1_000_000)


def test_hls_server_down_is_unreachable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    status = read_receiver("hls", f"http://127.0.0.1:{port}/dltv", [1, 2], timeout_s=2)
    assert status.reachable is False
    assert status.locked is None and status.channels == {}
    assert status.error == f"HLS at http://127.0.0.1:{port}/dltv: connection refused"


def test_hls_bad_address_is_bad_input() -> None:
    with pytest.raises(InputError, match=r"only \{channel\} may appear in braces"):
        make_source("hls", "http://cdn.example/{ch}.m3u8", [1])
    with pytest.raises(InputError, match="expected an http:// or https:// URL"):
        make_source("hls", "rtmp://cdn.example/dltv", [1])
    with pytest.raises(InputError, match="list the DLTV channels to check"):
        make_source("hls", "http://cdn.example/dltv", [])


# --- dvb-fe-tool and dispatch --------------------------------------------------------------


def test_femon_source_reads_a_file_of_output(tmp_path: Path) -> None:
    capture = tmp_path / "femon.txt"
    capture.write_text("Lock   (0x1f) Quality= Ok   Signal= -45.00dBm C/N= 12.30dB UCB= 0 "
                       "postBER= 0\n", encoding="utf-8")
    status = read_receiver("dvb_femon", str(capture), [], timeout_s=2)
    assert (status.reachable, status.locked, status.snr_db) == (True, True, 12.3)
    missing = read_receiver("dvb_femon", str(tmp_path / "none.txt"), [], timeout_s=2)
    assert missing.reachable is False
    assert missing.error == f"{tmp_path / 'none.txt'}: no such file"


def test_femon_without_the_program(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    status = read_receiver("dvb_femon", "adapter0", [], timeout_s=2)
    assert status.reachable is False
    assert status.error == "dvb-fe-tool not installed (Debian package dvb-tools)"


def test_femon_commands_for_each_address_form() -> None:
    assert FemonSource("adapter1/frontend0").command() == [
        "dvb-fe-tool", "--femon", "--count=1", "--adapter=1", "--frontend=0"]
    assert FemonSource("127.10.4.21").command()[3:] == [
        "--server=127.10.4.21", "--tcp-port=5555"]
    assert FemonSource("[::1]:6000/adapter2").command()[3:] == [
        "--server=::1", "--tcp-port=6000", "--adapter=2"]


def test_femon_runs_the_real_dvb_fe_tool() -> None:
    """No tuner here: the real program must say so, as one line, and quickly."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    local = read_receiver("dvb_femon", "adapter7", [], timeout_s=5)
    remote = read_receiver("dvb_femon", f"127.0.0.1:{port}", [], timeout_s=5)
    assert local.reachable is False and remote.reachable is False
    if shutil.which("dvb-fe-tool", path=os.environ.get("PATH")) is None:
        assert local.error == remote.error == "dvb-fe-tool not installed (Debian package " \
                                              "dvb-tools)"
        return
    assert local.error == "dvb-fe-tool: WARNING device dvb7.frontend0 not found " \
                          "(exit status 255)"
    assert remote.error == (f"dvb-fe-tool: no answer from dvbv5-daemon at 127.0.0.1:{port} "
                            "(exit status 255)")


def test_unknown_source_and_channels_are_bad_input() -> None:
    with pytest.raises(InputError, match="unknown receiver kind 'satellite'"):
        read_receiver("satellite", "http://127.0.0.1:1", [1], timeout_s=1)
    with pytest.raises(InputError, match=r"DLTV channels are 1-15, got \[16\]"):
        read_receiver("hls", "http://127.0.0.1:1/dltv", [1, 16], timeout_s=1)
    with pytest.raises(InputError, match="timeout must be above 0"):
        read_receiver("hls", "http://127.0.0.1:1/dltv", [1], timeout_s=0)
