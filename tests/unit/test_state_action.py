"""The ``dlict_state`` action plugin (playbooks/action_plugins/dlict_state.py) run for real:
ansible-playbook on this machine (connection local), on files under pytest's tmp folder only.

One playbook holds every case; it runs three times (an audit in check mode with diffs, an
apply, the same apply again) and each run leaves what every group returned in a JSON file
(``register`` and ``to_json``: no callback plugin beyond ansible-core is needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ACTION_PLUGINS = Path(__file__).parents[2] / "playbooks" / "action_plugins"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

SCHOOL = "บ้านหนองบัว"
RULES = "table inet filter {\n  chain input { policy drop; }\n}\n"
OLD_RULES = "table inet filter {\n  chain input { policy accept; }\n}\n"

PLAYBOOK = """\
- name: dlict_state on this machine
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    school: "@SCHOOL@"
  tasks:
    - name: The desired state
      dlict_state:
        steps:
          - name: FW-04 write the rule set
            controls: [FW-04]
            ansible.builtin.copy:
              content: @RULES@
              dest: "{{ d }}/rules.conf"
            notify: reload rules
          - name: FW-01 keep the banner
            controls: [FW-01]
            ansible.builtin.copy:
              content: "banner\\n"
              dest: "{{ d }}/banner.txt"
            notify: show the banner
          - name: FW-03 render the school's page
            controls: [FW-03]
            ansible.builtin.template:
              src: school.j2
              dest: "{{ d }}/school.txt"
          - name: FW-05 a step switched off
            controls: [FW-05]
            when: false
            ansible.builtin.copy:
              content: "off\\n"
              dest: "{{ d }}/off.txt"
          - name: FW-05 a step whose condition is false
            controls: [FW-05]
            when: "{{ school == 'elsewhere' }}"
            ansible.builtin.copy:
              content: "off\\n"
              dest: "{{ d }}/off-too.txt"
      register: desired

    - name: A group whose second step fails
      dlict_state:
        steps:
          - name: FW-01 write before the failure
            controls: [FW-01]
            ansible.builtin.copy:
              content: "first\\n"
              dest: "{{ d }}/before.txt"
          - name: FW-02 edit a file that is not there
            controls: [FW-02]
            ansible.builtin.lineinfile:
              path: "{{ d }}/missing.conf"
              line: "x"
          - name: FW-03 write after the failure
            controls: [FW-03]
            ansible.builtin.copy:
              content: "never\\n"
              dest: "{{ d }}/after.txt"
      register: failing
      ignore_errors: true

    - name: A group that stops after a step that notified a handler
      dlict_state:
        steps:
          - name: FW-04 write the second rule set
            controls: [FW-04]
            ansible.builtin.copy:
              content: "v2\\n"
              dest: "{{ d }}/rules2.conf"
            notify: reload the second rules
          - name: FW-02 edit another file that is not there
            controls: [FW-02]
            ansible.builtin.lineinfile:
              path: "{{ d }}/missing2.conf"
              line: "x"
      register: stopped
      ignore_errors: true

    - name: Steps built by a template, one per account, between two written ones
      dlict_state:
        steps:
          - name: ID-09 before the accounts
            controls: [ID-09]
            ansible.builtin.copy:
              content: "before\\n"
              dest: "{{ d }}/accounts-before.txt"
          - "{{ account_steps }}"
          - "{{ [] }}"
          - name: ID-09 after the accounts
            controls: [ID-09]
            ansible.builtin.copy:
              content: "after\\n"
              dest: "{{ d }}/accounts-after.txt"
      vars:
        account_steps: >-
          {%- set found = namespace(steps=[]) -%}
          {%- for name in ['somchai', 'malee'] -%}
          {%- set found.steps = found.steps + [{
                'name': 'ID-09 the account file of ' ~ name, 'controls': ['ID-09'],
                'ansible.builtin.copy': {'content': name ~ '\\n',
                                         'dest': d ~ '/account-' ~ name ~ '.txt'}}] -%}
          {%- endfor -%}
          {{ found.steps }}
      register: built

    - name: Arguments rendered only for the steps that run
      dlict_state:
        steps:
          - name: EP-01 a skipped step may name what only a running step would have
            controls: [EP-01]
            when: "{{ school == 'elsewhere' }}"
            ansible.builtin.copy:
              content: "{{ only_elsewhere.rules }}"
              dest: "{{ d }}/elsewhere.txt"
          - name: EP-01 a step that leaves an argument out
            controls: [EP-01]
            ansible.builtin.copy:
              content: "{{ school }}"
              dest: "{{ d }}/omitted.txt"
              mode: "{{ omit }}"
      register: lazy

    - name: A step whose condition was not templated
      dlict_state:
        steps:
          - name: a bare condition
            when: "school == 'elsewhere'"
            ansible.builtin.copy:
              content: "x\\n"
              dest: "{{ d }}/bare.txt"
      register: bare_condition
      ignore_errors: true

    - name: A step naming a module that does not exist
      dlict_state:
        steps:
          - name: no such module
            dlict.nowhere.nothing:
              path: x
      register: unknown_module
      ignore_errors: true

    - name: A step that names two modules
      dlict_state:
        steps:
          - name: a step that is fine
            ansible.builtin.copy:
              content: "fine\\n"
              dest: "{{ d }}/fine.txt"
          - name: two modules
            ansible.builtin.copy:
              content: "x\\n"
              dest: "{{ d }}/two-copy.txt"
            ansible.builtin.file:
              path: "{{ d }}/two-file.txt"
              state: touch
      register: two_modules
      ignore_errors: true

    - name: A step without a name
      dlict_state:
        steps:
          - controls: [FW-01]
            ansible.builtin.copy:
              content: "x\\n"
              dest: "{{ d }}/nameless.txt"
      register: nameless
      ignore_errors: true

    - name: Keep what every group returned
      ansible.builtin.copy:
        content: >-
          {{ {'desired': desired, 'failing': failing, 'two_modules': two_modules,
              'nameless': nameless, 'stopped': stopped, 'bare_condition': bare_condition,
              'unknown_module': unknown_module, 'built': built, 'lazy': lazy} | to_json }}
        dest: "{{ results }}"
      check_mode: false

  handlers:
    - name: reload rules
      ansible.builtin.lineinfile:
        path: "{{ d }}/handlers.log"
        line: "{{ run }}: reload rules"
        create: true
    - name: show the banner
      ansible.builtin.lineinfile:
        path: "{{ d }}/handlers.log"
        line: "{{ run }}: show the banner"
        create: true
    - name: reload the second rules
      ansible.builtin.lineinfile:
        path: "{{ d }}/handlers.log"
        line: "{{ run }}: reload the second rules"
        create: true
