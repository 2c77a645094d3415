"""Hostile network answers (issue 12) where no other security test looks: the vendor names and
devices ``dlict netscan discover`` reports, the facts hosts give ``dlict facts``, the HLS
servers DLTV is checked against, and ``dvb-fe-tool --femon`` output.

Netscan runs the real registry (an ``ieee-data`` directory in tmp_path), the real judging and
the CLI's own recording and printing (``_record_and_show``) over a real evidence store: scapy
and root are not needed for that part. Facts runs the real ``dlict facts`` with ansible-runner
replaced by the events it would deliver (the Linux fleet is not started here). HLS talks to a
real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import io
import json
import math
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console

from dlict.cli.context import AppContext
from dlict.cli.netscan import _record_and_show
from dlict.core.config import Settings
from dlict.core.logging import setup_logging
from dlict.core.results import Status
from dlict.core.store import EvidenceStore, RunStatus
from dlict.dltv.femon import parse_femon
from dlict.dltv.fetch import MAX_BODY
from dlict.dltv.hls import HlsSource
from dlict.inventory.models import Host, Role, Site, SiteKind, SiteMeta
from dlict.netscan.discover import Sweep, judge_lan
from dlict.netscan.engine import Neighbour
from dlict.netscan.oui import OuiRegistry
from dlict.playbooks.runner import AnsibleEvent, PlaybookOutcome
from tests.conftest import CliRunner
from tests.httpstub import QuietHandler, serving

MARKUP = "[bold red]ACME[/bold red] [/bold]"
TITLE_ESCAPE = "Evil\x1b]0;owned\x07 Corp \x1b[2J\x1b[31mred"
SCRIPT = "<script>alert(1)</script>"
NEWLINES = "Good Corp\nFAKE LINE: all devices known\r\n"
C1_AND_BIDI = "Corp\x9b31m \u202eevil\u202c"


def assert_nothing_live(text: str) -> None:
    """What a terminal would act on instead of show: no ESC, BEL, C1 control or bidi override."""
    for char in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert char not in text, (char, text[:500])


# ---------------------------------------------------------------- netscan discover

def _site() -> Site:
    meta = SiteMeta(name_th="โรงเรียน", name_en="School", amphoe="เมือง",
                    province="มหาสารคาม", school_code="4401000001", lan=["192.0.2.0/24"])
    return Site(id="4401000001", kind=SiteKind.SCHOOL, group="school_4401000001", meta=meta,
                hosts=("srv",))


def _hosts() -> list[Host]:
    return [Host(name="srv", address="192.0.2.10", site="4401000001",
                 roles=frozenset({Role.LINUX_SERVER}), mac="00:16:3e:00:00:10")]


HOSTILE_VENDORS = {"b827eb": MARKUP, "001122": TITLE_ESCAPE, "003344": SCRIPT,
                   "005566": NEWLINES, "007788": C1_AND_BIDI}


def _ieee_data(directory: Path, extra_row: str = "") -> Path:
    """An ieee-data ``oui.csv`` whose organisation names are hostile."""
    directory.mkdir()
    rows = ["Registry,Assignment,Organization Name,Organization Address"]
    rows += [f'MA-L,{prefix.upper()},"{name}",somewhere' for prefix, name in
             HOSTILE_VENDORS.items()]
    (directory / "oui.csv").write_text("\n".join(rows) + "\n" + extra_row, encoding="utf-8")
    return directory


def _answers() -> list[Neighbour]:
    return [Neighbour(IPv4Address(f"192.0.2.{20 + i}"), f"{prefix[:2]}:{prefix[2:4]}:"
                      f"{prefix[4:]}:00:00:{i:02x}") for i, prefix in enumerate(HOSTILE_VENDORS)]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    setup_logging("WARNING")


def _record(tmp_path: Path, registry: OuiRegistry, *, json_output: bool
            ) -> tuple[int, str, Settings]:
    sweep = Sweep(_site(), IPv4Network("192.0.2.0/24"), "eth1", IPv4Address("192.0.2.1"))
    results = judge_lan(sweep, _hosts(), _answers(), registry.vendor)
    settings = Settings(lang="en", data_dir=tmp_path / "data")
    screen = io.StringIO()
    actx = AppContext(settings, json_output=json_output,
                      console=Console(file=screen, width=400, highlight=False, emoji=False))
    with pytest.raises(typer.Exit) as exited:
        _record_and_show(actx, results, "EP-07 devices on the LAN", {"lans_swept": 1},
                         "1 LANs")
    return exited.value.exit_code, screen.getvalue(), settings


def test_hostile_vendor_names_are_shown_as_text_and_stored_as_observed(
        tmp_path: Path, restore_logging: None) -> None:
    registry = OuiRegistry(_ieee_data(tmp_path / "ieee-data"))
    code, screen, settings = _record(tmp_path, registry, json_output=False)
    assert code == 1  # unknown devices are findings, not a crash
    assert_nothing_live(screen)
    assert MARKUP in screen  # Rich markup printed as written, not applied
    assert SCRIPT in screen
    assert "\nFAKE LINE" not in screen  # the vendor's newline cannot start a line of its own
    log = settings.log_file.read_text(encoding="utf-8")
    assert_nothing_live(log)
    assert "\nFAKE LINE" not in log
    with EvidenceStore.open(settings.store_path) as store:
        run = store.runs()[0]
        stored = store.results(run.id)
    assert run.status is RunStatus.FINDINGS
    assert len(stored) == len(HOSTILE_VENDORS)
    assert all(r.status is Status.FAIL for r in stored)
    assert any(MARKUP in r.evidence for r in stored)


def test_hostile_vendor_names_in_json_are_escaped(
        tmp_path: Path, restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    registry = OuiRegistry(_ieee_data(tmp_path / "ieee-data"))
    code, _screen, _settings = _record(tmp_path, registry, json_output=True)
    out = capsys.readouterr().out
    assert code == 1
    assert_nothing_live(out)
    assert "\nFAKE LINE" not in out  # one JSON document, the newline escaped
    evidence = [r["evidence"] for r in json.loads(out)["results"]]
    assert any(TITLE_ESCAPE in e for e in evidence)  # the data itself survives, escaped


def test_a_registry_with_an_oversized_field_does_not_stop_discover(
        tmp_path: Path, restore_logging: None) -> None:
    """Before the fix, csv's field limit (128 KiB) raised _csv.Error out of the lookup."""
    huge = f'MA-L,AABBCC,"{"A" * 200_000}",x\n'
    registry = OuiRegistry(_ieee_data(tmp_path / "ieee-data", huge))
    code, screen, _settings = _record(tmp_path, registry, json_output=False)
    assert code == 1
    assert "192.0.2.20" in screen
    assert "A" * 1000 not in screen


