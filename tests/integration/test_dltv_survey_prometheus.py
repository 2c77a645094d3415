"""`dlict report dltv-survey` against a real Prometheus holding 30 days of DLTV samples.

The samples are written as OpenMetrics text and backfilled with ``promtool tsdb
create-blocks-from openmetrics`` (Debian's Prometheus 2.42); Prometheus then serves the
blocks on a loopback port of its own. The schools are those of the example inventory:

- 4401010001 healthy (Tvheadend)
- 4401010002 LNB dead: signal present, SNR 0, never locked → replace the LNB
- 4401030004 weak: locked, SNR 5.5 dB against the 7 dB threshold (DVB tuner) → repair
- 4401060007 unlocked at night and at weekends only → healthy
- 4401020003 readable only 08:00–10:00 → could not be checked
- 4401050006 no data at all → listed as no data
- 4409999999 is in Prometheus but not in the inventory → a warning, ignored
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from dlict.core.clock import BANGKOK, BE_OFFSET
from dlict.core.errors import OperationalError
from dlict.reports.prometheus_api import PrometheusClient
from lab import promhistory
from tests.conftest import EXAMPLE_INVENTORY, CliRunner
from tests.httpstub import QuietHandler, serving

pytestmark = pytest.mark.integration

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
STEP = 300
DAYS = 30
LABELS = 'job="dlict",instance="127.0.0.1:9310"'

Shape = Callable[[datetime], float | None]
# The first and last sample time the prometheus fixture wrote (Unix seconds).
BACKFILLED: dict[str, int] = {}


def _need_programs() -> None:
    missing = [p for p in (PROMETHEUS, PROMTOOL) if shutil.which(p) is None]
    if missing:
        message = (f"{', '.join(missing)} not installed: this test needs Debian's prometheus "
                   "package (apt-get install prometheus)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def lessons(m: datetime) -> bool:
    return m.weekday() < 5 and 8 <= m.hour < 16


def school_steps(start: float, end: float) -> list[datetime]:
    """The query's steps between ``start`` and ``end`` that fall in school hours and see a
    backfilled sample, in Bangkok time. Prometheus 2.x (Debian's 2.42) looks back 5 minutes
    with both edges included, so the last sample is still seen one step after it: that step
    counts when the backfill ends in school hours (a run in the Bangkok morning)."""
    first = math.ceil(start / STEP) * STEP
    last = math.floor(end / STEP) * STEP
    local = (datetime.fromtimestamp(ts, BANGKOK) for ts in range(first, last + 1, STEP)
             if BACKFILLED["start"] <= ts <= BACKFILLED["end"] + STEP)
    return [m for m in local if lessons(m)]


def _schools() -> dict[str, dict[str, Shape]]:
    """Per site, per metric: the value at a Bangkok time (None: no sample then)."""

    def always(value: float) -> Shape:
        return lambda m: value

    return {
        "4401010001": {"check_up": always(1), "locked": always(1), "signal_ratio": always(0.75),
                       "snr_db": always(11.5), "snr_min_db": always(7), "stream_up": always(1)},
        "4401010002": {"check_up": always(1), "locked": always(0), "signal_ratio": always(0.62),
                       "snr_db": always(0), "snr_min_db": always(7), "stream_up": always(0)},
        "4401030004": {"check_up": always(1), "locked": always(1), "signal_ratio": always(0.45),
                       "snr_db": always(5.5), "snr_min_db": always(7), "stream_up": always(1)},
        "4401060007": {
            "check_up": always(1),
            "locked": lambda m: 1 if lessons(m) else 0,
            "signal_ratio": lambda m: 0.7 if lessons(m) else 0.1,
            "snr_db": lambda m: 11 if lessons(m) else 0,
            "snr_min_db": always(7),
            "stream_up": lambda m: 1 if lessons(m) else 0,
        },
        "4401020003": {
            "check_up": lambda m: 1 if 8 <= m.hour < 10 else 0,
            "locked": lambda m: 1 if 8 <= m.hour < 10 else None,
            "stream_up": lambda m: 1 if 8 <= m.hour < 10 else None,
        },
        "4409999999": {"check_up": always(1), "locked": always(1)},
    }


def write_openmetrics(path: Path, start: int, end: int) -> int:
    """Every series of every school every 5 minutes from ``start`` to ``end``; returns the
    number of samples written."""
    schools = _schools()
    families = ["check_up", "locked", "signal_ratio", "snr_db", "snr_min_db", "stream_up"]
    stamps = list(range(start, end + 1, STEP))
    local = [datetime.fromtimestamp(ts, BANGKOK) for ts in stamps]
    count = 0
    with path.open("w") as out:
        for family in families:
            name = f"dlict_dltv_{family}"
            out.write(f"# TYPE {name} gauge\n")
            for site, shapes in schools.items():
                shape = shapes.get(family)
                if shape is None:
                    continue
                channels = ("1", "2") if family == "stream_up" else (None,)
                for channel in channels:
                    extra = f',channel="{channel}"' if channel else ""
                    prefix = f'{name}{{{LABELS},site="{site}"{extra}}} '
                    lines = []
                    for ts, moment in zip(stamps, local, strict=True):
                        value = shape(moment)
                        if value is not None:
                            lines.append(f"{prefix}{value:g} {ts}\n")
                    out.writelines(lines)
                    count += len(lines)
        out.write("# EOF\n")
    return count


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus on a free loopback port, serving backfilled blocks; its URL."""
    _need_programs()
    base = tmp_path_factory.mktemp("prometheus")
    data = base / "data"
    # Backfilled samples must be older than what the head would take: stop 3 hours ago.
    end = (int(time.time()) - 3 * 3600) // STEP * STEP
    start = end - DAYS * 86400 + STEP
    BACKFILLED.update(start=start, end=end)
    source = base / "dltv.om"
    assert write_openmetrics(source, start, end) > 250_000
    promhistory.backfill(source, data)
    source.unlink()
    with promhistory.serving(data) as url:
        yield url
    shutil.rmtree(base, ignore_errors=True)


def test_survey_lists_the_schools_that_need_work(cli: CliRunner, prometheus: str,
                                                 tmp_path: Path) -> None:
    csv_file, html_file = tmp_path / "survey.csv", tmp_path / "survey.html"
    before = time.time()
    result = cli("-i", str(EXAMPLE_INVENTORY), "report", "dltv-survey",
                 "--prometheus", prometheus, "--days", str(DAYS),
                 "--csv", str(csv_file), "--html", str(html_file))
    after = time.time()
    assert result.code == 1, result.stderr
    assert result.stderr == ("dlict: warning: site 4409999999 has DLTV data in Prometheus but "
                             "is not in the inventory: ignored\n")
    assert "2 school(s) need equipment replaced or repaired, 1 could not be checked, " \
           "1 without data, 2 ok" in result.stdout

    raw = csv_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert csv_file.stat().st_mode & 0o777 == 0o640
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:7] == ["ที่", "รหัสโรงเรียน", "ชื่อโรงเรียน", "อำเภอ", "จังหวัด",
                           "อุปกรณ์ที่มีปัญหา", "ความต้องการ"]
    found = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert list(found) == ["4401010002", "4401030004"]  # LNB first (more severe)
    lnb, weak = found["4401010002"], found["4401030004"]
    assert (lnb["ที่"], lnb["อุปกรณ์ที่มีปัญหา"], lnb["ความต้องการ"]) == ("1", "LNB", "ทดแทน")
    assert "ไม่ล็อกสัญญาณ 100%" in lnb["สภาพปัญหา"] and "62%" in lnb["สภาพปัญหา"]
    assert (lnb["ชื่อโรงเรียน"], lnb["จังหวัด"], lnb["โทรศัพท์"]) == (
        "โรงเรียนผดุงนารี", "มหาสารคาม", "043-000-202")
    assert lnb["ผู้ประสานงาน"]
    assert weak["ชื่อโรงเรียน"] == "โรงเรียนโกสุมวิทยาสรรค์"
    assert weak["ความต้องการ"] == "ซ่อมบำรุง"
    assert weak["อุปกรณ์ที่มีปัญหา"] == "จานรับสัญญาณ, สายนำสัญญาณและขั้วต่อ"
    assert "5.5 dB" in weak["สภาพปัญหา"] and "7.0 dB" in weak["สภาพปัญหา"]

    page = html_file.read_text(encoding="utf-8")
    year_be = datetime.now(BANGKOK).year + BE_OFFSET
    assert f"พ.ศ. {year_be}" in page or f"พ.ศ. {year_be - 1}" in page
    # Signed as the inventory's dlict_office says: the director, titled after the office.
    assert "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษาประถมศึกษาตัวอย่าง เขต 1" in page
    assert "(นายสมชาย ใจดี)" in page and "(นางสาวสมใจ รักงาน)" in page
    # 4401020003 answers 08:00-10:00 only: a quarter of the school hours, less or more when
    # the window's first day starts inside them. The run's window ended between before/after.
    shares = set()
    for end in (before, after):
        steps = school_steps(end - DAYS * 86400, end)
        readable = sum(1 for m in steps if 8 <= m.hour < 10)
        shares.add(f"{readable / len(steps) * 100:.0f}%")
    assert "4401020003" in page
    assert any(f"อ่านสถานะเครื่องรับได้เพียง {share}" in page for share in shares), shares
    assert "4401050006" in page and "ไม่มีข้อมูลในช่วงที่สำรวจ" in page


