"""Emulated school links: a user-space TUN responder with known delay, jitter and loss.

The kernel here has no netem qdisc, so the links are made in user space. ``emulated_links``
creates a network namespace of its own (``dlict-emu-<pid>-<random>``) and starts, inside
it, this file as a responder: it makes a TUN device, gives it the prefix's last host
address (10.213.0.254: probes come from it) and routes the prefix through it, reads the
ICMP echo requests the kernel hands the TUN and writes each echo reply back after the
delay its target's ``Link`` asks for, or drops it. Replies wait in a heap of due times, so
any number can be in flight and each leaves on its own time; the responder runs at
real-time priority with 1 µs timer slack, so replies leave within about 0.1 ms of their
due time even on a busy machine. Loss is decided by a random generator seeded per target,
so a run is reproducible: every block of ``LOSS_BLOCK`` echoes to a target loses exactly
that target's share, at random places in the block (long runs of a 0.5 % link still come
out at 0.5 %). An address of the prefix with no ``Link`` never answers.

A prober must run inside the namespace to reach the targets (``handle.run``/``handle.popen``
/``handle.command``). Nothing leaves the namespace; leaving the ``with`` block stops the
responder and every process started through the handle (by PID) and deletes the namespace,
also when the block raised. Loopback works inside too (127.0.0.0/8 answers), and a server
started inside (say `dlict monitor`'s /metrics) is reached from inside: ``handle.run`` a
scraper, or ``handle.popen`` one that runs alongside.

    with emulated_links({"10.213.0.1": Link(20), "10.213.0.2": Link(5, loss_percent=30)}) as em:
        em.run([python, "-c", "..."])        # a command inside the namespace
        em.stats()["10.213.0.2"].dropped     # what the responder really did
        em.set_link("10.213.0.1", Link(80))  # change a link while probes run

Run as a script (``python lab/netemu.py respond ...``) it is the responder; the test
suite never needs to do that by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import heapq
import ipaddress
import json
import os
import random
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PREFIX = "10.213.0.0/24"
NAMESPACE_PREFIX = "dlict-emu-"
LOSS_BLOCK = 20
TUN_NAME = "emu0"
_TUNSETIFF = 0x400454CA
_IFF_TUN, _IFF_NO_PI = 0x0001, 0x1000
_PR_SET_TIMERSLACK = 29
_RT_PRIORITY = 10
_START_TIMEOUT = 10.0


@dataclass(frozen=True)
class Link:
    """One emulated school link: how long the responder holds each echo before replying
    (so the round-trip time a prober should see), its spread, and loss.

    ``jitter_ms`` spreads each delay uniformly over ``delay_ms ± jitter_ms`` (never below 0).
    """

    delay_ms: float
    loss_percent: float = 0.0
    jitter_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.delay_ms < 0 or self.jitter_ms < 0 or not 0 <= self.loss_percent <= 100:
            raise ValueError(f"impossible link {self}")


@dataclass
class LinkStats:
    """What the responder did for one target since it started (or since ``reset_stats``).

    The delay figures come from the responder's own clock: the time from reading the
    request off the TUN to writing the reply; ``max_late_ms`` is how far behind its due
    time the latest reply was written (the emulator's own error).
    """

    requests: int = 0
    replied: int = 0
    dropped: int = 0
    pending: int = 0
    mean_delay_ms: float | None = None
    min_delay_ms: float | None = None
    max_delay_ms: float | None = None
    jitter_ms: float | None = None  # mean |d(n) - d(n-1)| of the delays actually applied
    max_late_ms: float = 0.0

    @property
    def loss_percent(self) -> float:
        decided = self.replied + self.dropped
        return 100.0 * self.dropped / decided if decided else 0.0


@dataclass
class EmulatedLinks:
    """A running emulation: its namespace, addresses, and ways to act inside it."""

    namespace: str
    prefix: str
    local_address: str  # the namespace's own address on the TUN (probes come from it)
    links: dict[str, Link]
    _responder: subprocess.Popen[str] = field(repr=False)
    _children: list[subprocess.Popen[Any]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def addresses(self) -> list[str]:
        """The emulated targets, in the order of the spec."""
        return list(self.links)

    def command(self, args: Sequence[str]) -> list[str]:
        """``args`` prefixed so that it runs inside the namespace."""
        return ["ip", "netns", "exec", self.namespace, *args]

    def run(self, args: Sequence[str], *, timeout: float = 120,
            check: bool = False, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace to completion; text output captured."""
        kwargs.setdefault("capture_output", True)
        return subprocess.run(self.command(args), text=True, timeout=timeout, check=check,
                              **kwargs)

    def popen(self, args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start a command inside the namespace; it is stopped (by PID) when the block ends."""
        child: subprocess.Popen[Any] = subprocess.Popen(self.command(args), **kwargs)
        self._children.append(child)
        return child

    def stats(self) -> dict[str, LinkStats]:
        """The responder's own count per target: requests, replies, drops, delays applied."""
        answer = self._ask({"op": "stats"})
        return {address: LinkStats(**values) for address, values in answer["stats"].items()}

    def reset_stats(self) -> None:
        """Start counting afresh (replies still in flight are kept and sent)."""
        self._ask({"op": "reset"})

    def set_link(self, address: str, link: Link) -> None:
        """Change one target's link (or add an address of the prefix) from now on."""
        _check_in_prefix(address, self.prefix, self.local_address)
        self._ask({"op": "set", "address": address, "link": asdict(link)})
        self.links[address] = link

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._responder.stdin is None or self._responder.stdout is None:
                raise RuntimeError("the responder has no control pipe")
            if self._responder.poll() is not None:
                raise RuntimeError(f"the responder exited ({self._responder.returncode})")
            self._responder.stdin.write(json.dumps(request) + "\n")
            self._responder.stdin.flush()
            line = _read_line(self._responder, timeout=10)
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise RuntimeError(f"responder: {answer.get('error')}")
        return answer


def school_links() -> dict[str, Link]:
    """The default emulated district: typical school links from fibre to a lossy radio."""
    return {
        "10.213.0.1": Link(20),
        "10.213.0.2": Link(50),
        "10.213.0.3": Link(100, loss_percent=10),
        "10.213.0.4": Link(5, loss_percent=30),
        "10.213.0.5": Link(0),
        "10.213.0.6": Link(20, jitter_ms=5),
    }


@contextlib.contextmanager
def emulated_links(spec: Mapping[str, Link] | None = None, *, prefix: str = DEFAULT_PREFIX,
                   seed: int = 1) -> Iterator[EmulatedLinks]:
    """Create the namespace and the responder for ``spec`` (address -> Link); yield a handle.

    Every address must lie in ``prefix`` and not be its last address (the namespace's own).
    Needs root, ``ip`` and /dev/net/tun.
    """
    links = dict(spec if spec is not None else school_links())
    network = ipaddress.ip_network(prefix)
    local_address = str(network[-2])
    for address in links:
        _check_in_prefix(address, prefix, local_address)
    remove_stale_namespaces()
    namespace = f"{NAMESPACE_PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", namespace], check=True, capture_output=True)
    responder: subprocess.Popen[str] | None = None
    handle: EmulatedLinks | None = None
    try:
        subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True,
                       capture_output=True)
        responder = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, str(Path(__file__).resolve()),
             "respond", "--prefix", prefix, "--local", local_address, "--seed", str(seed),
             "--links", json.dumps({a: asdict(link) for a, link in links.items()})],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = _read_line(responder, timeout=_START_TIMEOUT)
        if ready.strip() != "ready":
            raise RuntimeError(f"the responder did not start: {ready!r}")
        handle = EmulatedLinks(namespace, prefix, local_address, links, responder)
        yield handle
    finally:
        problems: list[str] = []
        for child in handle._children if handle is not None else []:
            _stop(child, problems)
        if responder is not None:
            _stop(responder, problems, gentle=True)
        deleted = subprocess.run(["ip", "netns", "delete", namespace], capture_output=True,
                                 text=True, check=False)
        if deleted.returncode != 0:
            problems.append(f"ip netns delete {namespace}: {deleted.stderr.strip()}")
        if problems:
            raise RuntimeError("emulated links teardown: " + "; ".join(problems))


