"""A school behind a masquerading NAT router, and the district office across an ISP.

Four network namespaces, linked by veth pairs, with private test addresses that exist only
inside them (nothing is linked to this machine's own namespace, so nothing can leave it):

```
  office ── eth0 10.214.0.10/24          the district office (intake, Prometheus, ...)
             │
  isp    ── eth0 10.214.0.1/24 ... eth1 10.214.1.1/24      routes; knows the school LAN's
             │                                           route too, as a careless ISP might
  router ── wan 10.214.1.2/24 ... lan 192.168.77.1/24    nftables: masquerade out of wan,
             │                                           drop every new connection in
  lan    ── eth0 192.168.77.10/24        the school's server, where the agent runs
```

The school reaches the office and the office sees the router's WAN address as the source
(masquerade); the office cannot open a connection to the school, even though the ISP has a
route to the school's LAN: the router's firewall drops it, as a school's router does.
``cut_uplink()`` drops everything on the router's WAN (as a dead link: no answer at all) and
``restore_uplink()`` removes that drop; connections the router already tracks survive.

    with school_nat() as school:
        server = school.start(school.office, ["dlict", "intake", "serve", ...])
        school.run(school.lan, ["dlict", "agent", "once", ...])
        school.cut_uplink()
        school.stop(server.pid)

Leaving the ``with`` block stops every process started through the handle and every other
process still inside the four namespaces (by PID), then deletes the namespaces (the veths
and nftables rules live in them and go with them), also when the block raised.
Namespaces are named ``dlict-snat-<owner pid>-<hex>-<role>``; those of an owner that no
longer runs are removed by the next ``school_nat()``. ``python -m lab school-nat up`` makes
a set that outlives its command (``dlict-snat-up-<hex>-<role>``), removed by ``down``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAMESPACE_PREFIX = "dlict-snat-"
DETACHED_OWNER = "up"
ROLES = ("office", "isp", "router", "lan")

OFFICE_ADDRESS = "10.214.0.10"
ISP_OFFICE_SIDE = "10.214.0.1"
ISP_SCHOOL_SIDE = "10.214.1.1"
ROUTER_WAN_ADDRESS = "10.214.1.2"
ROUTER_LAN_ADDRESS = "192.168.77.1"
LAN_ADDRESS = "192.168.77.10"
LAN_NETWORK = "192.168.77.0/24"
WAN_DEVICE = "wan"
CUT_TABLE = "dlict_uplink_cut"

_STOP_WAIT_S = 3.0

# The router: masquerade what leaves by the WAN; forward only what the LAN starts (and its
# answers); the router itself answers nothing new from the WAN.
ROUTER_RULES = f"""
table ip dlict_nat {{
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        oifname "{WAN_DEVICE}" masquerade
    }}
}}
table inet dlict_firewall {{
    chain forward {{
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "lan" oifname "{WAN_DEVICE}" accept
    }}
    chain input {{
        type filter hook input priority filter; policy accept;
        iifname "{WAN_DEVICE}" ct state new drop
    }}
}}
"""

# A dead link: everything through the WAN is dropped before any other rule sees it.
CUT_RULES = f"""
table netdev {CUT_TABLE} {{
    chain ingress {{
        type filter hook ingress device "{WAN_DEVICE}" priority -500; policy drop;
    }}
    chain egress {{
        type filter hook egress device "{WAN_DEVICE}" priority -500; policy drop;
    }}
}}
"""

# Fallback when the kernel has no netdev egress hook (before 5.16): drop in inet instead.
CUT_RULES_INET = f"""
table inet {CUT_TABLE} {{
    chain input {{
        type filter hook input priority -500; policy accept;
        iifname "{WAN_DEVICE}" drop
    }}
    chain forward {{
        type filter hook forward priority -500; policy accept;
        iifname "{WAN_DEVICE}" drop
        oifname "{WAN_DEVICE}" drop
    }}
    chain output {{
        type filter hook output priority -500; policy accept;
        oifname "{WAN_DEVICE}" drop
    }}
}}
"""


class SchoolNatError(RuntimeError):
    """The school-behind-NAT lab could not be built, changed or removed."""


@dataclass
class SchoolNat:
    """A running school behind NAT: the namespaces, their addresses, ways to act inside."""

    lab_id: str
    office: str
    isp: str
    router: str
    lan: str
    office_address: str = OFFICE_ADDRESS
    router_wan_address: str = ROUTER_WAN_ADDRESS
    router_lan_address: str = ROUTER_LAN_ADDRESS
    lan_address: str = LAN_ADDRESS
    _children: list[subprocess.Popen[Any]] = field(default_factory=list, repr=False)

    @classmethod
    def of(cls, lab_id: str) -> SchoolNat:
        """A handle on lab ``lab_id`` (one ``python -m lab school-nat up`` made, say)."""
        names = namespace_names(lab_id)
        return cls(lab_id, names["office"], names["isp"], names["router"], names["lan"])

    @property
    def namespaces(self) -> list[str]:
        """The four namespaces, office first."""
        return [self.office, self.isp, self.router, self.lan]

    def command(self, namespace: str, args: Sequence[str]) -> list[str]:
        """``args`` prefixed so that it runs inside ``namespace`` (one of this lab's)."""
        if namespace not in self.namespaces:
            raise SchoolNatError(f"{namespace} is not a namespace of this lab")
        return ["ip", "netns", "exec", namespace, *args]

    def run(self, namespace: str, args: Sequence[str], *, timeout: float = 120,
            check: bool = False, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run a command inside ``namespace`` to completion; text output captured."""
        kwargs.setdefault("capture_output", True)
        return subprocess.run(self.command(namespace, args), text=True, timeout=timeout,
                              check=check, **kwargs)

    def start(self, namespace: str, args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start a command inside ``namespace``; its ``pid`` is the command's own
        (``ip netns exec`` execs it). Stopped by ``stop(pid)`` or when the lab ends."""
        child: subprocess.Popen[Any] = subprocess.Popen(self.command(namespace, args), **kwargs)
        self._children.append(child)
        return child

    def stop(self, pid: int, *, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """Stop a process ``start`` made, by its PID: ``sig``, then SIGKILL after 3 s.

        Returns:
            Its exit code (negative: the signal that ended it).
        """
        child = next((c for c in self._children if c.pid == pid), None)
        if child is None:
            raise SchoolNatError(f"process {pid} was not started by this lab")
        problems: list[str] = []
        _stop(child, problems, first=sig)
        if problems:
            raise SchoolNatError("; ".join(problems))
        return child.returncode

    def cut_uplink(self) -> None:
        """Drop every packet in or out of the router's WAN (idempotent)."""
        if self.uplink_is_cut():
            return
        loaded = self.run(self.router, ["nft", "-f", "-"], input=CUT_RULES)
        if loaded.returncode != 0:
            loaded = self.run(self.router, ["nft", "-f", "-"], input=CUT_RULES_INET)
        if loaded.returncode != 0:
            raise SchoolNatError(f"cutting the uplink: {loaded.stderr.strip()}")

    def restore_uplink(self) -> None:
        """Remove the drop that ``cut_uplink`` added (idempotent)."""
        for family in ("netdev", "inet"):
            self.run(self.router, ["nft", "delete", "table", family, CUT_TABLE])
        if self.uplink_is_cut():
            raise SchoolNatError("the uplink is still cut after removing the drop")

    def uplink_is_cut(self) -> bool:
        """True while the router's ruleset holds the uplink drop."""
        listing = self.run(self.router, ["nft", "list", "tables"], check=True).stdout
        return any(line.split()[-1] == CUT_TABLE for line in listing.splitlines()
                   if line.strip())

    def describe(self) -> dict[str, str]:
        """Names and addresses, for a person or a script (``python -m lab school-nat up``)."""
        return {"id": self.lab_id, "office_ns": self.office, "isp_ns": self.isp,
                "router_ns": self.router, "lan_ns": self.lan,
                "office_address": self.office_address,
                "router_wan_address": self.router_wan_address,
                "router_lan_address": self.router_lan_address,
                "lan_address": self.lan_address}


def namespace_names(lab_id: str) -> dict[str, str]:
    """The four namespace names of lab ``lab_id`` by role."""
    return {role: f"{NAMESPACE_PREFIX}{lab_id}-{role}" for role in ROLES}


@contextlib.contextmanager
def school_nat() -> Iterator[SchoolNat]:
    """Build a school behind NAT for the ``with`` block and remove all of it afterwards.

    Needs root, ``ip`` (iproute2) and ``nft`` (nftables).

    Raises:
        SchoolNatError: it could not be built, or something was left when removing it.
    """
    remove_stale_labs()
    lab = build(f"{os.getpid()}-{secrets.token_hex(3)}")
    try:
        yield lab
    finally:
        problems: list[str] = []
        for child in lab._children:
            _stop(child, problems)
        problems += teardown(lab.lab_id)
        if problems:
            raise SchoolNatError("school NAT teardown: " + "; ".join(problems))


def build(lab_id: str) -> SchoolNat:
    """Create lab ``lab_id``'s namespaces, links, addresses, routes and router rules.

    Removes whatever it made when a step fails.
    """
    missing = missing_prerequisites()
    if missing:
        raise SchoolNatError("the school NAT lab cannot run here: " + "; ".join(missing))
    names = namespace_names(lab_id)
    lab = SchoolNat.of(lab_id)
    try:
        for namespace in names.values():
            _ip("netns", "add", namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
            _sysctl(namespace, "net.ipv6.conf.all.disable_ipv6=1")
            _sysctl(namespace, "net.ipv6.conf.default.disable_ipv6=1")
        _link(names["office"], "eth0", names["isp"], "eth0")
        _link(names["isp"], "eth1", names["router"], WAN_DEVICE)
        _link(names["router"], "lan", names["lan"], "eth0")
        _address(names["office"], "eth0", f"{OFFICE_ADDRESS}/24")
        _address(names["isp"], "eth0", f"{ISP_OFFICE_SIDE}/24")
        _address(names["isp"], "eth1", f"{ISP_SCHOOL_SIDE}/24")
        _address(names["router"], WAN_DEVICE, f"{ROUTER_WAN_ADDRESS}/24")
        _address(names["router"], "lan", f"{ROUTER_LAN_ADDRESS}/24")
        _address(names["lan"], "eth0", f"{LAN_ADDRESS}/24")
        _ip("-n", names["office"], "route", "add", "default", "via", ISP_OFFICE_SIDE)
        _ip("-n", names["isp"], "route", "add", LAN_NETWORK, "via", ROUTER_WAN_ADDRESS)
        _ip("-n", names["router"], "route", "add", "default", "via", ISP_SCHOOL_SIDE)
        _ip("-n", names["lan"], "route", "add", "default", "via", ROUTER_LAN_ADDRESS)
        for router in (names["isp"], names["router"]):
            _sysctl(router, "net.ipv4.ip_forward=1")
        loaded = subprocess.run(lab.command(names["router"], ["nft", "-f", "-"]),
                                input=ROUTER_RULES, capture_output=True, text=True,
                                check=False)
        if loaded.returncode != 0:
            raise SchoolNatError(f"loading the router's nftables rules: {loaded.stderr.strip()}")
    except (SchoolNatError, OSError) as error:
        problems = teardown(lab_id)
        extra = f" (and removing it: {'; '.join(problems)})" if problems else ""
        raise SchoolNatError(f"building the school NAT lab: {error}{extra}") from error
    return lab


def missing_prerequisites() -> list[str]:
    """A sentence for each thing this machine lacks to build the lab (empty if none)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("it must run as root (network namespaces, nftables)")
    for program, package in (("ip", "iproute2"), ("nft", "nftables"), ("sysctl", "procps")):
        if shutil.which(program) is None:
            problems.append(f"`{program}` is missing (apt-get install {package})")
    return problems


def teardown(lab_id: str) -> list[str]:
    """Stop every process inside lab ``lab_id``'s namespaces (by PID) and delete them.

    Returns:
        What could not be removed (empty when everything went).
    """
    problems: list[str] = []
    existing = set(_namespaces())
    for namespace in namespace_names(lab_id).values():
        if namespace not in existing:
            continue
        for pid in _pids_in(namespace):
            _stop_pid(pid, problems)
        deleted = subprocess.run(["ip", "netns", "delete", namespace], capture_output=True,
                                 text=True, check=False)
        if deleted.returncode != 0:
            problems.append(f"ip netns delete {namespace}: {deleted.stderr.strip()}")
    return problems


def lab_ids() -> list[str]:
    """The ids of the school NAT labs that have a namespace on this machine."""
    found = []
    for namespace in _namespaces():
        if namespace.startswith(NAMESPACE_PREFIX):
            lab_id = namespace[len(NAMESPACE_PREFIX):].rsplit("-", 1)[0]
            if lab_id not in found:
                found.append(lab_id)
    return found


def remove_stale_labs() -> list[str]:
    """Remove labs made by a ``school_nat()`` whose process no longer runs."""
    removed = []
    for lab_id in lab_ids():
        owner = lab_id.split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists() and not teardown(lab_id):
            removed.append(lab_id)
    return removed


def _namespaces() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                             check=False).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def _pids_in(namespace: str) -> list[int]:
    listing = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True,
                             text=True, check=False).stdout
    return [int(word) for word in listing.split() if word.isdigit()]


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SchoolNatError(f"`ip {' '.join(args)}`: {done.stderr.strip()}")


def _link(namespace_a: str, name_a: str, namespace_b: str, name_b: str) -> None:
    # Both ends are made directly inside their namespaces: no name ever exists outside.
    _ip("link", "add", name_a, "netns", namespace_a, "type", "veth",
        "peer", "name", name_b, "netns", namespace_b)
    _ip("-n", namespace_a, "link", "set", name_a, "up")
    _ip("-n", namespace_b, "link", "set", name_b, "up")


def _address(namespace: str, device: str, cidr: str) -> None:
    _ip("-n", namespace, "address", "add", cidr, "dev", device)


def _sysctl(namespace: str, setting: str) -> None:
    done = subprocess.run(["ip", "netns", "exec", namespace, "sysctl", "-q", "-w", setting],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SchoolNatError(f"sysctl {setting} in {namespace}: {done.stderr.strip()}")


def _stop(process: subprocess.Popen[Any], problems: list[str],
          first: signal.Signals = signal.SIGTERM) -> None:
    """End one process we started, by its PID: ``first``, then SIGKILL."""
    for sig in (first, signal.SIGKILL):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_STOP_WAIT_S)
    if process.poll() is None:
        problems.append(f"process {process.pid} did not exit")
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _stop_pid(pid: int, problems: list[str]) -> None:
    """End a process found inside one of our namespaces (not our child): SIGTERM, SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + _STOP_WAIT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if not _alive(pid):
                return
            time.sleep(0.05)
    problems.append(f"process {pid} did not exit")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")
