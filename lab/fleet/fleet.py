"""A small simulated district of Debian hosts, reached by real Ansible over real SSH.

Each host has its own network namespace, a veth into a LAN bridge (itself in a namespace of its
own), an overlay root over the cached image from ``rootfs.py``, its own hostname and PID
namespace with sysvinit as PID 1, and a real sshd with its own host key. The controller (this
machine, in the root namespace) reaches the LAN through one veth that carries ``10.213.<n>.1``.

What a fleet creates is written down in ``/run/dlict-fleet/<fleet id>/fleet.json`` before it is
created, so a fleet whose owner crashed can be removed later by ``cleanup_stale()``, which only
touches what such a record names.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from lab.fleet import sites
from lab.fleet.rootfs import ADMIN_USER, ensure_rootfs, image_uid_gid, owner_of, rootfs_path
from lab.fleet.sysutil import (
    FleetError,
    exclusive_lock,
    is_same_process,
    kill_process,
    mount_points,
    process_start_time,
    remove_tree,
    run,
    say,
    succeeds,
)

RUN_DIR = Path("/run/dlict-fleet")
STATE_PARENT = Path("/var/tmp")
STATE_MARKER = ".dlict-fleet"
MAX_FLEETS = 64
FIRST_HOST_OCTET = 10
SSH_PORT = 22
OFFICE_HOST = "office-log"
#: Worker nodes take addresses from here up (schools stop at FIRST_HOST_OCTET + 200).
FIRST_WORKER_OCTET = 240
MAX_WORKERS = 8
#: Programs of the shared Python environment a worker node has on its PATH, as if
#: ``pip install dlict`` had been run there.
WORKER_PROGRAMS = ("ansible-runner", "ansible-playbook", "ansible", "ansible-config",
                   "ansible-galaxy", "ansible-inventory")

#: Capabilities PID 1 of a host never gets: the hosts share this machine's kernel and clock.
DROPPED_CAPABILITIES = (
    "sys_time", "sys_module", "sys_rawio", "syslog", "mac_admin", "mac_override",
)

REQUIRED_PROGRAMS = ("ip", "unshare", "setpriv", "mount", "ssh", "ssh-keygen", "ssh-keyscan")

# Runs inside the host's new mount, UTS and PID namespaces (after `ip netns exec`), as PID 1
# until the final exec. Mounts made here vanish with the namespace when PID 1 dies.
HOST_BOOT_SCRIPT = r"""
set -eu
lower=$1 upper=$2 work=$3 root=$4 name=$5 console=$6 drop=$7 share=${8:-}
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
mount --rbind "$root/proc/sys" "$root/proc/sys"
mount -o remount,bind,ro "$root/proc/sys"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t tmpfs -o mode=755,nosuid,size=16m tmpfs "$root/dev"
for node in null zero full random urandom tty; do
  : > "$root/dev/$node"
  mount --bind "/dev/$node" "$root/dev/$node"
done
: > "$root/dev/console"
mount --bind "$console" "$root/dev/console"
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=755,nosuid,nodev,size=64m tmpfs "$root/run"
# a worker node: this machine's Python environment and dlict, read-only, where they are here
for dir in $share; do
  mkdir -p "$root$dir"
  mount --bind "$dir" "$root$dir"
  mount -o remount,bind,ro "$root$dir"
done
hostname "$name"
exec setpriv --bounding-set "$drop" -- chroot "$root" /sbin/init 2
"""


@dataclass
class ProcessRecord:
    """A process the fleet started: identified by PID and kernel start time."""

    host: str
    pid: int
    start_time: int


@dataclass
class FleetRecord:
    """Everything a fleet created, so that it can be removed by another process."""

    fleet_id: str
    index: int
    state_dir: str
    owner_pid: int
    owner_start_time: int
    detached: bool
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    processes: list[ProcessRecord] = field(default_factory=list)

    @property
    def path(self) -> Path:
        """Where this record is stored."""
        return RUN_DIR / self.fleet_id / "fleet.json"

    def save(self) -> None:
        """Write the record atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(dataclasses.asdict(self), indent=2))
        temporary.rename(self.path)

    @classmethod
    def load(cls, path: Path) -> FleetRecord:
        """Read a record written by ``save``."""
        data: dict[str, Any] = json.loads(path.read_text())
        processes = [ProcessRecord(**item) for item in data.pop("processes", [])]
        return cls(**data, processes=processes)

    def owner_alive(self) -> bool:
        """True while the process that started the fleet still runs."""
        return is_same_process(self.owner_pid, self.owner_start_time)


