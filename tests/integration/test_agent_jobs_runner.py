"""The agent's job runner: every run in a forked child, cut at its deadline with whatever it
started, its records back over a bounded pipe; a job that raises, floods or writes for
another site is one error result naming it. Real processes, real pipes, no mocks."""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.runner import MAX_OUTPUT_BYTES, JobRun, job_target, run_job
from dlict.agent.records import Kind, Record, result_of, sample_record
from dlict.core.results import Status

CONTEXT = JobContext("4401010001", "school-srv", datetime(2026, 12, 3, 2, 0, tzinfo=UTC))


class Quick:
    name, interval_s, deadline_s = "quick", 60.0, 10.0

    def run(self, context: JobContext) -> Sequence[Record]:
        return [sample_record(context.site, context.host, "dlict_link_up", {}, 1.0)]


class Sleeper:
    """Starts a program that would outlive it, then hangs."""

    name, interval_s, deadline_s = "sleeper", 60.0, 1.0

    def __init__(self, pid_file: Path) -> None:
        self.pid_file = pid_file

    def run(self, context: JobContext) -> Sequence[Record]:
        child = subprocess.Popen(["sleep", "300"])
        self.pid_file.write_text(str(child.pid))
        time.sleep(300)
        return []


class Raiser:
    name, interval_s, deadline_s = "raiser", 60.0, 10.0

    def run(self, context: JobContext) -> Sequence[Record]:
        raise RuntimeError("the tuner vanished")


class Flood:
    """About 12 MB of random evidence: too much to send back even compressed."""

    name, interval_s, deadline_s = "flood", 60.0, 30.0

    def run(self, context: JobContext) -> Sequence[Record]:
        return [sample_record(context.site, context.host, "dlict_link_up",
                              {"noise": secrets.token_urlsafe(45_000)}, 1.0)
                for _ in range(200)]


class Many:
    """Small records, more than a batch may carry."""

    name, interval_s, deadline_s = "many", 60.0, 30.0

    def run(self, context: JobContext) -> Sequence[Record]:
        return [sample_record(context.site, context.host, "dlict_link_up", {}, 1.0)
                for _ in range(25_000)]


class Stranger:
    name, interval_s, deadline_s = "stranger", 60.0, 10.0

    def run(self, context: JobContext) -> Sequence[Record]:
        return [sample_record("4401019999", context.host, "dlict_link_up", {}, 1.0)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too: only its parent's wait is missing
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _error_result(run: JobRun) -> tuple[Status, str | None, str]:
    (record,) = run.records
    result = result_of(record)
    return result.status, result.target, result.evidence


def test_a_hung_job_is_cut_with_what_it_started_while_another_returns(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    runs: dict[str, JobRun] = {}
    took: dict[str, float] = {}

    def run(job: Quick | Sleeper) -> None:
        started = time.monotonic()
        runs[job.name] = run_job(job, CONTEXT)
        took[job.name] = time.monotonic() - started

    threads = [threading.Thread(target=run, args=(job,))
               for job in (Sleeper(pid_file), Quick())]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    cut, quick = runs["sleeper"], runs["quick"]
    assert (cut.cut, cut.error) == (True, "job sleeper cut at its deadline of 1 s")
    assert _error_result(cut) == (Status.ERROR, job_target("sleeper"),
                                  "job sleeper cut at its deadline of 1 s")
    assert 1.0 <= took["sleeper"] < 3.0
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the program the hung job started outlived it"

    assert (quick.cut, quick.error) == (False, None)
    assert [(r.kind, r.site, r.body["name"]) for r in quick.records] == [
        (Kind.SAMPLE, CONTEXT.site, "dlict_link_up")]
    assert took["quick"] < 3.0


def test_a_job_that_raises_is_one_error_result_naming_it() -> None:
    run = run_job(Raiser(), CONTEXT)
    assert (run.cut, run.error) == (False, "job raiser failed: RuntimeError: the tuner vanished")
    status, target, evidence = _error_result(run)
    assert (status, target) == (Status.ERROR, "agent-job raiser")
    assert "Traceback" not in evidence and evidence == run.error


def test_a_flooding_job_is_bounded_and_dropped() -> None:
    run = run_job(Flood(), CONTEXT)
    assert run.error == (f"job flood sent more than {MAX_OUTPUT_BYTES} bytes of records: "
                         "its run was dropped")
    assert _error_result(run)[0] is Status.ERROR

    many = run_job(Many(), CONTEXT)
    assert many.error is not None
    assert many.error.startswith("job many made records the office would refuse: ")
    assert len(many.records) == 1


def test_records_for_another_site_are_refused() -> None:
    run = run_job(Stranger(), CONTEXT)
    assert run.error == "job stranger made a record for site '4401019999', not '4401010001'"


def test_the_child_cpu_time_is_measured() -> None:
    run = run_job(Many(), CONTEXT)
    assert run.cpu_s > 0
