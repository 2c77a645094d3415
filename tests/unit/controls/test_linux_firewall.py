"""FW-01..FW-05 judged on the controller from one observation, on observations captured from
a real fleet host (fixtures/linux_observed/firewall/README.md says how)."""

from __future__ import annotations

from typing import Any

import pytest

from dlict.controls.linux import judge_area
from dlict.core.results import Status
from tests.unit.controls.observed import captured, failing, judge

INPUTS = {"conf": "/etc/nftables.conf", "service_mgr": "sysvinit",
          "mgmt_networks": ["10.213.0.0/24"]}


def judged(name: str, **inputs: Any) -> dict[str, tuple[Status, str]]:
    return judge("firewall", captured("firewall", name), {**INPUTS, **inputs})


def test_a_host_as_applied_passes_every_control() -> None:
    verdicts = judged("healthy")
    assert set(verdicts) == {"FW-01", "FW-02", "FW-03", "FW-04", "FW-05"}
    assert failing(verdicts) == set()
    assert "SSH only from 10.213.0.0/24" in verdicts["FW-02"][1]
    assert "started at boot by sysvinit (/etc/rcS.d/S10nftables)" in verdicts["FW-04"][1]


def test_a_port_opened_by_hand_fails_fw02_alone_and_names_the_rule() -> None:
    verdicts = judged("port_opened_by_hand")
    assert failing(verdicts) == {"FW-02"}
    assert verdicts["FW-02"][1] == ("loaded rules not in the inventory: "
                                    "['tcp dport 8080 accept']; missing: []")


def test_a_flushed_rule_set_fails_all_but_the_boot_file() -> None:
    verdicts = judged("flushed")
    assert failing(verdicts) == {"FW-01", "FW-02", "FW-03", "FW-05"}
    assert verdicts["FW-02"][1] == "no inet dlict table is loaded"
    assert verdicts["FW-01"][1] == "no inet dlict input chain is loaded"


def test_no_start_at_boot_fails_fw04_with_what_the_host_said() -> None:
    verdicts = judged("not_at_boot")  # captured on the flushed host, its boot link removed
    assert failing(verdicts) == {"FW-01", "FW-02", "FW-03", "FW-04", "FW-05"}
    assert verdicts["FW-04"][1].startswith("nftables is not started at boot (sysvinit): ls:")


def test_no_management_network_fails_fw02() -> None:
    verdicts = judged("healthy", mgmt_networks=[])
    assert failing(verdicts) == {"FW-02"}
    assert "SSH is open to every address" in verdicts["FW-02"][1]


def test_a_rule_set_the_inventory_cannot_render_is_named() -> None:
    observed = captured("firewall", "healthy")
    observed["rendered"] = {"rc": 1, "stdout": "", "stderr": "Error: syntax error"}
    verdicts = {v.control: v for v in judge_area("firewall", observed, INPUTS)}
    assert verdicts["FW-02"].status is Status.FAIL
    assert "renders an invalid rule set: Error: syntax error" in verdicts["FW-02"].evidence
    assert verdicts["FW-04"].status is Status.FAIL


@pytest.mark.parametrize("observed", [
    {}, {"ruleset": "x", "loaded": 3, "file": None, "boot": []},
    {"ruleset": {"rc": "0", "stdout": b"", "stderr": 5}, "rendered": {"problem": "unshare: no"}},
])
def test_garbage_observations_fail_or_err_and_never_raise(observed: dict[str, Any]) -> None:
    verdicts = judge_area("firewall", observed, INPUTS)
    assert {v.control for v in verdicts} == {"FW-01", "FW-02", "FW-03", "FW-04", "FW-05"}
    assert all(v.status in (Status.FAIL, Status.ERROR) for v in verdicts)


def test_an_unknown_area_is_refused() -> None:
    with pytest.raises(ValueError, match="no judge for the area 'printers'"):
        judge_area("printers", {}, {})
