"""Sealing, keys, policy errors, freshness and clock checks on generated trees; the zipapp
run the way the log server runs it (Debian's python3 + python3-cryptography)."""

from __future__ import annotations

import grp
import json
import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dlict.logs import keys
from dlict.logs.bundle import build
from dlict.logs.chrony import parse_tracking
from dlict.logs.policy import Policy
from dlict.logs.tree import MANIFEST_NAME
from lab.logtree import FIXTURES, build_tree, source_names
from tests.conftest import CliRunner

CHRONY = FIXTURES / "chrony"


def args(policy: Policy, *extra: str) -> list[str]:
    return ["--policy", str(policy.root.parent / "logging.json"), *extra]


def check_json(cli: CliRunner, policy: Policy, *extra: str) -> tuple[int, dict]:
    result = cli("--json", "logs", "check", *args(policy, *extra))
    assert result.code in (0, 1), result.stderr
    return result.code, json.loads(result.stdout)


def first_source(policy: Policy) -> Path:
    site, host = source_names(1)[0]
    return policy.root / site / host


def today_file(policy: Policy) -> Path:
    today = datetime.now(UTC).astimezone().date()
    return first_source(policy) / f"{today}.log"


def problems_of(data: dict, index: int = 0) -> list[tuple[str, str | None]]:
    return [(p["kind"], p["day"]) for p in data["sources"][index]["problems"]]


# --- chrony ----------------------------------------------------------------------------


def test_real_tracking_lines_parse() -> None:
    """Both lines were captured from `chronyc -c tracking` on fleet hosts (chrony 4.3)."""
    synced = parse_tracking((CHRONY / "tracking-synced.csv").read_text())
    unsynced = parse_tracking((CHRONY / "tracking-unsynced.csv").read_text())
    assert synced is not None and unsynced is not None
    assert synced.synchronised and synced.leap_status == "Normal"
    assert 0 < synced.offset_seconds < 0.001
    assert synced.stratum > 0
    assert not unsynced.synchronised
    assert parse_tracking("not,a,tracking,line") is None
    # Right after a restart (note chrony's negative zero), and an offline office serving its
    # own clock (reference LOCAL, stratum 10): captured on the fleet as well.
    restarted = parse_tracking((CHRONY / "tracking-just-restarted.csv").read_text())
    assert restarted is not None and not restarted.synchronised
    assert restarted.offset_seconds == 0.0
    local = parse_tracking((CHRONY / "tracking-local-clock.csv").read_text())
    assert local is not None and local.synchronised and local.reference_id == "7F7F0101"


def test_clock_offset_within_and_beyond_the_bound(cli: CliRunner, tmp_path: Path) -> None:
    policy = build_tree(tmp_path, sources=2, days=3)
    code, data = check_json(cli, policy)
    assert code == 0
    offset = data["sources"][0]["clock"]["offset_s"] * 1000
    assert 0 < offset < 10
    # The same real line against a bound tighter than its offset (the policy file decides).
    settings = json.loads((tmp_path / "logging.json").read_text())
    settings["max_clock_offset_ms"] = offset / 2
    (tmp_path / "logging.json").write_text(json.dumps(settings))
    code, data = check_json(cli, policy)
    assert code == 1
    for index in range(2):
        kinds = problems_of(data, index)
        assert ("clock", None) in kinds, kinds
        assert "exceeds" in data["sources"][index]["problems"][0]["detail"]


def test_unsynchronised_clock_is_a_finding(cli: CliRunner, tmp_path: Path) -> None:
    policy = build_tree(tmp_path, sources=2, days=3)
    unsynced = (CHRONY / "tracking-unsynced.csv").read_text().strip()
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="microseconds")
    with today_file(policy).open("a") as out:
        out.write(f"{stamp} {source_names(1)[0][1]} dlict-chrony: {unsynced}\n")
    code, data = check_json(cli, policy)
    assert code == 1
    assert problems_of(data, 0) == [("clock", None)]
    assert "not synchronised" in data["sources"][0]["problems"][0]["detail"]
    assert data["sources"][1]["ok"]


# --- freshness -------------------------------------------------------------------------


def test_silent_source_found_from_real_file_times(cli: CliRunner, tmp_path: Path) -> None:
    policy = build_tree(tmp_path, sources=2, days=3)
    code, data = check_json(cli, policy)
    assert code == 0
    assert data["sources"][0]["silent_seconds"] < 60
    seven_hours_ago = time.time() - 7 * 3600
    # every file of the source, not only today's: in the first hours of a day yesterday's
    # file was written more recently than seven hours ago
    for day_file in today_file(policy).parent.iterdir():
        if day_file.stat().st_mtime > seven_hours_ago:
            os.utime(day_file, (seven_hours_ago, seven_hours_ago))
    code, data = check_json(cli, policy)
    assert code == 1
    assert problems_of(data, 0) == [("silent", None)]
    assert 7 * 3600 - 60 < data["sources"][0]["silent_seconds"] < 7 * 3600 + 60
    assert data["sources"][1]["ok"]


# --- seal ------------------------------------------------------------------------------


def seal(cli: CliRunner, policy: Policy) -> tuple[int, str]:
    result = cli("logs", "seal", *args(policy))
    return result.code, result.stdout + result.stderr


def test_seal_again_changes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    policy = build_tree(tmp_path, sources=2, days=5)
    manifest = first_source(policy) / MANIFEST_NAME
    before = manifest.read_bytes()
    code, output = seal(cli, policy)
    assert (code, output) == (0, "")
    assert manifest.read_bytes() == before
    assert today_file(policy).is_file()  # the open day is never compressed


