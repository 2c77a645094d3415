"""The DLTV equipment survey's analysis on synthetic series: school hours, the rules, output."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from dlict.core.clock import BANGKOK
from dlict.core.errors import InputError
from dlict.inventory import Inventory, Site, SiteKind
from dlict.inventory.models import Contact, Dltv, DltvThresholds, MonitorSettings, SiteMeta
from dlict.reports.dltv_survey import (
    Equipment,
    Need,
    Problem,
    SiteSeries,
    Unchecked,
    assess,
    build_survey,
    collect,
    in_school_hours,
    queries,
)
from dlict.reports.dltv_survey_render import (
    BOM,
    columns,
    evidence,
    form_rows,
    render_csv,
    render_html,
)
from dlict.reports.prometheus_api import MAX_POINTS, check_url, choose_step

STEP = 300
# Monday 2 June 2025, 00:00 Bangkok; four full weeks from there.
MONDAY = datetime(2025, 6, 2, tzinfo=BANGKOK)
START = MONDAY.astimezone(UTC)
END = (MONDAY + timedelta(days=28)).astimezone(UTC)

Shape = Callable[[datetime], float | None]


def bkk(day: int, hour: int, minute: int = 0) -> float:
    """Unix time of June ``day`` 2025 at ``hour:minute`` Bangkok."""
    return datetime(2025, 6, day, hour, minute, tzinfo=BANGKOK).timestamp()


def samples(shape: Shape) -> dict[float, float]:
    """``shape(local time)`` every 5 minutes over the four weeks; ``None`` leaves a gap."""
    out: dict[float, float] = {}
    ts = START.timestamp()
    while ts < END.timestamp():
        value = shape(datetime.fromtimestamp(ts, BANGKOK))
        if value is not None:
            out[ts] = value
        ts += STEP
    return out


def lessons(moment: datetime) -> bool:
    return moment.weekday() < 5 and 8 <= moment.hour < 16


def receiver(*, up: Shape = lambda m: 1.0, locked: Shape = lambda m: 1.0,
             signal: Shape = lambda m: 0.7, snr: Shape = lambda m: 11.0,
             snr_min: float | None = 7.0) -> SiteSeries:
    def when_up(shape: Shape) -> Shape:
        return lambda m: shape(m) if up(m) else None

    return SiteSeries(
        check_up=samples(up), locked=samples(when_up(locked)),
        signal_ratio=samples(when_up(signal)), snr_db=samples(when_up(snr)),
        snr_min_db=samples(lambda m: snr_min) if snr_min is not None else {},
        channels_up=samples(when_up(locked)),
    )


def school(code: str, source: str = "tvheadend") -> Site:
    meta = SiteMeta(school_code=code, name_th=f"โรงเรียนทดสอบ{code[-2:]}",
                    name_en=f"Test School {code[-2:]}", amphoe="เมืองมหาสารคาม",
                    province="มหาสารคาม", dltv=Dltv(source=source),
                    contacts=[Contact(name="นายทดสอบ ใจดี", phone="043-000-2" + code[-2:])])
    return Site(id=code, kind=SiteKind.SCHOOL, group=f"school_{code}", meta=meta, hosts=())


def district(*sites: Site) -> Inventory:
    office = Site(id="office", kind=SiteKind.OFFICE, group="office", hosts=(),
                  meta=SiteMeta(name_th="สำนักงานเขตพื้นที่การศึกษามัธยมศึกษามหาสารคาม",
                                name_en="Maha Sarakham Secondary ESAO", amphoe="เมือง",
                                province="มหาสารคาม"))
    monitor = MonitorSettings(dltv_thresholds={"tvheadend": DltvThresholds(snr_min_db=7.0),
                                               "dvb_femon": DltvThresholds(snr_min_db=6.0)})
    return Inventory(source="test", sites=(office, *sites), hosts={}, monitor=monitor)


# --- school hours -------------------------------------------------------------------------

@pytest.mark.parametrize(("ts", "expected"), [
    (bkk(2, 10), True),         # Monday 10:00
    (bkk(2, 7), False),         # Monday 07:00, before lessons
    (bkk(2, 7, 55), False),
    (bkk(2, 8), True),          # the first minute counts
    (bkk(6, 15, 55), True),     # Friday
    (bkk(6, 16), False),        # 16:00 is after school
    (bkk(7, 10), False),        # Saturday 10:00
    (bkk(8, 10), False),        # Sunday 10:00
])
def test_school_hours_are_weekdays_eight_to_four_bangkok(ts: float, expected: bool) -> None:
    assert in_school_hours(ts) is expected


def test_school_hours_are_bangkok_not_utc() -> None:
    # Monday 03:00 UTC is 10:00 in Bangkok; Monday 10:00 UTC is 17:00 there.
    assert in_school_hours(datetime(2025, 6, 2, 3, tzinfo=UTC).timestamp())
    assert not in_school_hours(datetime(2025, 6, 2, 10, tzinfo=UTC).timestamp())
    # Sunday 20:00 UTC is Monday 03:00 Bangkok: still night.
    assert not in_school_hours(datetime(2025, 6, 1, 20, tzinfo=UTC).timestamp())


# --- one site at a time ---------------------------------------------------------------------

def test_healthy_receiver() -> None:
    verdict = assess(receiver(), step_s=STEP)
    assert verdict.healthy
    f = verdict.figures
    assert f.school_samples == 20 * 8 * 12  # 20 school days, 8 hours, 12 samples an hour
    assert f.readable_share == 1.0 and f.unlocked_share == 0.0
    assert f.locked_snr_median == 11.0 and f.snr_min_db == 7.0


def test_unlocked_only_at_night_and_weekends_is_healthy() -> None:
    series = receiver(locked=lambda m: 1.0 if lessons(m) else 0.0,
                      snr=lambda m: 11.0 if lessons(m) else 0.0,
                      up=lambda m: 1.0 if lessons(m) or m.hour % 2 else 0.0)
    verdict = assess(series, step_s=STEP)
    assert verdict.healthy, verdict


def test_07_00_does_not_count_but_10_00_does() -> None:
    # Unlocked 07:00-08:00 every day (not school hours): healthy.
    early = receiver(locked=lambda m: 0.0 if m.hour == 7 else 1.0)
    assert assess(early, step_s=STEP).healthy
    # Unlocked 10:00-15:00 on weekdays (5 of the 8 school hours): the LNB.
    late = receiver(locked=lambda m: 0.0 if lessons(m) and 10 <= m.hour < 15 else 1.0,
                    snr=lambda m: 0.0 if lessons(m) and 10 <= m.hour < 15 else 11.0)
    verdict = assess(late, step_s=STEP)
    assert verdict.problem is Problem.LNB_FAILED
    assert verdict.figures.unlocked_share == pytest.approx(5 / 8)


def test_locked_at_weekends_but_not_in_lessons_needs_work() -> None:
    series = receiver(locked=lambda m: 0.0 if lessons(m) else 1.0,
                      snr=lambda m: 0.0 if lessons(m) else 11.0, signal=lambda m: 0.6)
    verdict = assess(series, step_s=STEP)
    assert verdict.problem is Problem.LNB_FAILED
    assert verdict.figures.unlocked_share == 1.0


def test_lnb_failure_signal_present_snr_zero() -> None:
    verdict = assess(receiver(locked=lambda m: 0.0, signal=lambda m: 0.62,
                              snr=lambda m: 0.0), step_s=STEP)
    assert verdict.problem is Problem.LNB_FAILED
    assert verdict.problem.need is Need.REPLACE
    assert verdict.problem.equipment == (Equipment.LNB,)
    text = evidence(verdict, "th")
    assert "ไม่ล็อกสัญญาณ 100%" in text and "62%" in text and "0.0 dB" in text
    assert "LNB" in evidence(verdict, "en")


def test_lnb_failure_when_snr_is_not_reported() -> None:
    series = receiver(locked=lambda m: 0.0, signal=lambda m: 0.5)
    series.snr_db.clear()
    assert assess(series, step_s=STEP).problem is Problem.LNB_FAILED


def test_no_signal_is_dish_lnb_cable_repair() -> None:
    verdict = assess(receiver(locked=lambda m: 0.0, signal=lambda m: 0.05,
                              snr=lambda m: 0.0), step_s=STEP)
    assert verdict.problem is Problem.NO_LOCK
    assert verdict.problem.need is Need.REPAIR
    assert set(verdict.problem.equipment) == {Equipment.DISH, Equipment.LNB, Equipment.CABLE}


def test_good_signal_and_snr_but_no_lock_is_the_receiver() -> None:
    verdict = assess(receiver(locked=lambda m: 0.0, signal=lambda m: 0.8,
                              snr=lambda m: 10.0), step_s=STEP)
    assert verdict.problem is Problem.RECEIVER
    assert verdict.problem.equipment == (Equipment.RECEIVER,)


def test_weak_snr_while_locked() -> None:
    # Locked, SNR 5.5 dB against a 7 dB threshold, better only on Friday afternoons.
    series = receiver(snr=lambda m: 8.0 if m.weekday() == 4 and m.hour >= 14 else 5.5)
    verdict = assess(series, step_s=STEP)
    assert verdict.problem is Problem.WEAK_SIGNAL
    assert verdict.problem.need is Need.REPAIR
    assert verdict.figures.locked_snr_median == 5.5
    assert verdict.figures.locked_below_share == pytest.approx(1 - 2 / 40)
    assert "5.5 dB" in evidence(verdict, "th") and "7.0 dB" in evidence(verdict, "th")


def test_weak_snr_only_some_of_the_time_is_healthy() -> None:
    series = receiver(snr=lambda m: 5.0 if m.hour in (8, 9, 10) else 11.0)
    assert assess(series, step_s=STEP).healthy


def test_threshold_falls_back_to_the_inventory() -> None:
    series = receiver(snr=lambda m: 6.5, snr_min=None)
    assert assess(series, step_s=STEP).healthy  # no threshold at all: SNR is not judged
    verdict = assess(series, step_s=STEP, snr_min_fallback=7.0)
    assert verdict.problem is Problem.WEAK_SIGNAL and verdict.figures.snr_min_db == 7.0
    # Prometheus's own threshold wins over the inventory's.
    assert assess(receiver(snr=lambda m: 6.5, snr_min=6.0), step_s=STEP,
                  snr_min_fallback=7.0).healthy


def test_unreadable_half_the_time_could_not_be_checked() -> None:
    # Read only 08:00-11:00 on school days (3 of 8 hours), and then never locked.
    series = receiver(up=lambda m: 1.0 if 8 <= m.hour < 11 else 0.0, locked=lambda m: 0.0,
                      signal=lambda m: 0.0, snr=lambda m: 0.0)
    verdict = assess(series, step_s=STEP)
    assert verdict.problem is None
    assert verdict.unchecked is Unchecked.UNREADABLE
    assert verdict.figures.readable_share == pytest.approx(3 / 8)


def test_only_weekend_data_could_not_be_checked() -> None:
    series = receiver(up=lambda m: 1.0 if m.weekday() >= 5 else None)
    assert assess(series, step_s=STEP).unchecked is Unchecked.NO_SCHOOL_HOURS


def test_hls_says_nothing_of_the_dish() -> None:
    series = receiver(locked=lambda m: 0.0)
    series.signal_ratio.clear()
    series.snr_db.clear()
    verdict = assess(series, step_s=STEP, source="hls")
    assert verdict.unchecked is Unchecked.STREAMS_ONLY and verdict.problem is None


# --- the district ---------------------------------------------------------------------------

CODES = [f"44010{n}000{n}" for n in range(1, 10)]


def district_survey() -> tuple[Inventory, dict[str, SiteSeries]]:
    inv = district(*(school(code) for code in CODES[:7]), school(CODES[7], "hls"),
                   school(CODES[8], "none"))
    data = {
        CODES[0]: receiver(),                                                 # healthy
        CODES[1]: receiver(snr=lambda m: 5.0),                               # weak
        CODES[2]: receiver(locked=lambda m: 0.0, signal=lambda m: 0.6,
                           snr=lambda m: 0.0),                               # LNB
        CODES[3]: receiver(locked=lambda m: 0.0, signal=lambda m: 0.0,
                           snr=lambda m: 0.0),                               # no signal
        CODES[4]: receiver(up=lambda m: 1.0 if m.hour < 10 else 0.0),       # unreadable
        # CODES[5]: nothing at all
        CODES[6]: receiver(locked=lambda m: 0.0, signal=lambda m: 0.7,
                           snr=lambda m: 0.2),                               # LNB
        CODES[7]: receiver(),                                                # HLS
        CODES[8]: receiver(),                                                # no DLTV
        "4409999999": receiver(),                                            # not ours
    }
    return inv, data


def test_district_rows_sorted_by_severity_then_code() -> None:
    inv, data = district_survey()
    survey = build_survey(inv, data, start=START, end=END, step_s=STEP)
    assert [(e.school.code, e.problem) for e in survey.findings] == [
        (CODES[2], Problem.LNB_FAILED), (CODES[6], Problem.LNB_FAILED),
        (CODES[3], Problem.NO_LOCK), (CODES[1], Problem.WEAK_SIGNAL)]
    assert [e.school.code for e in survey.unchecked] == [CODES[4], CODES[7]]
    assert [e.school.code for e in survey.no_data] == [CODES[5]]
    assert [e.school.code for e in survey.healthy] == [CODES[0]]
    assert survey.warnings == [
        f"site {CODES[8]} has DLTV data in Prometheus but no DLTV receiver in the "
        "inventory: ignored",
        "site 4409999999 has DLTV data in Prometheus but is not in the inventory: ignored",
    ]
    assert survey.days == 28


def test_csv_is_excel_friendly_thai_form() -> None:
    inv, data = district_survey()
    survey = build_survey(inv, data, start=START, end=END, step_s=STEP)
    text = render_csv(survey, "th")
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[len(BOM):])))
    assert rows[0] == columns("th")
    assert rows[0][:3] == ["ที่", "รหัสโรงเรียน", "ชื่อโรงเรียน"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["รหัสโรงเรียน"] == CODES[2]
    assert first["อุปกรณ์ที่มีปัญหา"] == "LNB" and first["ความต้องการ"] == "ทดแทน"
    assert first["ผู้ประสานงาน"] == "นายทดสอบ ใจดี"
    assert "เปลี่ยน LNB" in first["หมายเหตุ"]
    weak = dict(zip(rows[0], rows[4], strict=True))
    assert weak["ความต้องการ"] == "ซ่อมบำรุง"
    assert weak["อุปกรณ์ที่มีปัญหา"] == "จานรับสัญญาณ, สายนำสัญญาณและขั้วต่อ"
    english = render_csv(survey, "en")
    assert english.startswith(BOM + "No.,School code,School name")
    assert "Test School 03,เมืองมหาสารคาม" in english and ",replace," in english


def test_csv_cells_never_become_formulas() -> None:
    inv = district(school(CODES[0]).model_copy(update={"meta": school(CODES[0]).meta.model_copy(
        update={"name_th": "=HYPERLINK(\"x\")"})}))
    survey = build_survey(inv, {CODES[0]: receiver(snr=lambda m: 3.0)}, start=START, end=END,
                          step_s=STEP)
    assert form_rows(survey, "th")[0][2] == '=HYPERLINK("x")'
    assert ',"\'=HYPERLINK(""x"")",' in render_csv(survey, "th")


def test_html_thai_with_buddhist_era_and_signature() -> None:
    inv, data = district_survey()
    survey = build_survey(inv, data, start=START, end=END, step_s=STEP)
    page = render_html(survey, "th", END)
    assert "2 มิถุนายน พ.ศ. 2568" in page and "29 มิถุนายน พ.ศ. 2568" in page
    assert "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษามัธยมศึกษามหาสารคาม" in page
    assert "เกณฑ์ที่ใช้" in page and "08:00–16:00" in page
    assert "ตรวจสอบอุปกรณ์จากระยะไกลไม่ได้" in page and CODES[4] in page
    assert "ไม่มีข้อมูลในช่วงที่สำรวจ" in page
    assert "รหัส 4409999999 มีข้อมูล DLTV ใน Prometheus แต่ไม่อยู่ในทะเบียนหน่วยงาน" in page
    english = render_html(survey, "en", END)
    assert "2025-06-02" in english and "Director" in english and "replace" in english


def test_no_findings_page_says_so() -> None:
    inv = district(school(CODES[0]))
    survey = build_survey(inv, {CODES[0]: receiver()}, start=START, end=END, step_s=STEP)
    assert survey.findings == []
    assert "ไม่พบโรงเรียนที่ต้องทดแทนหรือซ่อมบำรุงอุปกรณ์" in render_html(survey, "th", END)
    assert render_csv(survey, "th").count("\r\n") == 1


# --- fetching (with a fake Prometheus) ------------------------------------------------------

FIELDS = {"dlict_dltv_check_up": "check_up", "dlict_dltv_locked": "locked",
          "dlict_dltv_signal_ratio": "signal_ratio", "dlict_dltv_snr_db": "snr_db",
          "dlict_dltv_snr_min_db": "snr_min_db", "dlict_dltv_stream_up": "channels_up"}


def test_collect_fetches_in_batches_and_files_by_site() -> None:
    inv, data = district_survey()
    asked: list[str] = []

    def fetch(query: str) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        asked.append(query)
        metric = next(field for name, field in FIELDS.items() if f"{name}{{" in query)
        match = re.search(r'site=~"([^"]*)"', query)
        assert match is not None
        return [({"site": site}, sorted(data[site].metric(metric).items()))
                for site in match.group(1).split("|")]

    present = set(data)
    verdicts = collect(inv, fetch, present, step_s=STEP, batch_size=3)
    # 8 schools with DLTV and data (CODES[5] has none): 3 batches of 6 queries.
    assert len(asked) == 3 * 6
    assert verdicts[CODES[2]].problem is Problem.LNB_FAILED
    assert verdicts[CODES[0]].healthy
    assert CODES[5] not in verdicts and "4409999999" not in verdicts


def test_queries_ask_for_school_hours_only() -> None:
    query = queries(["4401010001", "4401010002"])["locked"]
    assert query.startswith('max by (site) (dlict_dltv_locked{site=~"4401010001|4401010002"})')
    assert "hour(vector(time() + 25200)) >= 8 < 16" in query
    assert "day_of_week(vector(time() + 25200)) >= 1 <= 5" in query


def test_step_keeps_under_prometheus_point_limit() -> None:
    assert choose_step(30 * 86400) == 300
    for days in (1, 30, 90, 365, 400):
        step = choose_step(days * 86400)
        assert step >= 300 and days * 86400 / step + 2 <= MAX_POINTS


@pytest.mark.parametrize("url", ["127.0.0.1:9090", "ftp://host/", "http://", "http://u:p@host",
                                 "http://host:99999", "http://host/?x=1"])
def test_bad_prometheus_url_is_input_error(url: str) -> None:
    with pytest.raises(InputError):
        check_url(url)


def test_good_prometheus_url() -> None:
    assert check_url("http://127.0.0.1:9090/") == "http://127.0.0.1:9090"
    assert check_url("https://mon.example.org/prometheus") == \
        "https://mon.example.org/prometheus"