@dataclass(frozen=True)
class Host:
    """One running fleet host as the controller sees it."""

    name: str
    address: str
    namespace: str
    school_code: str | None
    host_key: str

    @property
    def is_office(self) -> bool:
        """True for the office's host, False for a school's."""
        return self.school_code is None


@dataclass(frozen=True)
class _HostPlan:
    name: str
    address: str
    namespace: str
    bridge_port: str
    school_code: str | None
    worker: bool = False


class Fleet:
    """A running fleet: an office log server plus one server per simulated school.

    Start one with ``Fleet.start(schools=2)``; stop it with ``stop()`` (or use it as a context
    manager). Unless started ``detached``, it is also stopped at interpreter exit and on
    SIGTERM/SIGINT.
    """

    def __init__(self, record: FleetRecord, hosts: list[Host]) -> None:
        self.record = record
        self.hosts = hosts
        #: Worker nodes (ansible-runner execution nodes on the LAN); not in the inventory.
        self.workers: list[Host] = []
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        #: Seconds ``start`` took, image lookup included.
        self.boot_seconds = 0.0

    @property
    def fleet_id(self) -> str:
        """Short unique id; every namespace and link of the fleet contains it."""
        return self.record.fleet_id

    @property
    def state_dir(self) -> Path:
        """Directory holding keys, inventory, known_hosts and the hosts' overlay layers."""
        return Path(self.record.state_dir)

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        """The fleet's private LAN."""
        return subnet_for(self.record.index)

    @property
    def controller_address(self) -> str:
        """The controller's address on the fleet LAN."""
        return str(self.subnet[1])

    @property
    def inventory_path(self) -> Path:
        """The Ansible inventory (YAML) describing the fleet."""
        return self.state_dir / "inventory.yml"

    @property
    def private_key_path(self) -> Path:
        """The SSH key authorized for the admin user on every host."""
        return self.state_dir / "id_ed25519"

    @property
    def known_hosts_path(self) -> Path:
        """known_hosts holding every host's real host key."""
        return self.state_dir / "known_hosts"

    @property
    def workers_ssh_config(self) -> Path:
        """An ssh_config naming each worker node (dlict's worker_ssh_config setting)."""
        return self.state_dir / "workers.ssh_config"

    @property
    def workers_known_hosts_path(self) -> Path:
        """known_hosts holding every worker node's real host key."""
        return self.state_dir / "known_hosts_workers"

    def host(self, name: str) -> Host:
        """Return the host called ``name``.

        Raises:
            KeyError: no such host.
        """
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    @classmethod
    def start(
        cls,
        schools: int = 2,
        *,
        workers: int = 0,
        state_dir: Path | None = None,
        detached: bool = False,
        boot_timeout: float = 90.0,
    ) -> Fleet:
        """Start an office log server and ``schools`` school servers and wait for their sshd.

        Arguments:
            schools: number of simulated schools (one server each).
            workers: worker nodes: hosts of the same image that also see this machine's
                Python environment (read-only, at its own path) and have ansible-runner on
                their PATH, to run an audit's plays (``dlict audit --workers``).
            state_dir: where to keep keys, inventory and overlay layers; must be absent or
                empty; removed again by ``stop``. Default: a new directory under /var/tmp.
            detached: keep running after this process exits (for the CLI's ``up``).
            boot_timeout: seconds to wait for every sshd to answer.

        Returns:
            The running fleet; its inventory is at ``inventory_path``.

        Raises:
            FleetError: a prerequisite is missing or a host did not come up; whatever was
                already created is removed before the error propagates.
        """
        started = time.monotonic()
        missing = missing_prerequisites()
        if missing:
            raise FleetError("the test fleet cannot run here: " + "; ".join(missing))
        if not 0 <= schools <= 200:
            raise FleetError(f"schools must be between 0 and 200, not {schools}")
        if not 0 <= workers <= MAX_WORKERS:
            raise FleetError(f"workers must be between 0 and {MAX_WORKERS}, not {workers}")
        lower = ensure_rootfs()
        record = _allocate(state_dir, detached)
        fleet = cls(record, [])
        if not detached:
            _register_for_exit(fleet)
        try:
            fleet._boot(lower, schools, workers, boot_timeout)
        except BaseException:
            fleet.stop()
            raise
        fleet.boot_seconds = time.monotonic() - started
        nodes = f" and {len(fleet.workers)} worker nodes" if fleet.workers else ""
        say(f"fleet {fleet.fleet_id}: {len(fleet.hosts)} hosts{nodes} up in "
            f"{fleet.boot_seconds:.1f} s")
        return fleet

    def _boot(self, lower: Path, schools: int, workers: int, boot_timeout: float) -> None:
        plans = self._plan_hosts(schools) + self._plan_workers(workers)
        self._create_lan()
        _write_fleet_key(self.private_key_path)
        public_key = self.private_key_path.with_suffix(".pub").read_text()
        host_keys: dict[str, str] = {}
        for plan in plans:
            self._create_host_network(plan)
            host_keys[plan.name] = _prepare_upper(
                lower, self._host_dir(plan.name), plan, plans, public_key
            )
            if plan.worker:
                _add_worker_programs(lower, self._host_dir(plan.name) / "upper")
            self._launch(lower, plan)
        made = [Host(p.name, p.address, p.namespace, p.school_code, host_keys[p.name])
                for p in plans]
        self.hosts = [h for h, p in zip(made, plans, strict=True) if not p.worker]
        self.workers = [h for h, p in zip(made, plans, strict=True) if p.worker]
        self._wait_for_sshd(boot_timeout)
        self._record_init_processes()
        self._write_client_files()

    def _plan_hosts(self, schools: int) -> list[_HostPlan]:
        names: list[tuple[str, str | None]] = [(OFFICE_HOST, None)]
        names += [(f"s{school.code}-srv", school.code) for school in sites.schools(schools)]
        return [
            _HostPlan(
                name=name,
                address=str(self.subnet[FIRST_HOST_OCTET + number]),
                namespace=f"dlf-{self.fleet_id}-{name}",
                bridge_port=f"h{number}",
                school_code=code,
            )
            for number, (name, code) in enumerate(names)
        ]

    def _plan_workers(self, workers: int) -> list[_HostPlan]:
        return [
            _HostPlan(
                name=f"worker-{number}",
                address=str(self.subnet[FIRST_WORKER_OCTET + number]),
                namespace=f"dlf-{self.fleet_id}-worker-{number}",
                bridge_port=f"w{number}",
                school_code=None,
                worker=True,
            )
            for number in range(1, workers + 1)
        ]

    def _host_dir(self, name: str) -> Path:
        return self.state_dir / "hosts" / name

    @property
    def _lan_namespace(self) -> str:
        return f"dlf-{self.fleet_id}-lan"

    @property
    def _uplink(self) -> str:
        return f"dlf{self.fleet_id}"

    def _add_namespace(self, name: str) -> None:
        self.record.namespaces.append(name)
        self.record.save()
        run(["ip", "netns", "add", name])

    def _create_lan(self) -> None:
        lan = self._lan_namespace
        self._add_namespace(lan)
        run(["ip", "-n", lan, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", lan, "link", "set", "br0", "up"])
        self.record.links.append(self._uplink)
        self.record.save()
        run(["ip", "link", "add", self._uplink, "type", "veth",
             "peer", "name", "uplink", "netns", lan])
        run(["ip", "-n", lan, "link", "set", "uplink", "master", "br0", "up"])
        _keep_traffic_inside(self._uplink)
        run(["ip", "addr", "add", f"{self.controller_address}/{self.subnet.prefixlen}",
             "dev", self._uplink])
        run(["ip", "link", "set", self._uplink, "up"])

    def _create_host_network(self, plan: _HostPlan) -> None:
        self._add_namespace(plan.namespace)
        run(["ip", "link", "add", plan.bridge_port, "netns", self._lan_namespace, "type", "veth",
             "peer", "name", "eth0", "netns", plan.namespace])
        run(["ip", "-n", self._lan_namespace, "link", "set", plan.bridge_port,
             "master", "br0", "up"])
        run(["ip", "-n", plan.namespace, "link", "set", "lo", "up"])
        run(["ip", "-n", plan.namespace, "addr", "add",
             f"{plan.address}/{self.subnet.prefixlen}", "dev", "eth0"])
        run(["ip", "-n", plan.namespace, "link", "set", "eth0", "up"])

    def _launch(self, lower: Path, plan: _HostPlan) -> None:
        host_dir = self._host_dir(plan.name)
        console = host_dir / "console.log"
        console.touch()
        drop = ",".join(f"-{capability}" for capability in DROPPED_CAPABILITIES)
        args = [
            "ip", "netns", "exec", plan.namespace,
            "unshare", "--pid", "--fork", "--kill-child", "--mount", "--uts",
            "--", "sh", "-c", HOST_BOOT_SCRIPT, "boot",
            str(lower), str(host_dir / "upper"), str(host_dir / "work"),
            str(host_dir / "root"), plan.name, str(console), drop,
            " ".join(str(d) for d in _worker_shares()) if plan.worker else "",
        ]
        with (host_dir / "boot.log").open("wb") as log:
            child = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._children[plan.name] = child
        start_time = process_start_time(child.pid)
        if start_time is None:
            raise FleetError(f"{plan.name}: its namespace process exited at once")
        self.record.processes.append(ProcessRecord(plan.name, child.pid, start_time))
        self.record.save()

    def _wait_for_sshd(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = {host.name: host for host in self.hosts + self.workers}
        while waiting:
            for name, host in list(waiting.items()):
                self._raise_if_exited(name)
                if sshd_answers(host.address):
                    del waiting[name]
            if waiting and time.monotonic() > deadline:
                raise FleetError(
                    f"fleet {self.fleet_id}: no sshd answered within {timeout:.0f} s on "
                    + ", ".join(f"{name} ({self._boot_log_tail(name)})" for name in waiting)
                )
            if waiting:
                time.sleep(0.2)
        for host in self.hosts + self.workers:
            _check_host_key(host)

    def _raise_if_exited(self, name: str) -> None:
        child = self._children[name]
        if child.poll() is not None:
            raise FleetError(
                f"host {name} stopped while booting (exit {child.returncode}): "
                + self._boot_log_tail(name)
            )

    def _boot_log_tail(self, name: str) -> str:
        host_dir = self._host_dir(name)
        text = ""
        for log in (host_dir / "boot.log", host_dir / "console.log"):
            if log.exists():
                text += log.read_text(errors="replace")
        tail = " | ".join(text.strip().splitlines()[-5:])
        return tail or "no output"

    def _record_init_processes(self) -> None:
        for process in list(self.record.processes):
            for pid in _children_of(process.pid):
                start_time = process_start_time(pid)
                if start_time is not None:
                    self.record.processes.append(ProcessRecord(process.host, pid, start_time))
        self.record.save()

    def _write_client_files(self) -> None:
        self.known_hosts_path.write_text(_known_hosts_text(self.hosts))
        document = inventory_document(
            self.hosts, self.private_key_path, self.known_hosts_path
        )
        self.inventory_path.write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=200)
        )
        if self.workers:
            self.workers_known_hosts_path.write_text(_known_hosts_text(self.workers))
            self.workers_ssh_config.write_text("".join(
                f"Host {h.name}\n  HostName {h.address}\n  User {ADMIN_USER}\n"
                f"  IdentityFile {self.private_key_path}\n  IdentitiesOnly yes\n"
                f"  UserKnownHostsFile {self.workers_known_hosts_path}\n"
                "  StrictHostKeyChecking yes\n"
                for h in self.workers))

    def stop(self) -> None:
        """Stop every host and remove everything the fleet created. Safe to call twice."""
        _ACTIVE.pop(self.fleet_id, None)
        with _signals_deferred():
            teardown(self.record)
        for child in self._children.values():
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                child.wait(timeout=5)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _keep_traffic_inside(uplink: str) -> None:
    # Even if this machine forwards packets, nothing arriving from the fleet is routed on, and
    # IPv6 (which would autoconfigure) is off on the controller's side of the fleet LAN.
    Path(f"/proc/sys/net/ipv4/conf/{uplink}/forwarding").write_text("0\n")
    ipv6 = Path(f"/proc/sys/net/ipv6/conf/{uplink}/disable_ipv6")
    if ipv6.exists():
        ipv6.write_text("1\n")


def subnet_for(index: int) -> ipaddress.IPv4Network:
    """Return the private /24 of the fleet with allocation index ``index``."""
    return ipaddress.IPv4Network(f"10.213.{index}.0/24")


def missing_prerequisites() -> list[str]:
    """Return a sentence for each thing this machine lacks to run a fleet (empty if none)."""
    problems: list[str] = []
    if os.geteuid() != 0:
        problems.append("it must run as root (network namespaces, mounts, chroot)")
    absent = [name for name in REQUIRED_PROGRAMS if shutil.which(name) is None]
    if absent:
        problems.append("programs missing from PATH: " + ", ".join(absent))
    if not rootfs_path().is_dir() and shutil.which("debootstrap") is None:
        problems.append(
            "debootstrap is needed to build the root filesystem (apt-get install debootstrap)"
        )
    filesystems = Path("/proc/filesystems").read_text()
    if "overlay" not in filesystems:
        problems.append("the kernel has no overlay filesystem")
    return problems


def sshd_answers(address: str, timeout: float = 0.5) -> bool:
    """True if an SSH server greets on ``address``:22 within ``timeout`` seconds."""
    try:
        with socket.create_connection((address, SSH_PORT), timeout=timeout) as connection:
            connection.settimeout(timeout)
            return connection.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def _check_host_key(host: Host) -> None:
    key_type = host.host_key.split()[0]
    scanned = run(["ssh-keyscan", "-T", "5", "-t", key_type, host.address], check=False)
    offered = {" ".join(line.split()[1:3]) for line in scanned.splitlines() if line.strip()}
    expected = " ".join(host.host_key.split()[:2])
    if expected not in offered:
        raise FleetError(f"{host.name} does not present the host key generated for it")


def _children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [int(word) for word in text.split()]


def inventory_document(
    hosts: Sequence[Host], private_key: Path, known_hosts: Path
) -> dict[str, Any]:
    """Build the fleet's Ansible inventory in the project's inventory schema.

    Arguments:
        hosts: the fleet's hosts; the office host first.
        private_key: the key Ansible logs in with.
        known_hosts: the file holding every host's real host key.

    Returns:
        A mapping ready for ``yaml.safe_dump``.
    """
    office = [host for host in hosts if host.is_office]
    schools = [host for host in hosts if not host.is_office]
    # The controller, the office and the schools share the fleet's /24: it is both the
    # management network (SSH) and the district network (syslog senders).
    lan = str(ipaddress.ip_network(f"{hosts[0].address}/24", strict=False))
    school_groups = {
        f"school_{host.school_code}": {
            # the school's server stands in for its internet gateway: `dlict monitor` pings it
            "vars": {"dlict_site": {**sites.school_site(str(host.school_code)),
                                    "link": {"isp": "UniNet (simulated)",
                                             "probe_targets": [host.address]}}},
            "hosts": {host.name: {"ansible_host": host.address}},
        }
        for host in schools
    }
    return {
        "all": {
            "vars": {
                "ansible_user": ADMIN_USER,
                "ansible_become": True,
                "ansible_python_interpreter": "/usr/bin/python3",
                "ansible_ssh_private_key_file": str(private_key),
                "ansible_ssh_common_args": (
                    f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
                ),
                # No way out of the fleet: signatures come from the district's own files,
                # and time from the office, which serves its own clock (chronyd runs with -x
                # everywhere, so it measures and serves but never steers the shared clock).
                "dlict_antivirus_update_source": "offline",
                "dlict_ntp_servers": [host.address for host in office],
                "dlict_ntp_pools": [],
                "dlict_mgmt_networks": [lan],
                "dlict_district_networks": [lan],
                "dlict_accounts": [
                    {
                        "name": ADMIN_USER,
                        "full_name": "ผู้ดูแลระบบ dlict (ฟลีททดสอบ)",
                        "position": "บัญชีที่ Ansible ใช้เข้าระบบ",
                        "approved_by": "ผอ.สพม.มหาสารคาม (จำลอง)",
                        "approved_on": "2026-01-01",
                        "expires": "2099-12-31",
                        "hosts": ["all"],
                    }
                ],
            },
            "children": {
                "office": {
                    "vars": {"dlict_site": sites.office_site(), "dlict_ntp_local_stratum": 10},
                    "hosts": {host.name: {"ansible_host": host.address} for host in office},
                },
                "schools": {"children": school_groups},
                "linux_servers": {"hosts": {host.name: {} for host in hosts}},
                "log_servers": {"hosts": {host.name: {} for host in office}},
                "time_servers": {"hosts": {host.name: {} for host in office}},
            },
        }
    }


def _write_fleet_key(path: Path) -> None:
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dlict-fleet-controller",
         "-f", str(path)])