""".replace("@SCHOOL@", SCHOOL).replace("@RULES@", json.dumps(RULES))


@dataclass
class Run:
    """One ansible-playbook run: what each group returned, the managed files afterwards."""

    groups: dict[str, dict[str, Any]]
    files: dict[str, str]
    leftovers: list[str]  # what Ansible's temporary folders still hold
    output: str

    def steps(self, group: str) -> dict[str, dict[str, Any]]:
        return {step["name"]: step for step in self.groups[group].get("dlict_steps", [])}


def _environment(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_ACTION_PLUGINS=str(ACTION_PLUGINS),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_HOME=str(work / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(work / "tmp-local"),
        ANSIBLE_REMOTE_TEMP=str(work / "tmp-remote"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    return env


def _play(work: Path, run: str, *options: str) -> Run:
    host = work / "host"
    results = work / f"results-{run}.json"
    extra = json.dumps({"d": str(host), "run": run, "results": str(results)})
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-e", extra, *options,
         str(work / "play" / "state.yml")],
        cwd=work, env=_environment(work), capture_output=True, text=True, timeout=120,
        check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    files = {p.name: p.read_text() for p in sorted(host.iterdir()) if p.is_file()}
    leftovers = [str(p) for temp in ("tmp-local", "tmp-remote") if (work / temp).exists()
                 for p in (work / temp).iterdir()]
    return Run(groups=json.loads(results.read_text()), files=files, leftovers=leftovers,
               output=output)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The playbook run as an audit (--check --diff), an apply, and the apply again."""
    assert ANSIBLE_PLAYBOOK.exists(), "ansible-playbook is not installed beside this Python"
    work = tmp_path_factory.mktemp("dlict-state")
    (work / "play" / "templates").mkdir(parents=True)
    (work / "play" / "state.yml").write_text(PLAYBOOK)
    (work / "play" / "templates" / "school.j2").write_text("โรงเรียน{{ school }}\n")
    (work / "host").mkdir()
    (work / "host" / "rules.conf").write_text(OLD_RULES)
    (work / "host" / "banner.txt").write_text("banner\n")
    return {"audit": _play(work, "audit", "--check", "--diff"),
            "apply": _play(work, "apply"),
            "again": _play(work, "again")}


