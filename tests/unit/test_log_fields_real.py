"""Traffic-data field checks on REAL log lines from public sources (fixtures/logs_real/README.md).

Each excerpt is kept verbatim as its source published it; ``tests.logs_real.stored`` turns it
into the lines the district log server writes, which is what ``dlict logs check`` reads.
A healthy service's own log must pass; the same log with a field truly taken out must still
fail.
"""

from __future__ import annotations

import re

import pytest

from dlict.logs.fields import FieldSampler, FieldsVerdict
from tests.logs_real import REAL, SOURCES, Source, stored


def verdicts(lines: list[str]) -> list[FieldsVerdict]:
    sampler = FieldSampler(per_type=200)
    for line in lines:
        sampler.feed(line)
    return sampler.verdicts()


def test_every_fixture_file_is_named_in_the_readme() -> None:
    readme = (REAL / "README.md").read_text(encoding="utf-8")
    files = sorted(str(p.relative_to(REAL)) for p in REAL.glob("*/*.log"))
    assert files == sorted(s.path for s in SOURCES)
    for name in files:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.path)
def test_a_healthy_services_real_log_passes(source: Source) -> None:
    (verdict,) = verdicts(stored(source))
    assert verdict == FieldsVerdict(
        log_type=source.log_type, lines_sampled=source.sampled, lines_complete=source.sampled,
        missing=(), unknown_formats=(), ok=True,
    )


# ------------------------------------------------------------------ OpenSSH, older versions

OLD_SSH = SOURCES[0]


def test_old_sshd_invalid_user_line_takes_its_port_from_the_failed_line_of_its_process() -> None:
    lines = stored(OLD_SSH)
    attempt = [x for x in lines if "sshd[24200]:" in x]
    invalid = next(x for x in attempt if "Invalid user webmaster from 173.234.31.186\n" in x)
    failed = next(x for x in attempt if "port 38926" in x)
    (alone,) = verdicts([invalid])
    assert (alone.missing, alone.lines_complete, alone.ok) == (("src_port",), 0, False)
    (together,) = verdicts([invalid, failed])
    assert (together.lines_sampled, together.lines_complete, together.ok) == (2, 2, True)


def test_old_sshd_attempt_with_no_port_on_any_line_still_fails() -> None:
    lines = [re.sub(r" port \d+", "", x) for x in stored(OLD_SSH)]
    (verdict,) = verdicts(lines)
    assert verdict.missing == ("src_port",)
    assert verdict.lines_complete == 0 and not verdict.ok


def test_port_of_another_process_or_another_client_is_not_borrowed() -> None:
    lines = stored(OLD_SSH)
    invalid = next(x for x in lines if "sshd[24206]: Invalid user test9 from 52.80.34.196" in x)
    other_pid = next(x for x in lines if "sshd[24200]: Failed password" in x)
    (verdict,) = verdicts([invalid, other_pid])
    assert verdict.missing == ("src_port",) and verdict.lines_complete == 1
    other_client = invalid.replace("Invalid user test9 from 52.80.34.196",
                                   "Failed password for invalid user test9 from 198.51.100.7"
                                   " port 36060 ssh2")
    (verdict,) = verdicts([invalid, other_client])
    assert verdict.missing == ("src_port",) and verdict.lines_complete == 1
    other_user = other_client.replace("198.51.100.7", "52.80.34.196").replace("test9", "test8")
    (verdict,) = verdicts([invalid, other_user])
    assert verdict.missing == ("src_port",) and verdict.lines_complete == 1


def test_port_is_borrowed_only_by_the_known_portless_kind() -> None:
    lines = stored(OLD_SSH)
    failed = next(x for x in lines if "sshd[24200]: Failed password" in x)
    portless_failed = failed.replace(" port 38926", "")
    (verdict,) = verdicts([portless_failed, failed])
    assert verdict.missing == ("src_port",) and verdict.lines_complete == 1


def test_the_sibling_line_is_found_after_the_type_sample_is_full() -> None:
    lines = stored(OLD_SSH)
    attempt = [x for x in lines if "sshd[24200]:" in x]
    invalid = next(x for x in attempt if "Invalid user" in x)
    failed = next(x for x in attempt if "Failed password" in x)
    sampler = FieldSampler(per_type=1)
    for line in (invalid, failed):
        sampler.feed(line)
    (verdict,) = sampler.verdicts()
    assert (verdict.lines_sampled, verdict.lines_complete, verdict.ok) == (1, 1, True)


def test_a_port_removed_from_newer_sshd_lines_fails() -> None:
    newer = stored(SOURCES[2])
    broken = [re.sub(r" port \d+", "", x) if "sshd[11109]" in x else x for x in newer]
    (verdict,) = verdicts(broken)
    assert verdict.missing == ("src_port",)
    assert verdict.lines_sampled - verdict.lines_complete == 2  # Invalid user + Failed password


# ------------------------------------------------------------------ web, dhcp, firewall


def test_apache_lines_without_a_request_are_judged_by_what_the_server_received() -> None:
    lines = stored(SOURCES[5])
    no_request = [x for x in lines if '"-" 408' in x or '"- - HTTP/1.0" 400' in x]
    assert len(no_request) == 3
    (verdict,) = verdicts(no_request)
    assert verdict.ok


def test_a_web_log_format_without_the_client_address_fails() -> None:
    # A log_format that starts at the time stamp: every line lacks the client address.
    plain = [x for x in stored(SOURCES[4]) if "lessons.example.com" not in x]
    lines = [re.sub(r"(nginx: )\S+ ", r"\1", x) for x in plain]
    (verdict,) = verdicts(lines)
    assert not verdict.ok
    assert verdict.lines_complete == 0


def test_a_web_line_with_status_200_and_no_request_still_fails() -> None:
    lines = stored(SOURCES[5])
    ok_line = next(x for x in lines if '"GET /hello HTTP/1.1" 404' in x)
    broken = ok_line.replace('"GET /hello HTTP/1.1" 404', '"-" 200')
    (verdict,) = verdicts([broken])
    assert verdict.missing == ("method", "uri") and not verdict.ok


def test_squid_without_the_user_field_fails() -> None:
    lines = stored(SOURCES[6])
    broken = [re.sub(r" (\S+) (DIRECT|NONE)/", r" \2/", x) for x in lines]
    (verdict,) = verdicts(broken)
    assert verdict.missing == ("user",) and verdict.lines_complete == 0


def test_dhcpd_ack_without_the_hardware_address_fails() -> None:
    lines = [x.replace(" to 00:11:43:e3:ba:c3", " to ") for x in stored(SOURCES[3])]
    (verdict,) = verdicts(lines)
    assert verdict.missing == ("mac",) and verdict.lines_complete == 0


def test_iptables_without_ports_fails_for_tcp_and_udp_only() -> None:
    lines = [re.sub(r" SPT=\d+", "", x) for x in stored(SOURCES[7])]
    (verdict,) = verdicts(lines)
    assert verdict.missing == ("src_port",)
    assert verdict.lines_complete == 3  # ICMPv6 twice and ESP carry no ports


def test_fortigate_snat_without_the_translated_address_fails() -> None:
    lines = [x.replace(" transip=67.43.156.14", "") for x in stored(SOURCES[8])]
    (verdict,) = verdicts(lines)
    assert verdict.missing == ("nat_src",) and verdict.lines_complete == 5
