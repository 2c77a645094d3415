"""The school behind a NAT router (lab/schoolnat.py): real namespaces, veths and nftables.

What the agent tests rely on: the school reaches the office, the office sees only the router's
WAN address, the office cannot open a connection into the school, a cut uplink drops
everything until restored, and nothing the lab made is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.schoolnat import (
    SchoolNat,
    build,
    missing_prerequisites,
    namespace_names,
    remove_stale_labs,
    school_nat,
    teardown,
)
from tests.conftest import REPO

PORT = 8080

# Listens on every address of its namespace; prints "ready", then each peer's address.
PEER_PRINTER = """
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[1])))
server.listen()
print("ready", flush=True)
while True:
    connection, peer = server.accept()
    print(peer[0], flush=True)
    connection.close()
"""

# Exit 0 if a TCP connection opens within the timeout, 1 otherwise.
CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()
except OSError as error:
    print(error)
    sys.exit(1)
"""


@pytest.fixture
def school() -> Iterator[SchoolNat]:
    missing = missing_prerequisites()
    if missing:
        pytest.fail("; ".join(missing), pytrace=False)
    with school_nat() as lab:
        yield lab


def namespaces_on_this_machine() -> set[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                             check=True).stdout
    return {line.split()[0] for line in listing.splitlines() if line.strip()}


