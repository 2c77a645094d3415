"""Apply and audit the SOP controls: run the area playbooks, turn events into results.

The contract with the roles is in docs/playbooks.md: tasks carry control IDs as tags; one
assert per control per host says pass or fail; in audit (check) mode a task that would change
something means the control does not hold.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from loguru import logger

from dlict.controls import CONTROL_ID, Catalog, Control
from dlict.core.errors import InputError
from dlict.core.logging import redact
from dlict.core.paths import data_path
from dlict.core.results import Result, Status
from dlict.inventory.models import Host, Inventory, Role
from dlict.playbooks.runner import AnsibleEvent, PlaybookOutcome, run_playbook
from dlict.playbooks.workers import WorkerSetup

#: Tasks an audit never runs (their ``when`` says so): the apply-only includes and the stop
#: tasks after a group of steps. An audit leaves them out by tag, so Ansible does not queue
#: them at all — a skipped task still costs a worker process per host.
APPLY_ONLY_TAG = "dlict_apply"

# site.yml order: endpoint last, because its file-integrity baseline must see what the
# other areas wrote (logging writes under /etc too).
AREAS: tuple[str, ...] = ("firewall", "antivirus", "identity", "logging", "endpoint")
EVIDENCE_LIMIT = 4000
WINDOWS_PLATFORM = "windows"
WINDOWS_PLAYBOOK = "windows.yml"
# Tag of the rescue task each area play runs when a task fails: the area stopped on that host,
# the host's other areas went on (playbooks/<area>.yml).
AREA_STOPPED_TAG = "dlict_area_stopped"

# Worst wins when several events speak about one control on one host.
_RANK = {Status.ERROR: 4, Status.FAIL: 3, Status.UNREACHABLE: 2, Status.PASS: 1,
         Status.SKIPPED: 0}


class Mode(StrEnum):
    APPLY = "apply"
    AUDIT = "audit"


def resolve_areas(names: Sequence[str]) -> list[str]:
    """Areas in run order from ``names`` ("all" or area names).

    Raises:
        InputError: an unknown area name.
    """
    if not names or "all" in names:
        return list(AREAS)
    unknown = [n for n in names if n not in AREAS]
    if unknown:
        raise InputError(f"unknown area {', '.join(unknown)} (expected all or "
                         f"{', '.join(AREAS)})")
    return [a for a in AREAS if a in names]


def sop_hosts(inventory: Inventory, limit: str | None) -> list[str]:
    """The hosts the SOP plays work on (Linux servers, Windows PCs) among those ``limit``
    names, by name."""
    from dlict.inventory.select import select_hosts

    roles = {Role.LINUX_SERVER, Role.WINDOWS_ENDPOINT}
    return [h.name for h in select_hosts(inventory, limit) if roles & set(h.roles)]


def controls_for(host: Host, controls: Sequence[Control]) -> list[Control]:
    """The controls the playbooks judge on ``host``: the Windows ones on a Windows PC
    (group windows_endpoints), the Linux ones elsewhere."""
    windows = Role.WINDOWS_ENDPOINT in host.roles
    return [c for c in controls if (WINDOWS_PLATFORM in c.platforms) == windows]


def windows_collections_installed() -> bool:
    """Whether the Windows role's collections (the ``windows`` extra) can be loaded."""
    import importlib.util

    try:
        return importlib.util.find_spec("ansible_collections.ansible.windows") is not None
    except (ImportError, ValueError):
        return False


def _playbook_for(areas: list[str], workdir: Path, windows: bool) -> Path:
    playbooks = data_path("playbooks")
    if areas == list(AREAS) and not windows:
        return playbooks / "site.yml"
    # One Windows play observes every area of a PC at once; its results are kept for the
    # areas asked for. It is added only for an inventory with Windows PCs, so a district
    # without them never needs the Windows collections.
    wrapper = workdir / "dlict-areas.yml"
    wrapper.write_text(yaml.safe_dump(
        [{"import_playbook": str(playbooks / f"{area}.yml")} for area in areas]
        + ([{"import_playbook": str(playbooks / WINDOWS_PLAYBOOK)}] if windows else [])))
    return wrapper


def _windows_not_run(inventory: Inventory, limit: str | None,
                     controls: Sequence[Control]) -> list[Result]:
    """Without the Windows collections: the PCs the limit names get an error for each of their
    controls, saying what to install; the Linux hosts are audited all the same."""
    from dlict.inventory.select import select_hosts

    why = ("not checked: the Windows role needs the ansible.windows collection (pip install "
           "'dlict[windows]')")
    return [Result(site=host.site, host=host.name, control=control.id, status=Status.ERROR,
                   evidence=why)
            for host in select_hosts(inventory, limit) if Role.WINDOWS_ENDPOINT in host.roles
            for control in controls_for(host, controls)]


