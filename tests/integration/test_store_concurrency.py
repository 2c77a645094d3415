"""Two processes writing to the evidence store at once lose no row and corrupt nothing."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from dlict.core.results import Result, Status
from dlict.core.store import EvidenceStore, RunStatus

pytestmark = pytest.mark.integration

BATCHES = 150
PER_BATCH = 20


def _writer(path: str, name: str, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    with EvidenceStore.open(Path(path)) as store:
        run_id = store.start_run("audit", f"writer {name}")
        for batch in range(BATCHES):
            store.add_results(run_id, [
                Result(site="4401010001", host=f"{name}-{batch}", control=f"FW-{i:02d}",
                       status=Status.PASS, evidence=f"{name} batch {batch} row {i}")
                for i in range(PER_BATCH)
            ])
        store.finish_run(run_id, RunStatus.OK)


def test_two_writers_at_once(tmp_path: Path) -> None:
    path = tmp_path / "evidence.sqlite"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(path), name, start)) for name in ("a", "b")]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    with EvidenceStore.open(path) as store:
        assert store.integrity_ok()
        assert store.count_results() == 2 * BATCHES * PER_BATCH
        runs = store.runs()
        assert len(runs) == 2 and all(r.status is RunStatus.OK for r in runs)
        for run in runs:
            rows = store.results(run.id)
            assert len(rows) == BATCHES * PER_BATCH
            assert len({r.evidence for r in rows}) == BATCHES * PER_BATCH
