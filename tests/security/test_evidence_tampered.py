"""The evidence tamper matrix: each case works on its own copy of one data directory holding a
case with three items (two copies, one reference), changes it the way an intruder (or a
careless hand) would, and expects ``dlict incident evidence verify`` to exit 1 naming the kind
of problem and the item — and never a crash or a hang. The untouched copy verifies clean."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dlict.core import chain
from dlict.incidents import evidence
from dlict.logs import keys
from tests.security.evidence_support import dlict, open_case, snapshot, timeline_kinds

MANIFEST = "manifest.dlict.jsonl"


@dataclass(frozen=True)
class Kept:
    """A data directory with one case and its evidence, and where each piece is."""

    base: Path
    data: Path
    case_id: str
    reference: Path

    @property
    def folder(self) -> Path:
        return self.data / "evidence" / self.case_id

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST

    def records(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.manifest.read_text().splitlines()]

    def copy_of(self, seq: int) -> Path:
        return self.folder / str(self.records()[seq - 1]["sha256"])


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Kept:
    base = tmp_path_factory.mktemp("evidence")
    data = base / "data"
    case_id = open_case(data)
    files = base / "from-the-server"
    files.mkdir()
    (files / "access.log").write_bytes(b"203.0.113.7 - - GET /wp-login.php 200\n" * 50)
    (files / "index.html").write_text("<h1>hacked by nobody</h1>\n")
    (files / "disk.img").write_bytes(os.urandom(3 << 20))
    added = dlict(data, "incident", "evidence", "add", case_id, str(files / "access.log"),
                  str(files / "index.html"), "--note", "copied from the web server")
    assert added.code == 0, added.output
    referenced = dlict(data, "incident", "evidence", "add", case_id, str(files / "disk.img"),
                       "--reference")
    assert referenced.code == 0, referenced.output
    return Kept(base, data, case_id, files / "disk.img")


@pytest.fixture
def kept(original: Kept, tmp_path: Path) -> Kept:
    base = tmp_path / "copy"
    shutil.copytree(original.base, base, symlinks=True)
    return Kept(base, base / "data", original.case_id, base / "from-the-server" / "disk.img")


def verify(kept: Kept) -> tuple[int, dict[str, object]]:
    run = dlict(kept.data, "--json", "incident", "evidence", "verify", kept.case_id)
    assert run.code in (0, 1), run.output
    return run.code, json.loads(run.stdout)


def rewrite_records(kept: Kept, signer: Ed25519PrivateKey,
                    change: Callable[[list[evidence.Record]], list[evidence.Record]]) -> None:
    """Rebuild the manifest from its records (``change`` may edit or drop them), chained and
    signed by ``signer``: what someone holding that key would write."""
    records = [evidence.parse_record(line) for line in kept.manifest.read_bytes().splitlines()]
    new: list[evidence.Record] = []
    for record in change([r for r in records if r is not None]):
        prev = new[-1].hash if new else chain.GENESIS
        unsigned = evidence.Record(**{**record.__dict__, "seq": len(new) + 1, "prev": prev,
                                      "key": chain.key_id(signer.public_key()), "sig": ""})
        new.append(evidence.Record(**{**unsigned.__dict__,
                                      "sig": chain.sign(signer, unsigned.body())}))
    kept.manifest.write_bytes(b"".join(r.line() for r in new))


def edit_line(kept: Kept, index: int, **changes: object) -> None:
    lines = kept.manifest.read_text().splitlines()
    data = json.loads(lines[index])
    data.update(changes)
    lines[index] = json.dumps(data, sort_keys=True, separators=(",", ":"))
    kept.manifest.write_text("\n".join(lines) + "\n")


def copy_changed(kept: Kept) -> None:
    path = kept.copy_of(1)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def copy_deleted(kept: Kept) -> None:
    kept.copy_of(2).unlink()


def copy_is_a_fifo(kept: Kept) -> None:
    path = kept.copy_of(2)
    path.unlink()
    os.mkfifo(path, 0o640)


def copy_is_a_symlink_to_dev_zero(kept: Kept) -> None:
    path = kept.copy_of(2)
    path.unlink()
    path.symlink_to("/dev/zero")


def record_edited(kept: Kept) -> None:
    edit_line(kept, 0, name="harmless.log")


def record_deleted(kept: Kept) -> None:
    lines = kept.manifest.read_bytes().splitlines(keepends=True)
    kept.manifest.write_bytes(lines[0] + lines[2])


def manifest_cut_back(kept: Kept) -> None:
    lines = kept.manifest.read_bytes().splitlines(keepends=True)
    kept.manifest.write_bytes(b"".join(lines[:-1]))


def manifest_torn(kept: Kept) -> None:
    os.truncate(kept.manifest, kept.manifest.stat().st_size - 20)


def resigned_with_another_key(kept: Kept) -> None:
    rewrite_records(kept, Ed25519PrivateKey.generate(), lambda records: records)


def resigned_and_the_key_replaced(kept: Kept) -> None:
    """The intruder also puts their own key where the office key was: the signed head of
    the state (the office key's) no longer verifies under it."""
    other = Ed25519PrivateKey.generate()
    rewrite_records(kept, other, lambda records: [
        evidence.Record(**{**r.__dict__, "sha256": "0" * 64}) if r.seq == 1 else r
        for r in records])
    key = evidence.key_path(kept.data)
    key.unlink()
    Path(f"{key}.pub").unlink()
    key.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    Path(f"{key}.pub").write_bytes(other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def record_from_another_case(kept: Kept) -> None:
    """A record of another case, signed with the office key, put into this manifest."""
    private = keys.load_private(evidence.key_path(kept.data))
    rewrite_records(kept, private, lambda records: [
        evidence.Record(**{**r.__dict__, "case": "INC-2569-9999"}) if r.seq == 2 else r
        for r in records])


@dataclass(frozen=True)
class Case:
    name: str
    tamper: Callable[[Kept], None]
    kind: str
    item: int | None


CASES = [
    Case("copy changed after add", copy_changed, "modified", 1),
    Case("copy deleted", copy_deleted, "missing", 2),
    Case("copy replaced by a FIFO", copy_is_a_fifo, "not-regular", 2),
    Case("copy replaced by a symlink to /dev/zero", copy_is_a_symlink_to_dev_zero,
         "not-regular", 2),
    Case("record edited", record_edited, "manifest-edited", 1),
    Case("record deleted", record_deleted, "chain-broken", 3),
    Case("manifest cut back to an earlier prefix", manifest_cut_back, "manifest-rollback", 3),
    Case("manifest torn mid-record", manifest_torn, "manifest-truncated", None),
    Case("manifest re-signed with another key", resigned_with_another_key, "foreign-key", None),
    Case("manifest re-signed and the office key replaced", resigned_and_the_key_replaced,
         "state", None),
    Case("record of another case", record_from_another_case, "manifest-moved", 2),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_tampering_with_evidence_is_found(kept: Kept, case: Case) -> None:
    case.tamper(kept)
    code, report = verify(kept)
    assert code == 1, report
    found = [(p["kind"], p["seq"]) for p in report["problems"]]  # type: ignore[attr-defined]
    assert (case.kind, case.item) in found, found
    assert report["ok"] is False


def test_the_untouched_copy_verifies(kept: Kept) -> None:
    """The control: the same data directory without the change verifies, 3 items."""
    code, report = verify(kept)
    assert code == 0, report
    assert report == {"case": kept.case_id, "ok": True, "items": 3, "problems": []}
    text = dlict(kept.data, "incident", "evidence", "verify", kept.case_id)
    assert text.stdout == f"{kept.case_id}: 3 evidence item(s) verified, nothing changed\n"


def test_tamper_kinds_cover_the_manifest_and_the_items() -> None:
    assert {c.kind for c in CASES} >= {"modified", "missing", "not-regular", "manifest-edited",
                                       "chain-broken", "manifest-rollback", "foreign-key",
                                       "manifest-truncated", "manifest-moved", "state"}


def test_the_text_output_names_case_item_and_kind(kept: Kept) -> None:
    copy_changed(kept)
    run = dlict(kept.data, "incident", "evidence", "verify", kept.case_id)
    assert run.code == 1
    assert run.stdout.startswith(f"PROBLEM {kept.case_id} item 1 modified: access.log (copy "), \
        run.stdout


def test_nothing_is_added_on_top_of_a_tampered_manifest(kept: Kept) -> None:
    record_edited(kept)
    before = snapshot(kept.data / "evidence")
    run = dlict(kept.data, "incident", "evidence", "add", kept.case_id,
                str(kept.base / "from-the-server" / "index.html"))
    assert run.code == 3, run.output
    assert "the evidence manifest does not verify (manifest-edited:" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert snapshot(kept.data / "evidence") == before


def test_copies_are_named_by_hash_0640_in_0750_folders_and_the_add_is_on_the_timeline(
        kept: Kept) -> None:
    records = kept.records()
    assert [r["stored"] for r in records] == ["copy", "copy", "reference"]
    for record in records[:2]:
        path = kept.folder / str(record["sha256"])
        assert path.stat().st_mode & 0o777 == 0o640
    for folder in (kept.folder, kept.folder.parent, evidence.key_path(kept.data).parent):
        assert folder.stat().st_mode & 0o777 == 0o750
    assert evidence.key_path(kept.data).stat().st_mode & 0o777 == 0o600
    # The key is outside every case folder; each record names it.
    assert not evidence.key_path(kept.data).is_relative_to(kept.folder.parent)
    key_ids = {r["key"] for r in records}
    assert len(key_ids) == 1 and len(next(iter(key_ids))) == 16  # type: ignore[arg-type]
    # The reference is left where it was (no copy of it), its hash recorded.
    assert str(records[2]["location"]).endswith("/from-the-server/disk.img")
    assert not (kept.folder / str(records[2]["sha256"])).exists()
    assert timeline_kinds(kept.data, kept.case_id).count("evidence") == 2
    shown = dlict(kept.data, "--json", "incident", "evidence", "list", kept.case_id)
    assert [i["name"] for i in json.loads(shown.stdout)] == ["access.log", "index.html",
                                                              "disk.img"]
    assert json.loads(shown.stdout)[0]["added_by"] == "somchai (login root)"


def test_a_referenced_file_changed_after_add_is_found(tmp_path: Path) -> None:
    """A large file added with --reference stays in place; verify hashes it there again."""
    data = tmp_path / "data"
    case_id = open_case(data)
    image = tmp_path / "disk.img"
    image.write_bytes(os.urandom(5 << 20))
    added = dlict(data, "--json", "incident", "evidence", "add", case_id, str(image),
                  "--reference")
    assert added.code == 0, added.output
    assert json.loads(added.stdout)[0]["location"] == str(image)
    assert dlict(data, "incident", "evidence", "verify", case_id).code == 0
    with image.open("r+b") as stream:
        stream.seek(3 << 20)
        byte = stream.read(1)
        stream.seek(3 << 20)
        stream.write(bytes([byte[0] ^ 1]))
    run = dlict(data, "incident", "evidence", "verify", case_id)
    assert run.code == 1
    assert run.stdout.startswith(f"PROBLEM {case_id} item 1 modified: disk.img (reference "
                                 f"{image}): now {5 << 20} bytes sha256 "), run.stdout
