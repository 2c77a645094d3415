"""FW-01..FW-05 of a Linux host (SOP 5.5.1), from the firewall role's observations:

- ``ruleset``: ``nft --json list ruleset``;
- ``loaded``: ``nft --stateless list table inet dlict``;
- ``rendered``: the same table as the inventory renders it, loaded in a scratch network
  namespace and listed back (so nft prints both sides the same way);
- ``file``: the table the boot file loads, listed the same way;
- ``boot``: ``systemctl is-enabled nftables.service``, or the sysvinit start links.
"""

from __future__ import annotations

from dlict.agent.jobs.host_checks import (
    Verdict,
    judge_fw01,
    judge_fw03,
    judge_fw05,
    ruleset_objects,
)
from dlict.controls.linux import Inputs, Observed, Ran, ran, register, verdict
from dlict.core.results import Status

CONTROLS = ("FW-01", "FW-02", "FW-03", "FW-04", "FW-05")


def _trimmed(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines]


def _difference(ours: list[str], theirs: list[str]) -> list[str]:
    """The lines of ``ours`` not in ``theirs``, once each, in order."""
    other = set(theirs)
    seen: list[str] = []
    for line in ours:
        if line not in other and line not in seen:
            seen.append(line)
    return seen



def judge_fw02(loaded: Ran, rendered: Ran, mgmt_networks: list[str]) -> Verdict:
    if rendered.rc != 0:
        return Verdict("FW-02", Status.FAIL,
                       f"the inventory renders an invalid rule set: {rendered.error}")
    if loaded.rc != 0:
        return Verdict("FW-02", Status.FAIL, "no inet dlict table is loaded")
    if loaded.stdout != rendered.stdout:
        now, wanted = _trimmed(loaded.lines), _trimmed(rendered.lines)
        return Verdict("FW-02", Status.FAIL,
                       f"loaded rules not in the inventory: {_difference(now, wanted)}; "
                       f"missing: {_difference(wanted, now)}")
    return verdict("FW-02", bool(mgmt_networks),
                   f"loaded dlict table equals the rendered one ({len(loaded.lines)} lines); "
                   f"SSH only from {', '.join(mgmt_networks)}",
                   "dlict_mgmt_networks is empty: SSH is open to every address")


def judge_fw04(file: Ran, rendered: Ran, boot: Ran, conf: str, service_mgr: str) -> Verdict:
    if file.rc != 0:
        return Verdict("FW-04", Status.FAIL,
                       f"{conf} does not load a dlict table: {file.error}")
    if file.stdout != rendered.stdout:
        return Verdict("FW-04", Status.FAIL,
                       f"{conf} differs from the rule set rendered from the inventory")
    if boot.rc != 0:
        return Verdict("FW-04", Status.FAIL,
                       f"nftables is not started at boot ({service_mgr}): "
                       f"{boot.stdout or boot.error}")
    return Verdict("FW-04", Status.PASS,
                   f"{conf} holds the rendered dlict table; started at boot by {service_mgr} "
                   f"({' '.join(boot.lines)})")


@register("firewall", CONTROLS)
def judge(observed: Observed, inputs: Inputs) -> list[Verdict]:
    ruleset = ran(observed, "ruleset")
    objects = ruleset_objects(ruleset.stdout) if ruleset.ok else []
    rendered = ran(observed, "rendered")
    networks = [str(n) for n in inputs.get("mgmt_networks") or []]
    conf = str(inputs.get("conf", "/etc/nftables.conf"))
    return [judge_fw01(objects),
            judge_fw02(ran(observed, "loaded"), rendered, networks),
            judge_fw03(objects),
            judge_fw04(ran(observed, "file"), rendered, ran(observed, "boot"), conf,
                       str(inputs.get("service_mgr", ""))),
            judge_fw05(objects)]
