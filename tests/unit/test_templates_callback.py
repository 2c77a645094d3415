"""The ``dlict_templates`` callback (compile each task's templates once, in Ansible's main
process, before the workers fork): real ansible-playbook on this machine (connection local,
three inventory hosts with variables of their own), run with the plugin and without it. Every
host must render exactly what Ansible renders without the plugin — the cache shares compiled
code, never a rendered value."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dlict.playbooks.runner import CALLBACK_DIR

ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

INVENTORY = """\
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  hosts:
    school-1: {who: "บ้านหนองบัว", path: 'C:\\\\share\\\\one', accounts: [somchai, malee]}
    school-2: {who: "วัดป่า", path: 'C:\\\\share\\\\two', accounts: []}
    office: {who: "office", path: '/srv/logs', accounts: [admin]}
"""

ROLE_VARS = """\
greeting: "สวัสดี {{ who }}"
account_steps: >-
  {%- set found = namespace(steps=[]) -%}
  {%- for name in accounts -%}
  {%- set found.steps = found.steps + [{'name': 'lock ' ~ name, 'user': {'name': name}}] -%}
  {%- endfor -%}
  {{ found.steps }}
"""

ROLE_TASKS = """\
- name: Render what every host has of its own
  ansible.builtin.copy:
    content: >-
      {{ {'greeting': greeting, 'steps': account_steps,
          'drive': path | regex_replace('^([A-Z]):.*$', '\\1'),
          'share': path | regex_replace('\\\\\\\\', '/'),
          'count': accounts | length, 'host': inventory_hostname} | to_json }}
    dest: "{{ out }}/{{ inventory_hostname }}.json"
    mode: "0644"
  vars:
    out: "{{ playbook_dir }}/out"
"""

PLAYBOOK = """\
- name: Templates per host
  hosts: all
  gather_facts: false
  roles: [render]
"""


def _run(work: Path, plugin: bool) -> tuple[dict[str, object], str]:
    out = work / "out"
    if out.exists():
        for path in out.iterdir():
            path.unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_HOME=str(work / "home"), ANSIBLE_LOCAL_TEMP=str(work / "tmp"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    if plugin:
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(CALLBACK_DIR),
                   ANSIBLE_CALLBACKS_ENABLED="dlict_templates")
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-v", "-i", "inventory.yml", "site.yml"], cwd=work, env=env,
        capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return {p.stem: json.loads(p.read_text()) for p in sorted(out.iterdir())}, output


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, object], str]]:
    assert ANSIBLE_PLAYBOOK.exists(), "ansible-playbook is not installed beside this Python"
    work = tmp_path_factory.mktemp("dlict-templates")
    (work / "roles" / "render" / "vars").mkdir(parents=True)
    (work / "roles" / "render" / "tasks").mkdir(parents=True)
    (work / "roles" / "render" / "vars" / "main.yml").write_text(ROLE_VARS)
    (work / "roles" / "render" / "tasks" / "main.yml").write_text(ROLE_TASKS)
    (work / "inventory.yml").write_text(INVENTORY)
    (work / "site.yml").write_text(PLAYBOOK)
    (work / "out").mkdir()
    return {"without": _run(work, plugin=False), "with": _run(work, plugin=True)}


def test_every_host_renders_what_ansible_renders_without_the_plugin(
        rendered: dict[str, tuple[dict[str, object], str]]) -> None:
    with_plugin, output = rendered["with"]
    assert with_plugin == rendered["without"][0]
    assert "compiling ahead is off" not in output
    # the plugin ran: the role's templates were compiled in the main process
    compiled = re.search(r"dlict_templates: (\d+) templates compiled in the main process", output)
    assert compiled is not None and int(compiled.group(1)) >= 5, output[-2000:]
    assert "dlict_templates" not in rendered["without"][1]


def test_the_same_template_gives_each_host_its_own_values(
        rendered: dict[str, tuple[dict[str, object], str]]) -> None:
    hosts, _ = rendered["with"]
    assert set(hosts) == {"school-1", "school-2", "office"}
    assert hosts["school-1"] == {
        "greeting": "สวัสดี บ้านหนองบัว", "drive": "C",
        "share": "C:/share/one", "count": 2, "host": "school-1",
        "steps": [{"name": "lock somchai", "user": {"name": "somchai"}},
                  {"name": "lock malee", "user": {"name": "malee"}}]}
    assert hosts["school-2"]["steps"] == [] and hosts["school-2"]["greeting"] == "สวัสดี วัดป่า"
    assert hosts["office"]["steps"] == [{"name": "lock admin", "user": {"name": "admin"}}]


def test_the_cache_keeps_one_compiled_template_for_every_host() -> None:
    # in this process: the plugin's cache in front of Jinja's compile, one source rendered
    # with two hosts' variables is compiled once and rendered twice
    sys.path.insert(0, str(CALLBACK_DIR))
    try:
        import dlict_templates
    finally:
        sys.path.remove(str(CALLBACK_DIR))
    from ansible._internal._datatag._tags import TrustedAsTemplate
    from ansible._internal._templating._engine import TemplateEngine
    from ansible._internal._templating._jinja_bits import AnsibleEnvironment

    assert dlict_templates._installed()
    cache = AnsibleEnvironment._dlict_compile_cache  # type: ignore[attr-defined]
    source = TrustedAsTemplate().tag("โรงเรียน{{ who }} {{ 'x\\1' }}")
    before = len(cache)
    said = [TemplateEngine(variables={"who": who}).template(source) for who in ("ก", "ข")]
    assert said == ["โรงเรียนก x\\1", "โรงเรียนข x\\1"]
    assert len(cache) == before + 1