def test_an_audit_says_what_would_change_and_leaves_the_files_alone(
        runs: dict[str, Run]) -> None:
    audit = runs["audit"]
    desired = audit.groups["desired"]
    assert desired["changed"] is True and not desired.get("failed")
    rules = audit.steps("desired")["FW-04 write the rule set"]
    assert rules["controls"] == ["FW-04"]
    assert (rules["changed"], rules["failed"], rules["skipped"]) == (True, False, False)
    assert [(d["before"], d["after"]) for d in rules["diff"]] == [(OLD_RULES, RULES)]
    banner = audit.steps("desired")["FW-01 keep the banner"]
    assert (banner["changed"], banner["failed"]) == (False, False)
    # check mode: nothing on disk moved, nothing was created
    assert audit.files == {"rules.conf": OLD_RULES, "banner.txt": "banner\n"}
    assert "handlers.log" not in audit.files


def test_every_run_removes_its_temporary_files(runs: dict[str, Run]) -> None:
    assert {name: run.leftovers for name, run in runs.items()} == {
        "audit": [], "apply": [], "again": []}


def test_a_template_step_finds_its_template_beside_the_playbook(runs: dict[str, Run]) -> None:
    page = f"โรงเรียน{SCHOOL}\n"
    would = runs["audit"].steps("desired")["FW-03 render the school's page"]
    assert would["changed"] is True and not would["failed"], would["msg"]
    assert [d["after"] for d in would["diff"]] == [page]
    assert runs["apply"].steps("desired")["FW-03 render the school's page"]["changed"] is True
    assert runs["apply"].files["school.txt"] == page


def test_apply_writes_the_files_and_a_second_run_changes_nothing(
        runs: dict[str, Run]) -> None:
    apply, again = runs["apply"], runs["again"]
    assert apply.files["rules.conf"] == RULES
    assert apply.files["banner.txt"] == "banner\n"
    assert {name for name, s in apply.steps("desired").items() if s.get("changed")} == {
        "FW-04 write the rule set", "FW-03 render the school's page"}
    assert apply.groups["desired"]["msg"] == (
        "changed: FW-04 write the rule set; FW-03 render the school's page")
    # idempotent: the same steps again hold, change nothing, and say so
    assert again.groups["desired"]["changed"] is False
    assert [s.get("changed") for s in again.steps("desired").values() if not s["skipped"]] == [
        False, False, False]
    assert again.groups["desired"]["msg"] == "5 steps hold"
    assert {k: v for k, v in again.files.items() if k != "handlers.log"} == {
        k: v for k, v in apply.files.items() if k != "handlers.log"}


def test_a_step_whose_condition_is_false_is_skipped_and_touches_nothing(
        runs: dict[str, Run]) -> None:
    for run in runs.values():
        steps = run.steps("desired")
        for name in ("FW-05 a step switched off", "FW-05 a step whose condition is false"):
            assert steps[name] == {"name": name, "controls": ["FW-05"], "skipped": True}
        assert "off.txt" not in run.files and "off-too.txt" not in run.files


def test_a_step_renders_its_arguments_only_when_it_runs(runs: dict[str, Run]) -> None:
    """As with a task of its own: a false condition leaves the arguments unrendered (an
    undefined variable there is no error), and an argument rendered to omit is left out."""
    for name, run in runs.items():
        steps = run.steps("lazy")
        assert not run.groups["lazy"].get("failed"), run.groups["lazy"]
        assert steps["EP-01 a skipped step may name what only a running step would have"] == {
            "name": "EP-01 a skipped step may name what only a running step would have",
            "controls": ["EP-01"], "skipped": True}
        written = steps["EP-01 a step that leaves an argument out"]
        assert not written["failed"], written["msg"]
        assert written["changed"] is (name != "again")
        assert "elsewhere.txt" not in run.files
    assert runs["apply"].files["omitted.txt"] == SCHOOL


