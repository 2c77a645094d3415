"""Ansible callback: write each task's effective tags, keyed by its uuid, for dlict's runner.

ansible-runner's events carry the task's uuid but not its tags; dlict maps events to SOP
controls by their tags, so this plugin (enabled only in dlict's own runs) appends one JSON
line per task to the file named by $DLICT_TAGS_FILE as each task starts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: dlict_tags
    type: aggregate
    short_description: record task tags for dlict
    description: Writes {uuid, tags} of every task to the file in DLICT_TAGS_FILE.
    requirements: [DLICT_TAGS_FILE set in the environment]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "dlict_tags"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        path = os.environ.get("DLICT_TAGS_FILE")
        self._out = Path(path).open("a", encoding="utf-8") if path else None  # noqa: SIM115

    def _record(self, task: Any) -> None:
        if self._out is None:
            return
        self._out.write(json.dumps({"uuid": task._uuid, "tags": sorted(task.tags)}) + "\n")
        self._out.flush()

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._record(task)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._record(task)
