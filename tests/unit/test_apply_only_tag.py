"""Every Linux role task that an audit never runs carries the tag ``dlict_apply``, which
``dlict audit`` skips (``--skip-tags``): a skipped task still costs the controller a worker
process per host, a task left out by tag costs nothing. The ``when:`` stays the rule, so this
checks that the tag and the rule agree in both directions, on the roles as shipped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from dlict.playbooks.sop import APPLY_ONLY_TAG

ROLES = Path(__file__).parents[2] / "playbooks" / "roles"
LINUX_ROLES = ("dlict_firewall", "dlict_antivirus", "dlict_endpoint", "dlict_identity",
               "dlict_logging")

#: a ``when:`` that no audit (check mode, dlict_mode audit) can pass
_APPLY_ONLY = re.compile(
    r"not ansible_check_mode\s*$|and not ansible_check_mode|dlict_mode \| default\('apply'\) "
    r"(== 'apply'|!= 'audit')|\.dlict_stopped is defined")


def _tasks(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        for key in ("block", "rescue", "always"):
            yield from _tasks(item.get(key) or [])


def _role_tasks() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for role in LINUX_ROLES:
        for path in sorted((ROLES / role / "tasks").glob("*.yml")):
            for task in _tasks(yaml.safe_load(path.read_text()) or []):
                found.append((f"{role}/{path.name}: {task.get('name')}", task))
    return found


def _when(task: dict[str, Any]) -> str:
    when = task.get("when", "")
    return " and ".join(when) if isinstance(when, list) else str(when).strip()


def test_every_task_an_audit_never_runs_carries_the_tag() -> None:
    untagged = [name for name, task in _role_tasks()
                if _APPLY_ONLY.search(_when(task))
                and APPLY_ONLY_TAG not in (task.get("tags") or [])]
    assert untagged == []


def test_a_tagged_task_is_one_an_audit_would_skip_anyway() -> None:
    # the tag only saves work: a task an audit must run never carries it
    tagged = [(name, _when(task)) for name, task in _role_tasks()
              if APPLY_ONLY_TAG in (task.get("tags") or [])]
    assert len(tagged) >= 10, tagged  # the stop tasks and the apply-only includes
    assert [t for t in tagged if not _APPLY_ONLY.search(t[1])] == []
