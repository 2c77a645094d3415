"""The agent's host controls judge captured command output as the playbooks' verify tasks
do: the same control IDs, the same verdicts, the same evidence words.

Every input is real output captured for the purpose (``fixtures/agent_host/README.md`` says
where); the judges are pure functions, so no sshd, chronyd or rule set is needed here. The
host job running those programs for real is in tests/integration/test_agent_jobs_host.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from dlict.agent.jobs.host_checks import (
    Verdict,
    clamd_socket,
    judge_av01,
    judge_av03,
    judge_ep01,
    judge_ep05,
    judge_firewall,
    judge_id01,
    judge_id02,
    judge_id03,
    judge_id04,
    judge_log04,
)
from dlict.agent.jobs.settings import RISKY_PACKAGES, HostJobSettings
from dlict.controls.model import load_catalog
from dlict.core.results import Status
from tests.conftest import REPO

FIXTURES = Path(__file__).parent / "fixtures" / "agent_host"


def captured(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def table(verdicts: Sequence[Verdict]) -> dict[str, tuple[Status, str]]:
    return {v.control: (v.status, v.evidence) for v in verdicts}


def test_the_rule_set_the_firewall_role_renders_passes_fw01_fw03_fw05() -> None:
    assert table(judge_firewall(captured("nft_dlict.json"))) == {
        "FW-01": (Status.PASS, "inet dlict input chain loaded, hook input, policy drop"),
        "FW-03": (Status.PASS, 'input chain ends with a rate-limited log, prefix "dlict-drop"'),
        "FW-05": (Status.PASS, "table inet dlict filters IPv4 and IPv6; no ip6 table accepts "
                               "all"),
    }


def test_a_weak_rule_set_fails_each_control_with_its_reason() -> None:
    assert table(judge_firewall(captured("nft_weak.json"))) == {
        "FW-01": (Status.FAIL, "input chain hook input, policy accept"),
        "FW-03": (Status.FAIL, 'last rule of the inet dlict input chain is not a rate-limited '
                               '"dlict-drop" log: log'),
        "FW-05": (Status.FAIL, "ip6 chains accepting everything: ip6 legacy input"),
    }


def test_no_rule_set_at_all_fails_as_the_playbook_says() -> None:
    for text in (captured("nft_empty.json"), "", "nft: not JSON"):
        assert table(judge_firewall(text)) == {
            "FW-01": (Status.FAIL, "no inet dlict input chain is loaded"),
            "FW-03": (Status.FAIL, 'last rule of the inet dlict input chain is not a '
                                   'rate-limited "dlict-drop" log: no rule'),
            "FW-05": (Status.FAIL, "no table inet dlict is loaded: IPv6 is not filtered"),
        }


def test_debian_sshd_defaults_allow_passwords_and_fail_id01() -> None:
    sshd = captured("sshd_T_debian12_default.txt")
    assert judge_id01(sshd).status is Status.FAIL
    assert judge_id01(sshd).evidence == (
        "sshd -T: passwordauthentication yes, kbdinteractiveauthentication no")
    # Debian's default lets root in by key only: ID-02 holds.
    assert (judge_id02(sshd).status, judge_id02(sshd).evidence) == (
        Status.PASS, "sshd -T: permitrootlogin without-password")


def test_the_identity_role_drop_in_passes_id01_id02_id03() -> None:
    sshd = captured("sshd_T_debian12_dlict.txt")
    assert (judge_id01(sshd).status, judge_id01(sshd).evidence) == (
        Status.PASS, "sshd -T shows passwordauthentication no, kbdinteractiveauthentication no")
    assert (judge_id02(sshd).status, judge_id02(sshd).evidence) == (
        Status.PASS, "sshd -T: permitrootlogin no")
    verdict = judge_id03(captured("shadow_empty_none.txt"), True, sshd)
    assert (verdict.status, verdict.evidence) == (
        Status.PASS, "no empty password in /etc/shadow; sshd permitemptypasswords no")


def test_an_account_with_an_empty_password_fails_id03_by_name() -> None:
    verdict = judge_id03(captured("shadow_empty_dlict.txt"), True,
                         captured("sshd_T_debian12_dlict.txt"))
    assert (verdict.status, verdict.evidence) == (
        Status.FAIL, "accounts with an empty password: dlict")
    unreadable = judge_id03("", False, captured("sshd_T_debian12_dlict.txt"),
                            "awk: cannot open /etc/shadow (Permission denied)")
    assert (unreadable.status, unreadable.evidence) == (
        Status.FAIL, "cannot read /etc/shadow: awk: cannot open /etc/shadow (Permission denied)")


def test_a_second_uid0_account_fails_id04() -> None:
    assert (judge_id04(captured("passwd_fields.txt")).status) is Status.PASS
    verdict = judge_id04(captured("passwd_fields_second_uid0.txt"))
    assert (verdict.status, verdict.evidence) == (Status.FAIL, "accounts with UID 0: root, toor")


def test_a_synchronised_chronyd_passes_log04_within_the_limit_only() -> None:
    tracking, sources = captured("chronyc_tracking_synced.csv"), captured(
        "chronyc_sources_synced.csv")
    verdict = judge_log04(tracking, sources, max_offset_ms=10)
    assert verdict.status is Status.PASS
    assert verdict.evidence == ("chronyd synchronised to 127.0.0.1 (stratum 9), offset 0.000 ms "
                                "(limit 10 ms), leap status Normal; sources 127.0.0.1")
    # The captured offset is 155 ns: a limit below it fails with the figure.
    tight = judge_log04(tracking, sources, max_offset_ms=0.0001)
    assert (tight.status, tight.evidence) == (
        Status.FAIL, "clock is off by 0.000 ms (limit 0.0001 ms)")


def test_an_unsynchronised_or_self_serving_or_absent_chronyd_fails_log04() -> None:
    cases = {
        ("chronyc_tracking_unsynchronised.csv", "chronyc_sources_unsynchronised.csv"):
            "clock not synchronised (leap status Not synchronised, reference 00000000)",
        ("chronyc_tracking_local.csv", "chronyc_sources_unsynchronised.csv"):
            "no time source answers: chronyd serves its own clock (local stratum 8)",
        ("chronyc_tracking_no_daemon.txt", "chronyc_tracking_no_daemon.txt"):
            "chronyc -c tracking gave no state: Could not open connection to daemon",
    }
    for (tracking, sources), evidence in cases.items():
        verdict = judge_log04(captured(tracking), captured(sources), max_offset_ms=10)
        assert (verdict.status, verdict.evidence) == (Status.FAIL, evidence), tracking
    time_server = judge_log04(captured("chronyc_tracking_local.csv"), "", max_offset_ms=10,
                              local_clock_ok=True)
    assert time_server.status is Status.PASS


def test_signature_age_against_the_limit() -> None:
    now = 1_796_264_880.0
    fresh = {"daily.cld": now - 2 * 86400, "main.cvd": now - 90 * 86400, "bytecode.cvd": now}
    old = {"daily.cvd": now - 8.25 * 86400, "freshclam.dat": now}
    assert (judge_av03(fresh, now, "/var/lib/clamav", 7).evidence) == (
        "newest signature database is 0.0 days old (limit 7)")
    verdict = judge_av03(old, now, "/var/lib/clamav", 7)
    assert (verdict.status, verdict.evidence) == (
        Status.FAIL, "newest signature database is 8.2 days old (limit 7)")
    none = judge_av03({"freshclam.dat": now}, now, "/var/lib/clamav", 7)
    assert (none.status, none.evidence) == (
        Status.FAIL, "no signature database (*.cvd, *.cld) in /var/lib/clamav")


@pytest.mark.parametrize("control", ["FW-01", "FW-03", "FW-05", "ID-01", "ID-02", "ID-03",
                                     "ID-04", "EP-01", "EP-05", "LOG-04", "AV-01", "AV-03"])
def test_every_control_the_agent_judges_is_in_the_catalog(control: str) -> None:
    ids = {c.id for c in load_catalog().controls}
    assert control in ids


def test_unattended_upgrades_on_the_fleet_host_pass_ep01_and_off_here_fail() -> None:
    on = judge_ep01(captured("dpkg_endpoint_fleet.txt"), captured("apt_unattended_fleet.txt"))
    assert (on.status, on.evidence) == (
        Status.PASS, 'unattended-upgrades installed, APT::Periodic::Unattended-Upgrade "1"')
    off = judge_ep01(captured("dpkg_endpoint_devmachine.txt"),
                     captured("apt_unattended_devmachine.txt"))
    assert (off.status, off.evidence) == (
        Status.FAIL, 'unattended-upgrades not installed, APT::Periodic::Unattended-Upgrade is ""')


def test_an_installed_package_of_the_list_fails_ep05() -> None:
    clean = judge_ep05(captured("dpkg_risky_fleet.txt"), RISKY_PACKAGES)
    assert (clean.status, clean.evidence) == (
        Status.PASS, "none of telnetd, inetutils-telnetd, telnetd-ssl, rsh-server, "
                     "rsh-redone-server, vsftpd, proftpd-basic, pure-ftpd, tftpd-hpa is installed")
    found = judge_ep05(captured("dpkg_risky_with_coreutils.txt"), [*RISKY_PACKAGES, "coreutils"])
    assert (found.status, found.evidence) == (Status.FAIL, "installed: coreutils")


def role_default(role: str, name: str) -> object:
    defaults = yaml.safe_load((REPO / "playbooks" / "roles" / role / "defaults" / "main.yml")
                              .read_text(encoding="utf-8"))
    return defaults[name]


def test_the_agent_judges_with_the_roles_default_limits() -> None:
    settings = HostJobSettings()
    assert settings.risky_packages == role_default("dlict_endpoint",
                                                   "dlict_endpoint_risky_packages")
    assert settings.max_signature_age_days == role_default(
        "dlict_antivirus", "dlict_antivirus_max_signature_age_days")
    assert settings.clamav_db_dir == role_default("dlict_antivirus", "dlict_antivirus_db_dir")
    assert settings.max_clock_offset_ms == role_default("dlict_logging",
                                                        "dlict_logging_max_clock_offset_ms")


def test_clamd_installed_and_answering_passes_av01_else_the_reason() -> None:
    assert clamd_socket(captured("clamd_debian12.conf")) == "/var/run/clamav/clamd.ctl"
    assert clamd_socket("") == "/run/clamav/clamd.ctl"
    ok = judge_av01(captured("dpkg_clamav_fleet.txt"), "PONG")
    assert (ok.status, ok.evidence) == (Status.PASS, "clamav-daemon installed, clamd answers PONG")
    silent = judge_av01(captured("dpkg_clamav_fleet.txt"), "",
                        "FileNotFoundError: [Errno 2] No such file or directory")
    assert (silent.status, silent.evidence) == (
        Status.FAIL, "clamd does not answer: clamav-daemon installed; PING gave "
                     "'FileNotFoundError: [Errno 2] No such file or directory'")
    absent = judge_av01(captured("dpkg_clamav_devmachine.txt"), "PONG")
    assert (absent.status, absent.evidence) == (
        Status.FAIL, "clamd does not answer: clamav-daemon not installed; PING gave 'PONG'")
