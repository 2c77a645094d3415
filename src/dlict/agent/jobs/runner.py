"""Run one job in a child process of its own, cut at its deadline.

A job reads command output, sockets and files it does not control: a hung program, a
blocking read or a job that loops must cost only its own run, never the others'. So each run
is a fork of the agent, in a process group of its own (the programs it starts go with it);
its records come back over a pipe as one batch in the wire format (``encode_batch``), read
with a byte limit and decoded with the wire format's own limits, so a job that floods cannot
fill the agent's memory. At the deadline the whole group is killed.

A job that raises, is cut or floods gives an ``error`` result naming the job (target
``agent-job <name>``) instead of a traceback: the office sees it like any other finding.
The child ends with ``os._exit``: nothing of the agent (its outbox connection, its exit
handlers) runs in it, and a lock another thread of the agent held at the fork can at worst
hang the child until its deadline.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from dlict.agent.jobs.base import Job, JobContext
from dlict.agent.records import Record, result_record
from dlict.agent.wire import MAX_BATCH_BYTES, BatchHeader, WireError, decode_batch, encode_batch
from dlict.core.clock import utc_now
from dlict.core.errors import DlictError
from dlict.core.results import Result, Status

#: The most a run may send back (compressed); past it the run is killed and its output lost.
MAX_OUTPUT_BYTES = MAX_BATCH_BYTES
MAX_ERROR_CHARS = 500
_OK, _FAILED = b"R", b"E"
_CHUNK = 64 << 10
# After SIGKILL the child is gone within milliseconds; the wait is bounded all the same.
_REAP_S = 5.0


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a job: its records (an error result among them when it failed), the error
    in one line, whether it was cut at its deadline, and the CPU time its process used."""

    name: str
    records: Sequence[Record]
    error: str | None
    cut: bool
    cpu_s: float = field(default=0.0)


def job_target(name: str) -> str:
    """The target of the result that reports a job's own failure."""
    return f"agent-job {name}"


def run_job(job: Job, context: JobContext) -> JobRun:
    """Run ``job`` once in a forked child; kill it (and what it started) at its deadline.

    Returns:
        The records the job made; when it raised, was cut or sent too much, the records are
        one ``error`` result naming the job and ``error`` says the same in one line.
    """
    if not hasattr(os, "fork"):
        return _run_inline(job, context)
    read_end, write_end = os.pipe()
    # Objects the collector would walk in the child stay shared with the agent, not copied
    # page by page: a job's child costs its own work, not a second agent.
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(job, context, write_end)
    gc.unfreeze()  # the agent's own garbage cycles stay collectable over months of runs
    with contextlib.suppress(OSError):  # the child does the same; whoever is first wins
        os.setpgid(pid, pid)
    os.close(write_end)
    try:
        output, cut, flooded = _collect(read_end, pid, job.deadline_s)
    finally:
        os.close(read_end)
    cpu_s = _reap(pid)
    if cut:
        return _failed(job, context, f"job {job.name} cut at its deadline of "
                                     f"{job.deadline_s:g} s", cut=True, cpu_s=cpu_s)
    if flooded:
        return _failed(job, context, f"job {job.name} sent more than {MAX_OUTPUT_BYTES} bytes "
                                     "of records: its run was dropped", cpu_s=cpu_s)
    return _decoded(job, context, output, cpu_s)


def _child(job: Job, context: JobContext, write_end: int) -> None:
    code = 0
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        payload = _payload(job, context)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
    except BaseException:  # nothing of the parent may run on in the child
        code = 1
    finally:
        os._exit(code)


def _payload(job: Job, context: JobContext) -> bytes:
    """The job's records as a batch, or its failure in one line."""
    try:
        records = list(job.run(context))
        header = BatchHeader(context.site, context.host, utc_now())
        return _OK + encode_batch(header, records)
    except DlictError as exc:
        return _FAILED + _one_line(f"job {job.name}: {exc}").encode()
    except Exception as exc:  # the agent reports a job's surprise, never a traceback
        return _FAILED + _one_line(f"job {job.name} failed: {type(exc).__name__}: {exc}").encode()


def _run_inline(job: Job, context: JobContext) -> JobRun:
    """Where there is no fork (Windows): the job in the agent's own process. Its commands
    are bounded by their own timeouts (the Windows host job's one PowerShell run); the
    records go through the same encoding and checks as a child's."""
    started = time.process_time()
    payload = _payload(job, context)
    return _decoded(job, context, payload, time.process_time() - started)


def _collect(read_end: int, pid: int, deadline_s: float) -> tuple[bytes, bool, bool]:
    """What the child wrote, until it closes the pipe; (output, cut, flooded)."""
    until = time.monotonic() + deadline_s
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = until - time.monotonic()
        if remaining <= 0:
            _kill(pid)
            return b"", True, False
        ready, _, _ = select.select([read_end], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(read_end, _CHUNK)
        if not chunk:
            return b"".join(chunks), False, False
        size += len(chunk)
        if size > MAX_OUTPUT_BYTES + 1:
            _kill(pid)
            return b"", False, True
        chunks.append(chunk)


def _kill(pid: int) -> None:
    """SIGKILL the child's process group (the child and every program it started)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    except PermissionError:  # the group is not (yet) the child's own: kill the child alone
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _reap(pid: int) -> float:
    """Wait for the child; the user and system CPU seconds it used."""
    until = time.monotonic() + _REAP_S
    while True:
        waited, _status, usage = os.wait4(pid, os.WNOHANG)
        if waited == pid:
            return float(usage.ru_utime + usage.ru_stime)
        if time.monotonic() > until:
            _kill(pid)
            _waited, _status, usage = os.wait4(pid, 0)
            return float(usage.ru_utime + usage.ru_stime)
        time.sleep(0.005)


def _decoded(job: Job, context: JobContext, output: bytes, cpu_s: float) -> JobRun:
    if output[:1] == _FAILED:
        return _failed(job, context, output[1:].decode("utf-8", errors="replace"),
                       cpu_s=cpu_s)
    if output[:1] != _OK:
        return _failed(job, context, f"job {job.name} ended without a result",
                       cpu_s=cpu_s)
    try:
        _header, records = decode_batch(output[1:])
    except WireError as exc:
        return _failed(job, context, f"job {job.name} made records the office would refuse: "
                                     f"{exc}", cpu_s=cpu_s)
    strays = [r for r in records if r.site != context.site]
    if strays:
        return _failed(job, context, f"job {job.name} made a record for site "
                                     f"{strays[0].site!r}, not {context.site!r}", cpu_s=cpu_s)
    return JobRun(job.name, records, None, False, cpu_s)


def _failed(job: Job, context: JobContext, error: str, *, cut: bool = False,
            cpu_s: float = 0.0) -> JobRun:
    error = _one_line(error)
    result = Result(context.site, context.host, Status.ERROR, target=job_target(job.name),
                    evidence=error, observed_at=context.now)
    return JobRun(job.name, [result_record(result)], error, cut, cpu_s)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR_CHARS else line[:MAX_ERROR_CHARS - 1] + "…"