# ---------------------------------------------------------------- facts

HOSTILE_FACTS: dict[str, Any] = {
    "hostname": f"srv{MARKUP}\x1b[2J",
    "os": f"Debian {TITLE_ESCAPE} {SCRIPT}",
    "service_mgr": NEWLINES,
    "python": {"nested": [C1_AND_BIDI, 1.5]},  # not even a string
}


def _fake_ansible(host: str) -> Callable[..., PlaybookOutcome]:
    """The event ansible-runner delivers for the facts task, carrying what a compromised host
    could report. The one stand-in in this suite: no honest host of the test fleet reports
    escape sequences as its hostname, and the real Ansible path to the event is tested by
    tests/integration/test_facts_fleet.py; what is under test here is dlict's side of it."""

    def run_playbook(*_args: Any, on_event: Callable[[AnsibleEvent], None] | None = None,
                     **_kwargs: Any) -> PlaybookOutcome:
        event = AnsibleEvent(kind="runner_on_ok", host=host, task="Record the facts",
                             action="set_fact", tags=(), changed=False, ignore_errors=False,
                             result={"ansible_facts": {"dlict_host_facts": HOSTILE_FACTS}})
        if on_event is not None:
            on_event(event)
        return PlaybookOutcome("successful", 0, [event], {"processed": {host: 1}})
    return run_playbook


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_hostile_facts_are_printed_as_text(
        monkeypatch: pytest.MonkeyPatch, cli: CliRunner, example_copy: Path,
        tmp_path: Path, json_flag: list[str]) -> None:
    monkeypatch.setattr("dlict.playbooks.facts.run_playbook", _fake_ansible("office-app"))
    monkeypatch.setenv("COLUMNS", "400")  # the evidence on one row, to be read as a whole
    done = cli("-i", str(example_copy), "--lang", "en", "facts", "--limit", "office-app",
               *json_flag)
    assert done.code == 0, (done.stdout, done.stderr)
    assert_nothing_live(done.stdout + done.stderr)
    assert "Traceback" not in done.stderr
    if json_flag:
        evidence = json.loads(done.stdout)["results"][0]["evidence"]
        assert "\x1b[2J" in evidence and MARKUP in evidence  # data kept, JSON-escaped
    else:
        assert MARKUP in done.stdout
        assert "\nFAKE LINE" not in done.stdout
    log = (tmp_path / "data" / "logs" / "dlict.log").read_text(encoding="utf-8")
    assert_nothing_live(log)


# ---------------------------------------------------------------- HLS

TIMEOUT_S = 2.0
SLACK_S = 2.0


