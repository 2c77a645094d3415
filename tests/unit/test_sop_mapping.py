"""How task events become control results (the pure mapping, on events shaped like
ansible-runner's; the real runs are in tests/integration/sop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlict.controls import load_catalog
from dlict.core.results import Status
from dlict.inventory.models import Host, Inventory, Role, Site, SiteKind, SiteMeta
from dlict.playbooks.runner import AnsibleEvent, PlaybookOutcome
from dlict.playbooks.sop import Mode, SopRun, results_from_events

CATALOG = load_catalog()
AREA = CATALOG.in_areas(["firewall"])
FIREWALL = [c for c in AREA if "windows" not in c.platforms]  # what a Linux host is judged on


def _inventory() -> Inventory:
    meta = SiteMeta(school_code="4401000001", name_th="ก", name_en="A", amphoe="ข",
                    province="ค")
    hosts = {
        name: Host(name=name, address="127.0.0.1", site="4401000001",
                   roles=frozenset({Role.LINUX_SERVER}))
        for name in ("a", "b")
    }
    site = Site(id="4401000001", kind=SiteKind.SCHOOL, group="school_4401000001", meta=meta,
                hosts=("a", "b"))
    return Inventory(source="x", sites=(site,), hosts=hosts)


def event(kind: str, host: str, action: str, tags: tuple[str, ...], *, changed: bool = False,
          **result: Any) -> AnsibleEvent:
    return AnsibleEvent(kind=kind, host=host, task=f"{action} {tags}", action=action,
                        tags=("firewall", *tags), changed=changed, ignore_errors=False,
                        result=result)


def statuses(events: list[AnsibleEvent], mode: Mode = Mode.AUDIT) -> dict[tuple[str, str], Status]:
    results = results_from_events(events, ["a", "b"], FIREWALL, _inventory(), mode)
    return {(r.host, r.control or ""): r.status for r in results}


def passing(host: str) -> list[AnsibleEvent]:
    return [event("runner_on_ok", host, "assert", (c.id,), msg=f"{c.id} ok") for c in FIREWALL]


def test_all_asserts_pass() -> None:
    got = statuses(passing("a") + passing("b"))
    assert set(got.values()) == {Status.PASS}
    assert len(got) == 2 * len(FIREWALL)


def test_failed_assert_is_a_fail_with_its_message_as_evidence() -> None:
    events = passing("a") + passing("b")
    events.append(event("runner_on_failed", "b", "assert", ("FW-02",), msg="tcp 8080 open"))
    results = results_from_events(events, ["a", "b"], FIREWALL, _inventory(), Mode.AUDIT)
    bad = [r for r in results if r.status is not Status.PASS]
    assert [(r.host, r.control, r.evidence) for r in bad] == [("b", "FW-02", "tcp 8080 open")]


def test_a_change_in_check_mode_fails_the_control_with_the_diff() -> None:
    template_change = event("runner_on_ok", "a", "template", ("FW-04",), changed=True,
                            diff=[{"before": "old\n", "after": "new\n",
                                   "after_header": "/etc/nftables.conf"}])
    events = [*passing("a"), template_change]
    results = results_from_events(events, ["a"], FIREWALL, _inventory(), Mode.AUDIT)
    fw04 = next(r for r in results if r.control == "FW-04")
    assert fw04.status is Status.FAIL
    assert "-old" in fw04.evidence and "+new" in fw04.evidence
    assert statuses(events, Mode.APPLY)[("a", "FW-04")] is Status.PASS  # apply: it was fixed


def test_a_module_failure_is_an_error_and_a_silent_control_is_not_a_pass() -> None:
    events = [e for e in passing("a") if "FW-05" not in e.tags]
    events.append(event("runner_on_failed", "a", "command", ("FW-01",), msg="nft: not found"))
    got = statuses(events)
    assert got[("a", "FW-01")] is Status.ERROR
    assert got[("a", "FW-05")] is Status.ERROR  # no event at all: not checked


def test_unreachable_host_gets_unreachable_for_every_control() -> None:
    events = [*passing("a"), AnsibleEvent(kind="runner_on_unreachable", host="b", task="Gather",
                                          action="gather_facts", tags=(), changed=False,
                                          ignore_errors=False, result={"msg": "timed out"})]
    got = statuses(events)
    assert {s for (h, _), s in got.items() if h == "b"} == {Status.UNREACHABLE}
    assert {s for (h, _), s in got.items() if h == "a"} == {Status.PASS}


def test_skipped_assert_takes_the_reason_from_the_debug_note() -> None:
    events = [e for e in passing("a") if "FW-03" not in e.tags]
    events.append(event("runner_on_ok", "a", "debug", ("FW-03",), msg="kernel refuses it here"))
    events.append(event("runner_on_skipped", "a", "assert", ("FW-03",)))
    results = results_from_events(events, ["a"], FIREWALL, _inventory(), Mode.AUDIT)
    fw03 = next(r for r in results if r.control == "FW-03")
    assert fw03.status is Status.SKIPPED
    assert fw03.evidence == "kernel refuses it here"


def test_a_rescued_failure_is_its_controls_error_and_the_area_stop_explains_the_rest() -> None:
    # playbooks/firewall.yml: FW-02's task fails, the play's rescue reports where the area
    # stopped, the later FW tasks never run; host b is unaffected.
    done = [e for e in passing("a") if {"FW-01", "FW-02"} & set(e.tags)]
    failed = AnsibleEvent(kind="runner_on_failed", host="a", task="FW-02 load the ruleset",
                          action="command", tags=("firewall", "FW-02"), changed=False,
                          ignore_errors=False, result={"msg": "nft: syntax error"})
    stop = event("runner_on_ok", "a", "debug", ("dlict_area_stopped",),
                 msg="the firewall area stopped on this host at 'FW-02 load the ruleset': "
                     "nft: syntax error")
    results = results_from_events([*done, failed, stop, *passing("b")], ["a", "b"], FIREWALL,
                                  _inventory(), Mode.APPLY)
    on_a = {r.control: (r.status, r.evidence) for r in results if r.host == "a"}
    assert on_a["FW-01"][0] is Status.PASS
    assert on_a["FW-02"] == (Status.ERROR, "FW-02 load the ruleset: nft: syntax error")
    why = "the firewall area stopped on this host at 'FW-02 load the ruleset': nft: syntax error"
    for control in ("FW-03", "FW-04", "FW-05"):
        assert on_a[control] == (Status.ERROR, f"not checked: {why}")
    assert {r.status for r in results if r.host == "b"} == {Status.PASS}


def test_another_areas_stop_leaves_these_controls_alone() -> None:
    stop = AnsibleEvent(kind="runner_on_ok", host="a", task="Report where the antivirus area "
                        "stopped", action="debug", tags=("antivirus", "dlict_area_stopped"),
                        changed=False, ignore_errors=False,
                        result={"msg": "the antivirus area stopped on this host at 'x': y"})
    events = [e for e in passing("a") if "FW-05" not in e.tags]
    got = {r.control: r.evidence for r in results_from_events(
        [*events, stop], ["a"], FIREWALL, _inventory(), Mode.APPLY) if r.host == "a"}
    assert got["FW-05"] == "not checked: no task reported this control"


def test_a_windows_pc_is_judged_on_the_windows_controls_only() -> None:
    """One play observes a PC for every area; a Linux host never gets a Windows control."""
    inventory = _inventory()
    pc = Host(name="pc", address="127.0.0.1", site="4401000001",
              roles=frozenset({Role.WINDOWS_ENDPOINT}))
    inventory = inventory.model_copy(update={"hosts": {**inventory.hosts, "pc": pc}})
    events = [*passing("a"), event("runner_on_ok", "pc", "assert", ("FW-21",), msg="on")]
    results = results_from_events(events, ["a", "pc"], AREA, inventory, Mode.AUDIT)
    by_host: dict[str, set[str]] = {}
    for r in results:
        by_host.setdefault(r.host, set()).add(r.control or "")
    assert by_host["pc"] == {"FW-21"}
    assert "FW-21" not in by_host["a"] and by_host["a"] == {c.id for c in FIREWALL}
    assert [r.status for r in results if r.host == "pc"] == [Status.PASS]


def test_a_pc_that_cannot_be_reached_is_unreachable_for_its_own_controls_only() -> None:
    inventory = _inventory()
    pc = Host(name="pc", address="127.0.0.1", site="4401000001",
              roles=frozenset({Role.WINDOWS_ENDPOINT}))
    inventory = inventory.model_copy(update={"hosts": {**inventory.hosts, "pc": pc}})
    unreachable = AnsibleEvent(kind="runner_on_unreachable", host="pc", task="observe",
                               action="ansible.windows.win_powershell", tags=(),
                               changed=False, ignore_errors=False,
                               result={"msg": "connection refused", "unreachable": True})
    results = results_from_events([*passing("a"), unreachable], ["a"], AREA, inventory,
                                  Mode.AUDIT)
    assert {(r.control, r.status) for r in results if r.host == "pc"} == {
        ("FW-21", Status.UNREACHABLE)}
    assert {r.status for r in results if r.host == "a"} == {Status.PASS}



def test_the_windows_play_runs_only_for_an_inventory_with_pcs(tmp_path: Path) -> None:
    """A district without Windows PCs never needs the Windows collections (a core install
    audits its Linux hosts); without the collections the PCs the limit names are errors that
    say what to install."""
    from dlict.playbooks.sop import AREAS, _playbook_for, _windows_not_run

    assert _playbook_for(list(AREAS), tmp_path, windows=False).name == "site.yml"
    wrapper = _playbook_for(list(AREAS), tmp_path, windows=True).read_text()
    assert "windows.yml" in wrapper and "endpoint.yml" in wrapper
    assert "windows.yml" not in _playbook_for(["firewall"], tmp_path, windows=False).read_text()
    inventory = _inventory()
    pc = Host(name="pc", address="127.0.0.1", site="4401000001",
              roles=frozenset({Role.WINDOWS_ENDPOINT}))
    inventory = inventory.model_copy(update={"hosts": {**inventory.hosts, "pc": pc}})
    errors = _windows_not_run(inventory, None, AREA)
    assert {(r.host, r.control, r.status) for r in errors} == {("pc", "FW-21", Status.ERROR)}
    assert "pip install 'dlict[windows]'" in errors[0].evidence
    assert _windows_not_run(inventory, "a", AREA) == []


def _area_check(host: str, verdicts: dict[str, dict[str, str]],
                kind: str = "runner_on_ok") -> AnsibleEvent:
    return event(kind, host, "dlict_check", tuple(c.id for c in FIREWALL),
                 dlict_verdicts=verdicts, failed=kind == "runner_on_failed")


def test_one_area_check_gives_each_control_its_own_verdict() -> None:
    verdicts = {c.id: {"status": "pass", "evidence": f"{c.id} holds"} for c in FIREWALL}
    verdicts["FW-02"] = {"status": "fail", "evidence": "loaded rules not in the inventory"}
    events = [_area_check("a", verdicts, "runner_on_failed"),
              _area_check("b", {c.id: {"status": "pass", "evidence": "ok"} for c in FIREWALL})]
    results = results_from_events(events, ["a", "b"], FIREWALL, _inventory(), Mode.AUDIT)
    by_key = {(r.host, r.control): r for r in results}
    assert by_key[("a", "FW-02")].status is Status.FAIL
    assert by_key[("a", "FW-02")].evidence == "loaded rules not in the inventory"
    assert {k for k, r in by_key.items() if r.status is not Status.PASS} == {("a", "FW-02")}
    assert by_key[("a", "FW-01")].evidence == "FW-01 holds"


def test_an_area_check_that_forgets_a_control_leaves_it_not_checked() -> None:
    verdicts = {c.id: {"status": "pass", "evidence": "ok"} for c in FIREWALL if c.id != "FW-04"}
    # garbage beside the verdicts: a status dlict does not know, a key that is no control id
    verdicts["FW-05"] = {"status": "great", "evidence": "?"}
    verdicts["rm -rf"] = {"status": "pass", "evidence": "?"}
    got = statuses([_area_check("a", verdicts), *passing("b")])
    assert got[("a", "FW-04")] is Status.ERROR
    assert got[("a", "FW-05")] is Status.ERROR
    assert got[("a", "FW-01")] is Status.PASS


def test_an_area_check_whose_probes_did_not_run_is_an_error_of_every_control() -> None:
    failed = event("runner_on_failed", "a", "dlict_check", tuple(c.id for c in FIREWALL),
                   failed=True, msg="the firewall probes did not run: timed out")
    got = statuses([failed, *passing("b")])
    assert {got[("a", c.id)] for c in FIREWALL} == {Status.ERROR}


# A dlict_state task (playbooks/action_plugins/dlict_state.py): one event for a group of
# steps, each judged as its own task would be, on the controls it names.
INSTALL = "FW-01 install nftables"
RULES = "FW-04 write the rule set rendered from the inventory"
AT_BOOT = "FW-05 load the rule set at boot"


def step(name: str, controls: list[str], **outcome: Any) -> dict[str, Any]:
    done: dict[str, Any] = {"changed": False, "failed": False, "skipped": False, "msg": ""}
    if outcome.get("skipped"):
        done = {}
    return {"name": name, "controls": controls, **done, **outcome}


def state_event(host: str, steps: list[dict[str, Any]], *, failed: bool = False,
                ignore_errors: bool = False) -> AnsibleEvent:
    """What the runner makes of a dlict_state task's result (its tags name every control)."""
    changed = any(s.get("changed") for s in steps)
    last = steps[-1] if steps else {}
    msg = f"{last['name']}: {last['msg']}" if failed else "x"
    return AnsibleEvent(kind="runner_on_failed" if failed else "runner_on_ok", host=host,
                        task="FW-01 FW-04 nftables, the rule set, loaded at boot",
                        action="dlict_state", tags=("firewall", *(c.id for c in FIREWALL)),
                        changed=changed, ignore_errors=ignore_errors,
                        result={"changed": changed, "failed": failed, "dlict_steps": steps,
                                "msg": msg})


