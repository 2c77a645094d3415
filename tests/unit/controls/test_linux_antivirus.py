"""AV-01..AV-05 judged on the controller from one observation, on observations captured from
the lab fleet's hosts (fixtures/linux_observed/antivirus/README.md says how). The evidence is
worded as the asserts of the old verify.yml worded it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from dlict.controls.linux import Ran
from dlict.controls.linux.antivirus import CONTROLS, services_running
from dlict.core.results import Status
from tests.unit.controls.observed import captured as observed_fixture
from tests.unit.controls.observed import judge as judge_observed

CRON_LINE = "30 2 * * * root /usr/local/sbin/dlict-clamscan >/dev/null 2>&1"


def captured(name: str) -> dict[str, Any]:
    return observed_fixture("antivirus", name)


def judge(observed: Any, inputs: Any) -> dict[str, tuple[Status, str]]:
    return judge_observed("antivirus", observed, inputs)


def judged(name: str, **inputs: Any) -> dict[str, tuple[Status, str]]:
    data = captured(name)
    return judge(data["observed"], {**data["inputs"], **inputs})


def failing(verdicts: dict[str, tuple[Status, str]]) -> set[str]:
    return {c for c, (status, _) in verdicts.items() if status is not Status.PASS}


@pytest.mark.parametrize("name", ["office-log-clean", "school-clean"])
def test_a_host_as_applied_passes_every_control(name: str) -> None:
    verdicts = judged(name)
    assert set(verdicts) == set(CONTROLS)
    assert failing(verdicts) == set()
    assert verdicts["AV-01"][1] == "clamav-daemon installed, clamd answers PONG"
    assert verdicts["AV-02"][1] == (
        "source 'offline': freshclam off, custom files dlict-test.hdb deployed")
    assert verdicts["AV-03"][1] == "newest signature database is 1.0 days old (limit 7)"
    assert verdicts["AV-04"][1] == (
        f"'{CRON_LINE}' scans /home /srv /tmp /var/www into /var/lib/dlict/quarantine (0700)")
    assert verdicts["AV-05"][1] == (
        "clamd LogSyslog true; scan script reports detections as dlict-av (auth.alert)")


def test_clamd_stopped_fails_av01_alone_with_what_ping_gave() -> None:
    verdicts = judged("school-clamd-stopped")
    assert failing(verdicts) == {"AV-01"}
    assert verdicts["AV-01"] == (
        Status.FAIL, "clamd does not answer: clamav-daemon installed; PING gave "
                     "'FileNotFoundError: [Errno 2] No such file or directory'")


def test_signatures_older_than_the_limit_fail_av03_alone_with_their_age() -> None:
    verdicts = judged("school-signatures-old")
    assert failing(verdicts) == {"AV-03"}
    assert verdicts["AV-03"] == (Status.FAIL,
                                 "newest signature database is 30.0 days old (limit 7)")
    assert judged("school-signatures-old", max_signature_age_days=31)["AV-03"] == (
        Status.PASS, "newest signature database is 30.0 days old (limit 31)")


def test_a_removed_custom_file_fails_av02_and_av03_offline() -> None:
    verdicts = judged("school-clamd-stopped-custom-removed")
    assert failing(verdicts) == {"AV-01", "AV-02", "AV-03"}
    assert verdicts["AV-02"] == (
        Status.FAIL, "source 'offline' not in force: freshclam does not run and does not start "
                     "at boot, freshclam.conf mirrors [] with Example, custom files [] of "
                     "['dlict-test.hdb']")
    assert verdicts["AV-03"] == (Status.FAIL,
                                 "no signature database (dlict-test.hdb) in /var/lib/clamav")


def test_online_without_the_main_and_daily_databases_av01_names_the_cause() -> None:
    verdicts = judged("school-clamd-stopped-custom-removed-official")
    assert verdicts["AV-01"] == (
        Status.FAIL,
        "no ClamAV signature database (main, daily .cvd/.cld) in /var/lib/clamav, so clamd "
        "cannot start: freshclam has not downloaded them from the official source "
        "(database.clamav.net)\n(nothing about it in /var/log/clamav/freshclam.log);\n"
        "set a mirror (dlict_antivirus_update_source: mirror and dlict_antivirus_mirror_url) "
        "or the offline source\n(dlict_antivirus_update_source: offline)")
    assert verdicts["AV-02"][0] is Status.FAIL
    assert verdicts["AV-02"][1].startswith("source 'official' not in force: freshclam does not "
                                           "run and does not start at boot, freshclam.conf "
                                           "mirrors []")
    assert verdicts["AV-03"] == (Status.FAIL,
                                 "no signature database (*.cvd, *.cld) in /var/lib/clamav")


def test_a_mirror_that_gave_up_is_named_with_freshclams_words() -> None:
    data = captured("school-clamd-stopped-custom-removed-official")
    observed = copy.deepcopy(data["observed"])
    observed["freshclam"]["stdout"] = json.dumps(
        {"missing": ["daily"], "gave_up": True, "messages": ["Can't connect to port 80"],
         "log": "/var/log/clamav/freshclam.log", "waited": 0})
    inputs = {**data["inputs"], "update_source": "mirror", "mirror_url": "http://10.213.0.10"}
    assert judge(observed, inputs)["AV-01"] == (
        Status.FAIL,
        "no ClamAV signature database (daily .cvd/.cld) in /var/lib/clamav, so clamd cannot "
        "start: freshclam could not download from the mirror http://10.213.0.10\n"
        "(Can't connect to port 80);\ncheck the mirror or set the offline source\n"
        "(dlict_antivirus_update_source: offline)")


def test_a_wide_quarantine_and_clamd_off_syslog_fail_av04_and_av05() -> None:
    verdicts = judged("office-log-quarantine-0755-logsyslog-false")
    assert failing(verdicts) == {"AV-04", "AV-05"}
    assert verdicts["AV-04"] == (
        Status.FAIL, f"scan job: {CRON_LINE}; scan script as configured; quarantine "
                     "/var/lib/dlict/quarantine mode 0755")
    assert verdicts["AV-05"] == (
        Status.FAIL, "clamd.conf LogSyslog false; scan script reports detections with logger")


def test_freshclam_at_boot_and_an_edited_scan_job_fail_av02_and_av04() -> None:
    verdicts = judged("office-log-freshclam-at-boot-script-cron-edited")
    assert failing(verdicts) == {"AV-02", "AV-04"}
    assert verdicts["AV-02"][1].startswith(
        "source 'offline' not in force: freshclam does not run and starts at boot")
    assert verdicts["AV-04"] == (
        Status.FAIL, "scan job: 31 2 * * * root /usr/local/sbin/dlict-clamscan >/dev/null "
                     "2>&1; scan script missing or not the configured paths and quarantine; "
                     "quarantine /var/lib/dlict/quarantine mode 0700")


def test_freshclam_conf_without_example_fails_av02_offline() -> None:
    verdicts = judged("school-signatures-old-no-example")
    assert failing(verdicts) == {"AV-02", "AV-03"}
    assert "freshclam.conf mirrors [] without Example, custom files ['dlict-test.hdb'] of " \
           "['dlict-test.hdb']" in verdicts["AV-02"][1]


def test_online_freshclam_running_with_the_configured_source_passes_av02() -> None:
    data = captured("school-clean")
    observed = copy.deepcopy(data["observed"])
    observed["packages"]["stdout"] += "clamav-freshclam installed\n"
    observed["freshclam_conf"]["content"] = "DatabaseMirror database.clamav.net\n"
    observed["services"]["stdout"] = observed["services"]["stdout"].replace(
        "[ - ]  clamav-freshclam", "[ + ]  clamav-freshclam")
    observed["freshclam_boot"] = {"rc": 0, "stdout": "/etc/rc2.d/S01clamav-freshclam\n",
                                  "stderr": ""}
    assert judge(observed, {**data["inputs"], "update_source": "official"})["AV-02"] == (
        Status.PASS, "source 'official': freshclam runs with DatabaseMirror database.clamav.net")
    wrong = judge(observed, {**data["inputs"], "update_source": "mirror",
                             "mirror_url": "http://10.213.0.10"})["AV-02"]
    assert wrong[0] is Status.FAIL
    assert "mirrors ['DatabaseMirror database.clamav.net'] without Example" in wrong[1]


def test_services_running_reads_sysvinit_and_systemd_as_service_facts_does() -> None:
    sysv = Ran(0, " [ + ]  clamav-freshclam\n [ - ]  cron\n", "")
    systemd = Ran(0, "clamav-freshclam.service loaded active running ClamAV updater\n"
                     "cron.service loaded inactive dead Regular background program\n"
                     "bad.service not-found inactive dead bad.service\n", "")
    assert services_running(sysv) == {"clamav-freshclam"}
    assert services_running(systemd) == {"clamav-freshclam.service"}
    assert services_running(Ran(-1, "", "", problem="sh: not found")) == set()


@pytest.mark.parametrize("observed", [
    {},
    None,
    [],
    {"packages": "garbage", "ping": 3, "databases": {"entries": "x"}, "quarantine": [1]},
    {"packages": {"rc": "0", "stdout": None}, "clamd_conf": {"content": 5},
     "databases": {"entries": [{"path": 1, "mtime": "x"}, "y"]},
     "freshclam": {"rc": 0, "stdout": "not json"}, "services": {"stdout": ["x"]}},
])
def test_garbage_observations_give_fail_or_error_and_never_raise(observed: Any) -> None:
    inputs = captured("school-clean")["inputs"]
    verdicts = judge(observed, inputs)
    assert set(verdicts) == set(CONTROLS)
    assert all(status in (Status.FAIL, Status.ERROR) for status, _ in verdicts.values()), verdicts


def test_garbage_inputs_give_an_error_for_the_age_and_never_raise() -> None:
    observed = captured("school-clean")["observed"]
    verdicts = judge(observed, {"now": "soon", "max_signature_age_days": None,
                                "custom_signatures": "x", "age_patterns": 7})
    assert verdicts["AV-02"][0] is Status.ERROR  # no update source
    assert verdicts["AV-03"][0] is Status.ERROR
    assert verdicts["AV-04"][0] is Status.FAIL  # no scan script to compare with