def _prepare_upper(
    lower: Path, host_dir: Path, plan: _HostPlan, plans: Sequence[_HostPlan], public_key: str
) -> str:
    """Fill a host's overlay upper layer with what makes it itself; return its host key."""
    upper = host_dir / "upper"
    for name in ("upper", "work", "root"):
        (host_dir / name).mkdir(parents=True)
    _write_upper_file(lower, upper, "etc/hostname", f"{plan.name}\n", 0o644)
    _write_upper_file(lower, upper, "etc/hosts", _hosts_file(plan, plans), 0o644)
    _write_upper_file(lower, upper, "etc/machine-id", secrets.token_hex(16) + "\n", 0o444)
    uid, gid = image_uid_gid(lower, ADMIN_USER)
    _write_upper_file(lower, upper, f"home/{ADMIN_USER}/.ssh/authorized_keys", public_key,
                      0o600, owner=(uid, gid))
    ssh_dir = upper / f"home/{ADMIN_USER}/.ssh"
    os.chown(ssh_dir, uid, gid)
    ssh_dir.chmod(0o700)
    key = upper / "etc/ssh/ssh_host_ed25519_key"
    _make_upper_parents(lower, upper, "etc/ssh/ssh_host_ed25519_key")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{plan.name}",
         "-f", str(key)])
    return " ".join(key.with_suffix(".pub").read_text().split()[:2])


