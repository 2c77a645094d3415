"""The agent's LAN job (EP-07 from inside the school) on a real LAN: a bridge in a network
namespace of its own, devices in namespaces of their own attached by veth, the agent's end
of the LAN in this namespace. Real ARP packets through scapy, judged by the same function as
``dlict netscan discover``; everything is removed again whatever happens."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.lan import EVENT_TYPE, LanJob
from dlict.agent.jobs.runner import run_job
from dlict.agent.jobs.settings import LanJobSettings
from dlict.agent.records import Kind, result_of
from dlict.core.results import Status

pytestmark = pytest.mark.integration

SITE, HOST = "4401010001", "school-srv"
CONTEXT = JobContext(SITE, HOST, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
RASPBERRY_PI_MAC = "b8:27:eb:12:34:56"
KNOWN_MACS = ("00:16:3e:0a:00:0b", "00:16:3e:0a:00:0c")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.216.X.0/24 no route of this machine overlaps (another test run may hold one)."""
    routes = subprocess.run(["ip", "-4", "-j", "route", "show", "table", "all"], check=True,
                            capture_output=True, text=True).stdout
    taken = [ipaddress.ip_network(r["dst"], strict=False) for r in json.loads(routes)
             if r.get("dst", "")[:1].isdigit()]
    for third in range(256):
        candidate = ipaddress.IPv4Network(f"10.216.{third}.0/24")
        if not any(candidate.overlaps(t) for t in taken):
            return candidate
    raise AssertionError("no free 10.216.X.0/24 on this machine")


@dataclass
class Lan:
    tag: str
    network: ipaddress.IPv4Network
    agent_link: str
    namespaces: list[str] = field(default_factory=list)

    @property
    def bridge_ns(self) -> str:
        return f"dlaj-{self.tag}-lan"

    def address(self, last: int) -> str:
        return str(self.network.network_address + last)

    def add_device(self, name: str, last: int, mac: str) -> str:
        namespace = f"dlaj-{self.tag}-{name}"
        outside = f"dla{self.tag}{name}"[:15]
        _ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        _ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        _ip("link", "set", outside, "netns", self.bridge_ns)
        _ip("-n", self.bridge_ns, "link", "set", outside, "master", "br0", "up")
        _ip("-n", namespace, "link", "set", "eth0", "address", mac)
        _ip("-n", namespace, "addr", "add", f"{self.address(last)}/24", "dev", "eth0")
        _ip("-n", namespace, "link", "set", "eth0", "up")
        return namespace


@pytest.fixture
def lan() -> Iterator[Lan]:
    tag = f"{os.getpid() % 10000:04d}"
    item = Lan(tag, _free_subnet(), f"dlaa{tag}")
    try:
        _ip("netns", "add", item.bridge_ns)
        item.namespaces.append(item.bridge_ns)
        _ip("-n", item.bridge_ns, "link", "add", "br0", "type", "bridge")
        _ip("-n", item.bridge_ns, "link", "set", "br0", "up")
        _ip("link", "add", item.agent_link, "type", "veth", "peer", "name", "uplink",
            "netns", item.bridge_ns)
        _ip("-n", item.bridge_ns, "link", "set", "uplink", "master", "br0", "up")
        _ip("addr", "add", f"{item.address(1)}/24", "dev", item.agent_link)
        _ip("link", "set", item.agent_link, "up")
        yield item
    finally:
        subprocess.run(["ip", "link", "del", item.agent_link], capture_output=True, check=False)
        for namespace in reversed(item.namespaces):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def sweep(lan: Lan) -> tuple[dict[str, tuple[Status, str]], list[dict[str, object]]]:
    settings = LanJobSettings(networks=[str(lan.network)], timeout_s=0.5, known=[
        {"name": "school-srv", "address": lan.address(11), "mac": KNOWN_MACS[0]},
        {"name": "printer", "address": lan.address(12)}])
    run = run_job(LanJob(settings), CONTEXT)
    assert (run.error, run.cut) == (None, False)
    results = {result_of(r).host: (result_of(r).status, result_of(r).evidence)
               for r in run.records if r.kind is Kind.RESULT}
    assert all(result_of(r).control == "EP-07" for r in run.records if r.kind is Kind.RESULT)
    events = [dict(r.body) for r in run.records if r.kind is Kind.EVENT]
    return results, events


