"""One SOP area of a Linux host checked in one task: ``dlict_observe`` gathers every
observation on the host in one round trip, and the area's judge in ``dlict.controls.linux``
(pure Python, on the controller) gives each control its verdict.

The task's result carries ``dlict_verdicts`` (control id → status and evidence), which dlict
reads as it read one assert per control before; the task fails (the playbook marks it
ignored) when a control fails, so a plain ``ansible-playbook`` run shows it too.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

from dlict.controls.linux import judge_area
from dlict.core.results import Status


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("area", "probes", "inputs"))
    _requires_connection = True

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        area, probes, inputs = args.get("area"), args.get("probes") or [], args.get("inputs") or {}
        observed = self._execute_module(module_name="dlict_observe",
                                        module_args={"probes": list(probes)},
                                        task_vars=task_vars)
        if observed.get("failed") or "observed" not in observed:
            result.update(failed=True,
                          msg=f"the {area} probes did not run: {observed.get('msg', 'no answer')}")
            return result
        try:
            verdicts = judge_area(str(area), observed["observed"], inputs)
        except ValueError as exc:  # a playbook naming an area dlict has no judge for
            result.update(failed=True, msg=str(exc))
            return result
        failing = [v for v in verdicts if v.status not in (Status.PASS, Status.SKIPPED)]
        result.update(
            changed=False,
            failed=bool(failing),
            dlict_verdicts={v.control: {"status": v.status.value, "evidence": v.evidence}
                            for v in verdicts},
            msg="; ".join(f"{v.control} {v.status.value}: {v.evidence}" for v in failing)
            or f"every {area} control holds",
        )
        return result
