"""Hostile log lines against the traffic-data field check: anyone who can send one syslog line
to the log server chooses these bytes.  Each must be checked without a crash, in bounded time
and memory, and must never make a deficient line look complete."""

from __future__ import annotations

import gzip
import time
import tracemalloc
from pathlib import Path

import pytest

from dlict.logs.fields import EXAMPLE_CHARS, FieldSampler, FieldsVerdict, parse_line

HEAD = "2026-11-21T10:15:30.123456+07:00 srv01 "
SSH_INVALID = HEAD + "sshd[4242]: Invalid user admin from 203.0.113.9"
SSH_FAILED = (HEAD + "sshd[4242]: Failed password for invalid user admin from 203.0.113.9"
              " port 4711 ssh2")
NGINX = HEAD + 'nginx: 10.1.2.3 - - [21/Nov/2026:10:15:30 +0700] "GET / HTTP/1.1" 200 5 "-" "x"'
KERNEL = (HEAD + "kernel: drop IN=eth0 OUT= SRC=10.1.2.3 DST=10.1.2.4 LEN=60 PROTO=TCP "
          "SPT=51234 DPT=22")
MB = 1_000_000


def sample(lines: list[str], per_type: int = 50) -> list[FieldsVerdict]:
    sampler = FieldSampler(per_type)
    for line in lines:
        sampler.feed(line)
    return sampler.verdicts()


def timed(lines: list[str]) -> tuple[list[FieldsVerdict], float]:
    started = time.perf_counter()
    verdicts = sample(lines)
    return verdicts, time.perf_counter() - started


@pytest.mark.parametrize("base", [SSH_FAILED, NGINX, KERNEL], ids=["sshd", "nginx", "kernel"])
@pytest.mark.parametrize("filler", [" ", "a", " port 1", "=", '"', "[", "->", ":"],
                         ids=repr)
def test_a_megabyte_line_is_checked_in_bounded_time(base: str, filler: str) -> None:
    line = base + filler * MB
    verdicts, elapsed = timed([line])
    assert elapsed < 2.0, f"{elapsed:.1f} s for one 1 MB line"
    for verdict in verdicts:
        assert all(len(example) <= EXAMPLE_CHARS for example in verdict.unknown_formats)


def test_pathological_repetitions_do_not_backtrack_for_ever() -> None:
    lines = [
        HEAD + "sshd[1]: Accepted publickey for " + "x from " * 50_000 + "y",
        HEAD + "sshd[1]: Invalid user " + " from" * 50_000,
        HEAD + "nginx: " + "a " * 100_000 + '"GET / HTTP/1.1"',
        HEAD + "squid[2]: 1.000 " + "1 " * 100_000,
        HEAD + "kernel: IN= OUT= " + "SRC=1 " * 100_000,
        HEAD + "firewall,info in:" + "x out:" * 50_000 + ",",
        HEAD + "x devid=1 type=traffic " + 'k="\\' * 50_000,
        HEAD + "dhcpd: DHCPACK on " + "1 to " * 50_000,
        HEAD + "kea-dhcp4: DHCP4_LEASE_ALLOC [" + "hwtype=1 " * 50_000,
    ]
    _verdicts, elapsed = timed(lines)
    assert elapsed < 5.0, f"{elapsed:.1f} s for {len(lines)} pathological lines"


def test_invalid_utf8_nul_and_control_bytes_are_checked_and_not_complete(tmp_path: Path) -> None:
    raw = b"\n".join([
        SSH_FAILED.encode().replace(b"admin", b"ad\xffmin\x00"),
        SSH_FAILED.encode().replace(b"port 4711", b"port \x004711"),
        NGINX.encode().replace(b"10.1.2.3", b"10.1.\x1b[2J2.3"),
        b"\x00" * 4096,
        b"\xc3\x28\xa0\xa1\xe2\x28\xa1" * 1000,
        KERNEL.encode().replace(b"SPT=51234", b"SPT=\x00"),
    ]) + b"\n"
    day = tmp_path / "2026-11-21.log.gz"
    day.write_bytes(gzip.compress(raw))
    # Read as `dlict logs check` reads a day: text, UTF-8, invalid bytes replaced.
    with gzip.open(day, "rt", encoding="utf-8", errors="replace") as stream:
        verdicts = {v.log_type: v for v in sample(list(stream))}
    auth, web, firewall = verdicts["auth"], verdicts["web"], verdicts["firewall"]
    # A NUL where the port should be is no port: that line lacks src_port.
    assert "src_port" in auth.missing and not auth.ok
    assert (web.lines_sampled, web.ok) == (1, True)  # the escape sits in a value, as written
    assert firewall.missing == ("src_port",) and not firewall.ok


def test_control_characters_in_a_field_are_kept_as_written_never_interpreted() -> None:
    parsed = parse_line(SSH_FAILED.replace("admin", "ad\x1b]0;pwn\x07min"))
    assert parsed is not None
    assert parsed.fields["user"] == "ad\x1b]0;pwn\x07min"


@pytest.mark.parametrize("digits", ["\u0e54\u0e57\u0e51\u0e51", "\uff14\uff17\uff11\uff11", "\x00"],
                         ids=["thai", "full-width", "nul"])
def test_a_port_that_is_not_ascii_digits_is_no_port(digits: str) -> None:
    ssh = parse_line(SSH_FAILED.replace("port 4711", f"port {digits}"))
    kernel = parse_line(KERNEL.replace("SPT=51234", f"SPT={digits}"))
    assert ssh is not None and ssh.missing == ("src_port",)
    assert kernel is not None and kernel.missing == ("src_port",)


def test_a_flood_of_portless_attempts_keeps_memory_bounded() -> None:
    # Every line opens an attempt that never names its port; the sampler must not keep them all.
    flood = [SSH_INVALID.replace("[4242]", f"[{pid}]") + f" {pid}" for pid in range(50_000)]
    sampler = FieldSampler(per_type=50)
    tracemalloc.start()
    try:
        for line in flood:
            sampler.feed(line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (verdict,) = sampler.verdicts()
    assert verdict.lines_sampled == 50 and verdict.lines_complete == 0
    assert verdict.missing == ("src_port",)
    assert peak < 200_000  # bytes: 50 awaiting lines, not 50,000


def test_a_forged_sibling_from_another_host_or_process_completes_nothing() -> None:
    forged_host = SSH_FAILED.replace(" srv01 ", " srv02 ")
    forged_pid = SSH_FAILED.replace("[4242]", "[4243]")
    forged_tag = SSH_FAILED.replace("sshd[4242]:", "sshd[4242]x:")
    (verdict,) = sample([SSH_INVALID, forged_host, forged_pid, forged_tag])
    assert verdict.missing == ("src_port",)
    assert verdict.lines_complete == 3  # the forged Failed lines are complete themselves


def test_a_portless_failed_line_never_borrows() -> None:
    no_port = SSH_FAILED.replace(" port 4711", "")
    (verdict,) = sample([no_port, SSH_FAILED])
    assert verdict.missing == ("src_port",) and verdict.lines_complete == 1
