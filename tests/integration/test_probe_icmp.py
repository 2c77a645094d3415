"""`dlict probe`: real ICMP echo over one raw socket to loopback addresses (every 127.0.0.0/8
address answers), and in a network namespace of the test's own for targets that never answer."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlict.probes.icmp import Sweep, TargetResult, checksum, echo_request
from tests.conftest import CliRunner

DLICT = str(Path(sys.executable).parent / "dlict")


def test_checksum_of_an_echo_request_verifies() -> None:
    packet = echo_request(0x1234, 7, b"payload!")
    assert checksum(packet) == 0


def test_jitter_and_loss_figures() -> None:
    result = TargetResult("127.0.0.1", sent=5, rtts_ms=[1.0, 3.0, 2.0, 6.0])
    assert result.loss_percent == 20.0
    assert result.jitter_ms == pytest.approx((2 + 1 + 4) / 3)
    assert (result.min_ms, result.max_ms, result.avg_ms) == (1.0, 6.0, 3.0)


def test_every_loopback_target_answers(cli: CliRunner, tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    addresses = [f"127.0.{n // 250}.{n % 250 + 1}" for n in range(500)]
    targets.write_text("# school links\n" + "\n".join(addresses) + "\n")
    result = cli("--json", "probe", "--file", str(targets), "--count", "3", "--interval", "0",
                 "--period", "20")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["target"] for r in data] == addresses
    assert all(r["sent"] == 3 and r["received"] == 3 and r["loss_ratio"] == 0 for r in data)
    assert all(0 <= r["min_s"] <= r["rtt_s"] <= r["max_s"] < 0.1 for r in data)


def test_fping_like_text(cli: CliRunner) -> None:
    result = cli("probe", "127.0.0.1", "127.0.0.2", "--count", "2", "--period", "10")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("127.0.0.1       : xmt/rcv/%loss = 2/2/0%, min/avg/max = ")


def test_a_bad_target_is_one_line_exit_2(cli: CliRunner, tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text("127.0.0.1\nschool-gw\n")
    result = cli("probe", "--file", str(targets))
    assert result.code == 2
    assert result.stderr.strip() == f"dlict: {targets}:2: 'school-gw' is not an IP address"


def in_own_namespace(script: str) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a fresh network namespace (only its loopback; nothing leaves)."""
    return subprocess.run(["unshare", "--net", "sh", "-c", f"ip link set lo up && {script}"],
                          capture_output=True, text=True, check=False, timeout=60)


def test_dead_targets_do_not_hold_up_the_rest() -> None:
    # 192.0.2.0/24 (TEST-NET-1) is a blackhole inside the test's own namespace.
    started = time.monotonic()
    run = in_own_namespace(
        f"ip route add blackhole 192.0.2.0/24 && {DLICT} --json probe 192.0.2.1 "
        + " ".join(f"127.0.0.{n}" for n in range(1, 51))
        + " 192.0.2.2 --count 3 --period 20 --timeout 500")
    elapsed = time.monotonic() - started
    assert run.returncode == 1, run.stderr
    data = {r["target"]: r for r in json.loads(run.stdout)}
    assert data["192.0.2.1"]["received"] == 0 and data["192.0.2.1"]["loss_ratio"] == 1
    assert data["192.0.2.2"]["received"] == 0
    assert all(data[f"127.0.0.{n}"]["received"] == 3 for n in range(1, 51))
    assert elapsed < 10


def test_silent_targets_end_at_the_deadline() -> None:
    run = in_own_namespace(
        "sysctl -q -w net.ipv4.icmp_echo_ignore_all=1 && "
        f"{DLICT} --json probe 127.0.0.1 127.0.0.2 --count 2 --period 10 --timeout 300")
    assert run.returncode == 1, run.stderr
    data = json.loads(run.stdout)
    assert [(r["sent"], r["received"]) for r in data] == [(2, 0), (2, 0)]


def test_sweep_api_returns_results_in_target_order() -> None:
    results = Sweep(["127.0.0.9", "127.0.0.3"], count=1).run()
    assert [r.address for r in results] == ["127.0.0.9", "127.0.0.3"]
    assert all(r.received == 1 for r in results)


def test_the_fast_entry_answers_like_the_full_cli(cli: CliRunner, tmp_path: Path) -> None:
    """`dlict probe …` skips loading the whole CLI (dlict.cli.entry); what the user sees
    must not change: the same lines, the same exit codes, the same one-line errors."""
    targets = tmp_path / "targets.txt"
    targets.write_text("127.0.0.1\n127.0.0.2 # gateway\n")
    fast = subprocess.run([DLICT, "probe", "--file", str(targets), "--period", "10"],
                          capture_output=True, text=True, check=False, timeout=60)
    full = cli("probe", "--file", str(targets), "--period", "10")
    assert fast.returncode == full.code == 0
    assert [line.split(":")[0] for line in fast.stdout.splitlines()] == \
        [line.split(":")[0] for line in full.stdout.splitlines()]
    targets.write_text("127.0.0.1\nschool-gw\n")
    fast = subprocess.run([DLICT, "probe", "--file", str(targets)], capture_output=True,
                          text=True, check=False, timeout=60)
    full = cli("probe", "--file", str(targets))
    assert fast.returncode == full.code == 2
    assert fast.stderr == full.stderr == f"dlict: {targets}:2: 'school-gw' is not an IP address\n"
    wrong = subprocess.run([DLICT, "probe", "--bogus"], capture_output=True, text=True,
                           check=False, timeout=60)
    assert wrong.returncode == 2 and "--bogus" in wrong.stderr


@pytest.mark.parametrize(("argv", "message"), [
    (["--count", "x"], "--count: 'x' is not a whole number"),
    (["--period=fast"], "--period: 'fast' is not a number"),
    (["--timeout"], "option --timeout requires an argument"),
    (["--colour", "red"], "no such option: --colour"),
])
def test_fast_entry_options_fail_in_one_line(argv: list[str], message: str) -> None:
    run = subprocess.run([DLICT, "probe", "127.0.0.1", *argv], capture_output=True, text=True,
                         check=False, timeout=60)
    assert run.returncode == 2
    assert run.stderr == f"dlict: {message}\n" and run.stdout == ""


def test_fast_entry_takes_both_option_forms() -> None:
    run = subprocess.run([DLICT, "probe", "--count=2", "--period", "10", "127.0.0.1",
                          "--timeout=500"], capture_output=True, text=True, check=False,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("127.0.0.1       : xmt/rcv/%loss = 2/2/0%")


def test_json_is_a_probe_option_on_both_paths(cli: CliRunner) -> None:
    fast = subprocess.run([DLICT, "probe", "127.0.0.1", "--json"], capture_output=True,
                          text=True, check=False, timeout=60)
    full = cli("probe", "127.0.0.1", "--json")
    assert fast.returncode == full.code == 0
    assert [r["received"] for r in json.loads(fast.stdout)] == \
        [r["received"] for r in json.loads(full.stdout)] == [1]