def _known_hosts_text(hosts: Sequence[Host]) -> str:
    return "".join(f"{h.name},{h.address} {h.host_key}\n" for h in hosts)


def _worker_shares() -> list[Path]:
    """What a worker node sees of this machine, as if dlict were installed there: the Python
    environment, and the folder dlict is imported from when it is not inside it (an editable
    install)."""
    import dlict

    prefix = Path(sys.prefix).resolve()
    package_parent = Path(dlict.__file__).resolve().parent.parent
    shares = [prefix]
    if not package_parent.is_relative_to(prefix):
        shares.append(package_parent)
    if any(" " in str(share) for share in shares):
        raise FleetError(f"worker nodes cannot share a path with a space: {shares}")
    return shares


def _add_worker_programs(lower: Path, upper: Path) -> None:
    """Put this machine's Ansible programs on a worker node's PATH (/usr/local/bin)."""
    bin_dir = Path(sys.prefix).resolve() / "bin"
    _make_upper_parents(lower, upper, "usr/local/bin/x")
    for program in WORKER_PROGRAMS:
        if (bin_dir / program).exists():
            (upper / "usr/local/bin" / program).symlink_to(bin_dir / program)


def _hosts_file(plan: _HostPlan, plans: Sequence[_HostPlan]) -> str:
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    lines += [f"{other.address}\t{other.name}" for other in plans]
    return "\n".join(lines) + "\n"