def _rules_would_change() -> AnsibleEvent:
    return state_event("a", [
        step(INSTALL, ["FW-01"]),
        step(RULES, ["FW-04"], changed=True,
             diff=[{"before": "policy accept\n", "after": "policy drop\n",
                    "before_header": "/etc/nftables.conf",
                    "after_header": "/etc/nftables.conf"}]),
        step(AT_BOOT, ["FW-05"]),
    ])


def test_a_state_step_that_would_change_fails_its_own_controls_only() -> None:
    events = [*passing("a"), _rules_would_change(), *passing("b")]
    results = results_from_events(events, ["a", "b"], FIREWALL, _inventory(), Mode.AUDIT)
    by_key = {(r.host, r.control): r for r in results}
    fw04 = by_key[("a", "FW-04")]
    assert fw04.status is Status.FAIL
    assert fw04.evidence.startswith(f"would change: {RULES}\n")
    assert "-policy accept" in fw04.evidence and "+policy drop" in fw04.evidence
    assert {k for k, r in by_key.items() if r.status is not Status.PASS} == {("a", "FW-04")}
    assert by_key[("a", "FW-05")].evidence == "FW-05 ok"  # the assert's word, the step held


def test_a_state_step_that_changed_in_an_apply_made_its_control_hold() -> None:
    events = [*passing("a"), _rules_would_change(), *passing("b")]
    assert set(statuses(events, Mode.APPLY).values()) == {Status.PASS}


