"""The ``dvb-fe-tool --femon`` parser, and the DLTV thresholds read from the inventory.

No DVB tuner can run here, so the fixtures in ``fixtures/dltv/femon/`` are captured-format
outputs: lines in the exact shape v4l-utils 1.22 prints them (``dvb_fe_snprintf_stat``: the
highest status bit's name padded to 7, the bits in hex, then ``Quality=``, ``Signal=``,
``C/N=``, ``UCB=``, ``postBER=``/``preBER=`` in its engineering notation), for a locked DVB-S2
tuner, a tuner seeing RF but no lock, one with no signal at all, an old DVBv3 driver
(percentages and a raw BER), and a driver that gives the BER before correction.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlict.core.errors import InputError
from dlict.dltv import DEFAULT_THRESHOLDS, Thresholds, parse_femon, thresholds_from

FIXTURES = Path(__file__).parent / "fixtures" / "dltv" / "femon"


def femon(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_locked_tuner_reads_the_last_status_line() -> None:
    status = parse_femon(femon("locked.txt"))
    assert status.source == "dvb_femon"
    assert status.reachable is True
    assert status.locked is True
    assert status.signal_dbm == pytest.approx(-45.0)
    assert status.snr_db == pytest.approx(12.3)
    assert status.uncorrected_blocks == 0
    assert status.ber == 0.0  # the first line's 1.23x10^-6 is an older sample
    assert status.signal_ratio is None  # the driver gives dBm, not a relative level
    assert status.channels == {}
    assert status.error is None


def test_a_tuner_with_rf_but_no_lock_is_unlocked_with_its_readings() -> None:
    status = parse_femon(femon("unlocked.txt"))
    assert status.reachable is True
    assert status.locked is False
    assert status.signal_dbm == pytest.approx(-62.4)
    assert status.snr_db == pytest.approx(1.1)
    assert status.uncorrected_blocks is None  # not in the last line
    assert status.ber is None


def test_no_signal_at_all_is_unlocked_with_no_readings() -> None:
    status = parse_femon(femon("no_signal.txt"))
    assert (status.reachable, status.locked) == (True, False)
    assert (status.signal_dbm, status.signal_ratio, status.snr_db, status.ber) == (
        None, None, None, None)


def test_old_driver_percentages_and_raw_ber() -> None:
    status = parse_femon(femon("dvbv3_locked.txt"))
    assert status.locked is True
    assert status.signal_ratio == pytest.approx(0.8235)
    assert status.signal_dbm is None
    assert status.snr_db is None  # a percentage of the driver's scale is no dB figure
    assert status.uncorrected_blocks == 3
    assert status.ber is None  # 2048 is the driver's own unit, not a rate


def test_ber_before_correction_is_preferred() -> None:
    status = parse_femon(femon("locked_preber.txt"))
    assert status.ber == pytest.approx(150e-9)
    assert status.snr_db == pytest.approx(15.6)
    assert status.uncorrected_blocks == 7


def test_colour_codes_from_a_terminal_capture_are_ignored() -> None:
    text = "\x1b[36mLock   (0x1f) Quality= Ok   Signal= -45.00dBm C/N= 12.30dB UCB= 0\n\x1b[0m"
    status = parse_femon(text)
    assert status.locked is True
    assert status.snr_db == pytest.approx(12.3)


def test_output_without_a_status_line_is_unreadable_with_its_message() -> None:
    status = parse_femon("WARNING  device dvb0.frontend0 not found\n")
    assert status.reachable is False
    assert status.locked is None
    assert status.error == "dvb-fe-tool: WARNING device dvb0.frontend0 not found"


def test_thresholds_default_per_kind() -> None:
    assert thresholds_from(None, "tvheadend") == DEFAULT_THRESHOLDS["tvheadend"]
    assert thresholds_from({}, "dvb_femon").snr_min_db == 7.0
    assert thresholds_from(None, "hls") == Thresholds(max_segment_age_s=30.0)


def test_thresholds_override_the_defaults() -> None:
    assert thresholds_from({"snr_min_db": 9}, "tvheadend") == Thresholds(
        snr_min_db=9.0, signal_min_ratio=0.3)
    assert thresholds_from({"max_segment_age_s": "45"}, "hls").max_segment_age_s == 45.0
    assert thresholds_from({"snr_min_db": None}, "dvb_femon").snr_min_db == 7.0


@pytest.mark.parametrize(("mapping", "kind", "message"), [
    ({"snr_min": 7}, "tvheadend",
     "dltv_thresholds.tvheadend: unknown key 'snr_min' (expected max_segment_age_s, "
     "signal_min_ratio, snr_min_db)"),
    ({"snr_min_db": "high"}, "tvheadend",
     "dltv_thresholds.tvheadend.snr_min_db: expected a number, got 'high'"),
    ({"snr_min_db": True}, "dvb_femon",
     "dltv_thresholds.dvb_femon.snr_min_db: expected a number, got True"),
    ({"signal_min_ratio": 1.5}, "tvheadend",
     "dltv_thresholds.tvheadend.signal_min_ratio: 1.5 is out of range (from 0 to 1)"),
    ({"max_segment_age_s": 0}, "hls",
     "dltv_thresholds.hls.max_segment_age_s: 0 is out of range (above 0 to 86400)"),
    ({"snr_min_db": float("nan")}, "tvheadend",
     "dltv_thresholds.tvheadend.snr_min_db: nan is out of range (from 0 to 40)"),
    ({"snr_min_db": [7]}, "tvheadend",
     "dltv_thresholds.tvheadend.snr_min_db: expected a number, got [7]"),
    ({}, "satellite",
     "dltv_thresholds: unknown receiver kind 'satellite' (expected one of tvheadend, "
     "dvb_femon, hls)"),
])
def test_bad_thresholds_are_one_clear_line(mapping: dict[str, object], kind: str,
                                           message: str) -> None:
    with pytest.raises(InputError) as caught:
        thresholds_from(mapping, kind)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_thresholds_must_be_a_mapping() -> None:
    with pytest.raises(InputError, match=r"dltv_thresholds\.hls: expected a mapping"):
        thresholds_from([30], "hls")  # type: ignore[arg-type]