def test_lan_job_finds_the_unknown_device_and_the_swapped_one(lan: Lan) -> None:
    lan.add_device("k0", 11, KNOWN_MACS[0])
    lan.add_device("k1", 12, KNOWN_MACS[1])
    results, events = sweep(lan)
    assert results == {str(lan.network): (
        Status.PASS, f"2 devices answered on {lan.network} ({lan.agent_link}), all known")}
    assert events == []

    lan.add_device("pi", 77, RASPBERRY_PI_MAC)
    _ip("-n", f"dlaj-{lan.tag}-k0", "link", "set", "eth0", "address", "00:16:3e:0a:00:99")
    results, events = sweep(lan)
    pi, swapped = lan.address(77), lan.address(11)
    assert results == {
        pi: (Status.FAIL, f"{pi} {RASPBERRY_PI_MAC} (Raspberry Pi Foundation) is not in the "
                          "inventory"),
        swapped: (Status.FAIL, f"{swapped} 00:16:3e:0a:00:99 (Xensource, Inc.) answers, but the "
                               f"inventory has school-srv with {KNOWN_MACS[0]} (Xensource, "
                               "Inc.) at that address"),
    }
    assert sorted((e["type"], e["address"], e["control"]) for e in events) == sorted([
        (EVENT_TYPE, pi, "EP-07"), (EVENT_TYPE, swapped, "EP-07")])
    assert {e["detail"] for e in events} == {results[pi][1], results[swapped][1]}


def test_a_lan_the_agent_is_not_on_is_an_error_not_a_crash() -> None:
    settings = LanJobSettings(networks=["127.216.0.0/24"], timeout_s=0.1)  # no packet is sent
    run = run_job(LanJob(settings), CONTEXT)
    assert run.error is None
    (record,) = run.records
    result = result_of(record)
    assert (result.status, result.host, result.control) == (Status.ERROR, "127.216.0.0/24",
                                                            "EP-07")
    assert result.evidence == ("127.216.0.0/24 is not on a link of this machine (loopback): set "
                               "jobs.lan.interface, or run the agent on that LAN")


def test_an_unknown_device_is_one_event_while_it_stays_and_a_result_every_sweep(
        lan: Lan, tmp_path: Path) -> None:
    lan.add_device("k0", 11, KNOWN_MACS[0])
    lan.add_device("pi", 77, RASPBERRY_PI_MAC)
    settings = LanJobSettings(networks=[str(lan.network)], timeout_s=0.5, known=[
        {"name": "school-srv", "address": lan.address(11), "mac": KNOWN_MACS[0]}])
    job = LanJob(settings, state_dir=tmp_path)

    def sweep_once() -> tuple[list[str], list[str]]:
        run = run_job(job, CONTEXT)
        assert run.error is None
        fails = sorted(result_of(r).host for r in run.records
                       if r.kind is Kind.RESULT and result_of(r).status is Status.FAIL)
        events = sorted(str(r.body["address"]) for r in run.records if r.kind is Kind.EVENT)
        return fails, events

    pi, other = lan.address(77), lan.address(78)
    assert sweep_once() == ([pi], [pi])
    assert sweep_once() == ([pi], [])  # still there: the finding again, no new event
    seen = tmp_path / "lan-seen.json"
    assert oct(seen.stat().st_mode & 0o777) == "0o640"
    assert json.loads(seen.read_text()) == {"pairs": [f"{pi} {RASPBERRY_PI_MAC}"]}

    lan.add_device("pc", 78, "00:16:3e:0a:00:4e")
    assert sweep_once() == ([pi, other], [other])

    seen.write_text("{not json")  # a damaged state file hides nothing
    assert sweep_once() == ([pi, other], [pi, other])
