"""EP-01..EP-06 judged on the controller from one observation, on observations captured from
the lab fleet's hosts (fixtures/linux_observed/endpoint/README.md says how). The evidence is
worded as the asserts (and EP-03's debug note) of the old verify.yml worded it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dlict.controls.linux.endpoint import CONTROLS, aide_changes
from dlict.core.results import Status
from tests.unit.controls.observed import captured as observed_fixture
from tests.unit.controls.observed import judge as judge_observed

RISKY = ("telnetd, inetutils-telnetd, telnetd-ssl, rsh-server, rsh-redone-server, vsftpd, "
         "proftpd-basic, pure-ftpd, tftpd-hpa")
KERNEL_REFUSES = (
    "auditd running not checked: the kernel refuses audit to this host (auditctl -s: Error "
    "sending status request (Operation not permitted); not the initial PID namespace or no "
    "CAP_AUDIT_CONTROL); auditd installed, enabled at boot")
# What `auditctl -s` prints where the kernel lets the host use audit (Debian 12, audit 3.0.9):
# the fleet's kernel refuses audit, so this and the loaded rules below are written by hand.
AUDIT_STATUS_RUNNING = ("enabled 1\nfailure 1\npid 612\nrate_limit 0\nbacklog_limit 8192\n"
                        "lost 0\nbacklog 0\nbacklog_wait_time 60000\n"
                        "backlog_wait_time_actual 0\nloginuid_immutable 0 unlocked\n")


def captured(name: str) -> dict[str, Any]:
    return observed_fixture("endpoint", name)


def judge(observed: Any, inputs: Any) -> dict[str, tuple[Status, str]]:
    return judge_observed("endpoint", observed, inputs)


def judged(name: str, **inputs: Any) -> dict[str, tuple[Status, str]]:
    data = captured(name)
    return judge(data["observed"], {**data["inputs"], **inputs})


def not_passing(verdicts: dict[str, tuple[Status, str]]) -> dict[str, Status]:
    return {c: status for c, (status, _) in verdicts.items() if status is not Status.PASS}


def test_a_school_as_applied_passes_every_control_and_skips_auditd_running() -> None:
    verdicts = judged("school_healthy")
    assert tuple(verdicts) == CONTROLS
    assert not_passing(verdicts) == {"EP-03": Status.SKIPPED}
    assert verdicts["EP-01"][1] == (
        'unattended-upgrades installed, APT::Periodic::Unattended-Upgrade "1"')
    assert verdicts["EP-02"][1] == ("dlict.rules holds all 17 rules; loaded rules not checked: "
                                    "the kernel refuses audit to this host")
    assert verdicts["EP-03"][1] == KERNEL_REFUSES
    assert verdicts["EP-04"][1] == (
        "aide --check finds no change in /etc /usr/local/sbin /usr/sbin (713 entries)")
    assert verdicts["EP-05"][1] == f"none of {RISKY} is installed"
    assert verdicts["EP-06"][1] == (
        "policy block: usb-storage blacklisted, install /bin/false "
        "(modprobe not installed on this host)")


def test_files_other_areas_changed_after_the_baseline_fail_ep04_with_their_paths() -> None:
    verdicts = judged("office_other_areas_changed_etc")
    assert not_passing(verdicts) == {"EP-03": Status.SKIPPED, "EP-04": Status.FAIL}
    assert verdicts["EP-04"][1] == (
        "aide --check (rc 5) found 3 change(s): /etc/rc3.d/S01clamav-freshclam, "
        "/etc/cron.d/dlict-clamscan, /usr/local/sbin/dlict-clamscan")


def test_unattended_upgrades_off_fails_ep01_with_the_setting() -> None:
    verdicts = judged("school_unattended_off")
    assert verdicts["EP-01"] == (
        Status.FAIL,
        'unattended-upgrades installed, APT::Periodic::Unattended-Upgrade is "0"')
    assert set(not_passing(verdicts)) - {"EP-04"} == {"EP-01", "EP-03"}  # EP-04: other areas


def test_a_rule_removed_from_dlict_rules_fails_ep02_naming_it() -> None:
    verdicts = judged("school_sudoers_rule_removed")
    assert verdicts["EP-02"] == (
        Status.FAIL, "dlict.rules lacks: -w /etc/sudoers -p wa -k dlict-sudoers")
    assert verdicts["EP-01"][0] is Status.PASS and verdicts["EP-06"][0] is Status.PASS


def test_a_changed_file_under_etc_fails_ep04_naming_it() -> None:
    verdicts = judged("office_issue_net_changed")
    assert not_passing(verdicts) == {"EP-03": Status.SKIPPED, "EP-04": Status.FAIL}
    assert verdicts["EP-04"][1].startswith("aide --check (rc 5) found 4 change(s): ")
    assert "/etc/issue.net" in verdicts["EP-04"][1]


def test_the_usb_blacklist_removed_fails_ep06_with_what_the_file_has() -> None:
    verdicts = judged("school_usb_blacklist_removed")
    assert verdicts["EP-06"] == (
        Status.FAIL, "policy block but dlict-usb-storage.conf has install usb-storage /bin/false; "
                     "modprobe not installed")


def test_auditd_not_started_at_boot_says_so_in_the_skipped_note() -> None:
    verdicts = judged("school_auditd_not_at_boot")
    assert verdicts["EP-03"] == (
        Status.SKIPPED, KERNEL_REFUSES.replace("enabled at boot", "NOT enabled at boot"))


def test_an_installed_risky_package_fails_ep05_naming_it() -> None:
    verdicts = judged("school_risky_coreutils")
    assert not_passing(verdicts) == {"EP-03": Status.SKIPPED, "EP-05": Status.FAIL}
    assert verdicts["EP-05"][1] == "installed: coreutils"


def test_policy_allow_fails_while_dlict_file_still_blocks() -> None:
    verdicts = judged("school_policy_allow")
    assert verdicts["EP-06"] == (
        Status.FAIL, "policy allow but dlict-usb-storage.conf has install usb-storage /bin/false"
                     " | blacklist usb-storage; modprobe not installed")
    emptied = captured("school_policy_allow")
    emptied["observed"]["usb_file"] = {"exists": False,
                                       "problem": "/etc/modprobe.d/dlict-usb-storage.conf: "
                                                  "No such file or directory"}
    assert judge(emptied["observed"], emptied["inputs"])["EP-06"] == (
        Status.PASS, "policy allow: usb-storage not blocked by dlict "
                     "(modprobe not installed on this host)")


# ---- where modprobe is installed (not in the fleet's containers) -------------------------

def test_modprobe_must_see_both_rules_when_installed() -> None:
    data = captured("school_healthy")
    data["observed"]["usb_effective"] = {
        "rc": 0, "stderr": "",
        "stdout": "blacklist usb_storage\ninstall usb_storage /bin/false\n"}
    assert judge(data["observed"], data["inputs"])["EP-06"] == (
        Status.PASS, "policy block: usb-storage blacklisted, install /bin/false")
    data["observed"]["usb_effective"] = {"rc": 1, "stderr": "", "stdout": ""}
    assert judge(data["observed"], data["inputs"])["EP-06"] == (
        Status.FAIL, "policy block but dlict-usb-storage.conf has install usb-storage /bin/false"
                     " | blacklist usb-storage; modprobe sees no rule")


# ---- where the kernel lets the host use audit (written by hand, see above) ----------------

def _loaded(rules: list[str]) -> str:
    """The rules as auditctl -l prints them: folders with a slash, syscall keys as -F key=,
    the syscalls in its own order."""
    out = []
    for rule in rules:
        if rule.startswith("-w /etc/sudoers.d") or rule.startswith("-w /etc/ssh/sshd_config.d"):
            path, rest = rule.split(" -p ", 1)
            rule = f"{path}/ -p {rest}"
        if rule.startswith("-a "):
            head, syscalls, key = rule.split(" -S ")[0], rule.split(" -S ")[1].split(" -k ")[0], \
                rule.split(" -k ")[1]
            rule = f"{head} -S {','.join(reversed(syscalls.split(',')))} -F key={key}"
        out.append(rule)
    return "\n".join(out) + "\n"


def kernel_allows(loaded: str, status: str = AUDIT_STATUS_RUNNING) -> dict[str, Any]:
    data = captured("school_healthy")
    data["observed"]["audit_status"] = {"rc": 0, "stdout": status, "stderr": ""}
    data["observed"]["loaded_rules"] = {"rc": 0, "stdout": loaded, "stderr": ""}
    return data


def test_with_audit_every_rule_loaded_and_auditd_running_pass() -> None:
    rules = captured("school_healthy")["inputs"]["audit_rules"]
    data = kernel_allows(_loaded(rules))
    verdicts = judge(data["observed"], data["inputs"])
    assert not_passing(verdicts) == {}
    assert verdicts["EP-02"][1] == "dlict.rules holds all 17 rules; all loaded in the kernel"
    assert verdicts["EP-03"][1] == "auditd installed, enabled at boot, running as pid 612"


def test_with_audit_a_rule_not_loaded_and_auditd_stopped_fail() -> None:
    rules = captured("school_healthy")["inputs"]["audit_rules"]
    loaded = [r for r in rules if "/etc/sudoers " not in r and "arch=b32 -S adjtimex" not in r]
    data = kernel_allows(_loaded(loaded), AUDIT_STATUS_RUNNING.replace("pid 612", "pid 0"))
    verdicts = judge(data["observed"], data["inputs"])
    assert verdicts["EP-02"] == (
        Status.FAIL, "not loaded in the kernel: /etc/sudoers wa   dlict-sudoers |   always,exit "
                     "b32 dlict-time")
    assert verdicts["EP-03"] == (
        Status.FAIL, "auditd installed, enabled at boot, not running")


# ---- AIDE ------------------------------------------------------------------------------

def test_aide_not_installed_or_not_answering() -> None:
    data = captured("school_healthy")
    data["observed"]["packages"]["stdout"] = "auditd installed\nunattended-upgrades installed\n"
    data["observed"]["aide"] = {"rc": -1, "stdout": "", "stderr": "",
                                "problem": "aide: No such file or directory"}
    assert judge(data["observed"], data["inputs"])["EP-04"] == (
        Status.FAIL, "aide is not installed")
    data = captured("school_healthy")
    data["observed"]["aide"] = {
        "rc": 17, "stdout": "",
        "stderr": "Couldn't open file /var/lib/dlict/aide/aide.db.gz for reading\n\n"}
    assert judge(data["observed"], data["inputs"])["EP-04"] == (
        Status.FAIL, "aide --check failed (rc 17): "
                     "Couldn't open file /var/lib/dlict/aide/aide.db.gz for reading")
    data["observed"]["aide"] = {"rc": 1, "stdout": "", "stderr": ""}
    assert judge(data["observed"], data["inputs"])["EP-04"] == (
        Status.FAIL, "aide --check failed (rc 1): non-zero return code")


def test_aide_changes_are_listed_once_and_at_most_ten_shown() -> None:
    report = "".join(f"f   ...    : /etc/file{i}\n" for i in range(12)) + "d   : /etc/FILE0\n"
    assert aide_changes(report) == [f"/etc/file{i}" for i in range(12)]
    data = captured("school_healthy")
    data["observed"]["aide"] = {"rc": 4, "stdout": report, "stderr": ""}
    evidence = judge(data["observed"], data["inputs"])["EP-04"][1]
    assert evidence.startswith("aide --check (rc 4) found 12 change(s): /etc/file0, ")
    assert evidence.endswith("/etc/file9")


# ---- what the judge is given is data, never trusted --------------------------------------

GARBAGE: list[Any] = [
    {},
    {"packages": "installed", "aide": {"rc": "0", "stdout": 5}, "rules_file": {"content": 7},
     "risky": None, "usb_file": ["install usb-storage /bin/false"],
     "usb_effective": {"rc": True, "stdout": None}, "audit_status": {"stderr": 3}},
    {"packages": {"rc": 0, "stdout": "aide installed\n"}, "aide": {"skipped": True},
     "risky": {"problem": "dpkg-query: No such file or directory"}},
    ["not", "a", "mapping"],
]


@pytest.mark.parametrize("observed", GARBAGE)
@pytest.mark.parametrize("inputs", [
    captured("school_healthy")["inputs"], {},
    {"audit_rules": 5, "aide_paths": None, "risky_packages": {"x": 1}, "usb_storage": ["block"]}])
def test_garbage_gives_fail_or_error_and_never_raises(observed: Any, inputs: Any) -> None:
    verdicts = judge(copy.deepcopy(observed), inputs)
    assert tuple(verdicts) == CONTROLS
    assert all(status in (Status.FAIL, Status.ERROR) for status, _ in verdicts.values()), verdicts


def test_inputs_that_are_not_a_mapping_give_errors() -> None:
    verdicts = judge(captured("school_healthy")["observed"], None)
    assert {status for status, _ in verdicts.values()} == {Status.ERROR}
    assert all("could not be judged" in evidence for _, evidence in verdicts.values())
