"""Run a playbook through ansible-runner's Python interface and hand each event to the caller.

dlict does not parse ansible-playbook's text output: ansible-runner gives structured events
(runner_on_ok, runner_on_failed, runner_on_unreachable, …) which the callers map to results.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from dlict.core.ansible_env import ansible_path, require_program, strategy_env
from dlict.core.errors import InputError
from dlict.core.logging import redact
from dlict.core.paths import data_path
from dlict.core.runner_dir import RunnerDir, kill_descendants, runner_dir
from dlict.playbooks.workers import CALLBACK_DIR, RemoteRuns, WorkerSetup

HOST_EVENTS = frozenset({
    "runner_on_ok", "runner_on_changed", "runner_on_failed", "runner_on_unreachable",
    "runner_on_skipped", "runner_item_on_failed",
})


@dataclass(frozen=True, slots=True)
class AnsibleEvent:
    """One per-host task outcome from ansible-runner."""

    kind: str
    host: str
    task: str
    action: str
    tags: tuple[str, ...]
    changed: bool
    ignore_errors: bool
    result: Mapping[str, Any]

    @property
    def unreachable(self) -> bool:
        return self.kind == "runner_on_unreachable"

    @property
    def failed(self) -> bool:
        return self.kind in ("runner_on_failed", "runner_item_on_failed")

    @property
    def message(self) -> str:
        """What Ansible said went wrong (or right), secrets masked."""
        text = self.result.get("msg") or self.result.get("stderr") or ""
        return redact(str(text)).strip()


@dataclass
class PlaybookOutcome:
    status: str
    rc: int
    events: list[AnsibleEvent] = field(default_factory=list)
    stats: Mapping[str, Any] = field(default_factory=dict)

    def hosts_with(self, stat: str) -> set[str]:
        return set((self.stats.get(stat) or {}).keys())


def _to_event(raw: Mapping[str, Any]) -> AnsibleEvent | None:
    kind = raw.get("event", "")
    if kind not in HOST_EVENTS:
        return None
    data = raw.get("event_data", {})
    res = data.get("res", {}) or {}
    return AnsibleEvent(
        kind=kind,
        host=str(data.get("host", "")),
        task=str(data.get("task", "")),
        action=str(data.get("task_action", "")).removeprefix("ansible.builtin."),
        # put there by the dlict_tags callback (ansible_plugins/callback)
        tags=tuple(str(tag) for tag in data.get("dlict_tags") or ()),
        changed=bool(res.get("changed", False)),
        ignore_errors=bool(data.get("ignore_errors")),
        result=res,
    )


@dataclass(frozen=True)
class _Call:
    """What every part of one playbook run shares."""

    playbook: Path
    inventory: Path
    check: bool
    diff: bool
    tags: Sequence[str]
    skip_tags: Sequence[str]
    extravars: Mapping[str, Any]
    forks: int
    timeout: int
    mitogen: bool


class _Merged:
    """Events, stats and play starts of the parts of one run, merged as they come (each part
    is an ansible-runner run of its own; the callers' callbacks see one run). Called from the
    caller's thread only."""

    def __init__(self, parts: int, on_event: Callable[[AnsibleEvent], None] | None,
                 on_play: Callable[[str], None] | None) -> None:
        self.events: list[AnsibleEvent] = []
        self.stats: dict[str, Any] = {}
        self.on_event = on_event
        self.on_play = on_play
        self.plays_started = [0] * parts
        self.plays_reported = 0
        self.play_names: list[str] = []

    def sink(self, part: int) -> _Sink:
        """A part's events handed straight to ``event`` (one part, in this thread)."""
        def send(raw: Mapping[str, Any] | None) -> None:
            if raw is not None:
                self.event(part, raw)
        return send

    def event(self, part: int, raw: Mapping[str, Any]) -> None:
        kind = raw.get("event")
        data = raw.get("event_data", {})
        if kind == "playbook_on_stats":
            for key, value in data.items():
                if isinstance(value, Mapping):
                    self.stats.setdefault(key, {}).update(value)
        elif kind == "playbook_on_play_start":
            self.plays_started[part] += 1
            if len(self.play_names) < self.plays_started[part]:
                self.play_names.append(str(data.get("play", "")))
            self._report_plays()
        event = _to_event(raw)
        if event is not None:
            self.events.append(event)
            if self.on_event is not None:
                self.on_event(event)

    def part_ended(self, part: int) -> None:
        """A part has run every play it will (its hosts all failed, or the playbook ended)."""
        self.plays_started[part] = len(self.play_names) + 1_000_000
        self._report_plays()

    def _report_plays(self) -> None:
        # A play has started everywhere once every part has started it (or ended): the plays
        # before it have then ended on every host of every part.
        everywhere = min(min(self.plays_started), len(self.play_names))
        while self.plays_reported < everywhere:
            if self.on_play is not None:
                self.on_play(self.play_names[self.plays_reported])
            self.plays_reported += 1


def run_playbook(
    playbook: Path,
    inventory: Path,
    *,
    limit: str | None = None,
    parts: Sequence[str] = (),
    workers: WorkerSetup | None = None,
    check: bool = False,
    diff: bool = False,
    tags: Sequence[str] = (),
    skip_tags: Sequence[str] = (),
    extravars: Mapping[str, Any] | None = None,
    forks: int = 20,
    timeout: int = 20,
    mitogen: bool = True,
    on_event: Callable[[AnsibleEvent], None] | None = None,
    on_play: Callable[[str], None] | None = None,
) -> PlaybookOutcome:
    """Run ``playbook`` against ``inventory`` with host key checking on.

    Arguments:
        limit: an Ansible host pattern (site group, host name, …).
        parts: host lists (comma-separated names) to run as that many ansible-playbook
            programs at once, instead of ``limit``: Ansible's main process works on one core,
            so a district's hosts are split over the controller's cores.
        workers: execution nodes; part *i* (or the one run on ``limit``) runs on node *i*
            through ansible-runner's streaming (transmit → worker → process)
            instead of on this machine. There must be at least as many as parts.
        check, diff: Ansible's check and diff modes.
        tags: run only tasks carrying these tags (control IDs).
        skip_tags: leave out the tasks carrying these tags (never queued: they cost nothing).
        mitogen: run with the Mitogen strategy when it is installed.
        on_event: called for every per-host task outcome as it happens.
        on_play: called with a play's name once it has started in every part (the plays
            before it have ended on every host).

    Returns:
        The run's status, return code, events and per-host stats.

    Raises:
        InputError: fewer workers than parts, or an inventory a worker cannot be given.
    """
    require_program("ansible-playbook")
    call = _Call(playbook, inventory, check, diff, tuple(tags), tuple(skip_tags),
                 dict(extravars or {}), forks, timeout, mitogen)
    limits: list[str | None] = list(parts) if len(parts) > 1 else [limit]
    if workers is not None and len(workers.nodes) < len(limits):
        raise InputError(f"{len(limits)} parts but only {len(workers.nodes)} worker nodes")
    merged = _Merged(len(limits), on_event, on_play)
    outcomes: list[tuple[str, int] | BaseException | None] = [None] * len(limits)
    with contextlib.ExitStack() as stack:
        private = stack.enter_context(runner_dir(cancellable=True))
        remote = (stack.enter_context(RemoteRuns.prepare(workers, private.tmp))
                  if workers is not None else None)

        def run_part(index: int, where: RunnerDir, send: _Sink,
                     cancel: Callable[[], bool]) -> tuple[str, int]:
            if remote is None:
                return _run_part(call, where, limits[index], send, cancel)
            return remote.run(_runner_kwargs(call, limits[index]), where,
                              remote.setup.nodes[index], send, cancel)

        if len(limits) == 1:
            outcomes[0] = run_part(0, private, merged.sink(0), private.stop_requested)
        else:
            # The parts run in threads; their events come back to this thread, which alone
            # calls the callers' callbacks (they write the evidence store, whose SQLite
            # connection belongs to this thread) and receives the stop signals.
            inbox: queue.Queue[tuple[int, Mapping[str, Any] | None]] = queue.Queue()
            aborted = threading.Event()

            def cancel() -> bool:
                return aborted.is_set() or private.stop_requested()

            def part(index: int) -> None:
                def send(raw: Mapping[str, Any] | None) -> None:
                    inbox.put((index, raw))
                try:
                    with runner_dir() as own:
                        outcomes[index] = run_part(index, own, send, cancel)
                except BaseException as exc:  # handed to this thread, raised there
                    outcomes[index] = exc
                finally:
                    send(None)

            threads = [threading.Thread(target=part, args=(i,), name=f"dlict-ansible-{i}",
                                        daemon=True) for i in range(len(limits))]
            for thread in threads:
                thread.start()
            running = len(threads)
            try:
                while running:
                    try:
                        index, raw = inbox.get(timeout=0.5)
                    except queue.Empty:
                        continue
                    if raw is None:
                        merged.part_ended(index)
                        running -= 1
                    else:
                        merged.event(index, raw)
            except BaseException:
                # this thread failed (the store, say): no part goes on without it
                aborted.set()
                kill_descendants()
                raise
            finally:
                for thread in threads:
                    thread.join(timeout=30)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    finished = [o for o in outcomes if isinstance(o, tuple)]
    failed = [status for status, _rc in finished if status != "successful"]
    return PlaybookOutcome(status=failed[0] if failed else "successful",
                           rc=max((rc for _status, rc in finished), default=0),
                           events=merged.events, stats=merged.stats)


#: Where a part hands each raw event (None: the part ended).
_Sink = Callable[[Mapping[str, Any] | None], None]


def _runner_kwargs(call: _Call, limit: str | None) -> dict[str, Any]:
    """The ansible-runner arguments of one part that do not depend on where it runs."""
    cmdline = " ".join(flag for flag, on in (("--check", call.check), ("--diff", call.diff))
                       if on)
    return {
        "limit": limit,
        "tags": ",".join(call.tags) or None,
        "skip_tags": ",".join(call.skip_tags) or None,
        "extravars": dict(call.extravars),
        "forks": call.forks,
        "cmdline": cmdline or None,
        "playbook": call.playbook,
        "envvars": {
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_TIMEOUT": str(call.timeout),
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "True",
            "ANSIBLE_CALLBACKS_ENABLED": "dlict_tags,dlict_templates",
        },
        "mitogen": call.mitogen,
    }


def _run_part(call: _Call, where: RunnerDir, limit: str | None, send: _Sink,
              cancel: Callable[[], bool]) -> tuple[str, int]:
    """One ansible-runner run of ``call`` on ``limit`` on this machine; returns its status
    and return code."""
    private = where.path
    # A control socket of its own per run: a multiplexed SSH connection left by an earlier
    # run would otherwise be reused without the host key being checked again.
    control_dir = private / "cp"
    control_dir.mkdir(mode=0o700)
    kwargs = _runner_kwargs(call, limit)

    def handle(raw: Mapping[str, Any]) -> bool:
        send(raw)
        return False  # nothing to keep on disk: events live in the evidence store

    run = ansible_runner.run(
            private_data_dir=str(private),
            playbook=str(call.playbook.resolve()),
            inventory=str(call.inventory.resolve()),
            limit=kwargs["limit"],
            tags=kwargs["tags"],
            skip_tags=kwargs["skip_tags"],
            extravars=kwargs["extravars"],
            forks=kwargs["forks"],
            cmdline=kwargs["cmdline"],
            envvars={
                **kwargs["envvars"],
                "PATH": ansible_path(),
                "ANSIBLE_CONFIG": str(data_path("playbooks") / "ansible.cfg"),
                "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir),
                "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
                "TMPDIR": str(where.tmp),
                **strategy_env(call.mitogen),
            },
            event_handler=handle,
            cancel_callback=cancel,
            quiet=True,
            # how often the cancel callback is asked: a stop signal waits at most this long
            settings={"suppress_ansible_output": True, "pexpect_timeout": 1},
        )
    return str(run.status), int(run.rc or 0)
