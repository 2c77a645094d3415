"""`dlict logs seal` / `check` on a generated 120-day tree of 20 sources, and the tamper matrix.

Each tamper case works on its own copy of one sealed tree, changes one source the way an
intruder (or a broken job) would, and expects exit 1 naming that source, the day and the
kind of problem — while every other source stays clean.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dlict.logs import keys, manifest
from dlict.logs.policy import Policy
from dlict.logs.tree import MANIFEST_NAME
from lab.logtree import build_tree, source_names
from tests.conftest import CliRunner

SOURCES = 20
DAYS = 120


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return build_tree(tmp_path_factory.mktemp("sealed"), sources=SOURCES, days=DAYS)


def copy_tree(policy: Policy, target: Path) -> Policy:
    base = policy.root.parent
    # cp -a: owners, modes and times as the log server left them.
    subprocess.run(["cp", "-a", str(base), str(target)], check=True)
    return replace(policy, root=target / "tree", signing_key=target / "keys" / "logseal.key",
                   state_dir=target / "state")


def policy_args(policy: Policy, *extra: str) -> list[str]:
    return ["--policy", str(policy.root.parent / "logging.json"),
            "--root", str(policy.root), "--state", str(policy.state_dir),
            "--key", str(keys.public_path(policy.signing_key)), *extra]


def check(cli: CliRunner, policy: Policy, *extra: str) -> tuple[int, dict]:
    result = cli("--json", "logs", "check", *policy_args(policy, *extra))
    assert result.code in (0, 1), result.stderr
    return result.code, json.loads(result.stdout)


def source_dir(policy: Policy, index: int) -> Path:
    site, host = source_names(SOURCES)[index]
    return policy.root / site / host


def source_name(index: int) -> str:
    site, host = source_names(SOURCES)[index]
    return f"{site}/{host}"


def sealed_days(directory: Path) -> list[date]:
    return sorted(date.fromisoformat(p.name[:10]) for p in directory.glob("*.log.gz"))


def test_generated_tree_passes(cli: CliRunner, sealed: Policy) -> None:
    code, data = check(cli, sealed)
    assert code == 0, json.dumps([s for s in data["sources"] if not s["ok"]], indent=1)[:3000]
    assert len(data["sources"]) == SOURCES
    for source in data["sources"]:
        # Between midnight and 06:00 the newest day is not due yet: the window starts a day
        # earlier than the tree.
        assert source["days_required"] in (DAYS, DAYS - 1)
        assert source["days_covered"] == source["days_required"]
        assert source["clock"]["synchronised"] is True
        assert source["clock"]["offset_s"] < 0.00002
        assert {f["log_type"] for f in source["fields"]} >= {"firewall", "auth", "dhcp", "web"}
        assert all(f["ok"] for f in source["fields"])
    # Sealed files are stored compressed and 0640.
    day_file = next(source_dir(sealed, 0).glob("*.log.gz"))
    assert day_file.stat().st_mode & 0o777 == 0o640


def test_text_output_and_report(cli: CliRunner, sealed: Policy, tmp_path: Path) -> None:
    report = tmp_path / "logs.html"
    metrics = tmp_path / "logs.prom"
    result = cli("logs", "check", *policy_args(sealed, "--report", str(report),
                                                "--metrics", str(metrics)))
    assert result.code == 0, result.stderr
    assert f"{SOURCES} of {SOURCES} sources clean" in result.stdout
    html = report.read_text()
    assert "รายงานการเก็บรักษาข้อมูลจราจรทางคอมพิวเตอร์" in html
    yesterday_be = datetime.now(UTC).astimezone().date().year + 543
    assert str(yesterday_be) in html or str(yesterday_be - 1) in html
    assert "ไม่พบปัญหา" in html
    assert report.stat().st_mode & 0o777 == 0o640
    prom = metrics.read_text()
    site, host = source_names(SOURCES)[0]
    # The window is the DAYS days ending at the newest day due for sealing (6 h after it
    # ends); before 06:00 that is the day before yesterday, so the window's first day comes
    # before the tree's first day (not collected yet, not a gap).
    covered = DAYS if datetime.now(UTC).astimezone().hour >= 6 else DAYS - 1
    assert (f'dlict_logs_covered_seconds{{host="{host}",site="{site}"}} '
            f'{float(covered * 86400)!r}') in prom
    assert f'dlict_logs_integrity_ok{{host="{host}",site="{site}"}} 1.0' in prom
    assert "dlict_logs_check_ok 1.0" in prom


# --- the tamper matrix -----------------------------------------------------------------


def flip_byte(directory: Path, day: date) -> None:
    path = directory / f"{day}.log.gz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def delete_line(directory: Path, day: date) -> None:
    path = directory / f"{day}.log.gz"
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    del lines[len(lines) // 2]
    path.write_bytes(gzip.compress(b"".join(lines), mtime=0))


def truncate(directory: Path, day: date) -> None:
    path = directory / f"{day}.log.gz"
    os.truncate(path, path.stat().st_size // 2)


def delete_day(directory: Path, day: date) -> None:
    (directory / f"{day}.log.gz").unlink()


def insert_file(directory: Path, day: date) -> None:
    forged = directory / f"{day}.log"
    forged.write_text(f"{day}T10:00:00.000000+07:00 forged sshd[1]: Accepted password for "
                      f"nobody from 10.9.9.9 port 1 ssh2\n")
    forged.chmod(0o640)
    os.chown(forged, 0, (directory / f"{day}.log.gz").stat().st_gid)


def swap(directory: Path, first: date, second: date) -> None:
    a, b = directory / f"{first}.log.gz", directory / f"{second}.log.gz"
    temporary = directory / "swap.tmp"
    a.rename(temporary)
    b.rename(a)
    temporary.rename(b)


def manifest_lines(directory: Path) -> list[bytes]:
    return (directory / MANIFEST_NAME).read_bytes().splitlines(keepends=True)


def edit_entry(directory: Path, day: date) -> None:
    lines = manifest_lines(directory)
    for index, line in enumerate(lines):
        entry = json.loads(line)
        if entry["day"] == day.isoformat():
            entry["size"] += 1
            lines[index] = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode() \
                + b"\n"
    (directory / MANIFEST_NAME).write_bytes(b"".join(lines))


def cut_manifest(directory: Path) -> None:
    path = directory / MANIFEST_NAME
    os.truncate(path, path.stat().st_size - 100)


def roll_back_manifest(directory: Path, entries: int) -> None:
    (directory / MANIFEST_NAME).write_bytes(b"".join(manifest_lines(directory)[:-entries]))


def rewrite_manifest(policy: Policy, index: int, signer: Ed25519PrivateKey,
                     keep: Callable[[manifest.Entry], manifest.Entry | None],
                     record_state: bool) -> None:
    """Rebuild one source's manifest entry by entry (keep() may change or drop entries),
    signed by ``signer``; optionally record the new head in the seal state with the real key
    — what a seal job that really did this would have written."""
    directory = source_dir(policy, index)
    public = keys.load_public(keys.public_path(policy.signing_key))
    old = manifest.read_manifest(directory / MANIFEST_NAME, source_name(index), public).entries
    new: list[manifest.Entry] = []
    for entry in old:
        changed = keep(entry)
        if changed is None:
            continue
        prev = new[-1].hash if new else manifest.GENESIS
        new.append(manifest.make_entry(
            signer, seq=len(new) + 1, source=changed.source, day=changed.day,
            file=changed.file, size=changed.size, sha256=changed.sha256, lines=changed.lines,
            tail=changed.tail, sealed_at=changed.sealed_at, prev=prev))
    (directory / MANIFEST_NAME).unlink()
    manifest.append_entries(directory / MANIFEST_NAME, new)
    if record_state:
        private = keys.load_private(policy.signing_key)
        state = manifest.read_state(policy.state_dir, private.public_key())
        heads = dict(state.heads)
        heads[source_name(index)] = manifest.Head(new[-1].seq, new[-1].hash, new[-1].day)
        manifest.write_state(policy.state_dir, private, heads, datetime.now(UTC).isoformat())


def resign_with_other_key(policy: Policy, index: int) -> None:
    rewrite_manifest(policy, index, Ed25519PrivateKey.generate(), lambda e: e,
                     record_state=False)


def make_gap(policy: Policy, index: int, days: list[date]) -> None:
    """The host was off for these days: no files, and the seal recorded them as empty."""
    directory = source_dir(policy, index)
    for day in days:
        (directory / f"{day}.log.gz").unlink()

    def keep(entry: manifest.Entry) -> manifest.Entry:
        if entry.day in days:
            return replace(entry, file=None, size=0, sha256="", lines=0, tail="")
        return entry

    rewrite_manifest(policy, index, keys.load_private(policy.signing_key), keep, True)


def never_sealed(policy: Policy, index: int, days: list[date]) -> None:
    """The seal job stopped for this source: these days are still plain text, unsealed."""
    directory = source_dir(policy, index)
    for day in days:
        packed = directory / f"{day}.log.gz"
        plain = directory / f"{day}.log"
        plain.write_bytes(gzip.decompress(packed.read_bytes()))
        shutil.copystat(packed, plain)
        os.chown(plain, 0, packed.stat().st_gid)
        packed.unlink()
    rewrite_manifest(policy, index, keys.load_private(policy.signing_key),
                     lambda e: None if e.day in days else e, True)


def keep_only(directory: Path, first_kept: date) -> None:
    for path in directory.glob("*.log.gz"):
        if date.fromisoformat(path.name[:10]) < first_kept:
            path.unlink()


@dataclass(frozen=True)
class Case:
    name: str
    source: int
    tamper: Callable[[Policy, Path, list[date]], None]
    kind: str
    day: Callable[[list[date]], date | None]
    extra: tuple[str, ...] = ()


def window_start(days: int) -> date:
    # The check's window: ``days`` days ending at the newest day due (6 h after its end).
    now = datetime.now(UTC).astimezone()
    return (now - timedelta(hours=6)).date() - timedelta(days=days)


CASES = [
    Case("byte flipped", 1, lambda p, d, s: flip_byte(d, s[60]), "modified", lambda s: s[60]),
    Case("line deleted", 2, lambda p, d, s: delete_line(d, s[61]), "lines-deleted",
         lambda s: s[61]),
    Case("file truncated", 3, lambda p, d, s: truncate(d, s[62]), "truncated", lambda s: s[62]),
    Case("day deleted", 4, lambda p, d, s: delete_day(d, s[63]), "deleted", lambda s: s[63]),
    Case("file inserted", 5, lambda p, d, s: insert_file(d, s[64]), "inserted", lambda s: s[64]),
    Case("two files swapped", 6, lambda p, d, s: swap(d, s[65], s[66]), "reordered",
         lambda s: s[65]),
    Case("manifest entry edited", 7, lambda p, d, s: edit_entry(d, s[67]), "manifest-edited",
         lambda s: s[67]),
    Case("manifest truncated", 8, lambda p, d, s: cut_manifest(d), "manifest-truncated",
         lambda s: s[-2]),
    Case("manifest rolled back", 9, lambda p, d, s: roll_back_manifest(d, 3),
         "manifest-rollback", lambda s: s[-1]),
    Case("manifest re-signed with another key", 10, lambda p, d, s: resign_with_other_key(p, 10),
         "foreign-key", lambda s: None),
    Case("only 89 days kept", 11, lambda p, d, s: keep_only(d, window_start(90) + timedelta(1)),
         "retention", lambda s: window_start(90), extra=("--days", "90")),
    Case("a gap in the middle", 12, lambda p, d, s: make_gap(p, 12, s[70:73]), "gap",
         lambda s: s[70]),
    Case("an old day never sealed", 13, lambda p, d, s: never_sealed(p, 13, s[-3:]),
         "unsealed", lambda s: s[-3]),
    Case("file renamed to an empty day", 14,
         lambda p, d, s: (make_gap(p, 14, [s[80]]), (d / f"{s[79]}.log.gz").rename(
             d / f"{s[80]}.log.gz")), "renamed", lambda s: s[79]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_tamper_is_found(cli: CliRunner, sealed: Policy, tmp_path: Path, case: Case) -> None:
    policy = copy_tree(sealed, tmp_path / "copy")
    directory = source_dir(policy, case.source)
    days = sealed_days(directory)
    case.tamper(policy, directory, days)
    code, data = check(cli, policy, *case.extra)
    assert code == 1
    by_source = {s["source"]: s for s in data["sources"]}
    target = by_source[source_name(case.source)]
    expected_day = case.day(days)
    found = [(p["kind"], p["day"]) for p in target["problems"]]
    assert (case.kind, expected_day.isoformat() if expected_day else None) in found, found
    assert not target["ok"]
    dirty = sorted(name for name, s in by_source.items()
                   if not s["ok"] and name != source_name(case.source))
    assert dirty == [], f"untouched sources reported: {dirty}"
    assert data["problems"] == []


def test_tamper_kinds_are_distinct() -> None:
    assert len({c.kind for c in CASES}) == len(CASES)
    assert len(CASES) >= 12


def test_the_text_output_names_source_day_and_kind(cli: CliRunner, sealed: Policy,
                                                   tmp_path: Path) -> None:
    policy = copy_tree(sealed, tmp_path / "copy")
    directory = source_dir(policy, 3)
    day = sealed_days(directory)[50]
    truncate(directory, day)
    result = cli("logs", "check", *policy_args(policy))
    assert result.code == 1
    assert f"PROBLEM {source_name(3)}" in result.stdout
    assert f"truncated {day.isoformat()}: {day.isoformat()}.log.gz: cut short" in result.stdout