def serve(lab: SchoolNat, namespace: str) -> subprocess.Popen[Any]:
    server = lab.start(namespace, [sys.executable, "-c", PEER_PRINTER, str(PORT)],
                       stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    assert server.stdout.readline().strip() == "ready"
    return server


def connects(lab: SchoolNat, namespace: str, address: str, timeout: float = 2.0) -> bool:
    done = lab.run(namespace, [sys.executable, "-c", CONNECT, address, str(PORT), str(timeout)])
    return done.returncode == 0


def test_the_school_reaches_the_office_which_sees_the_router_wan_address(
        school: SchoolNat) -> None:
    server = serve(school, school.office)
    assert connects(school, school.lan, school.office_address)
    assert server.stdout is not None
    seen = server.stdout.readline().strip()
    assert seen == school.router_wan_address
    assert seen != school.lan_address


def test_the_office_cannot_open_a_connection_into_the_school(school: SchoolNat) -> None:
    serve(school, school.lan)
    # The server is up and the LAN is routed: the router itself (inside) gets through ...
    assert connects(school, school.router, school.lan_address)
    # ... the ISP has a route to the school's LAN, yet neither it nor the office gets in,
    assert not connects(school, school.isp, school.lan_address)
    assert not connects(school, school.office, school.lan_address)
    # and the router's WAN address forwards nothing either.
    assert not connects(school, school.office, school.router_wan_address)


def test_dlicts_icmp_probe_gets_through_the_nat_outwards_only(school: SchoolNat) -> None:
    """The agent's link job uses the engine of `dlict probe`: echoes from the school to the
    office come back through the masquerade; the office's echoes to the school do not."""
    dlict = str(Path(sys.executable).parent / "dlict")
    out = school.run(school.lan, [dlict, "probe", school.office_address, "--count", "2",
                                  "--timeout", "1000"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{school.office_address} " in out.stdout and "2/2/0%" in out.stdout
    back = school.run(school.office, [dlict, "probe", school.lan_address, "--count", "2",
                                      "--timeout", "1000"])
    assert back.returncode == 1, back.stdout + back.stderr
    assert "2/0/100%" in back.stdout


def test_a_cut_uplink_drops_everything_until_it_is_restored(school: SchoolNat) -> None:
    serve(school, school.office)
    assert connects(school, school.lan, school.office_address)
    school.cut_uplink()
    school.cut_uplink()  # a second cut changes nothing
    assert school.uplink_is_cut()
    started = time.monotonic()
    assert not connects(school, school.lan, school.office_address, timeout=1.5)
    # dropped, not refused: the school waits as on a dead link
    assert time.monotonic() - started >= 1.4
    assert not connects(school, school.router, school.office_address, timeout=1.0)
    school.restore_uplink()
    assert not school.uplink_is_cut()
    assert connects(school, school.lan, school.office_address)


# Upper-cases what one connection sends, line by line.
UPPER_ECHO = """
import socket
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", 8080))
server.listen()
print("ready", flush=True)
connection, _ = server.accept()
while data := connection.recv(100):
    connection.sendall(data.upper())
"""
# One connection kept open; each line of stdin sent, each answer printed.
LINE_CLIENT = """
import socket, sys
connection = socket.create_connection((sys.argv[1], 8080), timeout=30)
for line in sys.stdin:
    connection.sendall(line.encode())
    print(connection.recv(100).decode().strip(), flush=True)
"""


def test_a_connection_open_across_a_cut_carries_on_after_the_restore(
        school: SchoolNat) -> None:
    server = school.start(school.office, [sys.executable, "-c", UPPER_ECHO],
                          stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    client = school.start(school.lan, [sys.executable, "-c", LINE_CLIENT,
                                       school.office_address],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write("before\n")
    client.stdin.flush()
    assert client.stdout.readline().strip() == "BEFORE"
    school.cut_uplink()
    client.stdin.write("during\n")
    client.stdin.flush()
    assert not select.select([client.stdout], [], [], 2.0)[0]  # nothing comes back
    school.restore_uplink()
    assert select.select([client.stdout], [], [], 15.0)[0]  # TCP retransmits, gets through
    assert client.stdout.readline().strip() == "DURING"


def test_a_process_started_in_a_namespace_is_stopped_by_its_pid(school: SchoolNat) -> None:
    sleeper = school.start(school.lan, ["sleep", "600"])
    # `ip netns exec` execs the command: the PID becomes sleep's own, inside the school's LAN
    deadline = time.monotonic() + 5
    while Path(f"/proc/{sleeper.pid}/exe").readlink().name != "sleep":
        assert time.monotonic() < deadline, "ip netns exec did not exec sleep"
        time.sleep(0.01)
    lan_inode = Path(f"/run/netns/{school.lan}").stat().st_ino
    assert Path(f"/proc/{sleeper.pid}/ns/net").stat().st_ino == lan_inode
    assert school.stop(sleeper.pid) == -15
    assert not Path(f"/proc/{sleeper.pid}").exists()


def test_leaving_the_block_by_an_error_removes_processes_and_namespaces() -> None:
    outside = subprocess.Popen(["sleep", "600"])
    started: list[int] = []
    names: list[str] = []
    try:
        with pytest.raises(RuntimeError, match="on purpose"), school_nat() as lab:
            names = lab.namespaces
            started.append(lab.start(lab.office, ["sleep", "600"]).pid)
            # one not started through the handle, put inside by hand
            started.append(subprocess.Popen(lab.command(lab.lan, ["sleep", "600"])).pid)
            assert set(names) <= namespaces_on_this_machine()
            raise RuntimeError("on purpose")
        assert not set(names) & namespaces_on_this_machine()
        for pid in started:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            assert not Path(f"/proc/{pid}").exists(), pid
        assert outside.poll() is None  # a process outside the lab is left alone
    finally:
        outside.kill()
        outside.wait()


def test_a_lab_whose_owner_died_is_removed_by_the_next_one() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    lab_id = f"{dead.pid}-abcdef"
    try:
        build(lab_id)
        names = set(namespace_names(lab_id).values())
        assert names <= namespaces_on_this_machine()
        assert lab_id in remove_stale_labs()
        assert not names & namespaces_on_this_machine()
    finally:
        teardown(lab_id)


def test_the_command_line_builds_cuts_restores_and_removes_one() -> None:
    def lab_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lab", "school-nat", *args], cwd=REPO,
                              capture_output=True, text=True, check=False, timeout=60)

    up = lab_cli("up")
    assert up.returncode == 0, up.stderr
    described = json.loads(up.stdout)
    try:
        assert described["lan_address"] == "192.168.77.10"
        assert {described[f"{role}_ns"] for role in ("office", "isp", "router", "lan")} <= \
            namespaces_on_this_machine()
        lab = SchoolNat.of(described["id"])
        assert lab_cli("cut", described["id"]).returncode == 0
        assert lab.uplink_is_cut()
        assert lab_cli("restore", described["id"]).returncode == 0
        assert not lab.uplink_is_cut()
        assert lab_cli("down", described["id"]).returncode == 0
        assert not namespaces_on_this_machine() & set(namespace_names(described["id"]).values())
        again = lab_cli("down", described["id"])
        assert again.returncode == 2
        assert "no school NAT lab" in again.stderr
    finally:
        teardown(described["id"])
