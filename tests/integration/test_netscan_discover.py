"""``dlict netscan discover`` on a real LAN: a bridge in a namespace of its own, hosts in
namespaces of their own attached by veth, the scanner's end of the LAN in this namespace.
Real ARP packets; everything is removed again whatever happens."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from dlict.core.store import EvidenceStore
from tests.conftest import CliRunner

pytestmark = pytest.mark.integration

DLICT = str(Path(sys.executable).parent / "dlict")
RASPBERRY_PI_MAC = "b8:27:eb:12:34:56"
# Xensource's block: globally administered, so the vendor comes from the registry.
KNOWN_MACS = ("00:16:3e:0a:00:0b", "00:16:3e:0a:00:0c", "00:16:3e:0a:00:0d")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.215.X.0/24 no route of this machine overlaps (another test run may hold one)."""
    routes = subprocess.run(["ip", "-4", "-j", "route", "show", "table", "all"], check=True,
                            capture_output=True, text=True).stdout
    taken = []
    for route in json.loads(routes):
        dst = route.get("dst", "")
        if dst and dst not in ("default",) and dst[0].isdigit():
            taken.append(ipaddress.ip_network(dst, strict=False))
    for third in range(256):
        candidate = ipaddress.IPv4Network(f"10.215.{third}.0/24")
        if not any(candidate.overlaps(t) for t in taken):
            return candidate
    raise AssertionError("no free 10.215.X.0/24 on this machine")


