"""Run a playbook through ansible-runner's Python interface and hand each event to the caller.

dlict does not parse ansible-playbook's text output: ansible-runner gives structured events
(runner_on_ok, runner_on_failed, runner_on_unreachable, …) which the callers map to results.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from dlict.core.ansible_env import ansible_path, require_program, strategy_env
from dlict.core.logging import redact
from dlict.core.paths import data_path
from dlict.core.runner_dir import runner_dir

CALLBACK_DIR = Path(__file__).resolve().parent / "ansible_plugins" / "callback"

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


class _TaskTags:
    """Task uuid → tags, read from the dlict_tags callback's file as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tags: dict[str, tuple[str, ...]] = {}
        self._offset = 0

    def __call__(self, uuid: str) -> tuple[str, ...]:
        if uuid not in self.tags and self.path.exists():
            with self.path.open(encoding="utf-8") as tags_file:
                tags_file.seek(self._offset)
                for line in tags_file:
                    if line.endswith("\n"):
                        entry = json.loads(line)
                        self.tags[entry["uuid"]] = tuple(entry["tags"])
                        self._offset += len(line.encode("utf-8"))
        return self.tags.get(uuid, ())


def _to_event(
    raw: Mapping[str, Any], tags_of: Callable[[str], tuple[str, ...]]
) -> AnsibleEvent | None:
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
        tags=tags_of(str(data.get("task_uuid", ""))),
        changed=bool(res.get("changed", False)),
        ignore_errors=bool(data.get("ignore_errors")),
        result=res,
    )


def run_playbook(
    playbook: Path,
    inventory: Path,
    *,
    limit: str | None = None,
    check: bool = False,
    diff: bool = False,
    tags: Sequence[str] = (),
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
        check, diff: Ansible's check and diff modes.
        tags: run only tasks carrying these tags (control IDs).
        mitogen: run with the Mitogen strategy when it is installed.
        on_event: called for every per-host task outcome as it happens.
        on_play: called with a play's name as it starts (the plays before it have ended on
            every host).

    Returns:
        The run's status, return code, events and per-host stats.
    """
    require_program("ansible-playbook")
    events: list[AnsibleEvent] = []
    stats: dict[str, Any] = {}

    cmdline = " ".join(flag for flag, on in (("--check", check), ("--diff", diff)) if on)
    with runner_dir(cancellable=True) as private:
        # A control socket of its own per run: a multiplexed SSH connection left by an earlier
        # run would otherwise be reused without the host key being checked again.
        control_dir = private.path / "cp"
        control_dir.mkdir(mode=0o700)
        tags_file = private.path / "task-tags.jsonl"
        tags_of = _TaskTags(tags_file)

        def handle(raw: Mapping[str, Any]) -> bool:
            if raw.get("event") == "playbook_on_stats":
                stats.update(raw.get("event_data", {}))
            elif raw.get("event") == "playbook_on_play_start" and on_play is not None:
                on_play(str(raw.get("event_data", {}).get("play", "")))
            event = _to_event(raw, tags_of)
            if event is not None:
                events.append(event)
                if on_event is not None:
                    on_event(event)
            return False  # nothing to keep on disk: events live in the evidence store

        run = ansible_runner.run(
            private_data_dir=str(private.path),
            playbook=str(playbook.resolve()),
            inventory=str(inventory.resolve()),
            limit=limit,
            tags=",".join(tags) or None,
            extravars=dict(extravars or {}),
            forks=forks,
            cmdline=cmdline or None,
            envvars={
                "PATH": ansible_path(),
                "ANSIBLE_CONFIG": str(data_path("playbooks") / "ansible.cfg"),
                "ANSIBLE_HOST_KEY_CHECKING": "True",
                "ANSIBLE_TIMEOUT": str(timeout),
                "ANSIBLE_RETRY_FILES_ENABLED": "False",
                "ANSIBLE_NOCOLOR": "True",
                "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir),
                "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
                "ANSIBLE_CALLBACKS_ENABLED": "dlict_tags",
                "DLICT_TAGS_FILE": str(tags_file),
                **strategy_env(mitogen),
            },
            event_handler=handle,
            cancel_callback=private.stop_requested,
            quiet=True,
            # how often the cancel callback is asked: a stop signal waits at most this long
            settings={"suppress_ansible_output": True, "pexpect_timeout": 1},
        )
        return PlaybookOutcome(status=str(run.status), rc=int(run.rc or 0), events=events,
                               stats=stats)