def remove_stale_namespaces() -> list[str]:
    """Delete namespaces this module left behind in a process that no longer runs."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                             check=False).stdout
    removed = []
    for line in listing.splitlines():
        name = line.split()[0] if line.strip() else ""
        if not name.startswith(NAMESPACE_PREFIX):
            continue
        owner = name[len(NAMESPACE_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists() and subprocess.run(
                ["ip", "netns", "delete", name], capture_output=True, check=False
        ).returncode == 0:
            removed.append(name)
    return removed


def _check_in_prefix(address: str, prefix: str, local_address: str) -> None:
    network = ipaddress.ip_network(prefix)
    host = ipaddress.ip_address(address)
    if host not in network or address == local_address or host in (
            network.network_address, network.broadcast_address):
        raise ValueError(f"{address} is not a target address of {prefix}")


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """One line from the process's stdout, or RuntimeError with its stderr."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if not line:
        detail = ""
        if process.poll() is not None and process.stderr is not None:
            detail = ": " + process.stderr.read()[-2000:].strip()
        raise RuntimeError(f"no answer from the responder (exit {process.returncode}){detail}")
    return line


def _stop(process: subprocess.Popen[Any], problems: list[str], gentle: bool = False) -> None:
    """End one process we started, by its PID: close its stdin (the responder's cue),
    then SIGTERM, then SIGKILL."""
    if gentle and process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=3)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=3)
    if process.poll() is None:
        problems.append(f"process {process.pid} did not exit")
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


