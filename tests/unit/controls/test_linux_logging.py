"""LOG-01..LOG-04 judged on the controller from one observation, on observations captured from
the real fleet's log server and school server, healthy and broken
(fixtures/linux_observed/logging/README.md says how)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dlict.controls.linux import judge_area
from dlict.core.results import Status

FIXTURES = Path(__file__).parent.parent / "fixtures" / "linux_observed" / "logging"
CONTROLS = {"LOG-01", "LOG-02", "LOG-03", "LOG-04"}


def load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    return data["observed"], data["inputs"]


def judged(name: str, observed: dict[str, Any] | None = None,
           **inputs: Any) -> dict[str, tuple[Status, str]]:
    captured, captured_inputs = load(name)
    return {v.control: (v.status, v.evidence)
            for v in judge_area("logging", captured if observed is None else observed,
                                {**captured_inputs, **inputs})}


def statuses(verdicts: dict[str, tuple[Status, str]]) -> dict[str, Status]:
    return {c: status for c, (status, _) in verdicts.items()}


P, F, S = Status.PASS, Status.FAIL, Status.SKIPPED


def test_the_log_server_as_applied_passes_every_control() -> None:
    verdicts = judged("office_healthy")
    assert statuses(verdicts) == dict.fromkeys(CONTROLS, P)
    assert verdicts["LOG-01"][1] == (
        "log server: its own messages go to /var/log/dlict/office/office-log/; local socket "
        "not rate-limited; rsyslogd 3726 runs, rsyslogd -N1 clean")
    assert verdicts["LOG-02"][1] == (
        "listens on TCP 22, 514, 2514; /var/log/dlict 0750 root:adm, every file at most 0640 "
        "and no folder open to others; 1 day file(s) for this server itself, newest "
        "2026-12-03.log; 2 sender addresses named from the inventory")
    assert verdicts["LOG-03"][1] == (
        "keeps 90 days (/etc/dlict/logging.json); seal daily at 01:15 by "
        "/etc/cron.d/dlict-logseal; signing key /etc/dlict/logseal.key 0600 root, outside the "
        "log tree")
    assert verdicts["LOG-04"][1] == (
        "chronyd 3754 synchronised to its own clock (local stratum; no source above it is "
        "configured) (stratum 10), offset 0.000 ms (limit 10 ms), leap status Normal; sources "
        "none (local clock); clock state logged (*/15 * * * *)")


def test_the_school_server_as_applied_passes_and_skips_the_log_servers_controls() -> None:
    verdicts = judged("school_healthy")
    assert statuses(verdicts) == {"LOG-01": P, "LOG-02": S, "LOG-03": S, "LOG-04": P}
    assert verdicts["LOG-01"][1] == (
        "forwards every message to 10.213.0.10:2514 over RELP through the disk-assisted queue "
        "dlict_forward (up to 2g on disk, retried for ever; connected, 0 queue file(s) "
        "spooled); local socket not rate-limited; rsyslogd 3724 runs, rsyslogd -N1 clean")
    assert verdicts["LOG-02"][1] == (
        "not a log server (group log_servers): this host keeps no district log tree; it "
        "forwards to 10.213.0.10 (LOG-01)")
    assert verdicts["LOG-03"][1] == (
        "not a log server (group log_servers): retention and sealing happen on 10.213.0.10")
    assert verdicts["LOG-04"][1].startswith("chronyd 3745 synchronised to 10.213.0.10 "
                                            "(stratum 11), offset ")
    assert verdicts["LOG-04"][1].endswith("sources 10.213.0.10; clock state logged "
                                          "(*/15 * * * *)")


def test_a_rate_limit_an_open_day_file_a_short_retention_and_no_clock_job_on_the_server() -> None:
    verdicts = judged("office_ratelimit_dayfile_retention_clockjob")
    assert statuses(verdicts) == dict.fromkeys(CONTROLS, F)
    assert verdicts["LOG-01"][1] == ('the local log socket may be rate-limited: '
                                     'module(load="imuxsock")')
    assert verdicts["LOG-02"][1] == (
        "1 file(s) or folder(s) with a wrong owner or mode (files at most 0640 root:adm, "
        "folders closed to others): -rw-r--r-- root:adm "
        "/var/log/dlict/office/office-log/2026-12-03.log")
    assert verdicts["LOG-03"][1] == ("/etc/dlict/logging.json keeps logs 30 days: the law asks "
                                     "for 90 to 730")
    # (The old assert's message named the local clock here, wrongly: the clock is fine.)
    assert verdicts["LOG-04"][1] == ("/etc/cron.d/dlict-clock does not log the clock's state "
                                     "as the role writes it")


def test_a_stopped_rsyslog_and_an_edited_chrony_conf_on_the_school() -> None:
    verdicts = judged("school_rsyslog_stopped_chrony_conf_edited")
    assert statuses(verdicts) == {"LOG-01": F, "LOG-02": S, "LOG-03": S, "LOG-04": F}
    assert verdicts["LOG-01"][1] == "rsyslogd is not running"
    assert verdicts["LOG-04"][1] == ("/etc/chrony/chrony.conf differs from the district's time "
                                     "sources (10.213.0.10)")


def test_an_edited_dropin_an_open_root_and_an_open_key_on_the_server() -> None:
    verdicts = judged("office_dropin_edited_root_0755_key_0644")
    assert statuses(verdicts) == {"LOG-01": F, "LOG-02": F, "LOG-03": F, "LOG-04": P}
    assert verdicts["LOG-01"][1] == ("/etc/rsyslog.d/50-dlict.conf differs from the "
                                     "configuration the role writes (log server)")
    assert verdicts["LOG-02"][1] == "/var/log/dlict is 0755 root:adm, not 0750 root:adm"
    assert verdicts["LOG-03"][1] == ("signing key /etc/dlict/logseal.key is 0644 root, not "
                                     "0600 root")


def test_an_edited_dropin_and_a_stopped_chronyd_on_the_school() -> None:
    verdicts = judged("school_dropin_edited_chronyd_stopped")
    assert statuses(verdicts) == {"LOG-01": F, "LOG-02": S, "LOG-03": S, "LOG-04": F}
    assert verdicts["LOG-01"][1] == ("/etc/rsyslog.d/50-dlict.conf differs from the "
                                     "configuration the role writes (forward to 10.213.0.10)")
    assert verdicts["LOG-04"][1] == "chronyd is not running"


def test_the_log_server_down_fails_its_logging_and_the_school_keeps_forwarding() -> None:
    office = judged("office_rsyslog_stopped_seal_job_removed")
    assert statuses(office) == {"LOG-01": F, "LOG-02": F, "LOG-03": F, "LOG-04": P}
    assert office["LOG-01"][1] == "rsyslogd is not running"
    assert office["LOG-02"][1] == "nothing listens on TCP 2514, 514 (RELP 2514, TCP 514)"
    assert office["LOG-03"][1] == ("no daily seal job: cat: /etc/cron.d/dlict-logseal: No such "
                                   "file or directory")
    school = judged("school_server_down_clock_job_removed")
    assert statuses(school) == {"LOG-01": P, "LOG-02": S, "LOG-03": S, "LOG-04": F}
    assert "(up to 2g on disk, retried for ever; not connected at the moment, 0 queue file(s) " \
           "spooled)" in school["LOG-01"][1]
    assert school["LOG-04"][1] == ("/etc/cron.d/dlict-clock does not log the clock's state as "
                                   "the role writes it")


def test_a_closed_sealer_fails_log03_alone() -> None:
    verdicts = judged("office_sealer_0700")
    assert statuses(verdicts) == {"LOG-01": P, "LOG-02": P, "LOG-03": F, "LOG-04": P}
    assert verdicts["LOG-03"][1] == ("the sealer /usr/local/lib/dlict/dlict-logs.pyz is 0700, "
                                     "not 0755")


def test_a_configuration_rsyslog_rejects_names_its_first_error() -> None:
    verdicts = judged("school_rsyslog_config_invalid")
    assert statuses(verdicts) == {"LOG-01": F, "LOG-02": S, "LOG-03": S, "LOG-04": P}
    assert verdicts["LOG-01"][1].startswith(
        "rsyslogd -N1 rejects the configuration: rsyslogd: error during parsing file "
        "/etc/rsyslog.d/99-by-hand.conf, on or before line 1")


# ---- situations derived from the captured ones --------------------------------------------

def test_a_spooled_queue_is_counted() -> None:
    observed, _ = load("school_healthy")
    spooled = {"exists": True, "entries": [
        {"path": f"/var/spool/rsyslog/dlict_forward.0000000{n}", "mode": "0600"} for n in (1, 2)]}
    verdicts = judged("school_healthy", {**observed, "spool": spooled})
    assert "connected, 2 queue file(s) spooled" in verdicts["LOG-01"][1]


def test_a_policy_that_differs_in_another_field_and_a_key_in_the_tree() -> None:
    observed, inputs = load("office_healthy")
    other = inputs["policy"].replace('"silent_after_hours": 6', '"silent_after_hours": 7')
    assert other != inputs["policy"]
    verdicts = judged("office_healthy", {**observed, "policy": {"content": other}})
    assert verdicts["LOG-03"] == (F, "/etc/dlict/logging.json differs from the policy in the "
                                     "inventory")
    inside = judged("office_healthy", signing_key="/var/log/dlict/logseal.key")
    assert inside["LOG-03"] == (F, "the signing key /var/log/dlict/logseal.key lies inside the "
                                   "log tree /var/log/dlict")


def test_an_unsynchronised_clock_a_lost_source_and_a_far_offset() -> None:
    observed, _ = load("school_healthy")
    lines = observed["clock"]["stdout"].splitlines()
    tracking = lines[1].split(",")

    def clock(fields: list[str], sources: list[str] | None = None) -> dict[str, Any]:
        out = "\n".join([lines[0], ",".join(fields), *(lines[2:] if sources is None
                                                        else sources)]) + "\n"
        return {**observed, "clock": {**observed["clock"], "stdout": out}}

    unsync = [*tracking[:13], "Not synchronised"]
    verdicts = judged("school_healthy", clock(unsync))
    assert verdicts["LOG-04"] == (F, "clock not synchronised after 60 s (leap status Not "
                                     f"synchronised, reference {tracking[1]})")
    local = ["7F7F0101", "", "10", *tracking[3:]]
    verdicts = judged("school_healthy", clock(local))
    assert verdicts["LOG-04"] == (F, "no time source answers: chronyd serves its own clock "
                                     "(local stratum 10) instead of 10.213.0.10")
    far = [*tracking[:4], "0.5", *tracking[5:]]
    assert judged("school_healthy", clock(far))["LOG-04"] == (
        F, "clock is off by 500.000 ms (limit 10 ms)")
    verdicts = judged("school_healthy", clock(tracking, []))
    assert verdicts["LOG-04"] == (F, "chronyd does not use 10.213.0.10 (it uses nothing)")


def test_no_tracking_state_says_what_chronyc_said() -> None:
    observed, _ = load("school_healthy")
    first = observed["clock"]["stdout"].splitlines()[0]
    broken = {**observed, "clock": {"rc": 0, "stdout": first + "\n",
                                    "stderr": "506 Cannot talk to daemon\n"}}
    assert judged("school_healthy", broken)["LOG-04"] == (
        F, "chronyc -c tracking gave no state: 506 Cannot talk to daemon")


def test_a_log_server_with_no_own_day_file_and_a_tree_it_cannot_read() -> None:
    observed, _ = load("office_healthy")
    verdicts = judged("office_healthy", {**observed, "own_files": {"exists": False,
                                                                   "entries": []}})
    assert verdicts["LOG-02"] == (F, "no day file in /var/log/dlict/office/office-log: the "
                                     "server does not write its own messages into the tree")
    unreadable = {"rc": 1, "stdout": "", "stderr": "find: '/var/log/dlict/x': Permission "
                                                   "denied\n"}
    verdicts = judged("office_healthy", {**observed, "tree": unreadable})
    assert verdicts["LOG-02"] == (F, "cannot read the log tree: find: '/var/log/dlict/x': "
                                     "Permission denied")


def test_a_systemd_seal_job_is_judged_by_the_timer_and_the_service() -> None:
    observed, inputs = load("office_healthy")
    enabled = {"rc": 0, "stdout": f"enabled\n{{ path=/usr/bin/python3 ; argv[]="
                                  f"{inputs['seal_command']} ; }}\n", "stderr": ""}
    verdicts = judged("office_healthy", {**observed, "seal_job": enabled}, service_mgr="systemd")
    assert verdicts["LOG-03"][0] is P
    assert "by the systemd timer dlict-logseal.timer" in verdicts["LOG-03"][1]
    disabled = {"rc": 1, "stdout": "disabled\n", "stderr": ""}
    verdicts = judged("office_healthy", {**observed, "seal_job": disabled},
                      service_mgr="systemd")
    assert verdicts["LOG-03"] == (F, "no daily seal job: disabled")


@pytest.mark.parametrize("observed", [
    {},
    {"rsyslog_pid": "3726", "clock": ["chronyd 1"], "root": 7, "tree": None, "policy": 1,
     "own_files": {"entries": "x"}, "listen": {"stdout": 5}, "spool": {"entries": [1, "a"]}},
    {"rsyslog_pid": {"rc": 0, "stdout": "1"}, "rsyslog_check": {"rc": 0},
     "dropin": {"content": None}, "policy": {"content": "not json"},
     "clock": {"rc": 0, "stdout": "chronyd 1\nFFFFFFFF,x\n^,\n"}},
])
@pytest.mark.parametrize("name", ["office_healthy", "school_healthy"])
def test_garbage_observations_give_error_or_fail_and_never_raise(
        observed: dict[str, Any], name: str) -> None:
    verdicts = judged(name, observed)
    assert set(verdicts) == CONTROLS
    for control, (status, evidence) in verdicts.items():
        if name == "school_healthy" and control in ("LOG-02", "LOG-03"):
            assert status is S
        else:
            assert status in (F, Status.ERROR), (control, status, evidence)
        assert evidence


def test_garbage_inputs_never_raise() -> None:
    observed, _ = load("office_healthy")
    verdicts = judge_area("logging", observed, {"is_server": True, "relp_port": "x",
                                                "chrony_servers": "10.0.0.1", "seal_hour": None,
                                                "max_clock_offset_ms": "many"})
    assert {v.control for v in verdicts} == CONTROLS
    assert all(v.status in (F, Status.ERROR) for v in verdicts)
