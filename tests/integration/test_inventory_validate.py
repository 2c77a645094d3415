"""`dlict inventory validate` on the example district and on broken copies of it.

Each broken inventory must give exit code 2 and one line naming the file (and line where it
can be told), the group or host, and what is wrong. These run Ansible's real inventory parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_INVENTORY, CliRunner

pytestmark = pytest.mark.integration


def test_example_inventory_is_valid(cli: CliRunner) -> None:
    result = cli("-i", str(EXAMPLE_INVENTORY), "inventory", "validate")
    assert result.code == 0, result.stderr
    assert "valid" in result.stdout
    assert "8 sites (7 schools), 20 hosts" in result.stdout


def test_example_inventory_stays_on_loopback() -> None:
    text = "\n".join(p.read_text() for p in EXAMPLE_INVENTORY.rglob("*.yml"))
    addresses = re.findall(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", text)
    assert addresses
    assert all(a.startswith("127.") for a in addresses), addresses


def _edit_yaml(path: Path, change: Callable[[dict], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _school_vars(inv: Path, code: str) -> Path:
    return inv / "group_vars" / f"school_{code}.yml"


def _hosts(inv: Path) -> Path:
    return inv / "hosts.yml"


def _schools(data: dict) -> dict:
    return data["all"]["children"]["schools"]["children"]


def malformed_yaml(inv: Path) -> None:
    _school_vars(inv, "4401010002").write_text("dlict_site:\n  name_th: [unclosed\n")


def duplicate_school_code(inv: Path) -> None:
    _edit_yaml(_school_vars(inv, "4401010002"),
               lambda d: d["dlict_site"].update(school_code="4401010001"))


def code_not_ten_digits(inv: Path) -> None:
    _edit_yaml(_school_vars(inv, "4401020003"),
               lambda d: d["dlict_site"].update(school_code="44010203"))


def group_name_without_code(inv: Path) -> None:
    def change(data: dict) -> None:
        _schools(data)["school_borabue"] = _schools(data).pop("school_4401020003")
    _edit_yaml(_hosts(inv), change)


def school_without_metadata(inv: Path) -> None:
    _school_vars(inv, "4401040005").unlink()


def invalid_host_address(inv: Path) -> None:
    _edit_yaml(_hosts(inv), lambda d: _schools(d)["school_4401050006"]["hosts"][
        "s4401050006-srv"].update(ansible_host="127.10.6.999"))


def invalid_wan_address(inv: Path) -> None:
    _edit_yaml(_school_vars(inv, "4401060007"),
               lambda d: d["dlict_site"]["link"].update(wan_address="not an address"))


def unknown_device_type(inv: Path) -> None:
    _edit_yaml(_hosts(inv), lambda d: _schools(d)["school_4401010001"]["hosts"][
        "s4401010001-gw"].update(netmiko_device_type="cisco_iosxx"))


def network_device_without_type(inv: Path) -> None:
    def change(data: dict) -> None:
        data["all"]["children"]["network_devices"]["hosts"] = {"s4401010001-srv": None}
    _edit_yaml(_hosts(inv), change)


def host_in_no_role_group(inv: Path) -> None:
    _edit_yaml(_hosts(inv), lambda d: _schools(d)["school_4401010001"]["hosts"].update(
        {"s4401010001-nas": {"ansible_host": "127.10.1.30"}}))


def host_in_no_site(inv: Path) -> None:
    _edit_yaml(_hosts(inv), lambda d: d["all"]["children"]["linux_servers"]["hosts"].update(
        {"stray-server": {"ansible_host": "127.10.9.9"}}))


def receiver_kind_unknown(inv: Path) -> None:
    _edit_yaml(_school_vars(inv, "4401010002"),
               lambda d: d["dlict_site"]["dltv"].update(source="satellite_box"))


def dltv_channel_out_of_range(inv: Path) -> None:
    _edit_yaml(_school_vars(inv, "4401010002"),
               lambda d: d["dlict_site"]["dltv"].update(channels=[7, 16]))


def unknown_metadata_field(inv: Path) -> None:
    _edit_yaml(_school_vars(inv, "4401030004"),
               lambda d: d["dlict_site"].update(nmae_en="typo"))


def missing_required_field(inv: Path) -> None:
    _edit_yaml(_school_vars(inv, "4401030004"), lambda d: d["dlict_site"].pop("name_th"))


def plaintext_password(inv: Path) -> None:
    with (inv / "group_vars" / "all.yml").open("a") as out:
        out.write("ansible_become_password: hunter2-plain\n")


def school_listed_twice(inv: Path) -> None:
    text = _hosts(inv).read_text()
    second_listing = ("        school_4401010001:\n          hosts:\n"
                      "            extra: {ansible_host: 127.10.1.99}\n")
    text = text.replace("        school_4401010002:\n",
                        second_listing + "        school_4401010002:\n", 1)
    _hosts(inv).write_text(text)


def receiver_without_dltv_metadata(inv: Path) -> None:
    _edit_yaml(_school_vars(inv, "4401030004"), lambda d: d["dlict_site"].pop("dltv"))


BROKEN = {
    malformed_yaml: r"group_vars/school_4401010002\.yml:3: malformed YAML: .*"
                    r"\(while parsing a flow sequence opened on line 2\)",
    duplicate_school_code: r"group_vars/school_4401010002\.yml:\d+: group school_4401010002: "
                           r"dlict_site\.school_code: duplicate school code 4401010001",
    code_not_ten_digits: r"group_vars/school_4401020003\.yml:\d+: group school_4401020003: "
                         r"dlict_site\.school_code: school code '44010203' must be 10 digits",
    group_name_without_code: r"hosts\.yml:\d+: group school_borabue: a group under schools "
                             r"must be named school_<code>",
    school_without_metadata: r"hosts\.yml:\d+: group school_4401040005: site metadata missing",
    invalid_host_address: r"hosts\.yml:\d+: host s4401050006-srv: ansible_host: "
                          r"'127\.10\.6\.999' is not an IP address or host name",
    invalid_wan_address: r"group_vars/school_4401060007\.yml:\d+: group school_4401060007: "
                         r"dlict_site\.link\.wan_address: 'not an address' is not an IP address",
    unknown_device_type: r"hosts\.yml:\d+: host s4401010001-gw: netmiko_device_type: "
                         r"unknown device type 'cisco_iosxx'",
    network_device_without_type: r"host s4401010001-srv: network device without a type",
    host_in_no_role_group: r"hosts\.yml:\d+: host s4401010001-nas: is in no role group",
    host_in_no_site: r"hosts\.yml:\d+: host stray-server: belongs to no site",
    receiver_kind_unknown: r"group_vars/school_4401010002\.yml:\d+: group school_4401010002: "
                           r"dlict_site\.dltv\.source: unknown receiver source 'satellite_box'",
    dltv_channel_out_of_range: r"dlict_site\.dltv\.channels: DLTV channels are 1-15, got \[16\]",
    unknown_metadata_field: r"group_vars/school_4401030004\.yml:\d+: group school_4401030004: "
                            r"dlict_site\.nmae_en: unknown field",
    missing_required_field: r"group school_4401030004: dlict_site\.name_th: required field missing",
    plaintext_password: r"group_vars/all\.yml:\d+: group all: plaintext secret in variable "
                        r"ansible_become_password — keep it in Ansible Vault",
    school_listed_twice: r"hosts\.yml:\d+: duplicate key 'school_4401010001' \(first on line \d+\)",
    receiver_without_dltv_metadata: r"group school_4401030004: dlict_site: has a host in "
                                    r"dltv_receivers but no dltv metadata",
}


@pytest.mark.parametrize("breakage", list(BROKEN), ids=lambda f: f.__name__)
def test_broken_inventory_is_named_and_exits_2(
    breakage: Callable[[Path], None], example_copy: Path, cli: CliRunner
) -> None:
    breakage(example_copy)
    result = cli("-i", str(example_copy), "inventory", "validate")
    assert result.code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert re.search(BROKEN[breakage], result.stderr), result.stderr
    assert all(line.startswith("dlict: ") for line in lines)


def test_plaintext_secret_is_not_echoed(example_copy: Path, cli: CliRunner) -> None:
    plaintext_password(example_copy)
    result = cli("-i", str(example_copy), "inventory", "validate")
    assert result.code == 2
    assert "hunter2-plain" not in result.stderr + result.stdout


def test_missing_inventory_path(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("-i", str(tmp_path / "nowhere"), "inventory", "validate")
    assert result.code == 2
    assert "nowhere: inventory not found" in result.stderr


def test_no_inventory_given(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLICT_INVENTORY", raising=False)
    result = cli("inventory", "validate")
    assert result.code == 2
    assert "no inventory given" in result.stderr


def test_every_problem_is_reported_at_once(example_copy: Path, cli: CliRunner) -> None:
    receiver_kind_unknown(example_copy)
    host_in_no_site(example_copy)
    unknown_device_type(example_copy)
    result = cli("-i", str(example_copy), "inventory", "validate")
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 3, result.stderr
