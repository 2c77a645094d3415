"""YAML that would take minutes and gigabytes: refused in a moment, one line, exit 2.

Each case runs the real ``dlict`` as a child with 1 GiB of address space and a timeout, so a
regression fails (killed, or out of memory) instead of hanging or swapping the machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_INVENTORY
from tests.security.input_bounded import run_dlict

pytestmark = pytest.mark.integration

# Far more than dlict needs (~0.5 s) and far less than a bomb costs on a build without the
# checks (the expansion alone is billions of values).
QUICK_S = 5.0


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs": each level is ``width`` aliases of the one before."""
    lines = ["lol0: &lol0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"lol{n}: &lol{n} [" + ", ".join([f"*lol{n - 1}"] * width) + "]"
              for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    target = tmp_path / "inventory"
    shutil.copytree(EXAMPLE_INVENTORY, target)
    return target


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    return lines[0]


@pytest.mark.parametrize("where", ["group_vars/all.yml", "hosts.yml"])
def test_alias_bomb_in_the_inventory_is_refused_at_once(inventory: Path, tmp_path: Path,
                                                        where: str) -> None:
    target = inventory / where
    target.write_text(target.read_text(encoding="utf-8") + _alias_bomb(), encoding="utf-8")
    run = run_dlict("-i", str(inventory), "inventory", "validate", data_dir=tmp_path / "data")
    line = _one_line(run.stderr)
    assert run.code == 2
    assert line.startswith(f"dlict: {target}:") and "YAML aliases expand" in line
    assert run.seconds < QUICK_S, f"took {run.seconds:.1f} s"


def test_alias_bomb_as_the_configuration_file(tmp_path: Path) -> None:
    """A guard: today's settings do not expand aliases, the loader must refuse anyway."""
    config = tmp_path / "dlict.yaml"
    config.write_text(_alias_bomb(), encoding="utf-8")
    run = run_dlict("--config", str(config), "-i", str(EXAMPLE_INVENTORY), "inventory",
                    "validate", data_dir=tmp_path / "data")
    line = _one_line(run.stderr)
    assert run.code == 2 and line.startswith(f"dlict: {config}:")
    assert "YAML aliases expand" in line
    assert run.seconds < QUICK_S, f"took {run.seconds:.1f} s"


def test_a_recursive_alias_is_refused(inventory: Path, tmp_path: Path) -> None:
    target = inventory / "group_vars" / "all.yml"
    target.write_text(target.read_text(encoding="utf-8") + "loop: &loop [1, *loop]\n",
                      encoding="utf-8")
    run = run_dlict("-i", str(inventory), "inventory", "validate", data_dir=tmp_path / "data")
    line = _one_line(run.stderr)
    assert run.code == 2 and line.startswith(f"dlict: {target}:")
    assert "refers to a node that contains it" in line


def test_a_50_mb_value_is_refused_without_reading_it(inventory: Path, tmp_path: Path) -> None:
    target = inventory / "group_vars" / "all.yml"
    with target.open("a", encoding="utf-8") as out:
        out.write("motd: ")
        for _ in range(50):
            out.write("x" * (1 << 20))
        out.write("\n")
    run = run_dlict("-i", str(inventory), "inventory", "validate", data_dir=tmp_path / "data")
    line = _one_line(run.stderr)
    assert run.code == 2 and line.startswith(f"dlict: {target}: too large")
    assert run.seconds < QUICK_S, f"took {run.seconds:.1f} s"


def test_aliases_used_as_intended_still_load(inventory: Path, tmp_path: Path) -> None:
    target = inventory / "group_vars" / "all.yml"
    target.write_text(target.read_text(encoding="utf-8")
                      + "ntp_servers: &ntp [127.0.0.1, 127.0.0.2]\n"
                      + "".join(f"fallback_ntp_{n}: *ntp\n" for n in range(50)),
                      encoding="utf-8")
    run = run_dlict("-i", str(inventory), "inventory", "validate", data_dir=tmp_path / "data")
    assert run.code == 0, run.stderr
    assert "8 sites (7 schools), 20 hosts" in run.stdout