class _Hostile(QuietHandler):
    protocol_version = "HTTP/1.1"
    stop = threading.Event()

    def _send(self, body: bytes, status: int = 200, **headers: str) -> None:
        self.send_body(body, status, **headers)

    def _endless(self, chunk: bytes, pause_s: float) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 40))
        self.end_headers()
        try:
            while not self.stop.is_set():
                self.wfile.write(chunk)
                time.sleep(pause_s)
        except OSError:
            pass  # the client hung up, as it should

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        self._send(b"", Last_Modified=datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"))

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        case = self.path.split("/")[1]
        if case == "trickle":
            self._endless(b"#", 0.05)
        elif case == "flood":
            self._endless(b"#EXTINF:1,\nsegment.ts\n" * 4096, 0)
        elif case == "huge":
            self._send(b"#EXTM3U\n" + b"#" * (MAX_BODY + 1))
        elif case == "garbage":
            self._send(bytes(range(256)) * 1000)
        elif case == "loop":
            self._send(b"", 302, Location=self.path)
        elif case == "variants" and self.path.endswith("index.m3u8"):
            lines = [f"#EXT-X-STREAM-INF:BANDWIDTH={100_000 + i}\nv{i}.m3u8"
                     for i in range(20_000)]
            self._send(("#EXTM3U\n" + "\n".join(lines)).encode())
        elif case == "variants":
            self._send(b"#EXTM3U\n#EXTINF:2,\nnewest.ts\n")
        else:
            self._send(b"#EXTM3U\n#EXTINF:" + TITLE_ESCAPE.encode() + b",\ns.ts\n")


@pytest.fixture
def hostile_server() -> Iterator[str]:
    _Hostile.stop.clear()
    with serving(_Hostile) as served:
        try:
            yield served.url
        finally:
            _Hostile.stop.set()  # before the server stops: it waits for the endless answers


@pytest.mark.parametrize(("case", "problem"), [
    ("trickle", "timed out"),
    ("flood", "longer than"),
    ("huge", "longer than"),
    ("garbage", "not an M3U8 playlist"),
    ("loop", "redirects"),
    ("markup", "bad EXTINF"),
])
def test_a_hostile_hls_server_gives_one_clean_problem_in_time_and_memory(
        hostile_server: str, case: str, problem: str) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        status = HlsSource(f"{hostile_server}/{case}", [1]).read(TIMEOUT_S)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S
    assert peak < 4 * MAX_BODY, peak  # a bounded read, whatever the server sends
    text = status.error or status.channels[1].problem or ""
    assert status.locked is not True
    assert problem in text, text
    assert "\n" not in text
    assert_nothing_live(text)


def test_thousands_of_variants_are_read_in_time(hostile_server: str) -> None:
    started = time.monotonic()
    status = HlsSource(f"{hostile_server}/variants", [1]).read(TIMEOUT_S)
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S
    channel = status.channels[1]
    assert channel.stream_up, channel.problem  # the lowest variant followed, fresh segment
    assert channel.bitrate_bps == 100_000


# ---------------------------------------------------------------- femon

@pytest.mark.parametrize("line", [
    "Lock   (0x1f) Signal= 1.0x10^400dBm C/N= 12.30dB",
    "Lock   (0x1f) Signal= -45.00dBm UCB= " + "9" * 400,
    "Lock   (0x1f) postBER= 1.0x10^" + "9" * 5000,
    "Lock   (0x1f) Signal= " + "9" * 400 + "dBm C/N= " + "9" * 400 + "dB",
    "Lock   (0x1f) Signal= -nan C/N= nan UCB= -5 postBER= -1.0x10^-3",
])
def test_hostile_femon_numbers_give_a_status_not_a_crash(line: str) -> None:
    """Before the fix the first three raised OverflowError/ValueError out of the parser."""
    status = parse_femon(line + "\n")
    assert status.reachable and status.locked
    for number in (status.signal_dbm, status.snr_db, status.ber):
        assert number is None or math.isfinite(number)
    assert status.uncorrected_blocks is None or status.uncorrected_blocks >= 0
    assert status.ber is None or status.ber >= 0


@pytest.mark.parametrize("text", [
    "x" * 1_000_000,
    "\x1b]0;owned\x07\x1b[2J" + MARKUP + "\n\x00\xff garbage",
    "(0x" + "f" * 100_000,
    "\n" * 100_000,
])
def test_hostile_femon_output_is_bounded_and_one_line(text: str) -> None:
    started = time.monotonic()
    status = parse_femon(text)
    assert time.monotonic() - started < 2
    assert not status.reachable
    error = status.error or ""
    assert "\n" not in error
    assert len(error) < 1000