def _make_upper_parents(lower: Path, upper: Path, relative: str) -> None:
    # Directories in the upper layer hide the lower ones' owner and mode: copy them.
    current_upper, current_lower = upper, lower
    for part in Path(relative).parts[:-1]:
        current_upper, current_lower = current_upper / part, current_lower / part
        if current_upper.exists():
            continue
        current_upper.mkdir()
        if current_lower.is_dir():
            uid, gid, mode = owner_of(current_lower)
            os.chown(current_upper, uid, gid)
            current_upper.chmod(mode)


def _write_upper_file(
    lower: Path, upper: Path, relative: str, text: str, mode: int,
    owner: tuple[int, int] = (0, 0),
) -> None:
    _make_upper_parents(lower, upper, relative)
    path = upper / relative
    path.write_text(text)
    os.chown(path, *owner)
    path.chmod(mode)


# --- allocation --------------------------------------------------------------------------


def _allocate(state_dir: Path | None, detached: bool) -> FleetRecord:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(RUN_DIR / ".allocate.lock"):
        index = _free_index()
        fleet_id = f"{index:02d}{secrets.token_hex(2)}"
        directory = _claim_state_dir(state_dir, fleet_id)
        owner_start = process_start_time(os.getpid())
        assert owner_start is not None
        record = FleetRecord(
            fleet_id=fleet_id, index=index, state_dir=str(directory), owner_pid=os.getpid(),
            owner_start_time=owner_start, detached=detached,
        )
        record.save()
    return record