def test_a_failed_state_step_is_its_controls_error_and_the_steps_after_it_never_ran() -> None:
    # The group stops at the failing step (dlict_state lists only the steps that ran); the
    # area play's rescue reports where the area stopped.
    failed = state_event("a", [
        step(INSTALL, ["FW-01"]),
        step(RULES, ["FW-04"], failed=True, msg="nft: syntax error in line 3"),
    ], failed=True)
    why = ("the firewall area stopped on this host at 'FW-01 FW-04 nftables, the rule set, "
           "loaded at boot': FW-04 write the rule set rendered from the inventory: nft: "
           "syntax error in line 3")
    stop = event("runner_on_ok", "a", "debug", ("dlict_area_stopped",), msg=why)
    for mode in (Mode.APPLY, Mode.AUDIT):
        results = results_from_events([failed, stop, *passing("b")], ["a", "b"], FIREWALL,
                                      _inventory(), mode)
        on_a = {r.control: (r.status, r.evidence) for r in results if r.host == "a"}
        assert on_a["FW-04"] == (Status.ERROR, f"{RULES}: nft: syntax error in line 3")
        for control in ("FW-02", "FW-03", "FW-05"):  # FW-05's step came after: not run
            assert on_a[control] == (Status.ERROR, f"not checked: {why}")
        assert on_a["FW-01"][0] is not Status.ERROR  # its step held: seen, no error
        assert {r.status for r in results if r.host == "b"} == {Status.PASS}


