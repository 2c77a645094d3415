"""ID-01..ID-09 judged on the controller from one observation, on observations captured from
real fleet hosts (fixtures/linux_observed/identity/README.md says how)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dlict.controls.linux import judge_area
from dlict.controls.linux.identity import CONTROLS, login_accounts, unapproved
from dlict.core.results import Status

FIXTURES = Path(__file__).parent.parent / "fixtures" / "linux_observed" / "identity"
REGISTER = [{"name": "dlict", "full_name": "ผู้ดูแลระบบ dlict (ฟลีททดสอบ)",
             "approved_on": "2026-01-01", "expires": "2099-12-31", "hosts": ["all"]}]
EXPIRED = {"name": "oldstaff", "full_name": "นายทดสอบ ย้ายออกแล้ว", "approved_on": "2024-05-01",
           "expires": "2026-12-02", "hosts": ["school_4401000001"]}
INPUTS: dict[str, Any] = {
    "pwquality_minlen": 12, "pwquality_minclass": 3, "faillock_deny": 5,
    "faillock_unlock_time": 900, "sudo_logfile": "/var/log/sudo.log",
    "sudo_syslog_facility": "authpriv", "tmout": 900, "uid_min": 1000,
    "non_login_shells": ["/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false"],
    "accounts": REGISTER, "hostname": "s4401000001-srv",
    "groups": ["linux_servers", "school_4401000001", "schools"], "ansible_user": "dlict",
    "today": "2026-12-03",
}


def observed(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def judged(name: str, **inputs: Any) -> dict[str, tuple[Status, str]]:
    return {v.control: (v.status, v.evidence)
            for v in judge_area("identity", observed(name), {**INPUTS, **inputs})}


def failing(verdicts: dict[str, tuple[Status, str]]) -> set[str]:
    return {c for c, (status, _) in verdicts.items() if status is not Status.PASS}


@pytest.mark.parametrize("name", ["school_healthy", "office_healthy", "school_intruder_locked"])
def test_a_host_as_applied_passes_every_control_with_the_old_evidence(name: str) -> None:
    verdicts = judged(name, hostname="office-log", groups=["linux_servers", "office"]) \
        if name.startswith("office") else judged(name)
    assert list(verdicts) == list(CONTROLS)
    assert failing(verdicts) == set()
    assert verdicts == {
        "ID-01": (Status.PASS,
                  "sshd -T shows passwordauthentication no, kbdinteractiveauthentication no"),
        "ID-02": (Status.PASS, "sshd -T: permitrootlogin no"),
        "ID-03": (Status.PASS, "no empty password in /etc/shadow; sshd permitemptypasswords no"),
        "ID-04": (Status.PASS, "only root has UID 0"),
        "ID-05": (Status.PASS, "pam_pwquality in common-password; minlen 12, minclass 3"),
        "ID-06": (Status.PASS, "pam_faillock preauth/authfail in common-auth and in "
                               "common-account; deny 5, unlock_time 900"),
        "ID-07": (Status.PASS, "sudoers valid; sudo -V: Syslog facility if syslog is being used "
                               "for logging: authpriv; Path to log file: /var/log/sudo.log"),
        "ID-08": (Status.PASS, 'login shell: declare -rx TMOUT="900"'),
        "ID-09": (Status.PASS, "login accounts, all approved and not expired: dlict"),
    }


def test_settings_templated_as_strings_judge_the_same() -> None:
    as_text = {k: str(v) for k, v in INPUTS.items() if isinstance(v, int)}
    assert failing(judged("school_healthy", **as_text)) == set()
    assert failing(judged("school_healthy", pwquality_minlen="14", tmout="600")) == {
        "ID-05", "ID-08"}


def test_a_password_login_enabled_by_hand_fails_id01_alone() -> None:
    verdicts = judged("school_sshd_password_login")
    assert failing(verdicts) == {"ID-01"}
    assert verdicts["ID-01"] == (
        Status.FAIL, "sshd -T: passwordauthentication yes, kbdinteractiveauthentication no")


def test_a_second_uid_0_fails_id04_alone() -> None:
    verdicts = judged("school_second_uid_0")
    assert failing(verdicts) == {"ID-04"}
    assert verdicts["ID-04"] == (Status.FAIL, "accounts with UID 0: root, toor")


def test_a_login_not_in_the_register_fails_id09() -> None:
    verdicts = judged("school_login_not_in_register")
    assert failing(verdicts) == {"ID-09"}
    assert verdicts["ID-09"] == (
        Status.FAIL, "login accounts without a valid approval: intruder: not in the register "
                     "for this host")


def test_the_account_ansible_logs_in_with_is_named_when_unapproved() -> None:
    verdicts = judged("school_healthy", accounts=[])
    assert verdicts["ID-09"] == (
        Status.FAIL, "login accounts without a valid approval: dlict: not in the register for "
                     "this host (dlict is the account Ansible logs in with and is not locked "
                     "automatically)")


def test_an_approval_that_ended_yesterday_fails_id09_and_one_that_ends_today_passes() -> None:
    verdicts = judged("school_approval_expired", accounts=[*REGISTER, EXPIRED])
    assert failing(verdicts) == {"ID-09"}
    assert verdicts["ID-09"] == (
        Status.FAIL, "login accounts without a valid approval: oldstaff: approval expired "
                     "2026-12-02")
    # The same entry on its last day: still valid.
    still = judged("school_approval_expired", accounts=[*REGISTER, EXPIRED], today="2026-12-02")
    assert still["ID-09"] == (
        Status.PASS, "login accounts, all approved and not expired: dlict, oldstaff")
    # Approved for another school only: not in the register for this host.
    elsewhere = judged("school_approval_expired",
                       accounts=[*REGISTER, {**EXPIRED, "expires": "2099-01-01",
                                             "hosts": "school_4401000002"}])
    assert elsewhere["ID-09"][1].endswith("oldstaff: not in the register for this host")


def test_one_valid_entry_among_expired_ones_approves() -> None:
    register = [*REGISTER, EXPIRED, {**EXPIRED, "expires": "2027-06-30", "hosts": ["all"]}]
    assert failing(judged("school_approval_expired", accounts=register)) == set()


def test_many_controls_broken_at_once_fail_each_with_what_the_host_shows() -> None:
    verdicts = judged("school_many_broken")
    assert failing(verdicts) == {"ID-02", "ID-03", "ID-05", "ID-06", "ID-07", "ID-08"}
    assert verdicts["ID-02"][1] == "sshd -T: permitrootlogin yes"
    assert verdicts["ID-03"][1] == "accounts with an empty password: games"
    assert verdicts["ID-05"][1] == ("pam_pwquality missing from the common-password stack; "
                                    "minlen 8 (want >= 12), minclass 3 (want >= 3)")
    assert verdicts["ID-06"][1] == (
        "pam_faillock lines: /etc/pam.d/common-auth:auth\trequisite\tpam_faillock.so preauth; "
        "/etc/pam.d/common-auth:auth\t[default=die]\tpam_faillock.so authfail; "
        "deny 3 (want 5), unlock_time 900 (want 900)")
    assert verdicts["ID-07"][1] == ("sudo -V: Syslog facility if syslog is being used for "
                                    "logging: auth; Path to log file: /var/log/sudo.log")
    assert verdicts["ID-08"][1] == "login shell: no read-only TMOUT (want <= 900)"


def test_commands_that_did_not_answer_fail_with_the_reason() -> None:
    seen = observed("school_healthy")
    seen["sudo"] = {"rc": 1, "stdout": "", "stderr": ">>> /etc/sudoers.d/x: syntax error"}
    seen["empty_passwords"] = {"rc": 2, "stdout": "",
                               "stderr": "awk: cannot open /etc/shadow (Permission denied)\n"}
    seen["sshd"] = {"rc": -1, "stdout": "", "stderr": "",
                    "problem": "/usr/sbin/sshd: No such file or directory"}
    seen["passwd"] = {"rc": 2, "stdout": "", "stderr": "awk: cannot open /etc/passwd"}
    verdicts = {v.control: (v.status, v.evidence)
                for v in judge_area("identity", seen, INPUTS)}
    assert verdicts["ID-07"] == (
        Status.FAIL, "sudoers does not pass visudo -c, or sudo -V shows no logging")
    assert verdicts["ID-03"] == (
        Status.FAIL, "cannot read /etc/shadow: awk: cannot open /etc/shadow (Permission denied)")
    assert verdicts["ID-01"] == (Status.FAIL, "sshd -T: /usr/sbin/sshd: No such file or directory")
    assert verdicts["ID-02"][0] is Status.FAIL
    assert verdicts["ID-04"] == (
        Status.FAIL, "accounts with UID 0: unknown, cannot read /etc/passwd: awk: cannot open "
                     "/etc/passwd")
    assert verdicts["ID-09"][0] is Status.FAIL
    assert "cannot read /etc/passwd" in verdicts["ID-09"][1]


def test_login_accounts_and_the_register_rule() -> None:
    fields = "root:0:/bin/bash\nnobody:65534:/bin/bash\nsvc:1001:/bin/false\nann:1002:/bin/sh\nbad"
    assert login_accounts(fields, 1000, ["/bin/false"]) == ["ann"]
    register = [{"name": "ann", "expires": "2026-01-01", "hosts": ["all"]},
                {"name": "ann", "expires": "2025-01-01", "hosts": ["school_1"]},
                "garbage", {"hosts": ["all"]}]
    assert unapproved(["ann"], register, ["all", "h", "school_1"], "2026-06-01") == [
        ("ann", "approval expired 2025-01-01")]  # the last entry that lists it
    assert unapproved(["ann"], None, ["all"], "2026-06-01") == [
        ("ann", "not in the register for this host")]


@pytest.mark.parametrize("garbage", [
    {}, {"sshd": None, "passwd": 7, "pam_lines": "text", "tmout": []},
    {"sshd": {"rc": "0", "stdout": 5}, "passwd": {"rc": 0, "stdout": ["root:0:/bin/bash"]},
     "sudo": {"skipped": True}, "pam_settings": {"rc": 0, "stdout": None}},
])
@pytest.mark.parametrize("inputs", [
    INPUTS, {}, {**INPUTS, "accounts": "all", "groups": None, "non_login_shells": 3,
                 "uid_min": "x", "today": None, "tmout": None, "pwquality_minlen": [1]},
])
def test_garbage_observations_give_error_or_fail_and_never_raise(
        garbage: dict[str, Any], inputs: dict[str, Any]) -> None:
    verdicts = judge_area("identity", garbage, inputs)
    assert [v.control for v in verdicts] == list(CONTROLS)
    assert {v.status for v in verdicts} <= {Status.FAIL, Status.ERROR}


def test_no_date_to_judge_by_is_an_error_of_id09() -> None:
    verdicts = judged("school_healthy", today="")
    assert failing(verdicts) == {"ID-09"}
    assert verdicts["ID-09"][0] is Status.ERROR


def test_apply_locks_exactly_the_accounts_the_audit_names() -> None:
    # the enforce tasks' filter (roles/dlict_identity/filter_plugins) and ID-09 share one rule
    import importlib.util

    plugin = (Path(__file__).parents[3] / "playbooks" / "roles" / "dlict_identity"
              / "filter_plugins" / "dlict_identity.py")
    spec = importlib.util.spec_from_file_location("dlict_identity_filters", plugin)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    passwd = "root:0:/bin/bash\ndlict:1000:/bin/bash\nintruder:1500:/bin/bash\n" \
             "oldstaff:1501:/bin/bash\nsvc:1502:/usr/sbin/nologin\n"
    register = [{"name": "dlict", "hosts": "all", "expires": "2099-12-31"},
                {"name": "oldstaff", "hosts": ["school_4401000001"], "expires": "2026-12-02"}]
    locked = module.dlict_identity_unapproved(
        passwd, "1000", ["/usr/sbin/nologin"], register,
        ["all", "s4401000001-srv", "school_4401000001"], "2026-12-03")
    assert locked == ["intruder", "oldstaff"]
    # the enforce task hands it the probe's lines (Ansible's Jinja has no "\n" escape)
    assert module.dlict_identity_unapproved(
        passwd.splitlines(), "1000", ["/usr/sbin/nologin"], register,
        ["all", "s4401000001-srv", "school_4401000001"], "2026-12-03") == locked
