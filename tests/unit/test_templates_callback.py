"""The ``dlict_templates`` callback (compile each task's templates once, in Ansible's main
process, before the workers fork): real ansible-playbook on this machine (connection local,
three inventory hosts with variables of their own), run with the plugin and without it. Every
host must render exactly what Ansible renders without the plugin — the cache shares compiled
code, never a rendered value. A template file (the ``template`` module) is compiled in the
workers, which share it through the run's TMPDIR."""

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

- name: Render a template file (compiled in the workers, not ahead in the main process)
  ansible.builtin.template:
    src: card.j2
    dest: "{{ playbook_dir }}/out/{{ inventory_hostname }}.card.json"
    mode: "0644"
"""

TEMPLATE_FILE = """\
{{ {'card': who ~ ' / ' ~ (accounts | join(',')), 'upper': inventory_hostname | upper}
   | to_json }}
"""

Run = tuple[dict[str, object], str, list[str]]

PLAYBOOK = """\
- name: Templates per host
  hosts: all
  gather_facts: false
  roles: [render]
"""


def _run(work: Path, plugin: bool) -> Run:
    """The files every host rendered, the output, and what the run left in its TMPDIR."""
    out = work / "out"
    if out.exists():
        for path in out.iterdir():
            path.unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    # a TMPDIR of the run's own, as dlict gives every run: the workers share compiled
    # template files there
    env.update(ANSIBLE_HOME=str(work / "home"), ANSIBLE_LOCAL_TEMP=str(work / "tmp"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", TMPDIR=str(work / "run"))
    if plugin:
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(CALLBACK_DIR),
                   ANSIBLE_CALLBACKS_ENABLED="dlict_templates")
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-v", "-i", "inventory.yml", "site.yml"], cwd=work, env=env,
        capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    files = {p.name: json.loads(p.read_text()) for p in sorted(out.iterdir())}
    return files, output, sorted(p.name for p in (work / "run").iterdir())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    assert ANSIBLE_PLAYBOOK.exists(), "ansible-playbook is not installed beside this Python"
    work = tmp_path_factory.mktemp("dlict-templates")
    (work / "roles" / "render" / "vars").mkdir(parents=True)
    (work / "roles" / "render" / "tasks").mkdir(parents=True)
    (work / "roles" / "render" / "templates").mkdir(parents=True)
    (work / "roles" / "render" / "templates" / "card.j2").write_text(TEMPLATE_FILE)
    (work / "run").mkdir()
    (work / "roles" / "render" / "vars" / "main.yml").write_text(ROLE_VARS)
    (work / "roles" / "render" / "tasks" / "main.yml").write_text(ROLE_TASKS)
    (work / "inventory.yml").write_text(INVENTORY)
    (work / "site.yml").write_text(PLAYBOOK)
    (work / "out").mkdir()
    return {"without": _run(work, plugin=False), "with": _run(work, plugin=True)}


def test_every_host_renders_what_ansible_renders_without_the_plugin(
        rendered: dict[str, Run]) -> None:
    with_plugin, output, _ = rendered["with"]
    assert with_plugin == rendered["without"][0]
    assert "compiling ahead is off" not in output
    # the plugin ran: the role's templates were compiled in the main process
    compiled = re.search(r"dlict_templates: (\d+) templates compiled in the main process, "
                         r"(\d+) shared between the workers", output)
    assert compiled is not None and int(compiled.group(1)) >= 5, output[-2000:]
    # the template file, compiled by the first host's worker and loaded by the others'
    assert int(compiled.group(2)) >= 1, output[-2000:]
    assert "dlict_templates" not in rendered["without"][1]


def test_the_shared_folder_is_removed_with_the_run(rendered: dict[str, Run]) -> None:
    assert [name for name in rendered["with"][2] if name.startswith("dlict-templates-")] == []


def test_the_same_template_gives_each_host_its_own_values(
        rendered: dict[str, Run]) -> None:
    hosts, _, _ = rendered["with"]
    assert set(hosts) == {f"{host}.{kind}" for host in ("school-1", "school-2", "office")
                          for kind in ("json", "card.json")}
    assert hosts["school-1.card.json"] == {"card": "บ้านหนองบัว / somchai,malee",
                                           "upper": "SCHOOL-1"}
    assert hosts["office.card.json"] == {"card": "office / admin", "upper": "OFFICE"}
    assert hosts["school-1.json"] == {
        "greeting": "สวัสดี บ้านหนองบัว", "drive": "C",
        "share": "C:/share/one", "count": 2, "host": "school-1",
        "steps": [{"name": "lock somchai", "user": {"name": "somchai"}},
                  {"name": "lock malee", "user": {"name": "malee"}}]}
    assert hosts["school-2.json"]["steps"] == []
    assert hosts["school-2.json"]["greeting"] == "สวัสดี วัดป่า"
    assert hosts["office.json"]["steps"] == [{"name": "lock admin", "user": {"name": "admin"}}]


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


FORKED = """\
import os, sys
sys.path.insert(0, sys.argv[1])
from ansible._internal._templating._jinja_bits import AnsibleEnvironment
from ansible._internal._templating._engine import TemplateEngine
from ansible.template import trust_as_template

compiled = []
plain = AnsibleEnvironment.compile
def counting(self, *args, **kwargs):
    compiled.append(args[0])
    return plain(self, *args, **kwargs)
AnsibleEnvironment.compile = counting

import dlict_templates
assert dlict_templates._installed()

def in_worker():
    pid = os.fork()
    if pid == 0:
        engine = TemplateEngine(variables={"who": "school-" + str(os.getpid())})
        rendered = engine.template(trust_as_template("{{ who | upper }} {{ 6 * 7 }}"))
        ok = rendered == "SCHOOL-" + str(os.getpid()) + " 42"
        os._exit(len(compiled) if ok else 99)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

print(in_worker(), in_worker())
"""


def test_a_template_one_worker_compiled_is_loaded_by_the_next(tmp_path: Path) -> None:
    """Two workers forked one after the other from the main process: the first compiles the
    template and shares it; the second compiles nothing and renders the same."""
    script = tmp_path / "forked.py"
    script.write_text(FORKED)
    done = subprocess.run([sys.executable, str(script), str(CALLBACK_DIR)], capture_output=True,
                          text=True, timeout=60, check=False,
                          env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = (int(count) for count in done.stdout.split())
    assert first == 1, done.stdout  # compiled (and stored) by the first worker
    assert second == 0, done.stdout  # loaded by the second, not compiled again
