"""``dlict incident logs``: an excerpt of a sealed log tree with its proof. From a sealed day
the excerpt verifies (and again on its own, from the bundle alone); one byte changed in that
day's file, a day never sealed or a manifest re-signed with another key makes it unverified,
saying why. Bad input is one line, exit 2, nothing written; a costly --grep is refused."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dlict.core.errors import InputError
from dlict.incidents import excerpt
from dlict.logs import keys, manifest
from tests.security.evidence_support import dlict, open_case, snapshot, timeline_kinds
from tests.security.sealer_trees import Tree, copy_tree, seal, unsealed_tree

DAY_BACK = 2  # the day before yesterday: closed and sealed whatever the hour


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    tree = unsealed_tree(tmp_path_factory.mktemp("sealed"), lines=40)
    assert seal(tree).code == 0
    return tree


@pytest.fixture
def tree(original: Tree, tmp_path: Path) -> Tree:
    return copy_tree(original, tmp_path / "copy")


def local_day(tree: Tree, back: int) -> tuple[str, str]:
    """The whole of a day in the tree's (this machine's) zone, as --from/--to."""
    day = datetime.fromisoformat(tree.day(back)).astimezone()
    start = day.replace(hour=0, minute=0, second=0)
    return start.isoformat(), (start + timedelta(days=1, seconds=-1)).isoformat()


def host(tree: Tree) -> str:
    return tree.name(0).split("/")[1]


def logs(tree: Tree, case_id: str, start: str, end: str, *extra: str) -> tuple[int, dict[str, Any]]:
    run = dlict(tree.base / "data", "--json", "incident", "logs", case_id, "--host",
                host(tree), "--from", start, "--to", end, "--policy", str(tree.policy_file),
                *extra)
    assert run.code in (0, 1), run.output
    return run.code, json.loads(run.stdout)


def bundle_lines(bundle: Path) -> list[str]:
    return [r["text"] for r in map(json.loads, bundle.read_text().splitlines())
            if r["type"] == "line"]


def day_text(tree: Tree, back: int) -> list[str]:
    return gzip.decompress(tree.day_file(0, back, ".log.gz").read_bytes()).decode().splitlines()


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_an_excerpt_of_a_sealed_day_verifies_and_verifies_on_its_own(tree: Tree) -> None:
    data = tree.base / "data"
    case_id = open_case(data)
    start, end = local_day(tree, DAY_BACK)
    bundle = tree.base / "excerpt.jsonl"
    code, report = logs(tree, case_id, start, end, "-o", str(bundle))
    assert code == 0, report
    assert report["verified"] is True and report["reasons"] == []
    assert [(d["day"], d["file"], d["verified"]) for d in report["days"]] == [
        (tree.day(DAY_BACK), f"{tree.day(DAY_BACK)}.log.gz", True)]
    # Every line of that day, exactly as the log server kept it.
    assert bundle_lines(bundle) == day_text(tree, DAY_BACK)
    assert report["lines"] == 40
    # The bundle proves itself: the sealed entry, its signature under the seal key, the
    # re-hash of the day file.
    public = keys.load_public(keys.public_path(tree.key))
    checked = excerpt.check_bundle(bundle, public)
    assert checked.verified and checked.problems == [] and checked.lines == 40
    assert checked.key == keys.key_id(public)
    assert excerpt.check_bundle(bundle).verified  # with the key the bundle carries
    day = next(r for r in map(json.loads, bundle.read_text().splitlines())
               if r["type"] == "day")
    sealed = manifest.read_manifest(tree.source(0) / "manifest.dlict.jsonl", tree.name(0),
                                    public).entries
    assert day["entry"] == json.loads(next(e for e in sealed
                                           if e.day.isoformat() == tree.day(DAY_BACK)).line())
    # It is the case's evidence too: copied, hashed, signed, on the timeline; 0640.
    item = report["evidence"]
    assert item["stored"] == "copy" and item["name"].startswith("excerpt-")
    assert (data / item["location"]).read_bytes() == bundle.read_bytes()
    assert (data / item["location"]).stat().st_mode & 0o777 == 0o640
    assert bundle.stat().st_mode & 0o777 == 0o640
    assert "evidence" in timeline_kinds(data, case_id)
    assert dlict(data, "incident", "evidence", "verify", case_id).code == 0


def test_the_window_and_grep_select_the_lines(tree: Tree) -> None:
    case_id = open_case(tree.base / "data")
    start, _end = local_day(tree, DAY_BACK)
    noon = datetime.fromisoformat(start) + timedelta(hours=12)
    bundle = tree.base / "excerpt.jsonl"
    code, report = logs(tree, case_id, start, noon.isoformat(), "--grep", r"sshd\[\d+\]",
                        "-o", str(bundle))
    assert code == 0, report
    expected = [line for line in day_text(tree, DAY_BACK)
                if datetime.fromisoformat(line.split(" ", 1)[0]) <= noon and "sshd[" in line]
    assert expected and bundle_lines(bundle) == expected


def test_one_byte_changed_in_the_day_makes_the_excerpt_unverified(tree: Tree) -> None:
    case_id = open_case(tree.base / "data")
    flip_one_byte(tree.day_file(0, DAY_BACK, ".log.gz"))
    start, end = local_day(tree, DAY_BACK)
    bundle = tree.base / "excerpt.jsonl"
    code, report = logs(tree, case_id, start, end, "-o", str(bundle))
    assert code == 1
    assert report["verified"] is False
    reason = report["reasons"][0]
    assert reason.startswith(f"{tree.day(DAY_BACK)}: {tree.day(DAY_BACK)}.log.gz does not "
                             f"match its sealed entry: now "), reason
    checked = excerpt.check_bundle(bundle, keys.load_public(keys.public_path(tree.key)))
    assert not checked.verified
    assert any("does not match its sealed entry" in p for p in checked.problems)
    text = dlict(tree.base / "data", "incident", "logs", case_id, "--host", host(tree),
                 "--from", start, "--to", end, "--policy", str(tree.policy_file))
    assert text.code == 1
    assert text.stdout.startswith(f"UNVERIFIED {tree.name(0)} ")
    assert f"  unverified {tree.day(DAY_BACK)}: {tree.day(DAY_BACK)}.log.gz does not match" \
        in text.stdout


def test_a_day_never_sealed_is_unverified(tree: Tree) -> None:
    case_id = open_case(tree.base / "data")
    start, end = local_day(tree, 0)  # today: still open, never sealed
    code, report = logs(tree, case_id, start, end)
    assert code == 1
    assert report["reasons"] == [f"{tree.day(0)}: {tree.day(0)}.log is not sealed: the "
                                 f"manifest has no entry for that day"]
    assert report["lines"] == 40  # shown all the same, marked unverified


def test_a_manifest_resigned_with_another_key_proves_no_day(tree: Tree) -> None:
    case_id = open_case(tree.base / "data")
    path = tree.source(0) / "manifest.dlict.jsonl"
    public = keys.load_public(keys.public_path(tree.key))
    entries = manifest.read_manifest(path, tree.name(0), public).entries
    other = Ed25519PrivateKey.generate()
    forged: list[manifest.Entry] = []
    for entry in entries:
        forged.append(manifest.make_entry(
            other, seq=entry.seq, source=entry.source, day=entry.day, file=entry.file,
            size=entry.size, sha256=entry.sha256, lines=entry.lines, tail=entry.tail,
            sealed_at=entry.sealed_at, prev=forged[-1].hash if forged else manifest.GENESIS))
    path.write_bytes(b"".join(e.line() for e in forged))
    start, end = local_day(tree, DAY_BACK)
    code, report = logs(tree, case_id, start, end)
    assert code == 1
    assert report["reasons"] == [
        f"{tree.day(DAY_BACK)}: the manifest does not verify (foreign-key: signed with another "
        f"key ({keys.key_id(other.public_key())}; trusted: {keys.key_id(public)})); "
        f"{tree.day(DAY_BACK)}.log.gz is not sealed: the manifest has no entry for that day"]


def test_a_forged_bundle_does_not_verify_on_its_own(tree: Tree) -> None:
    case_id = open_case(tree.base / "data")
    start, end = local_day(tree, DAY_BACK)
    bundle = tree.base / "excerpt.jsonl"
    assert logs(tree, case_id, start, end, "-o", str(bundle))[0] == 0
    public = keys.load_public(keys.public_path(tree.key))
    records = [json.loads(line) for line in bundle.read_text().splitlines()]
    day = next(r for r in records if r["type"] == "day")
    day["entry"]["sha256"] = "0" * 64  # claim another file was sealed
    bundle.write_text("".join(json.dumps(r) + "\n" for r in records))
    checked = excerpt.check_bundle(bundle, public)
    assert not checked.verified
    assert checked.problems[0] == f"{tree.day(DAY_BACK)}: the manifest entry does not match " \
                                  f"its signature under the seal key"
    # A bundle signed by someone else's key does not pass against the office's key.
    other = Ed25519PrivateKey.generate().public_key()
    day["entry"]["sha256"] = next(r for r in map(json.loads, (tree.base / "excerpt.jsonl")
                                                 .read_text().splitlines())
                                  if r["type"] == "day")["read"]["sha256"]
    assert not excerpt.check_bundle(bundle, other).verified


@pytest.mark.parametrize(("args", "message"), [
    (("--host", "nosuchhost"), "--host 'nosuchhost': no such host in the log tree"),
    (("--from", "yesterday"), "--from 'yesterday': not a time"),
    (("--to", "2020-01-01T00:00"), "is before --from"),
    (("--to", "2030-01-01T00:00"), "days; at most 31 per excerpt"),
    (("--grep", "(a+)+$"), "a repeat inside a repeat; refused"),
    (("--grep", "(x|xy)*z"), "an alternation under a repeat; refused"),
    (("--grep", r"(\w)\1"), "a back-reference; refused"),
    (("--grep", "a" * 201), "at most 200"),
    (("--grep", "(unclosed"), "not a regular expression"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tree: Tree, args: tuple[str, ...],
                                                      message: str) -> None:
    data = tree.base / "data"
    case_id = open_case(data)
    start, end = local_day(tree, DAY_BACK)
    options = {"--host": host(tree), "--from": start, "--to": end}
    extra = []
    for name, value in zip(args[::2], args[1::2], strict=True):
        if name in options:
            options[name] = value
        else:
            extra += [name, value]
    before = snapshot(data)
    started = time.monotonic()
    run = dlict(data, "incident", "logs", case_id, *[x for kv in options.items() for x in kv],
                "--policy", str(tree.policy_file), *extra)
    assert run.code == 2, run.output
    assert message in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.stdout == ""
    assert snapshot(data) == before
    assert time.monotonic() - started < 30


def test_an_unknown_case_writes_nothing(tree: Tree) -> None:
    data = tree.base / "data"
    open_case(data)
    start, end = local_day(tree, DAY_BACK)
    before = snapshot(data)
    run = dlict(data, "incident", "logs", "INC-2569-0999", "--host", host(tree), "--from",
                start, "--to", end, "--policy", str(tree.policy_file))
    assert run.code == 2
    assert run.stderr.strip() == "dlict: INC-2569-0999: no such case (dlict incident list " \
                                 "shows the open ones)"
    assert snapshot(data) == before


def test_a_pattern_allowed_but_slow_on_a_line_is_stopped_in_bounded_time() -> None:
    """No nested repeat, yet cubic on a long line of one letter: the time cap stops it."""
    grep = excerpt._Grep(excerpt.compile_grep(".*a.*a.*b"))
    started = time.monotonic()
    with pytest.raises(InputError, match=r"took more than 0\.5 s to match"):
        grep.keeps("a" * 100_000)
    assert time.monotonic() - started < 5
    assert grep.keeps("x a y a b")


# --- the excerpt tamper matrix (as the log check's): each change of the day makes the
# excerpt unverified, saying why ------------------------------------------------------------


def delete_a_line(path: Path) -> None:
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    del lines[len(lines) // 2]
    path.write_bytes(gzip.compress(b"".join(lines), mtime=0))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def replace_with_plain_text(path: Path) -> None:
    """The sealed .gz swapped for a plain .log holding a forged line."""
    path.unlink()
    path.with_suffix("").write_text(f"{path.name[:10]}T10:00:00+00:00 forged sshd[1]: "
                                    f"Accepted password for nobody from 10.9.9.9\n")


TAMPERS = [
    (flip_one_byte, "does not match its sealed entry"),
    (delete_a_line, "does not match its sealed entry"),
    (truncate, "does not match its sealed entry"),
    (Path.unlink, ".log.gz is gone"),
    (replace_with_plain_text, ".log.gz is gone"),
]


@pytest.mark.parametrize(("tamper", "why"), TAMPERS, ids=lambda t: getattr(t, "__name__", ""))
def test_a_changed_day_is_unverified_and_says_why(tree: Tree, tamper: Callable[[Path], None],
                                                  why: str) -> None:
    case_id = open_case(tree.base / "data")
    tamper(tree.day_file(0, DAY_BACK, ".log.gz"))
    start, end = local_day(tree, DAY_BACK)
    bundle = tree.base / "excerpt.jsonl"
    code, report = logs(tree, case_id, start, end, "-o", str(bundle))
    assert code == 1
    assert report["verified"] is False and len(report["reasons"]) == 1
    assert report["reasons"][0].startswith(f"{tree.day(DAY_BACK)}: "), report["reasons"]
    assert why in report["reasons"][0], report["reasons"]
    checked = dlict(tree.base / "data", "incident", "evidence", "check-excerpt", str(bundle),
                    "--key", str(keys.public_path(tree.key)))
    assert checked.code == 1
    assert checked.stdout.startswith(f"UNVERIFIED {bundle}: ")
    assert why in checked.stdout


def test_check_excerpt_verifies_an_untouched_bundle_with_the_office_key(tree: Tree) -> None:
    case_id = open_case(tree.base / "data")
    start, end = local_day(tree, DAY_BACK)
    bundle = tree.base / "excerpt.jsonl"
    assert logs(tree, case_id, start, end, "-o", str(bundle))[0] == 0
    checked = dlict(tree.base / "data", "incident", "evidence", "check-excerpt", str(bundle),
                    "--key", str(keys.public_path(tree.key)))
    public = keys.load_public(keys.public_path(tree.key))
    assert checked.code == 0, checked.output
    assert checked.stdout == f"VERIFIED {bundle}: 40 line(s); seal key {keys.key_id(public)}\n"


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 100_000 + "]" * 100_000 + "\n", "a line is not JSON"),
    ('{"type": "line"}\n', "not a dlict log excerpt"),
    ("x" * (5 << 20), "(the cap per line)"),
    ('{"type": "header", "format": "dlict-log-excerpt/1", "public_key": "nope"}\n',
     "the header's public key is not a PEM key"),
])
def test_a_hostile_bundle_is_one_line_exit_2(tmp_path: Path, text: str, message: str) -> None:
    bundle = tmp_path / "bundle.jsonl"
    bundle.write_text(text)
    run = dlict(tmp_path / "data", "incident", "evidence", "check-excerpt", str(bundle))
    assert run.code == 2, run.output
    assert run.stderr.startswith(f"dlict: {bundle}: ") and message in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
