"""``dlict incident`` as an admin runs it: real ``dlict`` processes on one evidence store.

The lifecycle test walks a case from open to closed and back; the concurrency test runs two
``dlict`` processes at once against the same case and then checks that every write of each
is there, that task numbers never collide, and that the trail chains each owner change to
the one before (a lost update would break the chain).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE_INVENTORY

pytestmark = pytest.mark.integration

DLICT = Path(sys.executable).parent / "dlict"


def dlict(data: Path, *args: str, actor: str = "somchai") -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DLICT_ACTOR": actor, "DLICT_LANG": "en"}
    return subprocess.run([str(DLICT), "--data-dir", str(data), *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def ok(data: Path, *args: str, actor: str = "somchai") -> str:
    done = dlict(data, *args, actor=actor)
    assert done.returncode == 0, done.stderr
    return done.stdout


def shown(data: Path, case_id: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(ok(data, "incident", "show", case_id, "--json"))
    return result


def test_a_case_from_open_to_closed_and_back_with_every_change_trailed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    opened = json.loads(ok(data, "incident", "open", "--title", "เว็บโรงเรียนถูกแก้ไข",
                           "--category", "intrusions", "--threat-level", "serious",
                           "--personal-data", "--aware-at", "2026-12-01T08:00+07:00",
                           "--json"))
    case_id = opened["id"]
    assert case_id.startswith("INC-25") and opened["status"] == "new"
    ok(data, "incident", "update", case_id, "--owner", "dlict-head", "--status", "triage")
    ok(data, "incident", "task", case_id, "take the web server off the network")
    ok(data, "incident", "task", case_id, "--number", "1", "--state", "done")
    ok(data, "incident", "observable", case_id, "ip", "203.0.113.7")
    again = json.loads(ok(data, "incident", "observable", case_id, "ip", " 203.0.113.7 ",
                          "--json"))
    assert again["added"] is False
    ok(data, "incident", "note", case_id, "the school's director was told by phone",
       "--at", "2026-12-01T09:15")
    for status in ("contained", "eradicated", "recovered"):
        ok(data, "incident", "update", case_id, "--status", status)
    ok(data, "incident", "update", case_id, "--reported", "pdpc")
    ok(data, "incident", "close", case_id, "--note", "site restored from backup")
    assert json.loads(ok(data, "incident", "list", "--json")) == []
    ok(data, "incident", "reopen", case_id, "--note", "defaced again")
    case = shown(data, case_id)

    assert case["status"] == "triage" and case["owner"] == "dlict-head"
    assert [t["action"] for t in case["trail"]] == [
        "open", "update", "status", "task-add", "task-state", "observable", "note",
        "status", "status", "status", "reported", "status", "status"]
    statuses = [(t["before"]["status"], t["after"]["status"]) for t in case["trail"]
                if t["action"] == "status"]
    assert statuses == [("new", "triage"), ("triage", "contained"),
                        ("contained", "eradicated"), ("eradicated", "recovered"),
                        ("recovered", "closed"), ("closed", "triage")]
    assert all(t["who"].startswith("somchai (login ") for t in case["trail"])
    # the note keeps when it happened (Bangkok 09:15 = 02:15 UTC), not when it was typed
    noted = [e for e in case["timeline"] if e["kind"] == "note"]
    assert noted[0]["at"].startswith("2026-12-01T02:15:00")
    pdpc = next(d for d in case["deadlines"] if d["kind"] == "pdpc")
    assert pdpc["due_at"].startswith("2026-12-04T01:00:00") and pdpc["met_at"]
    assert [o["value"] for o in case["observables"]] == ["203.0.113.7"]


def test_two_processes_updating_one_case_lose_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    case_id = json.loads(ok(data, "incident", "open", "--title", "ransomware", "--json"))["id"]
    rounds = 4

    def worker(name: str) -> None:
        for i in range(rounds):
            ok(data, "incident", "note", case_id, f"{name} note {i}", actor=name)
            ok(data, "incident", "task", case_id, f"{name} task {i}", actor=name)
            ok(data, "incident", "update", case_id, "--owner", f"{name}-{i}", actor=name)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(worker, name) for name in ("anan", "benja")]:
            future.result()

    case = shown(data, case_id)
    notes = {e["text"] for e in case["timeline"] if e["kind"] == "note"}
    assert notes == {f"{n} note {i}" for n in ("anan", "benja") for i in range(rounds)}
    assert sorted(t["number"] for t in case["tasks"]) == list(range(1, 2 * rounds + 1))
    assert {t["title"] for t in case["tasks"]} == {f"{n} task {i}" for n in ("anan", "benja")
                                                   for i in range(rounds)}
    owners = [t for t in case["trail"] if t["action"] == "update"]
    assert len(owners) == 2 * rounds
    # each change starts from what the change before it left: no update was lost
    previous = ""
    for entry in owners:
        assert entry["before"]["owner"] == previous
        previous = entry["after"]["owner"]
    assert case["owner"] == previous
    assert len(case["trail"]) == 1 + 3 * 2 * rounds


def table_counts(store: Path) -> dict[str, int]:
    with sqlite3.connect(store) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'incident_%'")]
        return {n: conn.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}  # noqa: S608


@pytest.mark.parametrize(("args", "message"), [
    (("note", "INC-2569-0042", "hello"), "INC-2569-0042: no such case"),
    (("update", "{case}", "--status", "recovered"),
     "{case}: cannot move from new to recovered (allowed: closed, contained, false-positive, "
     "triage)"),
    (("update", "{case}", "--owner", "someone", "--status", "eradicated"),
     "{case}: cannot move from new to eradicated"),
    (("reopen", "{case}"), "{case}: cannot reopen: it is new, not closed"),
    (("update", "{case}", "--reported", "pdpc"),
     "{case}: no pdpc report is due: the case involves no personal data"),
    (("observable", "{case}", "mac", "aa:bb:cc:dd:ee"), "{case}: observable mac: not a MAC"),
    (("observable", "{case}", "colour", "red"), "KIND 'colour': not one of ip, domain"),
    (("update", "{case}", "--threat-level", "apocalyptic"),
     "--threat-level 'apocalyptic': not one of non-serious, serious, critical"),
    (("note", "{case}", "later", "--at", "2999-01-01T00:00"), "is in the future"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
        tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    data = tmp_path / "data"
    case_id = json.loads(ok(data, "incident", "open", "--title", "phishing", "--json"))["id"]
    before = table_counts(data / "evidence.sqlite")
    done = dlict(data, "incident", *(a.format(case=case_id) for a in args))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message.format(case=case_id) in done.stderr
    assert table_counts(data / "evidence.sqlite") == before


def test_with_an_inventory_sites_and_hosts_must_be_known_and_its_policy_sets_the_windows(
        tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(EXAMPLE_INVENTORY, inventory)
    with (inventory / "group_vars" / "all.yml").open("a", encoding="utf-8") as extra:
        extra.write("\ndlict_incidents:\n  report_hours:\n    ncsa: {critical: 0.5}\n")
    data = tmp_path / "data"
    refused = dlict(data, "-i", str(inventory), "incident", "open", "--title", "x",
                    "--host", "s4401010001-www")
    assert refused.returncode == 2
    assert refused.stderr == ("dlict: new case: unknown host 's4401010001-www' (not in the "
                              f"inventory {inventory})\n")
    case = json.loads(ok(data, "-i", str(inventory), "incident", "open", "--title", "x",
                         "--site", "4401010001", "--host", "s4401010001-srv",
                         "--threat-level", "critical", "--aware-at", "2026-12-01T00:00Z",
                         "--json"))
    assert case["hosts"] == ["s4401010001-srv"] and case["sites"] == ["4401010001"]
    assert [(d["kind"], d["due_at"]) for d in case["deadlines"]] == [
        ("ncsa", "2026-12-01T00:30:00.000000+00:00")]  # the agency has no critical window


def test_list_puts_the_report_due_soonest_first_in_bangkok_time_and_buddhist_era(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    late = ok(data, "incident", "open", "--title", "spam", "--aware-at", "2026-12-01T08:00")
    soon = ok(data, "incident", "open", "--title", "ransomware", "--threat-level", "critical",
              "--aware-at", "2025-12-31T23:30")  # Bangkok: the critical 1 h ends in 2569
    middle = ok(data, "incident", "open", "--title", "leak", "--threat-level", "serious",
                "--aware-at", "2026-12-02T08:00")
    ids = [line.split(":")[0] for line in (late, soon, middle)]
    listed = json.loads(ok(data, "incident", "list", "--json"))
    assert [c["id"] for c in listed] == [ids[1], ids[2], ids[0]]
    listed_after = [c["next_deadline"]["due_at"] for c in listed]
    assert listed_after == sorted(listed_after)
    env = os.environ | {"DLICT_LANG": "th", "COLUMNS": "200"}
    thai = subprocess.run([str(DLICT), "--data-dir", str(data), "incident", "list"],
                          capture_output=True, text=True, env=env, timeout=120, check=True)
    assert "1 มกราคม 2569 00:30:00 น." in thai.stdout  # 31 Dec 2568 23:30 + 1 h
    assert "เลยกำหนด" in thai.stdout and "วิกฤติ" in thai.stdout


WRITER = """
import random
import sys
import time
from pathlib import Path
from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook
from dlict.incidents.model import ObservableKind
store_path, case_id, name, rounds = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
with EvidenceStore.open(store_path) as store:
    book = CaseBook(store, actor=name)
    (store_path.parent / f"ready-{name}").touch()
    while not (store_path.parent / "go").exists():
        time.sleep(0.005)
    for i in range(rounds):
        book.update(case_id, owner=f"{name}-{i}")
        book.add_task(case_id, f"{name} task {i}")
        book.observe(case_id, ObservableKind.IP, f"10.{len(name)}.0.{i}")
        # a breath between rounds, as people and the intake take: SQLite's busy handler
        # sleeps, so a writer in a tight loop could take the lock back every time
        time.sleep(random.uniform(0, 0.02))
