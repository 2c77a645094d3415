"""An INI inventory file — Ansible's most common format — is read as Ansible reads it.

The example district is converted here to an INI hosts file with its group_vars beside it;
dlict must validate it and show the same sites and hosts as the YAML original.
These run Ansible's real inventory parser.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLE_INVENTORY, CliRunner

pytestmark = pytest.mark.integration


def _ini_value(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _host_line(name: str, variables: Mapping[str, Any] | None) -> str:
    pairs = [f"{key}={_ini_value(value)}" for key, value in (variables or {}).items()]
    return " ".join([name, *pairs])


def _ini_sections(name: str, body: Mapping[str, Any] | None) -> Iterator[str]:
    """INI sections of one YAML group and, depth first, of its children."""
    body = body or {}
    if body.get("hosts") or not body.get("children"):
        yield f"[{name}]"
        yield from (_host_line(host, hvars) for host, hvars in (body.get("hosts") or {}).items())
        yield ""
    children = body.get("children") or {}
    if children and name != "all":
        yield f"[{name}:children]"
        yield from children
        yield ""
    if body.get("vars"):
        yield f"[{name}:vars]"
        yield from (f"{key}={_ini_value(value)}" for key, value in body["vars"].items())
        yield ""
    for child, child_body in children.items():
        yield from _ini_sections(child, child_body)


def _yaml_to_ini(hosts_yml: Path) -> str:
    data = yaml.safe_load(hosts_yml.read_text(encoding="utf-8"))
    return "\n".join(_ini_sections("all", data["all"])) + "\n"


@pytest.fixture
def ini_copy(tmp_path: Path) -> Path:
    """The example district as ``hosts.ini`` with ``group_vars/`` beside it."""
    target = tmp_path / "ini"
    target.mkdir()
    shutil.copytree(EXAMPLE_INVENTORY / "group_vars", target / "group_vars")
    hosts = target / "hosts.ini"
    hosts.write_text(_yaml_to_ini(EXAMPLE_INVENTORY / "hosts.yml"), encoding="utf-8")
    return hosts


def _sites_and_hosts(cli: CliRunner, inventory: Path) -> dict[str, dict[str, list[str]]]:
    result = cli("--json", "-i", str(inventory), "inventory", "show")
    assert result.code == 0, result.stderr
    return {site["id"]: {host["name"]: host["roles"] for host in site["hosts"]}
            for site in json.loads(result.stdout)["sites"]}


def test_ini_hosts_file_validates(ini_copy: Path, cli: CliRunner) -> None:
    result = cli("--lang", "en", "-i", str(ini_copy), "inventory", "validate")
    assert result.code == 0, result.stderr
    assert "8 sites (7 schools), 20 hosts" in result.stdout


def test_ini_hosts_file_shows_what_the_yaml_original_shows(ini_copy: Path,
                                                            cli: CliRunner) -> None:
    from_ini = _sites_and_hosts(cli, ini_copy)
    assert from_ini == _sites_and_hosts(cli, EXAMPLE_INVENTORY)
    assert from_ini["office"]["office-log"] == ["linux_servers", "log_servers"]


def test_ini_hosts_file_without_extension_validates(ini_copy: Path, cli: CliRunner) -> None:
    plain = ini_copy.with_name("hosts")
    ini_copy.rename(plain)
    result = cli("--lang", "en", "-i", str(plain), "inventory", "validate")
    assert result.code == 0, result.stderr
    assert "20 hosts" in result.stdout


def test_yaml_hosts_file_is_still_checked_as_yaml(tmp_path: Path, cli: CliRunner) -> None:
    shutil.copytree(EXAMPLE_INVENTORY, tmp_path / "inv")
    hosts = tmp_path / "inv" / "hosts.yml"
    hosts.write_text(hosts.read_text(encoding="utf-8") + "  broken: [unclosed\n",
                     encoding="utf-8")
    result = cli("-i", str(hosts), "inventory", "validate")
    assert result.code == 2
    assert "hosts.yml:" in result.stderr and "malformed YAML" in result.stderr