def _free_index() -> int:
    used = {record.index for record in load_records()}
    for name in _namespace_names() + _root_link_names():
        match = re.match(r"dlf-?(\d\d)", name)
        if match:
            used.add(int(match.group(1)))
    for index in range(MAX_FLEETS):
        if index not in used and not _subnet_in_use(subnet_for(index)):
            return index
    raise FleetError(
        f"all {MAX_FLEETS} fleet subnets are in use; run `python -m lab cleanup`"
    )


def _subnet_in_use(subnet: ipaddress.IPv4Network) -> bool:
    routes: list[dict[str, Any]] = json.loads(
        run(["ip", "-j", "-4", "route", "show", "table", "all"]) or "[]"
    )
    for route in routes:
        destination = str(route.get("dst", "default"))
        if destination == "default":
            continue
        network = ipaddress.IPv4Network(destination, strict=False)
        if network.prefixlen > 0 and network.overlaps(subnet):
            return True
    return False


def _namespace_names() -> list[str]:
    return [line.split()[0] for line in run(["ip", "netns", "list"]).splitlines() if line.strip()]


def _root_link_names() -> list[str]:
    links: list[dict[str, Any]] = json.loads(run(["ip", "-j", "link", "show"]) or "[]")
    return [str(link["ifname"]) for link in links]