def test_survey_json_and_english(cli: CliRunner, prometheus: str, tmp_path: Path) -> None:
    result = cli("--json", "-i", str(EXAMPLE_INVENTORY), "report", "dltv-survey",
                 "--prometheus", prometheus)
    assert result.code == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["step_s"] == STEP
    assert [(f["code"], f["problem"], f["need"]) for f in data["findings"]] == [
        ("4401010002", "lnb-failed", "replace"), ("4401030004", "weak-signal", "repair")]
    assert [(u["code"], u["unchecked"]) for u in data["unchecked"]] == [
        ("4401020003", "unreadable")]
    assert [h["code"] for h in data["healthy"]] == ["4401010001", "4401060007"]
    night = data["healthy"][1]["figures"]
    # Every step of the queried window that falls in school hours and sees a sample (each
    # is visible for 5 minutes): ~21 school days of 96, fewer when the window's first day
    # starts in school hours.
    expected = len(school_steps(datetime.fromisoformat(data["start"]).timestamp(),
                                datetime.fromisoformat(data["end"]).timestamp()))
    assert 19 * 96 <= expected <= 23 * 96
    assert night["school_samples"] == expected
    assert night["unlocked_share"] == 0

    csv_file = tmp_path / "en.csv"
    english = cli("--lang", "en", "-i", str(EXAMPLE_INVENTORY), "report", "dltv-survey",
                  "--prometheus", prometheus, "--csv", str(csv_file))
    assert english.code == 1
    assert csv_file.read_text(encoding="utf-8-sig").startswith(
        "No.,School code,School name,District (amphoe),Province,")


