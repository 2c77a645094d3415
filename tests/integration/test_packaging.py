"""The wheel carries what `pip install dlict` users need: playbooks, collectors, dashboards."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


def test_wheel_ships_data_folders_and_console_script(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                   cwd=REPO, check=True, capture_output=True)
    (wheel,) = tmp_path.glob("dlict-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dlict/_data/playbooks/facts.yml" in names
    # the area checks: ansible.cfg names these folders beside it
    assert "dlict/_data/playbooks/library/dlict_observe.py" in names
    assert "dlict/_data/playbooks/action_plugins/dlict_check.py" in names
    assert "dlict/_data/playbooks/action_plugins/dlict_state.py" in names
    # the callbacks dlict enables in its runs (events' tags; templates compiled once)
    assert "dlict/playbooks/ansible_plugins/callback/dlict_tags.py" in names
    assert "dlict/playbooks/ansible_plugins/callback/dlict_templates.py" in names
    assert "dlict/_data/collectors/README.md" in names
    assert "dlict/_data/dashboards/README.md" in names
    assert "dlict/cli/app.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "dlict = dlict.cli.entry:main" in text


def test_wheel_holds_dlict_alone(tmp_path: Path) -> None:
    # The simulated district (lab/), the tests and the benchmarks stay in the checkout.
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                   cwd=REPO, check=True, capture_output=True)
    (wheel,) = tmp_path.glob("dlict-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"dlict"}
