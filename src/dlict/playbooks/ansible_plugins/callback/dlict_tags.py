"""Ansible callback: put each task's effective tags into ansible-runner's events.

ansible-runner's events carry the task's uuid but not its tags; dlict maps events to SOP
controls by their tags. This plugin (enabled only in dlict's own runs) adds ``dlict_tags`` to
the event context of ansible-runner's display callback as each task starts, so the tags
travel inside every event of that task — also when the play runs on a remote worker node and
only its event stream comes back (ansible-runner transmit → worker → process).

Ansible calls the stdout callback (ansible-runner's) first, so the task context it sets is
already in place when this one adds to it; the linear strategy ends a task on every host
before the next one starts, so the tags never belong to another task's events.
"""

from __future__ import annotations

import sys
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: dlict_tags
    type: aggregate
    short_description: carry task tags in ansible-runner's events for dlict
    description: Adds dlict_tags (the task's tags) to ansible-runner's event data.
    requirements: [ansible-runner's awx_display as the stdout callback]
"""

EVENT_KEY = "dlict_tags"


def _runner_contexts() -> list[Any]:
    # ansible-runner's display callback is loaded by Ansible's plugin loader under a name of
    # its own: find its module-level event context by its type rather than by import path.
    return [module.event_context for module in list(sys.modules.values())
            if type(getattr(module, "event_context", None)).__name__ == "EventContext"]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "dlict_tags"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._contexts: list[Any] | None = None

    def _record(self, task: Any) -> None:
        if self._contexts is None:
            self._contexts = _runner_contexts()
            if not self._contexts:
                self._display.warning("dlict_tags: ansible-runner's event context was not "
                                      "found; dlict cannot judge this run's tasks")
        for context in self._contexts:
            context.add_global(**{EVENT_KEY: sorted(task.tags)})

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._record(task)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._record(task)
