"""An INI inventory file keeps the bounds every inventory file has: no YAML check for it,
but a huge file or a FIFO is still refused before Ansible opens it (one line, exit 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dlict.core.inputs import MAX_INPUT_BYTES
from tests.conftest import EXAMPLE_INVENTORY
from tests.security.input_bounded import fifo, run_dlict
from tests.security.test_input_yaml import _alias_bomb

pytestmark = pytest.mark.integration

QUICK_S = 5.0


@pytest.fixture
def beside_group_vars(tmp_path: Path) -> Path:
    target = tmp_path / "inventory"
    shutil.copytree(EXAMPLE_INVENTORY / "group_vars", target / "group_vars")
    return target


@pytest.mark.parametrize("name", ["hosts.ini", "hosts"])
def test_a_huge_ini_file_is_refused_unread(beside_group_vars: Path, tmp_path: Path,
                                           name: str) -> None:
    hosts = beside_group_vars / name
    line = "[office]\n" + "office-log ansible_host=127.10.0.10\n" * 40
    hosts.write_text(line * (MAX_INPUT_BYTES // len(line) + 2), encoding="utf-8")
    run = run_dlict("-i", str(hosts), "inventory", "validate", data_dir=tmp_path / "data")
    assert run.code == 2, run.stderr
    assert run.stderr.startswith(f"dlict: {hosts}: too large (")
    assert len(run.stderr.splitlines()) == 1
    assert run.seconds < QUICK_S


def test_a_fifo_named_hosts_ini_is_refused(beside_group_vars: Path, tmp_path: Path) -> None:
    with fifo(beside_group_vars / "hosts.ini") as pipe:
        run = run_dlict("-i", str(pipe), "inventory", "validate", data_dir=tmp_path / "data")
    assert run.code == 2, run.stderr
    assert run.stderr == f"dlict: {pipe}: not a regular file; an inventory holds only files\n"
    assert run.seconds < QUICK_S


def test_an_alias_bomb_in_a_yaml_file_without_extension_is_still_refused(
        tmp_path: Path) -> None:
    """Ansible's yaml plugin tries a file without extension first: dlict's YAML checks must
    see it as YAML (only a file that is not YAML at all is left to the ini plugin)."""
    shutil.copytree(EXAMPLE_INVENTORY, tmp_path / "inventory")
    hosts = (tmp_path / "inventory" / "hosts.yml").rename(tmp_path / "inventory" / "hosts")
    hosts.write_text(hosts.read_text(encoding="utf-8") + _alias_bomb(), encoding="utf-8")
    run = run_dlict("-i", str(hosts), "inventory", "validate", data_dir=tmp_path / "data")
    assert run.code == 2, run.stderr
    assert len(run.stderr.splitlines()) == 1
    assert run.stderr.startswith(f"dlict: {hosts}:") and "YAML aliases expand" in run.stderr
    assert run.seconds < QUICK_S
