"""An audit spread over two worker nodes (issue 18): the office's dlict sends each node its
share of the hosts through ansible-runner's streaming (transmit → ssh node ansible-runner
worker → process); the nodes run the plays against the hosts; the events come back and are
judged here. Real ansible-runner, real SSH (agent forwarding, host keys checked on both hops),
worker nodes on namespace hosts of the fleet that see this machine's Python environment
read-only, as if dlict were installed on them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.sop.conftest import SopFleet, audit_stopped_by_ctrl_c, on_host

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

DLICT = str(Path(sys.executable).parent / "dlict")
# The one control the break below makes fail: a port opened by hand (the loaded rule set is
# no longer the one rendered from the inventory).
BREAK = "nft insert rule inet dlict input tcp dport 8080 accept"
BROKEN_CONTROL = "FW-02"
UNBREAK = ("nft -a list chain inet dlict input | sed -n 's/.*dport 8080 accept.*# handle //p' "
           "| while read -r handle; do nft delete rule inet dlict input handle $handle; done")
# What differs between any two audits: Ansible's scratch paths, and what is measured live
# (a clock's offset: "offset 0.015 ms"). Nothing else may.
_SCRATCH = re.compile(r"/\S*?(?:ansible-local|ansible-tmp|/tmp)[^\s'\"]*")
_MEASURED = re.compile(r"\d+\.\d+")


def _audit(fleet: SopFleet, data: Path, *args: str,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DLICT, "--json", "-i", str(fleet.inventory_path), "--data-dir", str(data), "audit",
         "--no-devices", *args],
        capture_output=True, text=True, check=False, timeout=900,
        env={**os.environ, **(env or {})})


def _judged(out: str) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r["host"], r["control"]):
            (r["status"], _MEASURED.sub("#", _SCRATCH.sub("…", r["evidence"])))
            for r in json.loads(out)["results"]}


def _accepted_from(fleet: SopFleet, host: str) -> set[str]:
    """Addresses the host's sshd accepted the fleet's key from (its auth log)."""
    log = on_host(fleet, host, "cat /var/log/auth.log 2>/dev/null || true")
    return set(re.findall(r"Accepted publickey for \S+ from (\S+)", log))


def test_an_audit_over_two_worker_nodes_judges_exactly_as_one_controller(
        sop_fleet: SopFleet, tmp_path: Path) -> None:
    workers = sop_fleet.fleet.workers
    assert len(workers) == 2, "the SOP fleet starts two worker nodes"
    schools = [h for h in sop_fleet.fleet.hosts if not h.is_office]
    broken = schools[-1].name
    on_host(sop_fleet, broken, BREAK)
    try:
        local = _audit(sop_fleet, tmp_path / "local")
        before = {h.name: _accepted_from(sop_fleet, h.name) for h in sop_fleet.fleet.hosts}
        spread = _audit(sop_fleet, tmp_path / "workers",
                        "--workers", ",".join(w.name for w in workers),
                        env={"DLICT_WORKER_SSH_CONFIG": str(sop_fleet.fleet.workers_ssh_config)})
    finally:
        on_host(sop_fleet, broken, UNBREAK)

    assert local.returncode == 1, local.stderr[-3000:]
    assert spread.returncode == 1, spread.stderr[-3000:]
    on_controller, on_workers = _judged(local.stdout), _judged(spread.stdout)
    # every control of every host, with the same verdict and the same evidence
    assert on_workers == on_controller
    failing = {key for key, (status, _evidence) in on_workers.items() if status == "fail"}
    assert failing == {(broken, BROKEN_CONTROL)}

    # The plays ran on the nodes: every host was reached from a worker node's address (a
    # host's share went to one node), and the hosts were dealt over both nodes.
    worker_addresses = {w.address for w in workers}
    reached_from: dict[str, set[str]] = {}
    for host in sop_fleet.fleet.hosts:
        new = _accepted_from(sop_fleet, host.name) - before[host.name]
        assert new, f"{host.name}: no new login during the spread audit"
        assert new <= worker_addresses, f"{host.name} was reached from {new}"
        reached_from[host.name] = new
    assert set().union(*reached_from.values()) == worker_addresses

    # Nothing of the run stays on a node: its private data directory is removed.
    for worker in workers:
        left = on_host(sop_fleet, worker.name, "ls /tmp")
        assert "dlict-worker-" not in left


def test_a_worker_node_whose_host_key_is_unknown_is_refused(
        sop_fleet: SopFleet, tmp_path: Path) -> None:
    config = sop_fleet.fleet.workers_ssh_config.read_text()
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    strange = tmp_path / "ssh_config"
    strange.write_text(config.replace(str(sop_fleet.fleet.workers_known_hosts_path),
                                      str(empty)))
    worker = sop_fleet.fleet.workers[0].name
    refused = _audit(sop_fleet, tmp_path / "data", "firewall", "--workers", worker,
                     env={"DLICT_WORKER_SSH_CONFIG": str(strange)})
    assert refused.returncode == 3, refused.stderr[-2000:]
    assert f"worker node {worker}: nothing ran" in refused.stderr
    assert "Host key verification failed" in refused.stderr
    assert "internal error" not in refused.stderr


def test_an_audit_on_worker_nodes_stopped_with_ctrl_c_keeps_its_areas_and_resumes(
        sop_fleet: SopFleet, tmp_path: Path) -> None:
    workers = sop_fleet.fleet.workers
    env = {**os.environ, "DLICT_WORKER_SSH_CONFIG": str(sop_fleet.fleet.workers_ssh_config),
           "DLICT_WORKERS": ",".join(w.name for w in workers)}
    data = tmp_path / "data"
    audit_stopped_by_ctrl_c(sop_fleet, data, "--no-devices", env=env)

    # the SSH connections closed, the nodes' runs ended and cleaned up after themselves
    deadline = time.monotonic() + 60
    for worker in workers:
        while True:
            running = on_host(sop_fleet, worker.name,
                              "ps -eo args | grep -c '[a]nsible' || true").strip()
            left = on_host(sop_fleet, worker.name, "ls /tmp")
            if running == "0" and "dlict-worker-" not in left:
                break
            assert time.monotonic() < deadline, f"{worker.name}: {running} ansible processes"
            time.sleep(1)

    resumed = subprocess.run(
        [DLICT, "--json", "-i", str(sop_fleet.inventory_path), "--data-dir", str(data),
         "audit", "--resume"], capture_output=True, text=True, check=False, timeout=900,
        env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    done = json.loads(resumed.stdout)
    assert done["status"] == "ok"
    assert "firewall" not in resumed.stderr.split("resuming audit run", 1)[1].splitlines()[0]
    statuses = {r["status"] for r in done["results"]}
    assert statuses <= {"pass", "skipped"}, statuses
