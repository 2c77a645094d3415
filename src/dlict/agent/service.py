"""``dlict agent run|once|status``: run the jobs, keep what they return, forward it.

``run`` is the service: each job when it is due (``dlict.agent.jobs.runner.run_job`` cuts one
that hangs), its records into the outbox at once, a push when one is due — every
``push.interval_s`` while the office answers, after a back-off with jitter while it does not.
A stop (SIGTERM) lets the job or push under way finish and ends the loop; nothing is lost
whenever it comes, since a record is in the outbox before anything tries to send it.

The pieces written elsewhere (the jobs, their runner, the TLS context made at enrolment,
remote_write) are reached through :class:`Seams`, imported only when used.
"""

from __future__ import annotations

import importlib
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from loguru import logger

from dlict.agent.config import AgentConfig, RemoteWriteSettings
from dlict.agent.forward import Backoff, PushOutcome, SampleSender, push_once
from dlict.agent.jobs.base import Job, JobContext
from dlict.agent.outbox import Outbox, OutboxError, OutboxStats, PushState
from dlict.agent.records import Kind, Record
from dlict.agent.transport import Delivery, HttpsSender, Office, Outcome
from dlict.agent.wire import BatchHeader
from dlict.core.clock import utc_now
from dlict.core.errors import DlictError

MB = 1024 * 1024
MAX_CERT_FILE_BYTES = 64 * 1024


class JobOutcome(Protocol):
    """What ``run_job`` returns (``dlict.agent.jobs.runner.JobRun``)."""

    @property
    def name(self) -> str: ...
    @property
    def records(self) -> Sequence[Record]: ...
    @property
    def error(self) -> str | None: ...
    @property
    def cut(self) -> bool: ...


def _contract(module: str, name: str) -> Any:
    """A name another part of the agent provides (AGENT_CONTRACT.md), imported when used."""
    return getattr(importlib.import_module(module), name)


def _registry_jobs(config: AgentConfig) -> list[Job]:
    build_jobs: Callable[[AgentConfig], list[Job]] = _contract(
        "dlict.agent.jobs.registry", "build_jobs")
    return build_jobs(config)


def _runner(job: Job, context: JobContext) -> JobOutcome:
    run_job: Callable[[Job, JobContext], JobOutcome] = _contract(
        "dlict.agent.jobs.runner", "run_job")
    return run_job(job, context)


def _enrolled_context(config: AgentConfig) -> ssl.SSLContext:
    client_context: Callable[[AgentConfig], ssl.SSLContext] = _contract(
        "dlict.agent.identity", "client_context")
    return client_context(config)


def _remote_write(settings: RemoteWriteSettings) -> SampleSender:
    client = _contract("dlict.agent.remote_write", "RemoteWriteClient")(settings)
    retryable: type[Exception] = _contract("dlict.agent.remote_write", "RetryableSendError")

    def send(records: Sequence[Record]) -> Delivery:
        try:
            client.send(records)
        except retryable as exc:
            return Delivery(Outcome.RETRY, None, f"remote_write {settings.url}: {exc}")
        except DlictError as exc:
            return Delivery(Outcome.REFUSED, None, f"remote_write {settings.url}: {exc}")
        return Delivery(Outcome.DELIVERED)

    return send


@dataclass
class Seams:
    """Where the service gets its jobs, runs them, and finds its TLS identity."""

    jobs: Callable[[AgentConfig], list[Job]] = _registry_jobs
    run_job: Callable[[Job, JobContext], JobOutcome] = _runner
    tls_context: Callable[[AgentConfig], ssl.SSLContext] = _enrolled_context
    remote_write: Callable[[RemoteWriteSettings], SampleSender] = _remote_write


seams = Seams()


def open_outbox(config: AgentConfig) -> Outbox:
    return Outbox.open(config.outbox_path, cap_bytes(config))


def cap_bytes(config: AgentConfig) -> int:
    return int(config.outbox.cap_mb * MB)