"""


def test_two_processes_writing_hundreds_of_changes_lose_nothing(tmp_path: Path) -> None:
    """The CLI test above mostly measures start-up; here two processes write 600 changes
    to one case through the case book, taking turns on the write lock (checked)."""
    data = tmp_path / "data"
    case_id = json.loads(ok(data, "incident", "open", "--title", "worm", "--json"))["id"]
    rounds = 100
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(data / "evidence.sqlite"),
                                 case_id, name, str(rounds)], stderr=subprocess.PIPE, text=True)
               for name in ("anan", "benjamas")]
    deadline = time.monotonic() + 120
    while not all((data / f"ready-{n}").exists() for n in ("anan", "benjamas")):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.01)
    (data / "go").touch()  # both are ready: they start writing together
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    case = shown(data, case_id)
    assert sorted(t["number"] for t in case["tasks"]) == list(range(1, 2 * rounds + 1))
    assert len(case["observables"]) == 2 * rounds
    updates = [t for t in case["trail"] if t["action"] == "update"]
    assert len(updates) == 2 * rounds
    previous = ""
    interleaved = 0
    for entry in updates:
        assert entry["before"]["owner"] == previous
        interleaved += previous.split("-")[0] != entry["after"]["owner"].split("-")[0]
        previous = entry["after"]["owner"]
    assert interleaved > 20, "the two writers hardly took turns: nothing was tested"
    assert len(case["trail"]) == 1 + 3 * 2 * rounds
