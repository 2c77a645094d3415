"""dlict.runs on a real evidence store in a temporary directory: what it stores is what the
record says, and status, failed hosts and exit code follow the project's codes (0 all pass,
1 findings, 3 operational error; not applicable is neither)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlict.core.errors import ExitCode
from dlict.core.results import Result, Status
from dlict.core.runner_dir import Terminated
from dlict.core.store import EvidenceStore, RunStatus
from dlict.runs import judge, record_run, recording, resuming


def _result(host: str, status: Status, control: str = "FW-01") -> Result:
    return Result(site="s1", host=host, control=control, status=status, evidence=status.value)


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore.open(tmp_path / "data" / "evidence.sqlite")


@pytest.mark.parametrize(("statuses", "status", "code", "failed"), [
    ([Status.PASS, Status.PASS], RunStatus.OK, ExitCode.OK, ()),
    ([Status.PASS, Status.SKIPPED], RunStatus.OK, ExitCode.OK, ()),
    ([Status.SKIPPED], RunStatus.OK, ExitCode.OK, ()),
    ([], RunStatus.OK, ExitCode.OK, ()),
    ([Status.PASS, Status.FAIL, Status.SKIPPED], RunStatus.FINDINGS, ExitCode.FINDINGS, ("h1",)),
    ([Status.FAIL, Status.ERROR], RunStatus.ERROR, ExitCode.OPERATIONAL, ("h0", "h1")),
    ([Status.PASS, Status.UNREACHABLE], RunStatus.ERROR, ExitCode.OPERATIONAL, ("h1",)),
], ids=["all-pass", "pass-and-n/a", "only-n/a", "nothing", "finding", "error", "unreachable"])
def test_a_recorded_run_knows_its_status_failed_hosts_and_exit_code(
        store: EvidenceStore, statuses: list[Status], status: RunStatus, code: ExitCode,
        failed: tuple[str, ...]) -> None:
    results = [_result(f"h{i}", s) for i, s in enumerate(statuses)]
    record = record_run(store, "audit", results, command="dlict audit", inventory="/inv")
    assert record.status is status
    assert record.exit_code is code
    assert record.failed_hosts == failed
    stored = store.run(record.id)
    assert (stored.kind, stored.command, stored.inventory) == ("audit", "dlict audit", "/inv")
    assert stored.status is status and stored.finished_at is not None
    assert store.results(record.id) == results


def test_a_host_failing_several_controls_is_named_once(store: EvidenceStore) -> None:
    results = [_result("gw", Status.FAIL, "FW-01"), _result("srv", Status.SKIPPED, "LOG-02"),
               _result("gw", Status.FAIL, "FW-02"), _result("pc", Status.PASS)]
    assert record_run(store, "netdev-audit", results).failed_hosts == ("gw",)


def test_a_run_that_itself_failed_is_an_error_whatever_its_results(
        store: EvidenceStore) -> None:
    record = record_run(store, "apply", [_result("h", Status.PASS)], failed=True)
    assert record.status is RunStatus.ERROR and record.exit_code is ExitCode.OPERATIONAL
    assert judge([_result("h", Status.PASS)]) is RunStatus.OK


def test_a_run_is_visible_while_it_works_and_an_exception_leaves_it_error(
        store: EvidenceStore) -> None:
    with pytest.raises(RuntimeError), recording(store, "facts", command="dlict facts") as rec:
        assert store.run(rec.id).status is RunStatus.RUNNING
        raise RuntimeError("the playbook blew up")
    run = store.run(rec.id)
    assert run.status is RunStatus.ERROR and run.finished_at is not None
    assert store.results(rec.id) == []


def test_kept_results_are_stored_at_once_and_not_twice(store: EvidenceStore) -> None:
    with recording(store, "audit") as recorder:
        first = [_result("a", Status.PASS, "FW-01"), _result("b", Status.FAIL, "FW-01")]
        recorder.keep(first)
        assert len(store.results(recorder.id)) == 2  # stored before the run ends
        record = recorder.finish([*first, _result("a", Status.PASS, "AV-01")])
    stored = store.results(record.id)
    assert sorted((r.host, r.control) for r in stored) == [
        ("a", "AV-01"), ("a", "FW-01"), ("b", "FW-01")]
    assert record.status is RunStatus.FINDINGS  # judged over everything, kept included
    assert len(record.results) == 3


@pytest.mark.parametrize("stop", [KeyboardInterrupt, Terminated])
def test_a_stopped_run_keeps_its_results_and_is_marked_interrupted(
        store: EvidenceStore, stop: type[BaseException]) -> None:
    with pytest.raises(stop), recording(store, "audit") as recorder:
        recorder.set_plan({"areas": ["firewall"], "limit": None})
        recorder.keep([_result("a", Status.PASS)])
        raise stop()
    assert store.run(recorder.id).status is RunStatus.ERROR
    assert store.interrupted(recorder.id)
    assert [r.host for r in store.results(recorder.id)] == ["a"]

    with resuming(store, recorder.id, "audit") as again:
        assert store.run(recorder.id).status is RunStatus.RUNNING
        assert not store.interrupted(recorder.id)
        record = again.finish([_result("a", Status.PASS), _result("b", Status.PASS)])
    assert record.id == recorder.id and record.status is RunStatus.OK
    assert sorted(r.host for r in store.results(record.id)) == ["a", "b"]


def test_an_exception_that_is_no_stop_is_not_an_interruption(store: EvidenceStore) -> None:
    with pytest.raises(ValueError), recording(store, "audit") as recorder:
        recorder.set_plan({"areas": ["firewall"], "limit": None})
        raise ValueError("boom")
    assert store.run(recorder.id).status is RunStatus.ERROR
    assert not store.interrupted(recorder.id)


def test_results_sharing_a_key_in_one_batch_are_all_stored(store: EvidenceStore) -> None:
    # a producer may report several results under one (site, host, control, target)
    same = [_result("a", Status.PASS, "LINK"), _result("a", Status.FAIL, "LINK")]
    record = record_run(store, "monitor-once", same)
    assert len(store.results(record.id)) == 2 and len(record.results) == 2