def push(config: AgentConfig, outbox: Outbox, using: Seams | None = None) -> PushOutcome:
    """One push of everything queued (within ``DEFAULT_MAX_BATCHES``) to the office, and of
    samples to remote_write if configured; a push that cannot start (not enrolled) is an
    outcome too, so the caller reports it the same way."""
    using = using or seams
    try:
        sender = HttpsSender(Office.from_url(str(config.office)), using.tls_context(config),
                             config.push.timeout_s)
        samples = (using.remote_write(config.remote_write)
                   if config.remote_write is not None else None)
    except DlictError as exc:
        return PushOutcome(Outcome.REFUSED, more=True, detail=str(exc))

    def header() -> BatchHeader:
        stats = outbox.stats()
        return BatchHeader(config.site, config.host, utc_now(), stats.records, stats.dropped)

    offsets: list[float] = []

    def send(body: bytes) -> Delivery:
        delivery = sender.send_batch(body)
        if delivery.clock_offset_s is not None:
            offsets.append(delivery.clock_offset_s)
        return delivery

    outcome = push_once(outbox, header, send, samples=samples,
                        batch_records=config.outbox.batch_records)
    return replace(outcome, clock_offset_s=offsets[-1] if offsets else None)


def note(outbox: Outbox, outcome: PushOutcome) -> PushState:
    return outbox.note_push(utc_now(), str(outcome.outcome), outcome.detail)


@dataclass(frozen=True)
class JobSummary:
    name: str
    records: int
    failed_results: int
    error: str | None
    cut: bool


@dataclass(frozen=True)
class OnceReport:
    jobs: list[JobSummary]
    push: PushOutcome
    queued: OutboxStats

    @property
    def findings(self) -> bool:
        return any(job.failed_results for job in self.jobs)


def run_jobs_once(config: AgentConfig, outbox: Outbox, jobs: Sequence[Job],
                  using: Seams) -> list[JobSummary]:
    """Run each job, putting its records into the outbox as soon as it returns."""
    summaries: list[JobSummary] = []
    for job in jobs:
        summaries.append(_run_and_keep(config, outbox, job, using))
    return summaries


def _run_and_keep(config: AgentConfig, outbox: Outbox, job: Job, using: Seams) -> JobSummary:
    run = using.run_job(job, JobContext(config.site, config.host, utc_now()))
    records = list(run.records)
    outbox.put(records)
    if run.error:
        logger.warning("agent job {}: {}", run.name, run.error)
    failed = sum(1 for r in records if r.kind is Kind.RESULT and r.body.get("status") == "fail")
    return JobSummary(run.name, len(records), failed, run.error, run.cut)


def once(config: AgentConfig, using: Seams | None = None) -> OnceReport:
    """Every job once, then one push. Records stay in the outbox whatever the push does.

    Raises:
        OutboxError: the outbox cannot be opened or written (a full disk).
    """
    using = using or seams
    jobs = using.jobs(config)
    with open_outbox(config) as outbox:
        summaries = run_jobs_once(config, outbox, jobs, using)
        outcome = push(config, outbox, using)
        note(outbox, outcome)
        return OnceReport(summaries, outcome, outbox.stats())


@dataclass
class _Schedule:
    """When each job and the next push are due, on the monotonic clock."""

    jobs: dict[str, float]
    next_push: float = 0.0
    backoff: Backoff = field(default_factory=lambda: Backoff(600))

    def next_wake(self) -> float:
        return min([*self.jobs.values(), self.next_push])


def run(config: AgentConfig, stop: threading.Event, using: Seams | None = None) -> None:
    """The service loop until ``stop`` is set (SIGTERM, SIGINT).

    Raises:
        OutboxError: the outbox cannot be opened or written.
    """
    using = using or seams
    jobs = using.jobs(config)
    schedule = _Schedule({job.name: 0.0 for job in jobs},
                         backoff=Backoff(config.push.backoff_max_s))
    logger.info("agent {}/{}: {} jobs, pushing to {} every {:g} s", config.site, config.host,
                len(jobs), config.office, config.push.interval_s)
    with open_outbox(config) as outbox:
        while not stop.is_set():
            for job in jobs:
                if stop.is_set():
                    break
                if schedule.jobs[job.name] <= time.monotonic():
                    _run_and_keep_going(config, outbox, job, using)
                    schedule.jobs[job.name] = time.monotonic() + job.interval_s
            if not stop.is_set() and schedule.next_push <= time.monotonic():
                schedule.next_push = time.monotonic() + _push_and_wait(config, outbox, using,
                                                                       schedule.backoff)
            stop.wait(max(0.0, schedule.next_wake() - time.monotonic()))
    logger.info("agent {}/{}: stopped", config.site, config.host)


