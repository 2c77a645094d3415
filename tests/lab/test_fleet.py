"""The test fleet itself: real hosts, real sshd, real Ansible, and nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import ansible_runner
import pytest
import yaml

from dlict.inventory import Role, load_inventory
from lab.fleet.fleet import Fleet, FleetRecord, cleanup_stale, leftovers, sshd_answers
from lab.fleet.sysutil import FleetError
from tests.lab.plugin import MakeFleet

pytestmark = pytest.mark.fleet

REPO_ROOT = Path(__file__).resolve().parents[2]
WARM_START_LIMIT_SECONDS = 180.0


@pytest.fixture(autouse=True)
def ansible_from_this_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """ansible-runner runs the `ansible` on PATH: make it the one installed with this Python."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def run_setup(inventory: Path, work: Path) -> list[dict[str, Any]]:
    """Run the setup module on every host with ansible-runner; return the runner's events."""
    work.mkdir(parents=True, exist_ok=True)
    runner = ansible_runner.run(
        private_data_dir=str(work),
        module="setup",
        host_pattern="all",
        inventory=str(inventory),
        envvars={
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            # A persisting SSH master from an earlier run would skip the host key check.
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(work / "cp"),
        },
        quiet=True,
    )
    events: list[dict[str, Any]] = list(runner.events)
    return events


def event_results(events: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Map host name to the result of every event of ``kind`` (runner_on_ok, ...)."""
    return {
        event["event_data"]["host"]: event["event_data"]["res"]
        for event in events
        if event.get("event") == kind
    }


def test_session_fleet_starts_warm_and_answers_ansible(
    fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print(f"\nfleet of {len(fleet.hosts)} hosts started in {fleet.boot_seconds:.1f} s")
    assert len(fleet.hosts) == 3
    assert fleet.boot_seconds < WARM_START_LIMIT_SECONDS

    facts = event_results(run_setup(fleet.inventory_path, tmp_path), "runner_on_ok")

    assert set(facts) == {host.name for host in fleet.hosts}
    for host in fleet.hosts:
        host_facts = facts[host.name]["ansible_facts"]
        assert host_facts["ansible_service_mgr"] == "sysvinit"
        assert host_facts["ansible_hostname"] == host.name
        assert host_facts["ansible_user_id"] == "root", "dlict logs in and becomes root"
        assert host.address in host_facts["ansible_all_ipv4_addresses"]


def test_the_project_accepts_the_fleet_inventory(fleet: Fleet) -> None:
    inventory = load_inventory(fleet.inventory_path)

    assert {site.id for site in inventory.sites} == {"office", "4401000001", "4401000002"}
    assert inventory.site("4401000001").meta.province == "มหาสารคาม"
    assert [host.name for host in inventory.hosts_in_role(Role.LOG_SERVER)] == ["office-log"]
    assert {host.name for host in inventory.hosts_in_role(Role.LINUX_SERVER)} == {
        host.name for host in fleet.hosts
    }
    assert inventory.hosts["s4401000002-srv"].address == fleet.host("s4401000002-srv").address


def test_a_host_with_an_unexpected_host_key_is_refused(fleet: Fleet, tmp_path: Path) -> None:
    office, school, *_ = fleet.hosts
    tampered_known_hosts = tmp_path / "known_hosts"
    tampered_known_hosts.write_text(
        f"{office.name},{office.address} {school.host_key}\n"
        + "".join(f"{h.name},{h.address} {h.host_key}\n" for h in fleet.hosts[1:])
    )
    inventory = yaml.safe_load(fleet.inventory_path.read_text())
    inventory["all"]["vars"]["ansible_ssh_common_args"] = (
        f"-o UserKnownHostsFile={tampered_known_hosts} -o StrictHostKeyChecking=yes"
    )
    tampered_inventory = tmp_path / "inventory.yml"
    tampered_inventory.write_text(yaml.safe_dump(inventory, allow_unicode=True))

    events = run_setup(tampered_inventory, tmp_path / "runner")

    unreachable = event_results(events, "runner_on_unreachable")
    assert set(unreachable) == {office.name}
    assert "Host key verification failed" in unreachable[office.name]["msg"]
    assert set(event_results(events, "runner_on_ok")) == {h.name for h in fleet.hosts[1:]}


def test_stop_leaves_nothing_behind(make_fleet: MakeFleet) -> None:
    single = make_fleet(schools=0)
    record = single.record
    assert sshd_answers(single.host("office-log").address)
    assert leftovers(record), "a running fleet has namespaces, processes and state"

    single.stop()
    single.stop()

    assert leftovers(record) == []


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a child Python that reports its fleet's record into a file."""
    return {**os.environ, "FLEET_RECORD_OUT": str(tmp_path / "fleet-record.json")}


def test_a_failing_test_still_removes_its_fleet(tmp_path: Path, child_env: dict[str, str]) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    test_file = tmp_path / "test_fails_on_purpose.py"
    test_file.write_text(textwrap.dedent("""
        import dataclasses, json, os
        from pathlib import Path

        def test_fails_on_purpose(fleet):
            out = Path(os.environ["FLEET_RECORD_OUT"])
            out.write_text(json.dumps(dataclasses.asdict(fleet.record)))
            assert False, "this test fails on purpose"
    """))

    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.lab.plugin",
         "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
         "--rootdir", str(tmp_path), str(test_file)],
        cwd=REPO_ROOT, env=child_env, capture_output=True, text=True, timeout=600, check=False,
    )

    assert child.returncode == 1, child.stdout + child.stderr
    assert "this test fails on purpose" in child.stdout
    record = FleetRecord.load(Path(child_env["FLEET_RECORD_OUT"]))
    assert leftovers(record) == []