def test_a_failing_step_stops_the_group_and_the_task_fails_with_its_name(
        runs: dict[str, Run]) -> None:
    for run in runs.values():
        failing = run.groups["failing"]
        assert failing["failed"] is True
        assert failing["msg"].startswith("FW-02 edit a file that is not there: ")
        assert "missing.conf does not exist" in failing["msg"]
        assert list(run.steps("failing")) == ["FW-01 write before the failure",
                                              "FW-02 edit a file that is not there"]
        assert run.steps("failing")["FW-02 edit a file that is not there"]["failed"] is True
        assert "after.txt" not in run.files  # the step after the failure never ran
    assert runs["apply"].files["before.txt"] == "first\n"  # the step before it did
    assert runs["apply"].groups["failing"]["changed"] is True
    assert runs["again"].groups["failing"]["changed"] is False


def test_only_the_handlers_of_the_steps_that_changed_run(runs: dict[str, Run]) -> None:
    assert "handlers.log" not in runs["audit"].files
    # the banner held; the second rules changed before their group stopped (below)
    assert runs["apply"].files["handlers.log"] == (
        "apply: reload rules\napply: reload the second rules\n")
    assert runs["again"].files["handlers.log"] == runs["apply"].files["handlers.log"]


def test_a_group_that_stops_after_a_notifying_change_still_runs_that_handler(
        runs: dict[str, Run]) -> None:
    # Ansible notifies no handler for a failed task: the group stays ok and says where it
    # stopped (the role's next task stops the area), so the changed file's handler runs.
    stopped = runs["apply"].groups["stopped"]
    assert not stopped.get("failed") and stopped["changed"] is True
    assert stopped["dlict_stopped"].startswith("FW-02 edit another file that is not there: ")
    assert runs["apply"].files["rules2.conf"] == "v2\n"
    assert "apply: reload the second rules" in runs["apply"].files["handlers.log"]
    # nothing changed the second time: nothing to notify, so the group simply fails
    again = runs["again"].groups["stopped"]
    assert again["failed"] is True and "dlict_stopped" not in again
    assert again["msg"].startswith("FW-02 edit another file that is not there: ")


def test_an_audit_fails_the_group_at_once_even_after_a_notifying_change(
        runs: dict[str, Run]) -> None:
    # In check mode a handler has nothing to do: the group fails like any task, so an audit
    # can leave the role's stop tasks out (dlict runs it with --skip-tags dlict_apply).
    stopped = runs["audit"].groups["stopped"]
    assert stopped["failed"] is True and "dlict_stopped" not in stopped
    assert stopped["msg"].startswith("FW-02 edit another file that is not there: ")
    assert runs["audit"].steps("stopped")["FW-04 write the second rule set"]["changed"] is True


def test_a_list_in_the_steps_is_a_run_of_steps_in_its_place(runs: dict[str, Run]) -> None:
    names = [step["name"] for step in runs["apply"].groups["built"]["dlict_steps"]]
    assert names == ["ID-09 before the accounts", "ID-09 the account file of somchai",
                     "ID-09 the account file of malee", "ID-09 after the accounts"]
    assert runs["apply"].files["account-somchai.txt"] == "somchai\n"
    assert runs["apply"].files["account-malee.txt"] == "malee\n"
    audit = runs["audit"].steps("built")
    assert audit["ID-09 the account file of malee"]["changed"] is True
    assert "account-malee.txt" not in runs["audit"].files
    assert runs["again"].groups["built"]["changed"] is False


def test_a_condition_that_was_not_templated_or_an_unknown_module_is_refused(
        runs: dict[str, Run]) -> None:
    for run in runs.values():
        assert run.groups["bare_condition"]["failed"] is True
        assert run.groups["bare_condition"]["msg"].startswith(
            "dlict_state: step 1: 'a bare condition': when is \"school == 'elsewhere'\"")
        assert "bare.txt" not in run.files
        assert run.groups["unknown_module"]["msg"] == (
            "dlict_state: step 1: 'no such module': no module or action named "
            "dlict.nowhere.nothing")


def test_a_malformed_step_fails_the_group_naming_the_step(runs: dict[str, Run]) -> None:
    for run in runs.values():
        assert run.groups["two_modules"]["failed"] is True
        assert run.groups["two_modules"]["msg"] == (
            "dlict_state: step 2: 'two modules' names 2 modules; expected one")
        assert run.groups["nameless"]["failed"] is True
        assert run.groups["nameless"]["msg"] == "dlict_state: step 1: no name"
        assert not {"two-copy.txt", "two-file.txt", "nameless.txt"} & set(run.files)


def test_a_malformed_group_runs_none_of_its_steps(runs: dict[str, Run]) -> None:
    assert "fine.txt" not in runs["apply"].files
