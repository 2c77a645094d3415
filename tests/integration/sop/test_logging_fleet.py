"""SOP 5.5.5 on the fleet, after `dlict apply all`: every host's messages land on the office log
server in one file per host per day (0640 root:adm); nothing is lost while the server is down
(RELP and a disk-assisted queue, one client even restarts its rsyslog meanwhile); the clock-state
line each host logs is chrony's real tracking CSV and lands in the tree (real rsyslog, RELP,
chrony over the fleet's network)."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from dlict.logs.chrony import parse_tracking
from lab.fleet.fleet import Host
from tests.integration.sop.conftest import SopFleet, on_host

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

OFFICE = "office-log"
ROOT = "/var/log/dlict"
# Messages each host sends while the server runs, and each client sends while it is down: with
# the office and two schools, 3 x 2500 + 2 x 2500 = 12,500 in all.
BATCH = 2500
OUTAGE_SECONDS = 12
SETTLE_DEADLINE = 120.0
# The counts are final when they have not grown for this long (a client retries every 10 s).
SETTLE_QUIET = 30.0

T = TypeVar("T")


def source_dir(host: Host) -> str:
    """The host's folder in the log tree: <root>/<site id>/<inventory name>."""
    return f"{ROOT}/{host.school_code or 'office'}/{host.name}"


def server_day(fleet: SopFleet) -> str:
    """Today on the log server's clock and in its zone: the day its files are named after."""
    return on_host(fleet, OFFICE, "date +%F").strip()


def on_each(hosts: Iterable[Host], work: Callable[[Host], T]) -> dict[str, T]:
    """Run ``work`` for every host at once; {host name: result}."""
    hosts = list(hosts)
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        results = pool.map(work, hosts)
        return {host.name: result for host, result in zip(hosts, results, strict=True)}


def tagged_lines(fleet: SopFleet, tag: str) -> list[tuple[str, str]]:
    """(folder, message) of every line with the syslog tag ``tag`` in the server's day files."""
    out = on_host(fleet, OFFICE, f"grep -rF --include='*.log' -- ' {tag}: ' {ROOT} || true")
    found: list[tuple[str, str]] = []
    for line in out.splitlines():
        path, _, text = line.partition(":")
        message = text.split(f" {tag}: ", 1)[1] if f" {tag}: " in text else ""
        found.append((path.rsplit("/", 1)[0], message))
    return found


def test_every_hosts_messages_land_in_its_own_day_file(sop_fleet: SopFleet) -> None:
    tag = f"dlict-land-{uuid.uuid4().hex[:12]}"
    first_day = server_day(sop_fleet)
    on_each(sop_fleet.fleet.hosts, lambda host: on_host(
        sop_fleet, host.name, f"logger -t {tag} -- 'hello from {host.name}'"))

    wanted = {source_dir(host) for host in sop_fleet.fleet.hosts}
    landed: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        landed = {folder for folder, message in tagged_lines(sop_fleet, tag)
                  if message == f"hello from {folder.rsplit('/', 1)[1]}"}
        if landed >= wanted:
            break
        time.sleep(0.5)
    assert landed == wanted, f"landed in {sorted(landed)}, expected {sorted(wanted)}"

    # Named by the server's reception day (a midnight may fall between sending and reading).
    days = {first_day, server_day(sop_fleet)}
    for host in sop_fleet.fleet.hosts:
        names = [f"{source_dir(host)}/{day}.log" for day in sorted(days)]
        out = on_host(sop_fleet, OFFICE, f"grep -lF -- ' {tag}: ' {' '.join(names)} 2>/dev/null"
                                         f" | xargs -r stat -c '%a %U %G %n'")
        assert out.strip(), f"no day file {names} of {host.name} holds the message"
        for line in out.splitlines():
            assert line.startswith("640 root adm "), line
        # Each line: RFC 3339 time with microseconds and zone, the sender's name, the tag.
        line = on_host(sop_fleet, OFFICE, f"grep -hF -- ' {tag}: ' {' '.join(names)} 2>/dev/null"
                                          " | head -n 1").strip()
        assert re.match(
            rf"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{6}}[+-]\d\d:\d\d {host.name} {tag}: ", line
        ), line
    folders = on_host(sop_fleet, OFFICE, f"find {ROOT} -type d -printf '%m %u:%g %p\\n'")
    assert {line.split()[0] for line in folders.splitlines()} == {"750"}, folders