@dataclass
class _Verdict:
    status: Status = Status.SKIPPED
    evidence: str = ""
    seen: bool = False
    notes: list[str] = field(default_factory=list)

    def take(self, judged: tuple[Status, str] | None) -> None:
        """What one task or step said: a verdict, or None (it ran and says nothing more)."""
        if judged is None:
            self.seen = True
        else:
            self.offer(*judged)

    def offer(self, status: Status, evidence: str) -> None:
        self.seen = True
        if _RANK[status] > _RANK[self.status] or (status is self.status and not self.evidence):
            self.status = status
            self.evidence = evidence


def _control_ids(tags: Iterable[str]) -> list[str]:
    return [t for t in tags if CONTROL_ID.match(t)]


def _area_stopped(event: AnsibleEvent) -> tuple[list[str], str] | None:
    """(areas, what stopped them) when ``event`` is a play's rescue report (the Windows play
    covers every area at once)."""
    if event.action != "debug" or AREA_STOPPED_TAG not in event.tags:
        return None
    areas = [t for t in event.tags if t in AREAS]
    if not areas:
        return None
    return areas, (str(event.result.get("msg", "")).strip()
                   or f"the {', '.join(areas)} area stopped")


def _diff_text(result: Mapping[str, Any]) -> str:
    diffs = result.get("diff") or []
    if isinstance(diffs, Mapping):
        diffs = [diffs]
    parts = []
    for diff in diffs:
        if not isinstance(diff, Mapping):
            continue
        if "prepared" in diff:
            parts.append(str(diff["prepared"]))
            continue
        before, after = diff.get("before", ""), diff.get("after", "")
        header = diff.get("after_header") or diff.get("before_header") or ""
        if isinstance(before, str) and isinstance(after, str) and (before or after):
            parts.append(f"--- {header} (now)\n+++ {header} (wanted)\n" + _line_diff(before, after))
        elif before != after:
            parts.append(f"{header}: {before!r} → {after!r}")
    return "\n".join(parts)


def _line_diff(before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=1)
    return "".join(lines)[:EVIDENCE_LIMIT]


def _area_verdicts(event: AnsibleEvent) -> dict[str, tuple[Status, str]] | None:
    """The verdicts of a ``dlict_check`` task (one area judged on the controller from one
    observation), or None for any other event."""
    raw = event.result.get("dlict_verdicts") if event.kind == "runner_on_ok" or \
        event.kind == "runner_on_failed" else None
    if not isinstance(raw, Mapping):
        return None
    judged: dict[str, tuple[Status, str]] = {}
    for control_id, found in raw.items():
        if not (isinstance(control_id, str) and CONTROL_ID.match(control_id)
                and isinstance(found, Mapping)):
            continue
        try:
            status = Status(str(found.get("status")))
        except ValueError:
            continue
        judged[control_id] = (status, str(found.get("evidence", "")))
    return judged


def _judge(event: AnsibleEvent, mode: Mode) -> tuple[Status, str] | None:
    """What one event says about the controls it is tagged with (None: nothing)."""
    message = event.message
    if event.kind == "runner_on_skipped":
        if event.action == "assert":
            return Status.SKIPPED, str(event.result.get("skip_reason", "skipped"))
        return None
    if event.action == "debug":
        return None
    if event.action == "assert":
        if event.failed:
            return Status.FAIL, message
        return Status.PASS, message
    return _judge_change(event.task, message, event.failed, event.changed, event.result, mode)


def _judge_change(name: str, message: str, failed: bool, changed: bool,
                  result: Mapping[str, Any], mode: Mode) -> tuple[Status, str] | None:
    """A desired-state task or step: failed is an error; in an audit, "would change" means
    its controls do not hold (None: it holds, or apply made it hold)."""
    if failed:
        return Status.ERROR, f"{name}: {message}"
    if changed and mode is Mode.AUDIT:
        diff = _diff_text(result)
        return Status.FAIL, f"would change: {name}" + (f"\n{diff}" if diff else "")
    return None


def _state_steps(event: AnsibleEvent,
                 mode: Mode) -> list[tuple[list[str], tuple[Status, str] | None]] | None:
    """Each step of a ``dlict_state`` task that ran: its controls and what it says about them
    (judged as the step's own task would be), or None for any other event."""
    raw = event.result.get("dlict_steps") if event.kind in ("runner_on_ok",
                                                            "runner_on_failed") else None
    if not isinstance(raw, list):
        return None
    steps = []
    for step in raw:
        if not isinstance(step, Mapping):
            continue
        if step.get("skipped"):
            continue
        controls = [str(c) for c in step.get("controls") or [] if CONTROL_ID.match(str(c))]
        steps.append((controls, _judge_change(
            str(step.get("name", event.task)), str(step.get("msg", "")).strip() or "failed",
            bool(step.get("failed")), bool(step.get("changed")), step, mode)))
    return steps


