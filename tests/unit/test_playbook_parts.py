"""An audit's hosts dealt over several Ansible programs at once, and their events merged so the
callers see one run: a play counts as started (the plays before it ended on every host) only
once every part has started it or ended."""

from __future__ import annotations

from typing import Any

from dlict.playbooks.runner import _Merged
from dlict.playbooks.sop import split_hosts


def _play(name: str) -> dict[str, Any]:
    return {"event": "playbook_on_play_start", "event_data": {"play": name}}


def _ok(host: str) -> dict[str, Any]:
    return {"event": "runner_on_ok", "event_data": {"host": host, "task": "t",
                                                    "task_action": "assert", "res": {},
                                                    "dlict_tags": ["FW-01", "firewall"]}}


def _stats(host: str) -> dict[str, Any]:
    return {"event": "playbook_on_stats",
            "event_data": {"processed": {host: 1}, "changed": {host: 0}, "playbook": "x"}}


def test_hosts_are_dealt_round_robin_over_the_runs_asked_for() -> None:
    hosts = [f"h{i}" for i in range(7)]
    assert split_hosts(hosts, 3) == ["h0,h3,h6", "h1,h4", "h2,h5"]
    assert split_hosts(hosts, 1) == []  # one program: the caller's own limit
    assert split_hosts(["a", "b"], 5) == ["a", "b"]  # never more programs than hosts
    assert split_hosts([], 2) == []


def test_a_play_is_reported_once_every_part_started_it_or_ended() -> None:
    reported: list[str] = []
    merged = _Merged(2, None, reported.append)
    merged.event(0, _play("firewall"))
    assert reported == []  # part 1 has not started it yet
    merged.event(1, _play("firewall"))
    assert reported == ["firewall"]
    merged.event(0, _play("antivirus"))
    merged.event(0, _play("identity"))
    assert reported == ["firewall"]
    merged.event(1, _play("antivirus"))
    assert reported == ["firewall", "antivirus"]
    merged.part_ended(1)  # all of part 1's hosts failed: it runs no more plays
    assert reported == ["firewall", "antivirus", "identity"]
    merged.event(0, _play("logging"))
    merged.part_ended(0)
    assert reported == ["firewall", "antivirus", "identity", "logging"]


def test_events_and_stats_of_the_parts_are_merged() -> None:
    seen: list[str] = []
    merged = _Merged(2, lambda event: seen.append(event.host), None)
    merged.event(0, _ok("a"))
    merged.event(1, _ok("b"))
    merged.event(0, _stats("a"))
    merged.event(1, _stats("b"))
    assert seen == ["a", "b"] and [e.host for e in merged.events] == ["a", "b"]
    # the tags come inside the event (the dlict_tags callback puts them there)
    assert merged.events[0].tags == ("FW-01", "firewall")
    assert merged.stats == {"processed": {"a": 1, "b": 1}, "changed": {"a": 0, "b": 0}}


def test_one_part_reports_each_play_as_it_starts() -> None:
    reported: list[str] = []
    merged = _Merged(1, None, reported.append)
    merged.event(0, _play("firewall"))
    assert reported == ["firewall"]
    merged.event(0, _play("antivirus"))
    assert reported == ["firewall", "antivirus"]