def test_survey_table_without_files(cli: CliRunner, prometheus: str) -> None:
    result = cli("-i", str(EXAMPLE_INVENTORY), "report", "dltv-survey",
                 "--prometheus", prometheus, "--days", "7")
    assert result.code == 1, result.stderr
    assert "4401010002" in result.stdout and "ทดแทน" in result.stdout
    assert "4401050006" in result.stdout


def test_prometheus_down_is_exit_3_one_line(cli: CliRunner, tmp_path: Path) -> None:
    port = _free_port()
    csv_file = tmp_path / "survey.csv"
    result = cli("-i", str(EXAMPLE_INVENTORY), "report", "dltv-survey",
                 "--prometheus", f"http://127.0.0.1:{port}", "--csv", str(csv_file))
    assert result.code == 3
    assert result.stderr == (f"dlict: Prometheus at http://127.0.0.1:{port} cannot be "
                             "reached: connection refused\n")
    assert not csv_file.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--days", "0"], "dlict: --days: 0 is out of range (1 to 400)\n"),
    (["--days", "401"], "dlict: --days: 401 is out of range (1 to 400)\n"),
    (["--prometheus", "127.0.0.1:9090"],
     "dlict: --prometheus '127.0.0.1:9090': expected http://HOST:PORT or https://HOST:PORT\n"),
    (["--csv", "/nonexistent/dir/x.csv"],
     "dlict: --csv /nonexistent/dir/x.csv: the directory does not exist\n"),
])
def test_bad_input_is_exit_2_one_line(cli: CliRunner, args: list[str], message: str) -> None:
    result = cli("-i", str(EXAMPLE_INVENTORY), "report", "dltv-survey", *args)
    assert (result.code, result.stderr) == (2, message)


