"""`dlict facts` over real SSH and real Ansible against the test fleet (network namespaces)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lab.fleet.fleet import Fleet
from tests.conftest import CliRunner

pytestmark = [pytest.mark.integration, pytest.mark.fleet]


def test_facts_reach_every_host_and_are_stored(fleet: Fleet, cli: CliRunner,
                                               tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("--json", "-i", str(fleet.inventory_path), "facts", data_dir=data)
    assert result.code == 0, result.stderr
    run = json.loads(result.stdout)
    by_host = {r["host"]: r for r in run["results"]}
    assert set(by_host) == {h.name for h in fleet.hosts}
    for host in fleet.hosts:
        row = by_host[host.name]
        assert row["status"] == "pass", row
        assert row["site"] == (host.school_code or "office")
        assert "service manager sysvinit" in row["evidence"]
        assert "Debian 12" in row["evidence"]
    stored = cli("--json", "runs", "show", str(run["id"]), data_dir=data)
    assert json.loads(stored.stdout)["results"] == run["results"]
    assert (data / "evidence.sqlite").stat().st_mode & 0o777 == 0o640


def test_an_unreachable_host_does_not_stop_the_others(fleet: Fleet, cli: CliRunner,
                                                      tmp_path: Path) -> None:
    inventory = yaml.safe_load(fleet.inventory_path.read_text())
    children = inventory["all"]["children"]
    # An address on the fleet's own LAN where no host answers: nothing leaves the namespaces.
    ghost = str(fleet.subnet[200])
    first_school = next(iter(children["schools"]["children"].values()))
    first_school["hosts"]["ghost-srv"] = {"ansible_host": ghost}
    children["linux_servers"]["hosts"]["ghost-srv"] = None
    broken = tmp_path / "inventory.yml"
    broken.write_text(yaml.safe_dump(inventory, allow_unicode=True))

    result = cli("--json", "-i", str(broken), "facts")
    assert result.code == 3, result.stderr
    by_host = {r["host"]: r for r in json.loads(result.stdout)["results"]}
    assert by_host["ghost-srv"]["status"] == "unreachable"
    assert all(by_host[h.name]["status"] == "pass" for h in fleet.hosts)