def results_from_events(
    events: Sequence[AnsibleEvent],
    outcome_hosts: Iterable[str],
    controls: Sequence[Control],
    inventory: Inventory,
    mode: Mode,
) -> list[Result]:
    """One result per (host, control) for every host Ansible worked on.

    A control with no event at all on a host is an error ("not checked"), so a role that
    forgets a control cannot pass silently; when its area stopped on that host (a task failed
    and the area play's rescue reported it), the evidence says where. A failed task, rescued or
    not, is an error of the controls it is tagged with; the host's other areas are judged on
    their own events.
    """
    wanted = {c.id for c in controls}
    verdicts: dict[tuple[str, str], _Verdict] = {}
    unreachable: dict[str, str] = {}
    stopped: dict[tuple[str, str], str] = {}
    for event in events:
        if event.unreachable:
            unreachable.setdefault(event.host, event.message or "unreachable")
            continue
        area_stop = _area_stopped(event)
        if area_stop is not None:
            for area in area_stop[0]:
                stopped.setdefault((event.host, area), area_stop[1])
            continue
        judged_area = _area_verdicts(event)
        if judged_area is not None:
            for control_id, (status, evidence) in judged_area.items():
                if control_id in wanted:
                    verdicts.setdefault((event.host, control_id), _Verdict()).offer(
                        status, evidence)
            continue
        steps = _state_steps(event, mode)
        if steps is not None:
            for step_ids, step_judged in steps:
                for control_id in (i for i in step_ids if i in wanted):
                    verdicts.setdefault((event.host, control_id), _Verdict()).take(step_judged)
            continue
        ids = [i for i in _control_ids(event.tags) if i in wanted]
        if not ids:
            continue
        if event.action == "debug" and event.kind == "runner_on_ok":
            for control_id in ids:
                verdicts.setdefault((event.host, control_id), _Verdict()).notes.append(
                    str(event.result.get("msg", "")))
            continue
        judged = _judge(event, mode)
        for control_id in ids:
            verdicts.setdefault((event.host, control_id), _Verdict()).take(judged)

    results = []
    for host_name in sorted(set(outcome_hosts) | set(unreachable)):
        host = inventory.hosts.get(host_name)
        if host is None:
            continue
        for control in controls_for(host, controls):
            if host_name in unreachable:
                status, evidence = Status.UNREACHABLE, unreachable[host_name]
            else:
                verdict = verdicts.get((host_name, control.id), _Verdict())
                if not verdict.seen:
                    why = stopped.get((host_name, control.area),
                                      "no task reported this control")
                    status, evidence = Status.ERROR, f"not checked: {why}"
                else:
                    status = verdict.status
                    evidence = verdict.evidence
                    if status is Status.SKIPPED and verdict.notes:
                        evidence = "; ".join(verdict.notes)
            results.append(Result(site=host.site, host=host_name, control=control.id,
                                  status=status, evidence=redact(evidence)[:EVIDENCE_LIMIT]))
    return results


@dataclass
class SopRun:
    mode: Mode
    areas: list[str]
    results: list[Result]
    outcome: PlaybookOutcome

    def changed_by_host(self) -> dict[str, int]:
        """Tasks (each dlict_state step counted) changed per host; every host Ansible worked on
        appears, 0 included."""
        changed = dict(self.outcome.stats.get("changed") or {})
        for event in self.outcome.events:
            # A dlict_state task is one task in Ansible's stats, which count a changed task
            # only when it did not fail (or its failure was ignored); each step that changed
            # is a change to the user.
            steps = event.result.get("dlict_steps")
            if not isinstance(steps, list):
                continue
            counted = event.changed and (not event.failed or event.ignore_errors)
            extra = sum(1 for s in steps if isinstance(s, Mapping) and s.get("changed")) \
                - int(counted)
            changed[event.host] = int(changed.get(event.host, 0)) + max(extra, 0)
        return {h: int(changed.get(h, 0)) for h in sorted(self.outcome.hosts_with("processed"))}


def split_hosts(hosts: Sequence[str], runs: int) -> list[str]:
    """``hosts`` dealt round-robin over ``runs`` Ansible programs that run at once, as
    comma-separated host lists; none means one program with the caller's own limit."""
    count = max(1, min(runs, len(hosts)))
    if count == 1:
        return []
    return [",".join(hosts[i::count]) for i in range(count)]


