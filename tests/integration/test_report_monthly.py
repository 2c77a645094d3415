"""`dlict report monthly` from a fixed evidence store and a real Prometheus holding one month.

The month is the last whole month before today (Bangkok). Every school of the example inventory
gets 5-minute samples over the whole month (backfilled with promtool, served by Debian's
Prometheus on a loopback port), shaped so the figures can be worked out by hand:

- 4401010001 link always up; RTT 80 ms 12:00–15:00, else 20 ms; DLTV locked always
- 4401010002 link down Monday–Friday 08:00–10:00 (2 of the 8 school hours: 75 % in school
  hours), loss 100 % then, else 2 %; RTT 40 ms; DLTV receiver readable but never locked (0 %)
- 4401020003 link down the first three days of the month, else up; no DLTV
- 4401030004 link up, loss 5 %; DLTV locked before noon only (half the school hours)
- 4401040005 link up
- 4401050006 no data at all
- 4401060007 link up as the office sees it; its agent's own view (vantage="agent") says down
  and must not count
- 4409999999 is in Prometheus only: ignored
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dlict.core.clock import BANGKOK
from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook
from dlict.incidents.model import CaseStatus, Category
from dlict.netdev.history import ConfigHistory
from dlict.runs import record_run
from lab.monitoring import free_port
from lab.promhistory import backfill, serving
from tests.conftest import EXAMPLE_INVENTORY, CliRunner
from tests.pdf_support import assert_printed

pytestmark = pytest.mark.integration

STEP = 300
THAI_MONTH_NAMES = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
                    "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
Shape = Callable[[datetime], float | None]


@dataclass(frozen=True)
class Period:
    year: int
    month: int

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=BANGKOK)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def be(self) -> str:
        return f"{self.year + 543}-{self.month:02d}"

    def steps(self) -> list[datetime]:
        """Every 5-minute step of the month, Bangkok time."""
        first = int(self.start.timestamp())
        return [datetime.fromtimestamp(ts, BANGKOK)
                for ts in range(first, int(self.end.timestamp()), STEP)]


def last_whole_month() -> Period:
    # 4 hours into a month is the earliest a backfill of the month before can reach its end.
    ref = datetime.now(BANGKOK) - timedelta(hours=4)
    year, month = (ref.year, ref.month - 1) if ref.month > 1 else (ref.year - 1, 12)
    return Period(year, month)


PERIOD = last_whole_month()


def school(m: datetime) -> bool:
    return m.weekday() < 5 and 8 <= m.hour < 16


def always(value: float) -> Shape:
    return lambda m: value


def link_2(m: datetime) -> float:
    return 0.0 if m.weekday() < 5 and 8 <= m.hour < 10 else 1.0


SHAPES: dict[str, dict[str, Shape]] = {
    "4401010001": {"link_up": always(1), "loss": always(0),
                   "rtt": lambda m: 0.080 if 12 <= m.hour < 15 else 0.020,
                   "dltv_check_up": always(1), "dltv_locked": always(1)},
    "4401010002": {"link_up": link_2, "loss": lambda m: 1.0 if link_2(m) == 0 else 0.02,
                   "rtt": always(0.040), "dltv_check_up": always(1)},
    "4401020003": {"link_up": lambda m: 0.0 if m.month == PERIOD.month and m.day <= 3 else 1.0,
                   "loss": always(0), "rtt": always(0.030)},
    "4401030004": {"link_up": always(1), "loss": always(0.05), "rtt": always(0.025),
                   "dltv_check_up": always(1),
                   "dltv_locked": lambda m: 1.0 if m.hour < 12 else 0.0},
    "4401040005": {"link_up": always(1), "loss": always(0), "rtt": always(0.020)},
    "4401060007": {"link_up": always(1), "loss": always(0), "rtt": always(0.020)},
    "4409999999": {"link_up": always(0)},
}
FAMILIES = {"link_up": "dlict_link_up", "loss": "dlict_probe_loss_ratio",
            "rtt": "dlict_probe_rtt_seconds", "dltv_check_up": "dlict_dltv_check_up",
            "dltv_locked": "dlict_dltv_locked"}


def write_openmetrics(path: Path) -> None:
    """The month and an hour either side, every 5 minutes."""
    first = int(PERIOD.start.timestamp()) - 3600
    last = int(PERIOD.end.timestamp()) + 3600
    stamps = range(first, last, STEP)
    local = [datetime.fromtimestamp(ts, BANGKOK) for ts in stamps]
    with path.open("w") as out:
        for key, family in FAMILIES.items():
            out.write(f"# TYPE {family} gauge\n")
            for site, shapes in SHAPES.items():
                shape = shapes.get(key)
                if shape is None:
                    continue
                target = ',target="gw"' if key in ("link_up", "loss", "rtt") else ""
                prefix = f'{family}{{job="dlict",site="{site}"{target}}} '
                out.writelines(f"{prefix}{shape(m):g} {ts}\n"
                               for ts, m in zip(stamps, local, strict=True))
            if key == "link_up":  # the agent at 4401060007 sees its link down: not counted
                out.writelines(f'{family}{{job="dlict",site="4401060007",target="gw",'
                               f'vantage="agent"}} 0 {ts}\n' for ts in stamps)
        out.write("# EOF\n")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("prometheus")
    source = base / "month.om"
    write_openmetrics(source)
    backfill(source, base / "data")
    source.unlink()
    try:
        with serving(base / "data") as url:
            yield url
    finally:
        shutil.rmtree(base, ignore_errors=True)


def in_month(days: float) -> datetime:
    return (PERIOD.start + timedelta(days=days)).astimezone(UTC)


def fill_store(data_dir: Path) -> None:
    """A logs check and an audit in the month, two agents, three configuration versions,
    incident cases opened before, in and after the month."""
    with EvidenceStore.open(data_dir / "evidence.sqlite") as store:
        logs = record_run(store, "logs-check", [
            Result("4401010001", "s4401010001-srv", Status.PASS, target="logs",
                   evidence="90/90 days covered", observed_at=in_month(20)),
            Result("4401020003", "s4401020003-srv", Status.FAIL, target="logs",
                   evidence="gap: 2 days missing", observed_at=in_month(20))])
        audit = record_run(store, "audit", [
            Result("4401010002", "s4401010002-srv", Status.FAIL, control="AV-01",
                   evidence="clamd not running", observed_at=in_month(5)),
            Result("4401010001", "s4401010001-srv", Status.PASS, control="AV-01",
                   observed_at=in_month(5))])
        with store.reading() as conn:
            for run, day in ((logs.id, 20), (audit.id, 5)):
                conn.execute("UPDATE runs SET started_at = ?, finished_at = ? WHERE id = ?",
                             (in_month(day).isoformat(), in_month(day).isoformat(), run))
            conn.executemany(
                "INSERT INTO agent_state (site, host, last_seen, clock_offset_s,"
                " outbox_records) VALUES (?, ?, ?, 0, 0)",
                [("4401040005", "s4401040005-srv", in_month(6).isoformat()),
                 ("4401010001", "s4401010001-srv", in_month(PERIOD.days - 0.1).isoformat())])
        for opened, category in ((-2, Category.MALICIOUS_CODE), (4, Category.MALICIOUS_CODE),
                                 (11, Category.MALICIOUS_CODE), (15, Category.AVAILABILITY),
                                 (PERIOD.days + 0.1, Category.FRAUD)):
            book = CaseBook(store, now=lambda days=opened: in_month(days))
            case = book.open(title=f"case {category}", category=category)
            if opened == 4:
                book.move(case.id, CaseStatus.CLOSED, "closed in the month: still counted")
    history = ConfigHistory(data_dir / "netdev" / "configs")
    history.ensure()
    for host, when, text in (("s4401010001-gw", in_month(-3), "a"),
                             ("s4401010001-gw", in_month(9.5), "b"),
                             ("s4401030004-gw", in_month(12.5), "c")):
        (history.root / f"{host}.cfg").write_text(text)
        env = dict(os.environ, GIT_AUTHOR_DATE=when.isoformat(),
                   GIT_COMMITTER_DATE=when.isoformat(), GIT_AUTHOR_NAME="t",
                   GIT_AUTHOR_EMAIL="t@t.invalid", GIT_COMMITTER_NAME="t",
                   GIT_COMMITTER_EMAIL="t@t.invalid", HOME=str(history.root))
        subprocess.run(["git", "-C", str(history.root), "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", str(history.root), "commit", "-q", "-m", f"backup {host}"],
                       check=True, env=env)


def quantile(q: float, values: list[float]) -> float:
    """Prometheus's quantile_over_time: linear between the two nearest ranks."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = max(0, math.floor(rank))
    high = min(len(ordered) - 1, low + 1)
    weight = rank - math.floor(rank)
    return ordered[low] * (1 - weight) + ordered[high] * weight