def test_a_skipped_state_step_leaves_its_controls_unseen() -> None:
    events = [e for e in passing("a") if "FW-05" not in e.tags]
    events.append(state_event("a", [step(INSTALL, ["FW-01"]),
                                    step(AT_BOOT, ["FW-05"], skipped=True)]))
    results = results_from_events(events, ["a"], FIREWALL, _inventory(), Mode.AUDIT)
    on_a = {r.control: (r.status, r.evidence) for r in results}
    assert on_a["FW-05"] == (Status.ERROR, "not checked: no task reported this control")
    assert {s for c, (s, _) in on_a.items() if c != "FW-05"} == {Status.PASS}


def _sop_run(events: list[AnsibleEvent], changed: dict[str, int]) -> SopRun:
    outcome = PlaybookOutcome(status="successful", rc=0, events=events,
                              stats={"changed": changed, "processed": {"a": 1, "b": 1}})
    return SopRun(mode=Mode.APPLY, areas=["firewall"], results=[], outcome=outcome)


def test_changed_by_host_counts_each_changed_state_step_as_a_task() -> None:
    # Ansible's stats count the dlict_state task once (two of its steps changed) and one
    # ordinary task; host b's group held.
    group = state_event("a", [step(INSTALL, ["FW-01"], changed=True),
                              step(RULES, ["FW-04"], changed=True),
                              step(AT_BOOT, ["FW-05"])])
    reload = event("runner_on_ok", "a", "command", ("FW-02",), changed=True)
    held = state_event("b", [step(INSTALL, ["FW-01"]), step(RULES, ["FW-04"])])
    run = _sop_run([group, reload, held, *passing("a")], {"a": 2})
    assert run.changed_by_host() == {"a": 3, "b": 0}


