"""What is installed at a school (agents/, playbooks/agent.yml, roles/dlict_agent), checked
with the real tools: systemd-analyze, the agent's own config loader, ansible-playbook and
ansible-lint, and Ansible's template module rendering the role's templates."""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from dlict.agent.config import load_agent_config
from tests.conftest import REPO

pytestmark = pytest.mark.integration

UNIT = REPO / "agents" / "dlict-agent.service"
SAMPLE = REPO / "agents" / "agent.example.yml"
PLAYBOOKS = REPO / "playbooks"
ROLE = PLAYBOOKS / "roles" / "dlict_agent"
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
BIN = Path(sys.executable).parent


def program(name: str, package: str) -> str:
    """The program's path; a clear failure (never a skip) when it is not installed."""
    path = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    if path is None:
        pytest.fail(f"{name} is not on PATH: install {package}", pytrace=False)
    return path


def unit_service_section() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def verify_unit(text: str, tmp_path: Path, *how: str) -> subprocess.CompletedProcess[str]:
    """systemd-analyze (verify by default) on ``text`` as dlict-agent.service. verify insists
    that the program of ExecStart exists; /opt/dlict-agent exists only on an installed host,
    so the copy names this checkout's dlict instead (the rest is the unit as shipped)."""
    unit = tmp_path / "dlict-agent.service"
    unit.write_text(text.replace("/opt/dlict-agent/bin/dlict", str(BIN / "dlict")))
    return subprocess.run([program("systemd-analyze", "systemd"), *(how or ("verify",)),
                           str(unit)], capture_output=True, text=True, check=False, timeout=60)


def test_systemd_analyze_verify_finds_nothing_to_say_about_the_unit(tmp_path: Path) -> None:
    verified = verify_unit(UNIT.read_text(), tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == "", verified.stderr
    # verify exits 0 on unknown keys too, but says so: a misspelt copy is caught
    misspelt = verify_unit(UNIT.read_text().replace("ProtectSystem=", "ProtectSystm="), tmp_path)
    assert "Unknown key 'ProtectSystm'" in misspelt.stderr


def test_systemd_rates_the_units_exposure_at_most_3_of_10(tmp_path: Path) -> None:
    rated = verify_unit(UNIT.read_text(), tmp_path, "security", "--offline=true",
                        "--threshold=30")
    assert rated.returncode == 0, rated.stdout[-3000:] + rated.stderr
    assert "Overall exposure level for dlict-agent.service" in rated.stdout


def test_the_agent_runs_unprivileged_with_cap_net_raw_alone_and_hardened() -> None:
    service = unit_service_section()
    command = shlex.split(service["ExecStart"])
    assert command[1:] == ["agent", "run", "--config", "/etc/dlict/agent.yml"]
    assert service["User"] == "dlict-agent" and service["Group"] == "dlict-agent"
    assert service["AmbientCapabilities"] == "CAP_NET_RAW"
    assert service["CapabilityBoundingSet"] == "CAP_NET_RAW"
    expected = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                "PrivateTmp": "yes", "ReadWritePaths": "/var/lib/dlict-agent",
                "StateDirectory": "dlict-agent", "StateDirectoryMode": "0700",
                "Restart": "always", "ProtectKernelModules": "yes",
                "ProtectKernelTunables": "yes", "RestrictSUIDSGID": "yes", "UMask": "0077"}
    assert {key: service.get(key) for key in expected} == expected


def test_the_unit_the_sample_and_the_role_name_the_same_paths_and_user() -> None:
    service = unit_service_section()
    command = shlex.split(service["ExecStart"])
    assert command[0] == f"{ROLE_VARS['dlict_agent_venv']}/bin/dlict"
    assert command[-1] == ROLE_VARS["dlict_agent_config_file"]
    assert service["ReadWritePaths"] == ROLE_VARS["dlict_agent_state_dir"]
    assert service["User"] == ROLE_VARS["dlict_agent_user"]
    sample = yaml.safe_load(SAMPLE.read_text())
    assert sample["state_dir"] == ROLE_VARS["dlict_agent_state_dir"]
    unit_source = ROLE_VARS["dlict_agent_unit_source"].replace("{{ role_path }}", str(ROLE))
    assert Path(unit_source).resolve() == UNIT


def test_the_sample_configuration_is_one_the_agent_accepts() -> None:
    """Fails until the jobs' settings (agent/jobs/settings.py, the jobs helper) name the
    link, dltv, lan and host sections the sample has."""
    config = load_agent_config(SAMPLE)
    assert (config.site, config.host) == ("4401000001", "s4401000001-srv")
    assert str(config.office).startswith("https://")
    assert config.state_dir == Path("/var/lib/dlict-agent")
    assert config.outbox.cap_mb == 200
    jobs = config.jobs.model_dump()
    for name in ("link", "dltv", "lan", "host"):
        assert jobs[name]["enabled"] is True
        assert jobs[name]["deadline_s"] < jobs[name]["interval_s"]


def ansible_template(template: str, dest: Path, variables: dict[str, object]) -> None:
    """Render one of the role's templates with Ansible's template module, on this machine."""
    extra = dest.parent / f"{dest.name}.vars.json"
    extra.write_text(json.dumps({**ROLE_VARS, **variables,
                                 "ansible_python_interpreter": sys.executable}))
    rendered = subprocess.run(
        [program("ansible", "dlict[dev]"), "all", "-i", "localhost,", "-c", "local",
         "-m", "ansible.builtin.template",
         "-a", f"src={ROLE / 'templates' / template} dest={dest} mode=0640",
         "-e", f"@{extra}"],
        cwd=PLAYBOOKS, capture_output=True, text=True, check=False, timeout=120)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr


def test_the_roles_configuration_template_renders_one_the_agent_accepts(
        tmp_path: Path) -> None:
    agent_yml = tmp_path / "agent.yml"
    ansible_template("agent.yml.j2", agent_yml, {
        "dlict_agent_site": "4401000002", "dlict_agent_host": "s4401000002-srv",
        "dlict_agent_office": "https://10.214.0.10:8443", "dlict_agent_outbox_cap_mb": 50,
        "dlict_agent_push_interval_s": 60, "dlict_agent_jobs": {},
        "dlict_agent_remote_write": {"url": "https://prometheus.example/api/v1/write",
                                     "interval_s": 15}})
    config = load_agent_config(agent_yml)
    assert (config.site, config.host) == ("4401000002", "s4401000002-srv")
    assert str(config.office) == "https://10.214.0.10:8443/"
    assert config.state_dir == Path(ROLE_VARS["dlict_agent_state_dir"])
    assert (config.outbox.cap_mb, config.push.interval_s) == (50, 60)
    assert config.remote_write is not None and config.remote_write.interval_s == 15


def test_the_roles_init_script_is_valid_sh_with_an_lsb_header(tmp_path: Path) -> None:
    script = tmp_path / "dlict-agent"
    ansible_template("dlict-agent.init.j2", script, {})
    checked = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0, checked.stderr
    text = script.read_text()
    assert "# Provides:          dlict-agent" in text
    assert "--reuid=dlict-agent" in text and "--ambient-caps=-all,+net_raw" in text
    assert "DLICT=/opt/dlict-agent/bin/dlict\n" in text


# Stands in for dlict: records who it runs as and with which capabilities, then waits.
FAKE_AGENT = """#!/bin/sh
{ id -un; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status
  echo "args: $*"; } > "$(dirname "$0")/../seen.tmp"
mv "$(dirname "$0")/../seen.tmp" "$(dirname "$0")/../seen"
exec sleep 600
"""
CAP_NET_RAW_ONLY = f"{1 << 13:016x}"


def test_the_init_script_runs_the_agent_as_its_user_with_cap_net_raw_alone() -> None:
    """The sysvinit path (the test fleet's): start, status, stop for real, as the user
    ``daemon`` standing in for dlict-agent, with a stand-in program for dlict."""
    root = Path(tempfile.mkdtemp(prefix="dlict-agent-init-"))
    script = root / "dlict-agent"

    def init(action: str) -> int:
        return subprocess.run(["sh", str(script), action], capture_output=True, text=True,
                              check=False, timeout=60).returncode

    try:
        root.chmod(0o755)
        (root / "bin").mkdir(mode=0o755)
        fake = root / "bin" / "dlict"
        fake.write_text(FAKE_AGENT)
        fake.chmod(0o755)
        shutil.chown(root, "daemon", "daemon")
        ansible_template("dlict-agent.init.j2", script, {
            "dlict_agent_user": "daemon", "dlict_agent_venv": str(root),
            "dlict_agent_state_dir": str(root), "dlict_agent_config_file": "/etc/x.yml",
            "dlict_agent_pidfile": str(root / "pid"), "dlict_agent_log": str(root / "log")})
        assert init("start") == 0
        deadline = time.monotonic() + 10
        while not (root / "seen").exists():
            assert time.monotonic() < deadline, (root / "log").read_text()
            time.sleep(0.05)
        lines = (root / "seen").read_text().splitlines()
        seen = dict(line.split(":", 1) for line in lines[1:])
        assert lines[0] == "daemon"
        assert {key: value.strip() for key, value in seen.items() if key.startswith("Cap")} == {
            "CapInh": CAP_NET_RAW_ONLY, "CapPrm": CAP_NET_RAW_ONLY,
            "CapEff": CAP_NET_RAW_ONLY, "CapBnd": CAP_NET_RAW_ONLY,
            "CapAmb": CAP_NET_RAW_ONLY}
        assert seen["NoNewPrivs"].strip() == "1"
        assert seen["args"].strip() == "agent run --config /etc/x.yml"
        pid = int((root / "pid").read_text())
        assert Path(f"/proc/{pid}/exe").readlink().name == "sleep"  # the pidfile names it
        assert init("status") == 0
        assert init("stop") == 0
        assert not Path(f"/proc/{pid}").exists()
        assert init("status") == 3
    finally:
        if (root / "pid").exists():
            init("stop")
        shutil.rmtree(root)


def test_the_agent_playbook_passes_ansible_syntax_check() -> None:
    checked = subprocess.run(
        [program("ansible-playbook", "dlict[dev]"), "--syntax-check", "-i", "localhost,",
         "agent.yml"],
        cwd=PLAYBOOKS, capture_output=True, text=True, check=False, timeout=120,
        env={**_env(), "ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg")})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "playbook: agent.yml" in checked.stdout


def test_the_agent_playbook_and_role_pass_ansible_lint_production() -> None:
    linted = subprocess.run(
        [program("ansible-lint", "dlict[dev]"), "--offline", "--profile", "production",
         "--nocolor", "agent.yml", "roles/dlict_agent"],
        cwd=PLAYBOOKS, capture_output=True, text=True, check=False, timeout=300, env=_env())
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "Profile 'production' was required, and it passed" in linted.stderr + linted.stdout


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