def _play_areas(selected: list[str], windows: bool) -> list[list[str]]:
    """The areas each play of the run judges, in play order (the Windows play judges the
    PCs' controls of every area at once)."""
    return [[area] for area in selected] + ([list(selected)] if windows else [])


class _AreaTracker:
    """Hands over each area's results once its play has ended on every host: Ansible runs the
    plays one after another, so the start of the next play (or the end of the run) means the
    area before it is final."""

    def __init__(self, play_areas: list[list[str]], catalog: Catalog, inventory: Inventory,
                 mode: Mode, on_area_done: Callable[[list[Result]], None] | None,
                 on_event: Callable[[AnsibleEvent], None] | None) -> None:
        self.play_areas = play_areas
        self.catalog = catalog
        self.inventory = inventory
        self.mode = mode
        self.on_area_done = on_area_done
        self.forward = on_event
        self.events: list[AnsibleEvent] = []
        self.plays_started = 0

    def event(self, event: AnsibleEvent) -> None:
        self.events.append(event)
        if self.forward is not None:
            self.forward(event)

    def play(self, _name: str) -> None:
        if self.plays_started:
            self._ended(self.plays_started - 1)
        self.plays_started += 1

    def _ended(self, index: int) -> None:
        if self.on_area_done is None or index >= len(self.play_areas):
            return
        controls = self.catalog.in_areas(self.play_areas[index])
        hosts = {e.host for e in self.events}
        self.on_area_done(results_from_events(self.events, hosts, controls, self.inventory,
                                              self.mode))


def run_sop(
    inventory: Inventory,
    catalog: Catalog,
    areas: Sequence[str],
    mode: Mode,
    *,
    limit: str | None = None,
    check: bool = False,
    diff: bool = False,
    forks: int = 20,
    timeout: int = 20,
    mitogen: bool = True,
    runs: int = 1,
    workers: WorkerSetup | None = None,
    on_event: Callable[[AnsibleEvent], None] | None = None,
    on_area_done: Callable[[list[Result]], None] | None = None,
) -> SopRun:
    """Run the areas' playbooks (apply, or audit in check mode) and judge every control.

    ``on_area_done`` gets each area's results as soon as its play has ended on every host
    (the caller stores them, so an interrupted run keeps them); ``SopRun.results`` has them
    all again at the end. An audit (or check) deals the hosts over ``runs`` Ansible
    programs at once (``split_hosts``); an apply stays one program, whose plays keep every
    host in step (a school's log forwarding is verified after the log server was set up).
    With ``workers``, an audit deals the hosts over the worker nodes instead, one part each,
    and they run the plays (playbooks/workers.py).

    Raises:
        InputError: an unknown area, or worker nodes for an apply.
    """
    selected = resolve_areas(areas)
    controls = catalog.in_areas(selected)
    audit = mode is Mode.AUDIT
    judged_as = Mode.AUDIT if audit or check else Mode.APPLY
    has_pcs = bool(inventory.hosts_in_role(Role.WINDOWS_ENDPOINT))
    windows = has_pcs and windows_collections_installed()
    not_run = _windows_not_run(inventory, limit, controls) if has_pcs and not windows else []
    if not_run:
        logger.warning("Windows PCs not checked: the ansible.windows collection is not "
                       "installed (pip install 'dlict[windows]')")
    tracker = _AreaTracker(_play_areas(selected, windows), catalog, inventory, judged_as,
                           on_area_done, on_event)
    if workers is not None and not (audit or check):
        raise InputError("worker nodes run audits only: an apply runs from this machine")
    programs = len(workers.nodes) if workers is not None else runs
    split = programs > 1 and (audit or check)
    parts = split_hosts(sop_hosts(inventory, limit), programs) if split else []
    if parts:
        logger.info("hosts dealt over {} Ansible programs at once{}", len(parts),
                    " on worker nodes" if workers is not None else "")
    with tempfile.TemporaryDirectory(prefix="dlict-sop-") as workdir:
        playbook = _playbook_for(selected, Path(workdir), windows)
        outcome = run_playbook(
            playbook, Path(inventory.source), limit=limit, parts=parts, check=audit or check,
            diff=audit or diff, skip_tags=[APPLY_ONLY_TAG] if audit else [],
            extravars={"dlict_mode": mode.value}, forks=forks,
            timeout=timeout, mitogen=mitogen, workers=workers, on_event=tracker.event,
            on_play=tracker.play,
        )
    hosts = outcome.hosts_with("processed")
    results = results_from_events(outcome.events, hosts, controls, inventory, judged_as)
    return SopRun(mode=mode, areas=selected, results=[*results, *not_run], outcome=outcome)