# --- the responder (runs inside the namespace) --------------------------------------------


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_reply(request: bytes, ip_id: int) -> bytes | None:
    """The IPv4 ICMP echo reply to ``request`` (a whole IPv4 packet), or None if it is not
    an echo request we can answer."""
    if len(request) < 28 or request[0] >> 4 != 4 or request[9] != 1:
        return None
    header_length = (request[0] & 0x0F) * 4
    total_length = struct.unpack_from("!H", request, 2)[0]
    icmp = request[header_length:total_length]
    if len(icmp) < 8 or icmp[0] != 8 or _checksum(icmp) != 0:
        return None
    body = b"\0\0\0\0" + icmp[4:]  # type 0, code 0, checksum 0 for now
    body = struct.pack("!BBH", 0, 0, _checksum(body)) + icmp[4:]
    source, destination = request[12:16], request[16:20]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ip_id, 0, 64, 1, 0,
                         destination, source)
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + body


class _Target:
    def __init__(self, link: Link, seed: int, address: str) -> None:
        self.link = link
        self.random = random.Random(f"{seed}/{address}")
        self.owed = 0.0
        self.block: list[bool] = []
        self.reset()

    def reset(self) -> None:
        self.requests = self.replied = self.dropped = 0
        self.delay_sum = 0.0
        self.delay_min: float | None = None
        self.delay_max: float | None = None
        self.jitter_sum = 0.0
        self.last_delay: float | None = None
        self.max_late = 0.0

    def set_link(self, link: Link) -> None:
        self.link, self.owed, self.block = link, 0.0, []

    def drops(self) -> bool:
        if not self.block:
            self.owed += self.link.loss_percent / 100 * LOSS_BLOCK
            lost = min(LOSS_BLOCK, int(self.owed + 1e-9))
            self.owed -= lost
            self.block = [True] * lost + [False] * (LOSS_BLOCK - lost)
            self.random.shuffle(self.block)
        return self.block.pop()

    def delay(self) -> float:
        spread = self.link.jitter_ms
        offset = self.random.uniform(-spread, spread) if spread else 0.0
        return max(0.0, self.link.delay_ms + offset) / 1000

    def replied_after(self, delay: float, late: float) -> None:
        self.replied += 1
        self.delay_sum += delay
        self.delay_min = delay if self.delay_min is None else min(self.delay_min, delay)
        self.delay_max = delay if self.delay_max is None else max(self.delay_max, delay)
        if self.last_delay is not None:
            self.jitter_sum += abs(delay - self.last_delay)
        self.last_delay = delay
        self.max_late = max(self.max_late, late)

    def stats(self, pending: int) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else value * 1000

        return {"requests": self.requests, "replied": self.replied, "dropped": self.dropped,
                "pending": pending,
                "mean_delay_ms": ms(self.delay_sum / self.replied) if self.replied else None,
                "min_delay_ms": ms(self.delay_min), "max_delay_ms": ms(self.delay_max),
                "jitter_ms": ms(self.jitter_sum / (self.replied - 1))
                if self.replied > 1 else None,
                "max_late_ms": self.max_late * 1000}


