"""A run of any kind — audit, apply, facts, netdev, netscan, logs check, monitor, survey —
recorded in the evidence store and judged once: its status, its failed hosts, its exit code.

Every producer hands its ``Result``s here, so the store holds every check and every command
and caller (the CLI today, an agent or an incident intake tomorrow) judges a run the same way:
a fail is a finding (exit 1); an error or an unreachable host is an operational failure
(exit 3); a not-applicable result (``skipped``) is neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loguru import logger

from dlict.core.errors import DlictError, ExitCode, StoreError
from dlict.core.results import Result, Status
from dlict.core.runner_dir import Terminated
from dlict.core.store import EvidenceStore, Run, RunStatus

if TYPE_CHECKING:
    from dlict.inventory.models import Inventory

#: Gives the district's inventory (None: there is none) when a run's findings may raise
#: incident cases (``dlict.incidents.findings``); called only when a result failed.
DistrictGetter = Callable[[], "Inventory | None"]

EXIT_CODES: dict[RunStatus, ExitCode] = {
    RunStatus.OK: ExitCode.OK,
    RunStatus.FINDINGS: ExitCode.FINDINGS,
    RunStatus.ERROR: ExitCode.OPERATIONAL,
}


def judge(results: Iterable[Result], *, failed: bool = False) -> RunStatus:
    """The status of a run that produced ``results``; ``failed``: the run itself went wrong
    (a playbook that did not finish), whatever its results say."""
    statuses = {r.status for r in results}
    if failed or statuses & {Status.ERROR, Status.UNREACHABLE}:
        return RunStatus.ERROR
    if Status.FAIL in statuses:
        return RunStatus.FINDINGS
    return RunStatus.OK


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A finished run as stored, with the results it stored."""

    run: Run
    results: tuple[Result, ...]

    @property
    def id(self) -> int:
        return self.run.id

    @property
    def status(self) -> RunStatus:
        return self.run.status

    @property
    def exit_code(self) -> ExitCode:
        # a run still marked running (never finished) is not a clean one
        return EXIT_CODES.get(self.run.status, ExitCode.OPERATIONAL)

    @property
    def failed_hosts(self) -> tuple[str, ...]:
        """Hosts with a result that needs attention (fail, error, unreachable), in the order
        they first appear; a host that is only not-applicable is not among them."""
        hosts = dict.fromkeys(r.host for r in self.results if r.status.needs_attention)
        return tuple(hosts)


class RunRecorder:
    """A run that has started and is waiting for its results (see ``recording``)."""

    def __init__(self, store: EvidenceStore, run_id: int, kind: str = "",
                 findings: DistrictGetter | None = None,
                 kept: Sequence[Result] = ()) -> None:
        self._store = store
        self.id = run_id
        self.kind = kind
        self._findings = findings
        self.finished: RunRecord | None = None
        self._kept: list[Result] = list(kept)
        self._kept_keys = {_key(r) for r in self._kept}

    def set_plan(self, plan: Mapping[str, Any]) -> None:
        """Keep what this run sets out to do, so that it can be resumed if interrupted."""
        self._store.set_run_plan(self.id, plan)

    @property
    def kept(self) -> tuple[Result, ...]:
        """The results stored so far (before ``finish``)."""
        return tuple(self._kept)

    def keep(self, results: Sequence[Result]) -> None:
        """Store results that are final already (a host's area that has ended), so that a run
        interrupted later keeps them. A result whose (site, host, control, target) was kept by
        an earlier call is not stored again; within one call every result is stored, as
        given (some producers report several results under one key)."""
        fresh = [r for r in results if _key(r) not in self._kept_keys]
        if fresh:
            self._store.add_results(self.id, fresh)
            self._kept.extend(fresh)
            self._kept_keys.update(_key(r) for r in fresh)

    def finish(self, results: Sequence[Result], *, failed: bool = False) -> RunRecord:
        """Store ``results`` (those not kept already) and the run's status judged over
        everything it stored; returns the finished record."""
        self.keep(results)
        everything = tuple(self._kept)
        self._store.finish_run(self.id, judge(everything, failed=failed))
        self.finished = RunRecord(self._store.run(self.id), everything)
        if self._findings is not None:
            raise_incidents(self._store, self.kind, self.id, everything, self._findings)
        return self.finished


def _key(result: Result) -> tuple[str, str, str | None, str | None]:
    return (result.site, result.host, result.control, result.target)


def raise_incidents(store: EvidenceStore, kind: str, run_id: int, results: Sequence[Result],
                    district: DistrictGetter) -> None:
    """Findings of a stored run raise or join incident cases; the run stays recorded whatever
    happens here, and a failure to raise a case is logged as an error, never lost quietly."""
    from dlict.incidents.findings import raise_cases  # the controls catalog, when needed

    try:
        for raised in raise_cases(store, kind, run_id, results, district):
            if raised.opened:
                logger.warning("{} run {}: incident case {} opened for a finding", kind,
                               run_id, raised.case_id)
    except DlictError as exc:
        logger.error("{} run {}: findings could not raise an incident case: {}", kind, run_id,
                     exc)


@contextmanager
def recording(store: EvidenceStore, kind: str, *, command: str = "",
              inventory: str = "", findings: DistrictGetter | None = None
              ) -> Iterator[RunRecorder]:
    """Start a run of ``kind`` now (its id is known while it works); the caller finishes it
    with ``RunRecorder.finish``. A run left unfinished by an exception is marked ``error``,
    never left ``running``. With ``findings``, failed results may raise incident cases."""
    recorder = RunRecorder(store, store.start_run(kind, command, inventory), kind, findings)
    with _finished_anyway(store, recorder):
        yield recorder


@contextmanager
def resuming(store: EvidenceStore, run_id: int, kind: str, *,
             findings: DistrictGetter | None = None) -> Iterator[RunRecorder]:
    """Go on with interrupted run ``run_id``: its stored results are kept, the caller adds
    the rest and finishes it as with ``recording``."""
    kept = store.results(run_id)
    store.reopen_run(run_id)
    recorder = RunRecorder(store, run_id, kind, findings, kept=kept)
    with _finished_anyway(store, recorder):
        yield recorder


@contextmanager
def _finished_anyway(store: EvidenceStore, recorder: RunRecorder) -> Iterator[None]:
    """A run left unfinished is marked ``error``, never left ``running``; one stopped by
    SIGINT or SIGTERM is also noted as interrupted (what it stored is kept, and an audit may
    be resumed)."""
    interrupted = False
    try:
        yield
    except (KeyboardInterrupt, Terminated):
        interrupted = True
        raise
    finally:
        if recorder.finished is None:
            with suppress(StoreError):  # the store's own failure is already on its way up
                store.finish_run(recorder.id, RunStatus.ERROR)
                if interrupted:
                    store.mark_interrupted(recorder.id)


def record_run(store: EvidenceStore, kind: str, results: Sequence[Result], *,
               command: str = "", inventory: str = "", failed: bool = False,
               findings: DistrictGetter | None = None) -> RunRecord:
    """Record a run that has already produced ``results``, in one go."""
    with recording(store, kind, command=command, inventory=inventory,
                   findings=findings) as recorder:
        return recorder.finish(results, failed=failed)