@dataclass
class Lan:
    """A LAN bridge in its own namespace; the scanner's veth end in this namespace."""

    tag: str
    network: ipaddress.IPv4Network
    scanner_link: str
    namespaces: list[str] = field(default_factory=list)

    @property
    def bridge_ns(self) -> str:
        return f"dnsd-{self.tag}-lan"

    def address(self, last: int) -> str:
        return str(self.network.network_address + last)

    def add_host(self, name: str, last: int, mac: str) -> str:
        """A host namespace with eth0 (``mac``, .``last``) on the bridge; returns its ns."""
        namespace = f"dnsd-{self.tag}-{name}"
        outside = f"dnd{self.tag}{name}"[:15]
        _ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        _ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        _ip("link", "set", outside, "netns", self.bridge_ns)
        _ip("-n", self.bridge_ns, "link", "set", outside, "master", "br0", "up")
        _ip("-n", namespace, "link", "set", "eth0", "address", mac)
        _ip("-n", namespace, "addr", "add", f"{self.address(last)}/24", "dev", "eth0")
        _ip("-n", namespace, "link", "set", "eth0", "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        return namespace


@pytest.fixture
def lan() -> Iterator[Lan]:
    tag = f"{os.getpid() % 10000:04d}"
    network = _free_subnet()
    item = Lan(tag, network, f"dnsc{tag}")
    try:
        _ip("netns", "add", item.bridge_ns)
        item.namespaces.append(item.bridge_ns)
        _ip("-n", item.bridge_ns, "link", "add", "br0", "type", "bridge")
        _ip("-n", item.bridge_ns, "link", "set", "br0", "up")
        _ip("link", "add", item.scanner_link, "type", "veth", "peer", "name", "uplink",
            "netns", item.bridge_ns)
        _ip("-n", item.bridge_ns, "link", "set", "uplink", "master", "br0", "up")
        _ip("addr", "add", f"{item.address(1)}/24", "dev", item.scanner_link)
        _ip("link", "set", item.scanner_link, "up")
        yield item
    finally:
        subprocess.run(["ip", "link", "del", item.scanner_link], capture_output=True,
                       check=False)
        for namespace in reversed(item.namespaces):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def write_inventory(root: Path, lan: Lan) -> Path:
    """The office site owns the LAN; three known hosts, the first with its MAC registered."""
    root.mkdir(parents=True)
    hosts = {"all": {"children": {
        "office": {"hosts": {
            "office-srv": {"ansible_host": lan.address(11), "dlict_mac": KNOWN_MACS[0]},
            "office-printer": {"ansible_host": lan.address(12)},
            "office-ap": {"ansible_host": lan.address(13)},
        }},
        "linux_servers": {"hosts": {"office-srv": None}},
        "network_devices": {"hosts": {"office-printer": None, "office-ap": None},
                            "vars": {"netmiko_device_type": "mikrotik_routeros"}},
    }}}
    (root / "hosts.yml").write_text(yaml.safe_dump(hosts))
    (root / "group_vars").mkdir()
    (root / "group_vars" / "office.yml").write_text(yaml.safe_dump({"dlict_site": {
        "name_th": "สำนักงานเขต", "name_en": "Office", "amphoe": "เมือง",
        "province": "มหาสารคาม", "lan": [str(lan.network)]}}, allow_unicode=True))
    return root


def discover(cli: CliRunner, inventory: Path) -> tuple[int, dict[str, Any]]:
    result = cli("--json", "-i", str(inventory), "netscan", "discover", "--site", "office",
                 "--timeout", "0.5")
    assert result.code in (0, 1), result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return result.code, data


def test_discover_finds_the_unknown_device_and_the_swapped_one(
        lan: Lan, cli: CliRunner, tmp_path: Path) -> None:
    for number, mac in enumerate(KNOWN_MACS):
        lan.add_host(f"k{number}", 11 + number, mac)
    inventory = write_inventory(tmp_path / "inventory", lan)

    code, data = discover(cli, inventory)
    assert code == 0
    assert [(r["host"], r["control"], r["status"]) for r in data["results"]] == [
        (str(lan.network), "EP-07", "pass")]
    assert data["results"][0]["evidence"].startswith(
        f"3 devices answered on {lan.network} ({lan.scanner_link}), all known")

    lan.add_host("pi", 77, RASPBERRY_PI_MAC)
    code, data = discover(cli, inventory)
    assert code == 1
    results = data["results"]
    assert [(r["host"], r["status"]) for r in results] == [
        (lan.address(77), "fail")]
    assert results[0]["evidence"] == (
        f"{lan.address(77)} {RASPBERRY_PI_MAC} (Raspberry Pi Foundation) is not in the inventory")
    with EvidenceStore.open(tmp_path / "data" / "evidence.sqlite") as store:
        run = store.run(int(data["id"]))
        stored = store.results(run.id)
    assert run.kind == "netscan"
    assert run.status.value == "findings"
    assert [(r.site, r.host, r.control, r.status.value) for r in stored] == [
        ("office", lan.address(77), "EP-07", "fail")]

    # The registered server is swapped for another box at the same address.
    _ip("-n", f"dnsd-{lan.tag}-k0", "link", "set", "eth0", "address", "00:16:3e:0a:00:99")
    code, data = discover(cli, inventory)
    assert code == 1
    by_host = {r["host"]: r["evidence"] for r in data["results"]}
    assert sorted(by_host) == sorted([lan.address(11), lan.address(77)])
    assert by_host[lan.address(11)] == (
        f"{lan.address(11)} 00:16:3e:0a:00:99 (Xensource, Inc.) answers, but the inventory has "
        f"office-srv with {KNOWN_MACS[0]} (Xensource, Inc.) at that address")


def test_discover_bad_input_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    lan = Lan("0000", ipaddress.IPv4Network("127.215.0.0/24"), "unused")  # no packet is sent
    inventory = write_inventory(tmp_path / "inventory", lan)
    result = cli("-i", str(inventory), "netscan", "discover", "--site", "4401999999")
    assert result.code == 2
    assert result.stderr.strip() == (f"dlict: --site: no site '4401999999' in {inventory}")
    assert not (tmp_path / "data" / "evidence.sqlite").exists()


def test_without_raw_sockets_both_commands_stop_with_one_line(
        lan: Lan, tmp_path: Path) -> None:
    """Root without CAP_NET_RAW (setpriv drops it): exit 3, one line, nothing stored."""
    lan.add_host("k0", 11, KNOWN_MACS[0])
    inventory = write_inventory(tmp_path / "inventory", lan)
    for command in (["discover", "--site", "office"], ["verify", "--limit", "office-srv"]):
        result = subprocess.run(
            ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", DLICT,
             "-i", str(inventory), "--data-dir", str(tmp_path / "data"), "netscan", *command],
            capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 3, result.stderr
        assert result.stderr.strip().splitlines() == [
            "dlict: dlict netscan needs raw sockets: run it as root or with CAP_NET_RAW "
            "(Operation not permitted)"]
    assert not (tmp_path / "data" / "evidence.sqlite").exists()


def test_verify_bad_input_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    lan = Lan("0000", ipaddress.IPv4Network("127.215.0.0/24"), "unused")  # no packet is sent
    inventory = write_inventory(tmp_path / "inventory", lan)
    cases = {
        ("--limit", "school_4401999999"):
            f"dlict: --limit: 'school_4401999999' matches no host, group or site of {inventory}",
        ("--ports", "udp/5353"):
            "dlict: --ports: udp/5353: UDP can only be probed where the service answers: "
            "udp/53 (DNS), udp/123 (NTP), udp/161 (SNMP)",
    }
    for args, message in cases.items():
        result = cli("-i", str(inventory), "netscan", "verify", *args)
        assert (result.code, result.stderr.strip()) == (2, message)
    host_vars = inventory / "host_vars"
    host_vars.mkdir()
    (host_vars / "office-srv.yml").write_text(yaml.safe_dump({"dlict_firewall_services": [
        {"name": "web", "proto": "tcp", "port": "https", "sources": ["any"]}]}))
    result = cli("-i", str(inventory), "netscan", "verify")
    assert (result.code, result.stderr.strip()) == (
        2, "dlict: host office-srv: dlict_firewall_services[0] (web): port 'https' is not a "
           "number or 'first-last'")
    assert not (tmp_path / "data" / "evidence.sqlite").exists()