def _run_and_keep_going(config: AgentConfig, outbox: Outbox, job: Job, using: Seams) -> None:
    """A job's run in the service: a full disk loses this run's records (said in the log) but
    not the service, whose next push may free the space."""
    try:
        _run_and_keep(config, outbox, job, using)
    except OutboxError as exc:
        logger.error("agent job {}: its records were not stored: {}", job.name, exc)


def _push_and_wait(config: AgentConfig, outbox: Outbox, using: Seams,
                   backoff: Backoff) -> float:
    """Push once; returns the seconds until the next push."""
    outcome = push(config, outbox, using)
    state = note(outbox, outcome)
    if outcome.clock_is_off:
        logger.warning("agent: this machine's clock is {:+.0f} s off the office's: its "
                       "results carry wrong times; set its time (NTP/chrony)",
                       -(outcome.clock_offset_s or 0.0))
    if outcome.ok:
        backoff.succeeded()
        logger.info("agent: delivered {} records", outcome.delivered)
        return 0.0 if outcome.more else config.push.interval_s
    wait = backoff.refused() if outcome.outcome is Outcome.REFUSED else backoff.failed()
    logger.warning("agent: push failed ({} in a row): {}; next try in {:.0f} s",
                   state.consecutive_failures, outcome.detail, wait)
    return wait


def status(config: AgentConfig) -> dict[str, Any]:
    """The agent's state as ``dlict agent status`` shows it; opens no network connection and
    creates no outbox."""
    try:
        outbox = Outbox.open(config.outbox_path, cap_bytes(config), create=False)
    except FileNotFoundError:
        stats, state = OutboxStats(0, {k.value: 0 for k in Kind}, 0,
                                   {k.value: 0 for k in Kind}), PushState()
    else:
        with outbox:
            stats, state = outbox.stats(), outbox.push_state()
    return {
        "site": config.site, "host": config.host, "office": str(config.office),
        "outbox": {"path": str(config.outbox_path), "records": stats.records,
                   "by_kind": stats.by_kind, "bytes": stats.bytes,
                   "file_bytes": _file_bytes(config.outbox_path),
                   "cap_bytes": cap_bytes(config), "dropped": stats.dropped},
        "last_push": {"at": _iso(state.last_push_at), "outcome": state.last_outcome or None,
                      "error": state.last_error or None},
        "consecutive_failures": state.consecutive_failures,
        "certificate": _certificate(config.cert_path),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _file_bytes(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        try:
            total += path.with_name(path.name + suffix).stat().st_size
        except OSError:
            continue
    return total


def _certificate(path: Path) -> dict[str, Any] | None:
    """The agent certificate's expiry, if it has one (``None`` before enrolment)."""
    from cryptography import x509

    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CERT_FILE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return {"path": str(path), "error": exc.strerror or str(exc)}
    try:
        if len(data) > MAX_CERT_FILE_BYTES:
            raise ValueError("larger than a certificate")
        cert = x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        return {"path": str(path), "error": f"not a PEM certificate ({exc})"}
    not_after = cert.not_valid_after_utc
    return {"path": str(path), "not_after": not_after.isoformat(),
            "days_left": round((not_after - utc_now()).total_seconds() / 86_400, 1)}


def as_json(report: OnceReport) -> dict[str, Any]:
    return {"jobs": [asdict(job) for job in report.jobs],
            "push": {"outcome": str(report.push.outcome), "delivered": report.push.delivered,
                     "unsendable": report.push.unsendable, "more": report.push.more,
                     "error": report.push.detail or None,
                     "office_clock_offset_s": report.push.clock_offset_s},
            "queued": {"records": report.queued.records, "by_kind": report.queued.by_kind,
                       "bytes": report.queued.bytes, "dropped": report.queued.dropped}}