def test_no_message_is_lost_while_the_log_server_is_down(sop_fleet: SopFleet) -> None:
    started = time.monotonic()
    tag = f"dlict-loss-{uuid.uuid4().hex[:12]}"
    clients = [host for host in sop_fleet.fleet.hosts if host.name != OFFICE]
    office = next(host for host in sop_fleet.fleet.hosts if host.name == OFFICE)

    def send(prefix: str) -> Callable[[Host], str]:
        # One logger reading stdin: BATCH messages as fast as the socket takes them.
        return lambda host: on_host(sop_fleet, host.name,
                                    f"seq -f '{prefix}-%.0f' 1 {BATCH} | logger -t {tag}")

    expected = {(source_dir(host), f"a-{n}") for host in sop_fleet.fleet.hosts
                for n in range(1, BATCH + 1)}
    expected |= {(source_dir(host), f"b-{n}") for host in clients for n in range(1, BATCH + 1)}

    # Batch a from every host while the server runs; the server's own batch must be written
    # before it stops (its local messages have no queue to wait in).
    on_each(sop_fleet.fleet.hosts, send("a"))
    own = {(source_dir(office), f"a-{n}") for n in range(1, BATCH + 1)}
    deadline = time.monotonic() + 30
    while not own <= set(tagged_lines(sop_fleet, tag)) and time.monotonic() < deadline:
        time.sleep(0.5)

    restarted = clients[0]
    suspensions = "grep -c \"action 'dlict_forward' suspended\" /var/log/syslog || true"
    before = int(on_host(sop_fleet, restarted.name, suspensions) or 0)
    outage_start = time.monotonic()
    # The daemons' output must not keep on_host's pipes open.
    on_host(sop_fleet, OFFICE, "/etc/init.d/rsyslog stop >/dev/null 2>&1")
    # A clean stop saves the server's queue; the init script kills rsyslogd after 30 s (as
    # rsyslog 8.2302 did with a lookup_table loaded).
    server_stop = time.monotonic() - outage_start
    assert server_stop < 20, f"rsyslogd on {OFFICE} took {server_stop:.1f} s to stop"
    try:
        # One client restarts its rsyslog during the outage: its queue is saved to disk and read
        # back. RELP's limit: what a client wrote into the connection before it noticed that the
        # server had gone (up to a window of 128 messages) is kept only by librelp, in memory;
        # it is sent again when the server is back, but not if the client restarts first. So a
        # few messages, not counted, let the client notice (its action is suspended), as a
        # client restarting minutes into an outage would have.
        deadline = time.monotonic() + 10
        while int(on_host(sop_fleet, restarted.name, suspensions) or 0) <= before:
            assert time.monotonic() < deadline, f"{restarted.name} never noticed the outage"
            on_host(sop_fleet, restarted.name, f"logger -t {tag}-wake -- server gone?")
            time.sleep(0.3)
        noticed = time.monotonic() - outage_start
        # Batch b from every client while the server is down: it waits in the clients' queues.
        on_each(clients, send("b"))
        restart_start = time.monotonic()
        on_host(sop_fleet, restarted.name, "/etc/init.d/rsyslog restart >/dev/null 2>&1")
        restart = time.monotonic() - restart_start
        spooled = on_host(sop_fleet, restarted.name, "ls /var/spool/rsyslog").split()
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_start)))
    finally:
        on_host(sop_fleet, OFFICE, "/etc/init.d/rsyslog start >/dev/null 2>&1")
    outage = time.monotonic() - outage_start

    counts: Counter[tuple[str, str]] = Counter()
    last_growth = time.monotonic()
    deadline = time.monotonic() + SETTLE_DEADLINE
    while time.monotonic() < deadline:
        now = Counter(line for line in tagged_lines(sop_fleet, tag) if line in expected)
        if sum(now.values()) > sum(counts.values()):
            last_growth = time.monotonic()
        counts = now
        if set(counts) >= expected or time.monotonic() - last_growth > SETTLE_QUIET:
            break
        time.sleep(2)

    missing = expected - set(counts)
    duplicates = sum(counts.values()) - len(counts)
    by_host = Counter(folder for folder, _ in missing)
    report = (f"sent {len(expected)} messages ({BATCH} per host while the server ran, {BATCH} per "
              f"client during a {outage:.1f} s outage), received {sum(counts.values())} lines: "
              f"{len(counts)} distinct, {duplicates} duplicates, {len(missing)} missing "
              f"{dict(by_host)}; the server stopped in {server_stop:.1f} s, {restarted.name} "
              f"noticed after {noticed:.1f} s and restarted rsyslog in {restart:.1f} s; "
              f"test took {time.monotonic() - started:.1f} s")
    print(report)
    assert outage >= 10, report
    assert "dlict_forward.qi" in spooled, f"{restarted.name} saved no queue: {spooled}; {report}"
    assert not missing, report


def test_the_clock_state_line_is_chronys_and_lands_in_the_tree(sop_fleet: SopFleet) -> None:
    client = next(host for host in sop_fleet.fleet.hosts if host.name != OFFICE)
    # chronyd may have just been restarted by an apply: wait (bounded) until it is synchronised.
    line = on_host(sop_fleet, client.name,
                   "chronyc waitsync 30 0.01 0 1 >/dev/null 2>&1; chronyc -c tracking").strip()
    tracking = parse_tracking(line)
    assert tracking is not None, line
    assert tracking.synchronised, line
    assert tracking.offset_seconds <= 0.010, line
    office = next(host for host in sop_fleet.fleet.hosts if host.name == OFFICE)
    assert tracking.reference == office.address, line

    # The job's own command line, run now instead of waiting for the quarter hour.
    job = on_host(sop_fleet, client.name, "cat /etc/cron.d/dlict-clock")
    entries = [entry for entry in job.splitlines() if entry and not entry.startswith("#")
               and "=" not in entry.split()[0]]
    assert len(entries) == 1, job
    schedule, command = entries[0].split(" root ", 1)
    assert schedule.split() == ["*/15", "*", "*", "*", "*"], job
    assert command == "chronyc -c tracking 2>&1 | logger -t dlict-chrony", job
    first_day = server_day(sop_fleet)
    on_host(sop_fleet, client.name, command)

    found: list[str] = []
    deadline = time.monotonic() + 30
    while not found and time.monotonic() < deadline:
        days = " ".join(f"{source_dir(client)}/{day}.log"
                        for day in sorted({first_day, server_day(sop_fleet)}))
        found = on_host(sop_fleet, OFFICE,
                        f"grep -hF ' dlict-chrony: ' {days} 2>/dev/null || true").splitlines()
        time.sleep(0.5)
    assert found, f"no dlict-chrony line from {client.name} in {source_dir(client)}"
    logged = parse_tracking(found[-1].split(" dlict-chrony: ", 1)[1])
    assert logged is not None, found[-1]
    assert logged.synchronised and logged.reference == office.address, found[-1]
