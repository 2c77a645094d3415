"""The office log server checks and seals the logs it really received (real rsyslog, real
chronyc output from every fleet host, the installed zipapp on Debian's python3)."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import date, timedelta

import pytest

from lab.fleet.rootfs import ADMIN_USER
from tests.integration.sop.conftest import SopFleet, on_host

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

SEALER = "/usr/bin/python3 /usr/local/lib/dlict/dlict-logs.pyz"
POLICY = "/etc/dlict/logging.json"


def office(fleet: SopFleet) -> str:
    return next(h.name for h in fleet.hosts if h.is_office)


def source_of(host) -> str:  # type: ignore[no-untyped-def]
    return f"{host.school_code or 'office'}/{host.name}"


def server_check(fleet: SopFleet) -> tuple[int, dict]:
    out = on_host(fleet, office(fleet), f"{SEALER} check --policy {POLICY} --json; echo rc=$?")
    body, _, code = out.rpartition("rc=")
    return int(code), json.loads(body)


def clock_cron_command(fleet: SopFleet, host: str) -> str:
    """The command line of the installed /etc/cron.d/dlict-clock job."""
    for line in on_host(fleet, host, "cat /etc/cron.d/dlict-clock").splitlines():
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]:
            return " ".join(line.split()[6:])
    raise AssertionError(f"{host}: no job in /etc/cron.d/dlict-clock")


def ssh_login(fleet: SopFleet, address: str) -> None:
    """A fresh SSH login from the controller: authentication traffic data on that host."""
    subprocess.run(["ssh", "-i", str(fleet.fleet.private_key_path), "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={fleet.fleet.known_hosts_path}",
                    "-o", "StrictHostKeyChecking=yes", f"{ADMIN_USER}@{address}", "true"],
                   check=True, capture_output=True, timeout=30)


def test_the_server_sees_every_host_with_its_real_clock(sop_fleet: SopFleet) -> None:
    for host in sop_fleet.hosts:
        on_host(sop_fleet, host.name, clock_cron_command(sop_fleet, host.name))
        ssh_login(sop_fleet, host.address)
    expected = {source_of(h) for h in sop_fleet.hosts}
    deadline = time.monotonic() + 60
    while True:
        code, data = server_check(sop_fleet)
        reports = {s["source"]: s for s in data["sources"]}
        if all(reports.get(name, {}).get("clock") for name in expected) or \
                time.monotonic() > deadline:
            break
        time.sleep(2)
    assert expected <= set(reports), f"sources on the server: {sorted(reports)}"
    for name in expected:
        clock = reports[name]["clock"]
        assert clock is not None, f"{name}: no clock report arrived"
        assert clock["synchronised"], f"{name}: {clock}"
        assert clock["offset_s"] < 0.010, f"{name}: {clock}"
        assert reports[name]["silent_seconds"] < 300
    # The SSH logins are authentication traffic data: sampled and complete.
    auth = [f for name in expected for f in reports[name]["fields"] if f["log_type"] == "auth"]
    assert auth and all(f["ok"] for f in auth), auth
    assert code == 0, json.dumps(data, indent=1)[:4000]


def test_the_installed_seal_job_seals_and_the_check_finds_tampering(
        sop_fleet: SopFleet) -> None:
    server = office(sop_fleet)
    school = next(h for h in sop_fleet.hosts if not h.is_office)
    directory = f"/var/log/dlict/{source_of(school)}"
    today = date.fromisoformat(on_host(sop_fleet, server, "date +%F").strip())
    # Two days have passed for this source: their files, closed at 23:59 as rsyslog leaves them.
    # (The day before yesterday is always closed; yesterday only from 01:00.)
    days = [today - timedelta(days=2), today - timedelta(days=1)]
    for day in days:
        on_host(sop_fleet, server,
                f"cp -p {directory}/{today}.log {directory}/{day}.log && "
                f"touch -d '{day} 23:59' {directory}/{day}.log")
    job = [line for line in on_host(sop_fleet, server, "cat /etc/cron.d/dlict-logseal")
           .splitlines() if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(job) == 1, job
    on_host(sop_fleet, server, " ".join(job[0].split()[6:]))
    sealed = days[0]
    files = on_host(sop_fleet, server, f"ls {directory}").split()
    assert f"{sealed}.log.gz" in files and f"{sealed}.log" not in files, files
    assert f"{today}.log" in files
    mode = on_host(sop_fleet, server, f"stat -c '%a %U %G' {directory}/{sealed}.log.gz")
    assert mode.split() == ["640", "root", "adm"]
    code, data = server_check(sop_fleet)
    report = {s["source"]: s for s in data["sources"]}[source_of(school)]
    assert report["last_sealed_day"] in [d.isoformat() for d in days]
    assert code == 0, json.dumps(data, indent=1)[:4000]
    # Tamper with the sealed day on the server: found, named, exit 1.
    on_host(sop_fleet, server,
            f"python3 -c \"import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); "
            f"b[len(b) // 2] ^= 1; open(p, 'wb').write(b)\" {directory}/{sealed}.log.gz")
    code, data = server_check(sop_fleet)
    report = {s["source"]: s for s in data["sources"]}[source_of(school)]
    assert code == 1
    assert ("modified", sealed.isoformat()) in [(p["kind"], p["day"])
                                                for p in report["problems"]]
    # Put the source back as it was for the tests after this one.
    on_host(sop_fleet, server,
            f"rm -f {directory}/{days[0]}.log* {directory}/{days[1]}.log* "
            f"{directory}/manifest.dlict.jsonl /var/lib/dlict/logseal/heads.json")