class _Guarded(QuietHandler):
    """A stand-in Prometheus that wants basic auth dlict:s3cret-pw and has no data."""

    seen: list[str | None] = []  # noqa: RUF012 - shared with the test on purpose

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        header = self.headers.get("Authorization")
        type(self).seen.append(header)
        expected = "Basic " + base64.b64encode(b"dlict:s3cret-pw").decode()
        if header != expected:
            self.send_body(b"", 401)
            return
        data: object = [] if "/label/" in self.path else {"resultType": "matrix", "result": []}
        self.send_json({"status": "success", "data": data})


@pytest.fixture
def guarded() -> Iterator[str]:
    _Guarded.seen.clear()
    with serving(_Guarded) as served:
        yield served.url


def test_basic_auth_from_the_environment(guarded: str) -> None:
    client = PrometheusClient.from_env(guarded, environ={
        "DLICT_PROMETHEUS_USER": "dlict", "DLICT_PROMETHEUS_PASSWORD": "s3cret-pw"})
    assert client.label_values("site", ["dlict_dltv_check_up"], 0, 600) == []
    assert client.query_range("up", 0, 600, 300) == []
    with pytest.raises(OperationalError) as refused:
        PrometheusClient.from_env(guarded, environ={
            "DLICT_PROMETHEUS_USER": "dlict", "DLICT_PROMETHEUS_PASSWORD": "wrong"}
        ).query_range("up", 0, 600, 300)
    assert "HTTP 401" in str(refused.value) and "wrong" not in str(refused.value)


def test_survey_with_no_data_exits_0(cli: CliRunner, guarded: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLICT_PROMETHEUS_USER", "dlict")
    monkeypatch.setenv("DLICT_PROMETHEUS_PASSWORD", "s3cret-pw")
    result = cli("-i", str(EXAMPLE_INVENTORY), "report", "dltv-survey", "--prometheus", guarded)
    assert result.code == 0, result.stderr
    assert "0 school(s) need equipment replaced or repaired" in result.stdout
    assert "has no dlict_dltv_check_up series in the last 30 days" in result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert _Guarded.seen and all(_Guarded.seen)


def test_survey_pdf_names_schools_period_and_signers(cli: CliRunner, prometheus: str,
                                                     tmp_path: Path) -> None:
    """The printed survey: A4, Thai font embedded, the schools that need work, the period as
    B.E. dates, the figures, and the signature blocks from the inventory's dlict_office."""
    from tests.integration.test_reports_pdf import THAI_MONTHS, printed

    pdf_file = tmp_path / "survey.pdf"
    before = time.time()
    result = cli("-i", str(EXAMPLE_INVENTORY), "report", "dltv-survey",
                 "--prometheus", prometheus, "--days", str(DAYS), "--pdf", str(pdf_file))
    after = time.time()
    assert result.code == 1, result.stderr
    assert f"wrote {pdf_file}" in result.stdout
    assert pdf_file.stat().st_mode & 0o777 == 0o640
    text = printed(pdf_file, "โรงเรียนผดุงนารี", "โรงเรียนโกสุมวิทยาสรรค์", "4401010002",
                   "4401030004", "5.5 dB", "7.0 dB", "นายสมชาย ใจดี", "นางสาวสมใจ รักงาน",
                   "สำนักงานเขตพื้นที่การศึกษาประถมศึกษาตัวอย่าง เขต 1")

    def be(moment: datetime) -> str:
        day = moment.astimezone(BANGKOK).date()
        return f"{day.day} {THAI_MONTHS[day.month - 1]} พ.ศ. {day.year + BE_OFFSET}"

    # The period: DAYS days ending when the run ran (between before and after).
    periods = {f"{be(datetime.fromtimestamp(end - DAYS * 86400, BANGKOK))} ถึง "
               f"{be(datetime.fromtimestamp(end, BANGKOK))} ({DAYS} วัน)"
               for end in (before, after)}
    from tests.integration.test_reports_pdf import _am_as_aa
    assert any(_am_as_aa(period) in text for period in periods), periods
