"""A FIFO or a device where dlict expects a file: refused at once, one line, exit 2.

Reading a FIFO blocks until someone writes; reading /dev/zero never ends. dlict (and the
ansible-inventory it starts) must look before it reads. Each case runs the real ``dlict``
with a timeout, so a regression fails instead of hanging the test run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_INVENTORY
from tests.security.input_bounded import fifo, run_dlict, run_probe

pytestmark = pytest.mark.integration

QUICK_S = 5.0


def _refused(code: int, stderr: str, path: Path | str, kind: str) -> None:
    assert code == 2, stderr
    assert stderr == f"dlict: {path}: not a regular file{kind}\n"


def test_fifo_as_the_inventory(tmp_path: Path) -> None:
    with fifo(tmp_path / "hosts.yml") as pipe:
        run = run_dlict("-i", str(pipe), "inventory", "validate", data_dir=tmp_path / "data")
    _refused(run.code, run.stderr, pipe, "; an inventory holds only files")
    assert run.seconds < QUICK_S


@pytest.mark.parametrize("name", ["hosts-extra", "group_vars/school_4401010001.yml"])
def test_fifo_inside_the_inventory_directory(tmp_path: Path, name: str) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(EXAMPLE_INVENTORY, inventory)
    (inventory / name).unlink(missing_ok=True)
    with fifo(inventory / name) as pipe:
        run = run_dlict("-i", str(inventory), "inventory", "validate",
                        data_dir=tmp_path / "data")
    _refused(run.code, run.stderr, pipe, "; an inventory holds only files")
    assert run.seconds < QUICK_S


def test_fifo_beside_a_single_file_inventory(tmp_path: Path) -> None:
    """Ansible reads group_vars/ next to an inventory file too."""
    inventory = tmp_path / "inventory"
    shutil.copytree(EXAMPLE_INVENTORY, inventory)
    name = inventory / "group_vars" / "office.yml"
    name.unlink()
    with fifo(name) as pipe:
        run = run_dlict("-i", str(inventory / "hosts.yml"), "inventory", "validate",
                        data_dir=tmp_path / "data")
    _refused(run.code, run.stderr, pipe, "; an inventory holds only files")


@pytest.mark.parametrize("fast", [True, False], ids=["fast-entry", "typer"])
def test_fifo_as_probe_target_file(tmp_path: Path, fast: bool) -> None:
    with fifo(tmp_path / "targets.txt") as pipe:
        run = (run_probe("--file", str(pipe)) if fast else
               run_dlict("--json", "probe", "--file", str(pipe), data_dir=tmp_path / "data"))
    _refused(run.code, run.stderr, pipe, " (a FIFO)")
    assert run.stdout == ""


def test_endless_device_as_probe_target_file() -> None:
    run = run_probe("--file", "/dev/zero")
    _refused(run.code, run.stderr, "/dev/zero", " (a character device)")


@pytest.mark.parametrize("device", [False, True], ids=["fifo", "dev-zero"])
def test_special_file_as_the_configuration(tmp_path: Path, device: bool) -> None:
    args = ("-i", str(EXAMPLE_INVENTORY), "inventory", "validate")
    if device:
        run = run_dlict("--config", "/dev/zero", *args, data_dir=tmp_path / "data")
        _refused(run.code, run.stderr, "/dev/zero", " (a character device)")
        return
    with fifo(tmp_path / "dlict.yaml") as pipe:
        run = run_dlict("--config", str(pipe), *args, data_dir=tmp_path / "data")
    _refused(run.code, run.stderr, pipe, " (a FIFO)")


def test_fifo_as_the_log_policy(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    with fifo(tmp_path / "logging.json") as pipe:
        run = run_dlict("logs", "check", "--policy", str(pipe), "--root", str(tmp_path / "logs"),
                        data_dir=tmp_path / "data")
    _refused(run.code, run.stderr, pipe, " (a FIFO)")


def test_fifo_as_the_school_list(tmp_path: Path) -> None:
    with fifo(tmp_path / "schools.csv") as pipe:
        run = run_dlict("inventory", "import-schools", str(pipe), "-o", str(tmp_path / "out"),
                        data_dir=tmp_path / "data")
    _refused(run.code, run.stderr, pipe, " (a FIFO)")
    assert not (tmp_path / "out").exists()


def test_fifo_in_a_linked_directory_of_the_inventory(tmp_path: Path) -> None:
    """Ansible follows a linked directory; so does the check (and a link loop ends it)."""
    inventory = tmp_path / "inventory"
    shutil.copytree(EXAMPLE_INVENTORY, inventory)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (inventory / "more").symlink_to(elsewhere)
    (inventory / "group_vars" / "loop").symlink_to(inventory)
    with fifo(elsewhere / "hosts-extra") as pipe:
        run = run_dlict("-i", str(inventory), "inventory", "validate",
                        data_dir=tmp_path / "data")
    _refused(run.code, run.stderr, inventory / "more" / pipe.name,
             "; an inventory holds only files")