def test_cleanup_stale_removes_a_fleet_whose_owner_was_killed(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    script = textwrap.dedent("""
        import dataclasses, json, os, signal
        from pathlib import Path
        from lab.fleet.fleet import Fleet

        fleet = Fleet.start(schools=0)
        Path(os.environ["FLEET_RECORD_OUT"]).write_text(json.dumps(dataclasses.asdict(fleet.record)))
        os.kill(os.getpid(), signal.SIGKILL)
    """)

    child = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=child_env,
        capture_output=True, text=True, timeout=300, check=False,
    )

    assert child.returncode == -9, child.stderr
    record = FleetRecord.load(Path(child_env["FLEET_RECORD_OUT"]))
    assert sshd_answers(f"10.213.{record.index}.10"), "the crashed fleet's host still runs"
    assert record.fleet_id in cleanup_stale()
    assert leftovers(record) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_owner_removes_its_fleet(
    signum: signal.Signals, child_env: dict[str, str]
) -> None:
    record_out = Path(child_env["FLEET_RECORD_OUT"])
    script = textwrap.dedent("""
        import dataclasses, json, os, time
        from pathlib import Path
        from lab.fleet.fleet import Fleet

        fleet = Fleet.start(schools=0)
        Path(os.environ["FLEET_RECORD_OUT"]).write_text(json.dumps(dataclasses.asdict(fleet.record)))
        time.sleep(300)
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=child_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_file(record_out, child, timeout=120)
        record = FleetRecord.load(record_out)
        assert leftovers(record), "the fleet runs before the signal"
        child.send_signal(signum)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    assert child.returncode == -signum
    assert leftovers(record) == []


def wait_for_file(path: Path, child: subprocess.Popen[str], timeout: float) -> None:
    """Wait until a child process has written ``path``; fail if the child dies first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if child.poll() is not None:
            pytest.fail(f"child exited {child.returncode} early: {child.communicate()[1]}")
        if time.monotonic() > deadline:
            pytest.fail(f"child did not write {path} within {timeout:.0f} s")
        time.sleep(0.1)


def test_a_host_that_does_not_come_up_is_an_error_and_is_removed() -> None:
    namespaces_before = set(namespace_names())

    with pytest.raises(FleetError, match="no sshd answered within 0 s on office-log"):
        Fleet.start(schools=0, boot_timeout=0.0)

    assert set(namespace_names()) == namespaces_before


def namespace_names() -> list[str]:
    """Names of the network namespaces on this machine."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]


def test_cli_up_keeps_the_fleet_running_until_down(tmp_path: Path) -> None:
    state = tmp_path / "state"
    fleet_cli = [sys.executable, "-m", "lab"]

    up = subprocess.run(
        [*fleet_cli, "up", "--schools", "0", "--state", str(state)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True,
    )

    assert up.stdout.strip() == str(state / "inventory.yml")
    inventory = yaml.safe_load((state / "inventory.yml").read_text())
    address = inventory["all"]["children"]["office"]["hosts"]["office-log"]["ansible_host"]
    assert sshd_answers(address), "the fleet outlives the `up` command"
    fleet_id = (state / ".dlict-fleet").read_text().strip()
    record = FleetRecord.load(Path("/run/dlict-fleet") / fleet_id / "fleet.json")

    subprocess.run([*fleet_cli, "down", "--state", str(state)], cwd=REPO_ROOT, check=True)

    assert leftovers(record) == []