def _claim_state_dir(state_dir: Path | None, fleet_id: str) -> Path:
    if state_dir is None:
        directory = Path(tempfile.mkdtemp(prefix=f"dlict-fleet-{fleet_id}-", dir=STATE_PARENT))
    else:
        directory = state_dir.resolve()
        if directory.exists() and any(directory.iterdir()):
            raise FleetError(f"state directory {directory} is not empty")
        directory.mkdir(parents=True, exist_ok=True)
    if re.search(r"\s", str(directory)):
        raise FleetError(f"state directory {directory} must not contain white space")
    directory.chmod(0o700)
    (directory / STATE_MARKER).write_text(fleet_id + "\n")
    return directory


# --- teardown ----------------------------------------------------------------------------


def teardown(record: FleetRecord) -> None:
    """Remove exactly what ``record`` names: processes, namespaces, links, state, record.

    Idempotent: what is already gone is skipped.

    Raises:
        FleetError: something could not be removed (the record is kept for a later try).
    """
    problems: list[str] = []
    for process in reversed(record.processes):
        try:
            _kill_with_children(process)
        except FleetError as error:
            problems.append(str(error))
    for namespace in reversed(record.namespaces):
        if (Path("/run/netns") / namespace).exists() and not succeeds(
            ["ip", "netns", "delete", namespace]
        ):
            problems.append(f"could not delete network namespace {namespace}")
    for link in record.links:
        if link in _root_link_names() and not succeeds(["ip", "link", "delete", link]):
            problems.append(f"could not delete link {link}")
    try:
        _remove_state_dir(record)
    except (FleetError, OSError) as error:
        problems.append(str(error))
    if problems:
        raise FleetError(f"fleet {record.fleet_id} teardown incomplete: " + "; ".join(problems))
    shutil.rmtree(record.path.parent, ignore_errors=True)


