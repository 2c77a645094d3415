"""The dlict_windows role without Windows (none can run here): its defaults, argument specs
and the controller-side judge agree with the agent's; the playbook passes Ansible's syntax
check. No maintained fake WinRM endpoint exists on PyPI, so the role's tasks are never run
against a PC in these tests (docs/decisions.md says so)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from dlict.agent.jobs.settings import HostJobSettings
from dlict.agent.jobs.windows_checks import CONTROLS, WindowsLimits
from dlict.agent.jobs.windows_host import limits_of
from tests.conftest import REPO

ROLE = REPO / "playbooks" / "roles" / "dlict_windows"
FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def _defaults() -> dict[str, object]:
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def test_argument_specs_declare_every_default_with_its_value() -> None:
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    for name, value in _defaults().items():
        assert name in options, f"{name} is not in argument_specs"
        assert options[name]["default"] == value, name
    used = set(re.findall(r"\bdlict_windows_[a-z_]+\b", "\n".join(
        p.read_text() for p in (ROLE / "tasks").glob("*.yml"))))
    runtime = {"dlict_windows_verdicts", "dlict_windows_observed", "dlict_windows_limits"}
    registered = {u for u in used if u.endswith("_verify")}
    assert used - runtime - registered <= set(options), used - set(options)


def test_the_role_and_the_agent_have_the_same_limits() -> None:
    defaults = _defaults()
    role = WindowsLimits(
        max_update_age_days=defaults["dlict_windows_max_update_age_days"],  # type: ignore[arg-type]
        min_password_length=defaults["dlict_windows_min_password_length"],  # type: ignore[arg-type]
        max_lockout_threshold=defaults["dlict_windows_max_lockout_threshold"],  # type: ignore[arg-type]
        min_security_log_bytes=int(defaults["dlict_windows_min_security_log_kb"]) * 1024,  # type: ignore[call-overload]
        usb_storage=defaults["dlict_windows_usb_storage"],  # type: ignore[arg-type]
        rdp=defaults["dlict_windows_rdp"],  # type: ignore[arg-type]
        max_signature_age_days=defaults["dlict_windows_max_signature_age_days"],  # type: ignore[arg-type]
    )
    assert dataclasses.asdict(role) == dataclasses.asdict(WindowsLimits())
    assert dataclasses.asdict(limits_of(HostJobSettings())) == dataclasses.asdict(role)


def test_every_windows_control_has_one_assert_and_the_observation_is_tagged_with_all() -> None:
    verify = yaml.safe_load((ROLE / "tasks" / "verify.yml").read_text())
    asserts = [t for t in verify if "ansible.builtin.assert" in t]
    assert sorted(c for t in asserts for c in t["tags"] if c in CONTROLS) == sorted(CONTROLS)
    observe = yaml.safe_load((ROLE / "tasks" / "observe.yml").read_text())
    assert set(CONTROLS) <= set(observe[0]["tags"])


def test_the_controller_filter_judges_the_scripts_output() -> None:
    spec = importlib.util.spec_from_file_location(
        "dlict_windows_filter", ROLE / "filter_plugins" / "dlict_windows.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    verdicts = module.FilterModule().filters()["dlict_windows_verdicts"]
    defaults = {k.removeprefix("dlict_windows_"): v for k, v in _defaults().items()}
    # The PC's signatures and updates are dated from the fixture: allow their age here.
    limits = {**defaults, "max_signature_age_days": 100_000, "max_update_age_days": 100_000}
    document = json.dumps(json.loads((FIXTURES / "compliant.json").read_text()))
    register = [{"name": "somchai", "hosts": "windows_endpoints", "expires": "2999-12-31"}]
    judged = verdicts([document], limits, register, ["all", "pc", "windows_endpoints"],
                      "2026-12-02")
    assert {c: v["status"] for c, v in judged.items()} == dict.fromkeys(CONTROLS, "pass")
    nothing = verdicts(["not json"], limits, [], ["all"], "2026-12-02")
    assert nothing["FW-21"]["status"] == "fail"


def test_the_windows_playbook_passes_the_syntax_check() -> None:
    playbook = Path(sys.executable).parent / "ansible-playbook"
    assert playbook.exists(), "ansible-playbook is not installed beside this Python"
    run = subprocess.run([str(playbook), "--syntax-check", "-i", "localhost,",
                          str(REPO / "playbooks" / "windows.yml")],
                         capture_output=True, text=True, timeout=120, check=False,
                         cwd=REPO / "playbooks")
    assert run.returncode == 0, run.stderr