def _open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH22x", name.encode(), _IFF_TUN | _IFF_NO_PI))
    return fd


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _precise_wakeups() -> None:
    """Wake on time even on a busy machine: real-time priority (the responder sleeps in
    select() nearly all the time, so it takes little) and 1 µs timer slack (default 50 µs)."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(_RT_PRIORITY))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_TIMERSLACK, 1000, 0, 0, 0)


def respond(prefix: str, local_address: str, links: Mapping[str, Link], seed: int) -> None:
    """Serve echo replies on a new TUN until stdin closes; control requests on stdin."""
    _precise_wakeups()
    tun = _open_tun(TUN_NAME)
    network = ipaddress.ip_network(prefix)
    _ip("addr", "add", f"{local_address}/{network.prefixlen}", "dev", TUN_NAME)
    _ip("link", "set", TUN_NAME, "up")
    targets = {address: _Target(link, seed, address) for address, link in links.items()}
    # (due, order, reply, address, read at): order keeps the heap from comparing bytes.
    heap: list[tuple[float, int, bytes, str, float]] = []
    order = 0
    control = sys.stdin.fileno()
    os.set_blocking(control, False)
    pending_input = b""
    print("ready", flush=True)
    while True:
        timeout = max(0.0, heap[0][0] - time.monotonic()) if heap else None
        readable, _, _ = select.select([tun, control], [], [], timeout)
        if tun in readable:
            while True:
                try:
                    packet = os.read(tun, 65536)
                except BlockingIOError:
                    break
                now = time.monotonic()
                if len(packet) < 20 or packet[0] >> 4 != 4:
                    continue
                address = socket.inet_ntoa(packet[16:20])
                target = targets.get(address)
                if target is None:
                    continue
                order += 1
                reply = echo_reply(packet, order & 0xFFFF)
                if reply is None:
                    continue
                target.requests += 1
                if target.drops():
                    target.dropped += 1
                    continue
                heapq.heappush(heap, (now + target.delay(), order, reply, address, now))
        if control in readable:
            try:
                chunk = os.read(control, 65536)
            except BlockingIOError:
                chunk = None
            if chunk == b"":
                return  # the test closed our stdin (or died): done
            pending_input += chunk or b""
            while b"\n" in pending_input:
                line, pending_input = pending_input.split(b"\n", 1)
                _control(line, targets, heap, seed, network, local_address)
        now = time.monotonic()
        while heap and heap[0][0] <= now:
            due, _order, reply, address, read_at = heapq.heappop(heap)
            with contextlib.suppress(OSError):
                os.write(tun, reply)
            written = time.monotonic()
            targets[address].replied_after(written - read_at, written - due)
            now = written


def _control(line: bytes, targets: dict[str, _Target], heap: list[tuple[Any, ...]],
             seed: int, network: ipaddress.IPv4Network | ipaddress.IPv6Network,
             local_address: str) -> None:
    try:
        request = json.loads(line)
        op = request["op"]
        answer: dict[str, Any] = {"ok": True}
        if op == "stats":
            waiting: dict[str, int] = {}
            for entry in heap:
                waiting[entry[3]] = waiting.get(entry[3], 0) + 1
            answer["stats"] = {a: t.stats(waiting.get(a, 0)) for a, t in targets.items()}
        elif op == "reset":
            for target in targets.values():
                target.reset()
        elif op == "set":
            address, link = request["address"], Link(**request["link"])
            _check_in_prefix(address, str(network), local_address)
            if address in targets:
                targets[address].set_link(link)
            else:
                targets[address] = _Target(link, seed, address)
        else:
            raise ValueError(f"unknown op {op!r}")
    except (ValueError, KeyError, TypeError) as error:
        answer = {"ok": False, "error": str(error)}
    print(json.dumps(answer), flush=True)


def _main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="netemu", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("respond", help="be the responder (inside the namespace)")
    serve.add_argument("--prefix", required=True)
    serve.add_argument("--local", required=True)
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--links", required=True, help="JSON: address -> Link fields")
    arguments = parser.parse_args(argv)
    links = {a: Link(**fields) for a, fields in json.loads(arguments.links).items()}
    respond(arguments.prefix, arguments.local, links, arguments.seed)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