def _kill_with_children(process: ProcessRecord) -> None:
    # The unshare process's child is the host's PID 1; killing it first ends the PID namespace
    # at once, even when its start had not been recorded yet.
    if not is_same_process(process.pid, process.start_time):
        return
    for child in _children_of(process.pid):
        start_time = process_start_time(child)
        if start_time is not None:
            kill_process(child, start_time)
    kill_process(process.pid, process.start_time)


def _remove_state_dir(record: FleetRecord) -> None:
    directory = Path(record.state_dir)
    marker = directory / STATE_MARKER
    if not marker.exists():
        return
    if marker.read_text().strip() != record.fleet_id:
        raise FleetError(f"{directory} belongs to another fleet; not removing it")
    remove_tree(directory)


def load_records() -> list[FleetRecord]:
    """Return the records of every fleet known on this machine."""
    records: list[FleetRecord] = []
    for path in sorted(RUN_DIR.glob("*/fleet.json")):
        with contextlib.suppress(ValueError, TypeError, OSError):
            records.append(FleetRecord.load(path))
    return records


def cleanup_stale(include_detached: bool = False) -> list[str]:
    """Remove fleets whose owning process is gone; return their ids.

    A fleet whose owner still runs is never touched. A detached fleet (``up``) outlives its
    owner on purpose and is removed only with ``include_detached``.
    """
    removed: list[str] = []
    for record in load_records():
        if record.owner_alive() or (record.detached and not include_detached):
            continue
        say(f"removing fleet {record.fleet_id} (state {record.state_dir})")
        teardown(record)
        removed.append(record.fleet_id)
    return removed


def record_for_state_dir(state_dir: Path) -> FleetRecord | None:
    """Return the record of the fleet whose state lives in ``state_dir``, if it is known."""
    marker = state_dir.resolve() / STATE_MARKER
    if not marker.exists():
        return None
    path = RUN_DIR / marker.read_text().strip() / "fleet.json"
    return FleetRecord.load(path) if path.exists() else None


def leftovers(record: FleetRecord) -> list[str]:
    """Describe whatever of the fleet in ``record`` still exists (empty when fully removed)."""
    found = [f"namespace {name}" for name in _namespace_names() if record.fleet_id in name]
    found += [f"link {name}" for name in _root_link_names() if record.fleet_id in name]
    found += [
        f"process {process.pid} ({process.host})"
        for process in record.processes
        if is_same_process(process.pid, process.start_time)
    ]
    if Path(record.state_dir).exists():
        found.append(f"state directory {record.state_dir}")
    if record.path.parent.exists():
        found.append(f"record {record.path}")
    found += [f"mount {point}" for point in _mounts_anywhere_under(Path(record.state_dir))]
    return found


def _mounts_anywhere_under(directory: Path) -> list[str]:
    prefix = str(directory)
    found: set[str] = set()
    for mountinfo in Path("/proc").glob("[0-9]*/mountinfo"):
        found.update(point for point in mount_points(mountinfo) if point.startswith(prefix))
    return sorted(found)


# --- stopping on exit and on signals -----------------------------------------------------

_ACTIVE: dict[str, Fleet] = {}
_HANDLERS_INSTALLED = False


def _register_for_exit(fleet: Fleet) -> None:
    global _HANDLERS_INSTALLED
    _ACTIVE[fleet.fleet_id] = fleet
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)
            if previous != signal.SIG_IGN:
                signal.signal(signum, _make_handler(previous))


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    # A Ctrl-C in the middle of a teardown would leave half a fleet: take it afterwards.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    deferred = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, deferred)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_all() -> None:
    for fleet in list(_ACTIVE.values()):
        try:
            fleet.stop()
        except FleetError as error:
            say(str(error))


_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def _make_handler(previous: _SignalHandler) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        _stop_all()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    return handle