def test_seal_prunes_only_what_is_sealed_and_past_retention(cli: CliRunner,
                                                            tmp_path: Path) -> None:
    policy = build_tree(tmp_path, sources=1, days=100, retention_days=100)
    directory = first_source(policy)
    today = datetime.now(UTC).astimezone().date()
    oldest = today - timedelta(days=100)
    # An old file the seal never saw (it arrived late): it must not be deleted unsealed.
    stray = directory / f"{oldest - timedelta(days=5)}.log"
    stray.write_text("late\n")
    stray.chmod(0o640)
    os.chown(stray, 0, grp.getgrnam("adm").gr_gid)
    settings = json.loads((tmp_path / "logging.json").read_text())
    settings["retention_days"] = 90
    (tmp_path / "logging.json").write_text(json.dumps(settings))
    code, output = seal(cli, policy)
    assert code == 0, output
    kept = sorted(p.name for p in directory.glob("*.log.gz"))
    assert kept[0] == f"{today - timedelta(days=91)}.log.gz"
    assert "deleted 9 file(s) past retention" in output
    assert stray.exists()
    code, data = check_json(cli, policy)
    assert data["sources"][0]["days_covered"] >= 89  # 90 days; 89 before 06:00
    # A file that turned up for a day before the manifest's first: not sealed, and named.
    assert [k for k, _ in problems_of(data)] == ["inserted"]


def test_seal_refuses_a_tampered_manifest(cli: CliRunner, tmp_path: Path) -> None:
    policy = build_tree(tmp_path, sources=2, days=5)
    manifest = first_source(policy) / MANIFEST_NAME
    lines = manifest.read_bytes().splitlines(keepends=True)
    manifest.write_bytes(b"".join(lines[:-2]))  # rolled back two days
    tampered = manifest.read_bytes()
    # A new closed day arrives for both sources.
    code, output = seal(cli, policy)
    assert code == 1
    assert f"REFUSED {'/'.join(source_names(1)[0])}: the manifest is behind the seal " \
           f"state" in output
    assert manifest.read_bytes() == tampered


def test_keygen_never_overwrites(cli: CliRunner, tmp_path: Path) -> None:
    key = tmp_path / "k" / "logseal.key"
    first = cli("logs", "keygen", "--key", str(key))
    assert first.code == 0, first.stderr
    assert key.stat().st_mode & 0o777 == 0o600
    assert keys.public_path(key).stat().st_mode & 0o777 == 0o644
    content = key.read_bytes()
    again = cli("logs", "keygen", "--key", str(key))
    assert again.code == 2
    assert again.stderr.strip() == (f"dlict: {key}: a key already exists; dlict never replaces "
                                    f"a sealing key (the manifests signed with it would stop "
                                    f"verifying)")
    assert key.read_bytes() == content


@pytest.mark.parametrize(("content", "message"), [
    ('{"retention_days": "ninety"}', "retention_days must be a non-negative whole number"),
    ('{"root": "relative/path"}', "root must be an absolute path"),
    ('{"retention": 90}', "unknown key 'retention'"),
    ('{"root": "/x",\n "compress": 1}', "compress must be true or false"),
    ('{"root": \n', ":2: not JSON"),
])
def test_bad_policy_is_one_line_and_exit_2(cli: CliRunner, tmp_path: Path, content: str,
                                           message: str) -> None:
    policy_file = tmp_path / "logging.json"
    policy_file.write_text(content)
    for command in ("seal", "check"):
        result = cli("logs", command, "--policy", str(policy_file))
        assert result.code == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert str(policy_file) in result.stderr and message in result.stderr


def test_policy_below_the_law_is_a_finding(cli: CliRunner, tmp_path: Path) -> None:
    policy = build_tree(tmp_path, sources=1, days=3)
    settings = json.loads((tmp_path / "logging.json").read_text())
    settings["retention_days"] = 60
    (tmp_path / "logging.json").write_text(json.dumps(settings))
    code, data = check_json(cli, policy)
    assert code == 1
    assert data["problems"][0]["kind"] == "policy"
    assert "at least 90" in data["problems"][0]["detail"]


def test_world_readable_file_is_a_finding(cli: CliRunner, tmp_path: Path) -> None:
    policy = build_tree(tmp_path, sources=2, days=3)
    next(first_source(policy).glob("*.log.gz")).chmod(0o644)
    code, data = check_json(cli, policy)
    assert code == 1
    assert problems_of(data, 0) == [("permissions", None)]
    assert data["sources"][1]["ok"]


# --- the server's zipapp ---------------------------------------------------------------


def test_zipapp_runs_on_debian_python_alone(tmp_path: Path) -> None:
    """Debian's python3 in isolated mode: only the archive and python3-cryptography."""
    policy = build_tree(tmp_path, sources=2, days=3)
    archive = tmp_path / "dlict-logs.pyz"
    archive.write_bytes(build())
    assert build() == archive.read_bytes()  # reproducible: Ansible copies it unchanged
    run = subprocess.run(["/usr/bin/python3", "-I", str(archive), "check", "--json",
                          "--policy", str(tmp_path / "logging.json")],
                         capture_output=True, text=True, check=False, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["ok"] is True
    run = subprocess.run(["/usr/bin/python3", "-I", str(archive), "seal",
                          "--policy", str(tmp_path / "logging.json")],
                         capture_output=True, text=True, check=False, cwd=tmp_path)
    assert (run.returncode, run.stdout) == (0, ""), run.stderr
    assert policy.root.is_dir()