def by_hand(site: str) -> dict[str, float | None]:
    """The figures of one school worked out from its shapes, step by step."""
    shapes = SHAPES.get(site, {})
    steps = PERIOD.steps()
    lessons = [m for m in steps if school(m)]
    if "link_up" not in shapes:
        return {"link": None, "school_hours": None}
    link = shapes["link_up"]
    figures: dict[str, float | None] = {
        "link": sum(link(m) or 0 for m in steps) / len(steps),
        "school_hours": sum(link(m) or 0 for m in lessons) / len(lessons),
        "loss": sum(shapes["loss"](m) or 0 for m in steps) / len(steps),
        "rtt_median_ms": quantile(0.5, [shapes["rtt"](m) or 0 for m in steps]) * 1000,
        "rtt_p95_ms": quantile(0.95, [shapes["rtt"](m) or 0 for m in steps]) * 1000,
    }
    if "dltv_check_up" in shapes:
        locked = shapes.get("dltv_locked", always(0))
        figures["dltv_school_hours"] = sum(locked(m) or 0 for m in lessons) / len(lessons)
    return figures


def weekdays() -> int:
    return sum(1 for d in range(PERIOD.days) if (PERIOD.start + timedelta(days=d)).weekday() < 5)


def test_monthly_report_html_pdf_csv_json(cli: CliRunner, prometheus: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    fill_store(data_dir)
    html, pdf, table = tmp_path / "m.html", tmp_path / "m.pdf", tmp_path / "m.csv"
    result = cli("--json", "-i", str(EXAMPLE_INVENTORY), "report", "monthly",
                 "--month", PERIOD.be, "--prometheus", prometheus,
                 "--html", str(html), "--pdf", str(pdf), "--csv", str(table),
                 data_dir=data_dir)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    schools = {s["code"]: s for s in data["schools"]}
    assert sorted(schools) == ["4401010001", "4401010002", "4401020003", "4401030004",
                               "4401040005", "4401050006", "4401060007"]

    # Worked out by hand: 2 of 8 school hours down; 3 whole days of the month down; half
    # the school hours locked; 80 ms for 3 hours a day (12.5 %, above the 5 % tail).
    second = schools["4401010002"]
    assert second["school_hours"] == pytest.approx(0.75)
    assert second["link"] == pytest.approx(1 - weekdays() * 24 / (PERIOD.days * 288))
    assert second["dltv_school_hours"] == 0
    assert schools["4401020003"]["link"] == pytest.approx(1 - 3 / PERIOD.days)
    assert schools["4401020003"]["dltv_school_hours"] is None
    assert schools["4401030004"]["dltv_school_hours"] == pytest.approx(0.5)
    assert schools["4401030004"]["loss"] == pytest.approx(0.05)
    assert schools["4401010001"]["rtt_median_ms"] == pytest.approx(20)
    assert schools["4401010001"]["rtt_p95_ms"] == pytest.approx(80)
    assert schools["4401060007"]["link"] == 1  # the agent's own "down" is not counted
    assert schools["4401050006"]["link"] is None
    for code, school_data in schools.items():
        for name, value in by_hand(code).items():
            assert school_data[name] == pytest.approx(value), (code, name)
    first_days = [schools["4401020003"]["days"][f"{PERIOD.year}-{PERIOD.month:02d}-{d:02d}"]
                  for d in (1, 3, 4)]
    assert first_days == [0, 0, 1]

    totals = data["totals"]
    lesson_steps = len([m for m in PERIOD.steps() if school(m)])
    with_data = [c for c in schools if c != "4401050006"]
    expected_school = sum(by_hand(c)["school_hours"] or 0 for c in with_data) / len(with_data)
    assert totals["school_hours"] == pytest.approx(expected_school)
    assert totals["without_data"] == 1
    assert data["worst"][:3] == ["4401010002", "4401020003", "4401010001"]
    amphoe = {a["amphoe"]: a["school_hours"] for a in data["amphoe"]}
    assert amphoe["เมืองมหาสารคาม"] == pytest.approx((1 + 0.75) / 2)
    assert amphoe["นาเชือก"] is None
    assert lesson_steps == weekdays() * 96
    assert [(c["host"]) for c in data["config_changes"]] == ["s4401010001-gw", "s4401030004-gw"]
    assert [(a["site"], a["host"]) for a in data["agents_silent"]] == [
        ("4401040005", "s4401040005-srv")]
    assert [(s["site"], s["ok"]) for s in data["log_sources"]] == [
        ("4401010001", True), ("4401020003", False)]
    assert schools["4401010002"]["av_hosts_failing"] == 1
    # Opened in the month, closed since or not; not the one before, nor the one after.
    assert data["incidents"] == {"availability": 1, "malicious-code": 2}

    for path in (html, pdf, table):
        assert path.stat().st_mode & 0o777 == 0o640
    month_th = THAI_MONTH_NAMES[PERIOD.month - 1]
    first = f"1 {month_th} พ.ศ. {PERIOD.year + 543}"
    last = f"{PERIOD.days} {month_th} พ.ศ. {PERIOD.year + 543}"
    text = assert_printed(pdf, "โรงเรียนผดุงนารี", "โรงเรียนบรบือวิทยาคาร", "โรงเรียนนาเชือกพิทยาสรรค์",
                          first, last, "นายสมชาย ใจดี", "นางสาวสมใจ รักงาน",
                          "โปรแกรมไม่พึงประสงค์ (malicious-code) 2", "gap: 2 days missing")
    assert f"{second['link'] * 100:.2f} %" in text
    assert "75.00 %" in text and "50.00 %" in text
    page = html.read_text(encoding="utf-8")
    assert page.count("<svg") == 2  # the amphoe chart and the heat strips (40 a picture)
    # 4401020003's three days down: one red cell three days wide, each day named.
    assert page.count('fill="#c33"') == 1
    ym = f"{PERIOD.year}-{PERIOD.month:02d}"
    assert f"<title>{ym}-01: 0.0; {ym}-02: 0.0; {ym}-03: 0.0</title>" in page

    rows = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8-sig"))))
    found = {r[0]: r for r in rows[1:]}
    assert rows[0][0] == "รหัสโรงเรียน"
    assert found["4401010002"][1:4] == ["โรงเรียนผดุงนารี", "เมืองมหาสารคาม", "75.0"]
    assert found["4401050006"][3] == ""


def test_christian_era_month_and_one_site_in_english(cli: CliRunner, prometheus: str,
                                                    tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    fill_store(data_dir)
    result = cli("--lang", "en", "--json", "-i", str(EXAMPLE_INVENTORY), "report", "monthly",
                 "--month", f"{PERIOD.year}-{PERIOD.month:02d}", "--site", "4401030004",
                 "--prometheus", prometheus, data_dir=data_dir)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["month"] == PERIOD.be
    assert [s["code"] for s in data["schools"]] == ["4401030004"]
    assert data["schools"][0]["dltv_school_hours"] == pytest.approx(0.5)
    assert [c["host"] for c in data["config_changes"]] == ["s4401030004-gw"]


def test_bad_input_one_line_and_no_file(cli: CliRunner, prometheus: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    pdf = tmp_path / "m.pdf"
    base = ("-i", str(EXAMPLE_INVENTORY), "report", "monthly", "--prometheus", prometheus,
            "--pdf", str(pdf))
    missing = cli(*base, "--month", PERIOD.be, data_dir=data_dir)
    assert missing.code == 2
    assert missing.stderr == (f"dlict: {data_dir}/evidence.sqlite: no evidence store yet: "
                              "nothing to report (run dlict audit, logs check or intake "
                              "first)\n")
    assert not (data_dir / "evidence.sqlite").exists()
    EvidenceStore.open(data_dir / "evidence.sqlite").close()
    empty = cli(*base, "--month", PERIOD.be, data_dir=data_dir)
    assert empty.code == 2
    assert empty.stderr == (f"dlict: {data_dir}/evidence.sqlite: the evidence store holds no "
                            "runs: nothing to report (run dlict audit, logs check or intake "
                            "first)\n")

    fill_store(data_dir)
    today = datetime.now(BANGKOK).date()
    ahead = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    future = cli(*base, "--month", f"{ahead.year + 543}-{ahead.month:02d}", data_dir=data_dir)
    assert future.code == 2
    assert future.stderr.startswith(f"dlict: --month {ahead.year + 543}-{ahead.month:02d}: "
                                    "the month has not begun yet")
    assert future.stderr.count("\n") == 1
    unknown = cli(*base, "--month", PERIOD.be, "--site", "4409999999", data_dir=data_dir)
    assert (unknown.code, unknown.stderr) == (
        2, f"dlict: --site 4409999999: not a school of the inventory {EXAMPLE_INVENTORY}\n")
    for bad in ("2569-13", "11/2569", "2569"):
        wrong = cli(*base, "--month", bad, data_dir=data_dir)
        assert wrong.code == 2 and wrong.stderr.count("\n") == 1, wrong.stderr
    assert not pdf.exists()

    # Prometheus down: exit 3, one line; a PDF already there is left as it was.
    pdf.write_bytes(b"%PDF- the previous month")
    port = free_port()
    down = cli("-i", str(EXAMPLE_INVENTORY), "report", "monthly", "--month", PERIOD.be,
               "--prometheus", f"http://127.0.0.1:{port}", "--pdf", str(pdf),
               data_dir=data_dir)
    assert (down.code, down.stderr) == (
        3, f"dlict: Prometheus at http://127.0.0.1:{port} cannot be reached: connection "
           "refused\n")
    assert pdf.read_bytes() == b"%PDF- the previous month"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "m.pdf"]