def test_changed_by_host_counts_the_steps_of_a_failed_group_whose_error_was_ignored() -> None:
    # ignore_errors: Ansible counts the failed task as changed, as dlict does its steps
    group = state_event("a", [step(INSTALL, ["FW-01"], changed=True),
                              step(RULES, ["FW-04"], changed=True),
                              step(AT_BOOT, ["FW-05"], failed=True, msg="no runlevel")],
                        failed=True, ignore_errors=True)
    assert _sop_run([group], {"a": 1}).changed_by_host() == {"a": 2, "b": 0}


def test_changed_by_host_counts_the_steps_that_changed_before_a_step_failed() -> None:
    group = state_event("a", [step(INSTALL, ["FW-01"], changed=True),
                              step(RULES, ["FW-04"], failed=True, msg="nft: syntax error")],
                        failed=True)
    assert _sop_run([group], {}).changed_by_host() == {"a": 1, "b": 0}



def test_a_group_that_stopped_after_a_notifying_change_is_judged_like_a_failed_one() -> None:
    # dlict_state stays ok (so Ansible runs the handler of the step that changed) and says
    # where it stopped; the role's next task fails the area, which the rescue reports.
    stopped = state_event("a", [
        step(INSTALL, ["FW-01"], changed=True),
        step(RULES, ["FW-04"], failed=True, msg="nft: syntax error in line 3"),
    ])
    why = "the firewall area stopped on this host at 'stop': FW-04 …"
    stop = event("runner_on_ok", "a", "debug", ("dlict_area_stopped",), msg=why)
    results = results_from_events([stopped, stop, *passing("b")], ["a", "b"], FIREWALL,
                                  _inventory(), Mode.APPLY)
    on_a = {r.control: (r.status, r.evidence) for r in results if r.host == "a"}
    assert on_a["FW-04"] == (Status.ERROR, f"{RULES}: nft: syntax error in line 3")
    assert on_a["FW-05"] == (Status.ERROR, f"not checked: {why}")
    assert _sop_run([stopped], {"a": 1}).changed_by_host() == {"a": 1, "b": 0}
