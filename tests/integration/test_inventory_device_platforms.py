"""A network device whose type no dlict platform serves is refused when the inventory is read.

Before, ``huawei`` or ``ruijie_os`` passed validation and every control then came out
``skipped`` on that device. Now every command that loads the inventory stops with exit 2 and
one line naming the host, the type and the types dlict serves. These run the real ``dlict``
program in a subprocess on a copy of the example district.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dlict.netdev.platforms import REGISTRY
from tests.conftest import REPO

pytestmark = pytest.mark.integration

HOST = "s4401010001-gw"


def _dlict(inventory: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
           "DLICT_NETDEV_PASSWORD": "not-used"}
    return subprocess.run(
        [sys.executable, "-m", "dlict", "--data-dir", str(data), "-i", str(inventory), *args],
        capture_output=True, text=True, env=env, timeout=120, check=False)


def _set_gateway_vars(inventory: Path, variables: dict[str, str]) -> None:
    """Give the first school's router its own type variables (host vars win over the group's)."""
    hosts = inventory / "hosts.yml"
    data = yaml.safe_load(hosts.read_text(encoding="utf-8"))
    school = data["all"]["children"]["schools"]["children"]["school_4401010001"]
    school["hosts"][HOST] = {"ansible_host": "127.10.1.1", **variables}
    hosts.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                     encoding="utf-8")


def _served_types() -> list[str]:
    return sorted(t for platform in REGISTRY for t in platform.device_types)


@pytest.mark.parametrize(("variables", "shown"), [
    ({"netmiko_device_type": "huawei"}, "'huawei'"),
    ({"netmiko_device_type": "ruijie_os"}, "'ruijie_os'"),
    # A network OS Ansible knows but no dlict platform serves.
    ({"ansible_network_os": "cisco.nxos.nxos"}, "'cisco.nxos.nxos'"),
], ids=["huawei", "ruijie_os", "nxos"])
@pytest.mark.parametrize("command", [
    ("inventory", "validate"), ("inventory", "show"), ("netdev", "audit"), ("netdev", "backup"),
], ids=" ".join)
def test_a_device_type_no_platform_serves_is_refused(
    example_copy: Path, tmp_path: Path, variables: dict[str, str], shown: str,
    command: tuple[str, ...],
) -> None:
    _set_gateway_vars(example_copy, variables)
    data = tmp_path / "data"
    result = _dlict(example_copy, data, *command)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("dlict: ") and "hosts.yml:" in line
    assert f"host {HOST}:" in line and shown in line
    assert "dlict serves " + ", ".join(_served_types()) in line
    assert "Traceback" not in result.stderr
    # Nothing was contacted or stored: the netdev commands did not start a run.
    assert not (data / "netdev").exists()


def test_every_type_a_platform_serves_is_accepted(example_copy: Path, tmp_path: Path) -> None:
    for device_type in _served_types():
        _set_gateway_vars(example_copy, {"netmiko_device_type": device_type})
        result = _dlict(example_copy, tmp_path / "data", "inventory", "validate")
        assert result.returncode == 0, f"{device_type}: {result.stderr}"
        assert "valid" in result.stdout
