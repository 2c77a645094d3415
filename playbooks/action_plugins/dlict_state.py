"""A group of one area's desired-state steps run as one Ansible task.

Each step is an ordinary Ansible module call (``ansible.builtin.template``, ``lineinfile``,
``service``, ``apt``…) with the same arguments it had as a task of its own; what changes is
that Ansible's per-task work on the controller (a worker process, the task's variables, the
events) is paid once per group instead of once per step. Apply runs the steps for real, an
audit in check mode: the modules themselves say what would change, so a step is judged
exactly as its own task was.

Arguments: ``steps``, a list of mappings, each with

* ``name``: what the step does, shown in the evidence (``would change: <name>``);
* ``controls``: the control IDs the step serves;
* one module name as key, its arguments as value;
* optional ``when`` (true unless false: the step is skipped) and ``notify`` (handler names,
  notified only when this step changed).

An item of ``steps`` that is itself a list (a template that builds one step per account, say,
where a task of its own would have looped) is a run of steps in its place.

A step's module arguments are rendered only when the step runs (ansible-core 2.19 and later,
through the action's ``finalize_task_arg``): a step whose ``when`` is false costs no
templating, as a skipped task of its own did not; its name, controls, ``when`` and
``notify`` are rendered with the task.

Every step is checked before any runs (a malformed one changes nothing). The steps run in
order; the first that fails stops the group, and the task fails with that step's message,
like a failed task stops an area. One exception keeps handlers honest: when an earlier step
changed something with ``notify``, the task is not failed (Ansible drops the notifications
of a failed task, so the daemon would keep its old configuration) but returns
``dlict_stopped`` with the message; the role's next task stops the area on it (see
docs/playbooks.md). In check mode there is nothing for a handler to do, so the task fails
there as any other, and the stop tasks (tagged ``dlict_apply``) need not run in an audit.
The result's ``dlict_steps`` lists every step that ran (name, controls, changed, failed,
skipped, msg, diff) for dlict's judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.plugins.action import ActionBase

_STEP_KEYS = frozenset(("name", "controls", "when", "notify"))


class _Unrendered:
    """A step's module arguments as the playbook wrote them, rendered when the step runs."""

    __slots__ = ("args",)

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.args = args


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(("steps",))
    _requires_connection = True
    _supports_check_mode = True

    @classmethod
    def finalize_task_arg(cls, name: str, value: Any, templar: Any, context: Any) -> Any:
        """Render ``steps`` except each step's module arguments (ansible-core 2.19 calls this
        for every task argument; earlier releases render everything before ``run``)."""
        if name != "steps" or not isinstance(value, list):
            return super().finalize_task_arg(name, value, templar, context)
        return [cls._finalize_step(item, templar) for item in value]

    @staticmethod
    def _finalize_step(item: Any, templar: Any) -> Any:
        if not isinstance(item, Mapping):
            return templar.template(item)  # a template building a run of steps
        modules = [key for key in item if key not in _STEP_KEYS]
        lazy = modules[0] if len(modules) == 1 and isinstance(item[modules[0]], Mapping) else None
        return {key: _Unrendered(value) if key == lazy else templar.template(value)
                for key, value in item.items()}

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        given = self._task.args.get("steps") or []
        if not isinstance(given, list):
            return {**result, "failed": True, "msg": "dlict_state: steps must be a list"}
        steps = [step for item in given for step in (item if isinstance(item, list) else [item])]
        for number, step in enumerate(steps, 1):
            problem = _malformed(step) or self._unknown_module(step)
            if problem:
                return {**result, "failed": True, "msg": f"dlict_state: step {number}: {problem}"}
        done: list[dict[str, Any]] = []
        notify: list[str] = []
        for step in steps:
            module = _module_of(step)
            entry: dict[str, Any] = {"name": str(step["name"]),
                                     "controls": [str(c) for c in step.get("controls") or []]}
            if not _true(step.get("when", True)):
                done.append(entry | {"skipped": True})
                continue
            args = step[module]
            if isinstance(args, _Unrendered):
                args = self._templar.template(args.args)
            answer = self._run_step(module, dict(args or {}), task_vars)
            changed, failed = bool(answer.get("changed")), bool(answer.get("failed"))
            entry |= {"changed": changed, "failed": failed,
                      "skipped": bool(answer.get("skipped")),
                      "msg": str(answer.get("msg") or answer.get("stderr") or "")[:2000]}
            if "diff" in answer:
                entry["diff"] = answer["diff"]
            done.append(entry)
            if changed and not failed:
                wanted = step.get("notify") or []
                for handler in [wanted] if isinstance(wanted, str) else wanted:
                    if str(handler) not in notify:
                        notify.append(str(handler))
            if failed:
                stop = f"{entry['name']}: {entry['msg']}"
                if notify and not self._play_context.check_mode:
                    # Ansible notifies no handler for a failed task: stay ok so the handlers of
                    # the steps that changed still run, and let the role's next task stop. (In
                    # check mode a handler changes nothing: the task fails, and an audit need
                    # not run the stop tasks at all.)
                    return {**result, "changed": True, "dlict_steps": done,
                            "dlict_stopped": stop, "msg": stop, "_ansible_notify": notify}
                return {**result, "failed": True, "changed": any(d.get("changed") for d in done),
                        "dlict_steps": done, "msg": stop}
        changed_steps = [d["name"] for d in done if d.get("changed")]
        result.update(changed=bool(changed_steps), dlict_steps=done,
                      msg=("changed: " + "; ".join(changed_steps)) if changed_steps
                      else f"{len(done)} steps hold")
        if notify:
            # Ansible notifies the handlers a result names when the task changed: only those
            # of the steps that changed (the task itself has no notify:).
            result["_ansible_notify"] = notify
        return result

    def _unknown_module(self, step: Mapping[str, Any]) -> str:
        module = _module_of(step)
        loaders = self._shared_loader_obj
        if loaders.action_loader.has_plugin(module, collection_list=self._task.collections) \
                or loaders.module_loader.has_plugin(module, collection_list=self._task.collections):
            return ""
        return f"'{step['name']}': no module or action named {module}"

    def _run_step(self, module: str, args: dict[str, Any],
                  task_vars: dict[str, Any]) -> dict[str, Any]:
        """One module call, through its action plugin where it has one (template, copy,
        service), exactly as Ansible runs it for a task of its own."""
        loader = self._shared_loader_obj.action_loader
        if not loader.has_plugin(module, collection_list=self._task.collections):
            return dict(self._execute_module(module_name=module, module_args=args,
                                             task_vars=task_vars))
        # The parent blocks' task lists are not needed to run one module: copying them (and
        # again in the template action's own copy of this task) was a few % of an audit.
        step_task = self._task.copy(exclude_tasks=True)
        step_task.args = args
        step_task.action = module
        action = loader.get(module, task=step_task, connection=self._connection,
                            play_context=self._play_context, loader=self._loader,
                            templar=self._templar, shared_loader_obj=self._shared_loader_obj)
        return dict(action.run(task_vars=task_vars))


_TRUTH = {"true": True, "yes": True, "false": False, "no": False}


def _module_of(step: Mapping[str, Any]) -> str:
    return next(str(k) for k in step if k not in _STEP_KEYS)


def _malformed(step: Any) -> str:
    if not isinstance(step, Mapping):
        return "not a mapping"
    if not step.get("name"):
        return "no name"
    modules = [k for k in step if k not in _STEP_KEYS]
    if len(modules) != 1:
        return f"'{step.get('name')}' names {len(modules)} modules; expected one"
    if not isinstance(step[modules[0]], Mapping | _Unrendered | None):
        return f"'{step.get('name')}': the arguments of {modules[0]} are not a mapping"
    when = step.get("when", True)
    if not isinstance(when, bool) and str(when).strip().lower() not in _TRUTH:
        # the step's arguments are templated before the plugin sees them: a bare condition
        # would arrive as a non-empty string and always hold
        return (f"'{step.get('name')}': when is {when!r}, not true or false; write the "
                "condition as \"{{ ... }}\"")
    return ""


def _true(value: Any) -> bool:
    return value if isinstance(value, bool) else _TRUTH[str(value).strip().lower()]
