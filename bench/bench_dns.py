"""Benchmark: the DNS probe on dnspython against the hand-written client it replaced, for a
district of 30,000 sites checked the way `dlict monitor` checks them.

The monitor asks every site's DNS check once per `services_interval_s` (60 s by default): a
round puts every check into a pool of `workers` (32) threads at once and the round must be
done before the next one is due, or the checks still running count as overruns. So each side
here runs the same round: N lookups of distinct names (school-<n>.example, A) through a pool
of 32 threads against one authoritative responder on 127.0.0.1 (a process of its own, so its
CPU is not counted). Measured in the probing process: CPU seconds for the round (scaled to
30,000 lookups), wall time of the round (scaled likewise), and the p99 of the lookups' own
`seconds`. Every lookup must come back up with the responder's address.

The anchor is the hand-written client (bench/dns_anchor.py, dlict's probes/dns.py before it
moved to dnspython), run in the same process, alternating with the dnspython probe.

Budget (`dlict monitor` at 30,000 sites): the round is done inside the 60 s interval (no
overrun) and its CPU is at most half of the monitor's 1-core goal over that interval, i.e.
30 CPU s per 30,000 lookups.

Run from the repository:  .venv/bin/python -m bench.bench_dns [--sites 30000] [--rounds 2]
The default (3,000 lookups a side, one round) takes a few seconds; 30,000 a side, about 15 s
a round.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import statistics
import struct
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Protocol

from bench import dns_anchor
from dlict.inventory.models import MonitorSettings
from dlict.probes import dns as dns_probe

FULL_SITES = 30_000
ANSWER_ADDRESS = "192.0.2.53"
CPU_BUDGET_S = 30.0  # per 30,000 lookups: half a core over the 60 s services interval


class LookupResult(Protocol):
    up: bool
    seconds: float
    addresses: list[str]
    error: str | None


Lookup = Callable[[str, str, float, int], LookupResult]


def _answer_to(query: bytes, address: bytes) -> bytes | None:
    """The answer to a one-question A query: its question echoed, one A record (the owner a
    pointer to the question's name), the query's EDNS0 OPT record kept when it had one."""
    if len(query) < 17:
        return None
    offset = 12
    while offset < len(query) and query[offset]:
        offset += 1 + query[offset]
    end = offset + 5
    if end > len(query):
        return None
    has_opt = struct.unpack_from("!H", query, 10)[0] == 1
    header = query[:2] + struct.pack("!HHHHH", 0x8580, 1, 1, 0, 1 if has_opt else 0)
    record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + address
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0) if has_opt else b""
    return header + query[12:end] + record + opt


def _respond(sock: socket.socket, ready: Connection) -> None:
    """Answer every query on ``sock`` until the parent ends this process."""
    address = socket.inet_aton(ANSWER_ADDRESS)
    ready.send("ready")
    while True:
        query, client = sock.recvfrom(4096)
        answer = _answer_to(query, address)
        if answer is not None:
            sock.sendto(answer, client)


def _responder_child(port_pipe: Connection) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(("127.0.0.1", 0))
        port_pipe.send(sock.getsockname()[1])
        _respond(sock, port_pipe)


@dataclass
class Figures:
    lookups: int
    cpu_s: float
    wall_s: float
    p99_s: float
    failed: list[str]

    def per_full(self, value: float) -> float:
        return value * FULL_SITES / self.lookups


def one_round(lookup: Lookup, port: int, names: list[str], workers: int,
              timeout_s: float) -> Figures:
    """Every name once through a pool of ``workers`` threads, as `dlict monitor` does a round."""
    def check(name: str) -> LookupResult:
        return lookup("127.0.0.1", name, timeout_s, port)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        cpu_before, wall_before = time.process_time(), time.monotonic()
        results = list(pool.map(check, names))
        cpu, wall = time.process_time() - cpu_before, time.monotonic() - wall_before
    failed = [f"{name}: {r.error}" for name, r in zip(names, results, strict=True)
              if not r.up or r.addresses != [ANSWER_ADDRESS]]
    p99 = statistics.quantiles([r.seconds for r in results], n=100)[98]
    return Figures(len(names), cpu, wall, p99, failed)


def _dnspython_lookup(server: str, name: str, timeout_s: float, port: int) -> LookupResult:
    return dns_probe.dns_lookup(server, name, timeout_s, port)


def _anchor_lookup(server: str, name: str, timeout_s: float, port: int) -> LookupResult:
    return dns_anchor.dns_lookup(server, name, timeout_s, port)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=3000,
                        help=f"lookups a side per round (a district: {FULL_SITES})")
    parser.add_argument("--rounds", type=int, default=1, help="rounds a side, alternating")
    args = parser.parse_args()
    settings = MonitorSettings()
    names = [f"school-{n}.example" for n in range(args.sites)]
    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe()
    responder = context.Process(target=_responder_child, args=(child_end,), daemon=True)
    responder.start()
    try:
        port = int(parent_end.recv())
        parent_end.recv()
        sides: dict[str, Lookup] = {"hand-written": _anchor_lookup,
                                    "dnspython": _dnspython_lookup}
        figures: dict[str, list[Figures]] = {side: [] for side in sides}
        for lookup in sides.values():  # warm both up: imports, first sockets
            one_round(lookup, port, names[:50], settings.workers, settings.check_timeout_s)
        for _ in range(args.rounds):
            for side, lookup in sides.items():
                figures[side].append(one_round(lookup, port, names, settings.workers,
                                               settings.check_timeout_s))
    finally:
        responder.terminate()
        responder.join(5)
    return report(figures, settings)


def report(figures: dict[str, list[Figures]], settings: MonitorSettings) -> int:
    interval = settings.services_interval_s
    print(f"{len(figures['dnspython'])} round(s) a side of "
          f"{figures['dnspython'][0].lookups} lookups, {settings.workers} workers; "
          f"figures per {FULL_SITES:,} lookups (budget: round under {interval:g} s, "
          f"CPU under {CPU_BUDGET_S:g} s)")
    medians: dict[str, tuple[float, float, float]] = {}
    ok = True
    for side, rounds in figures.items():
        failed = [line for r in rounds for line in r.failed]
        cpu = statistics.median(r.per_full(r.cpu_s) for r in rounds)
        wall = statistics.median(r.per_full(r.wall_s) for r in rounds)
        p99 = statistics.median(r.p99_s for r in rounds)
        medians[side] = (cpu, wall, p99)
        print(f"{side:>12}: CPU {cpu:.1f} s, round {wall:.1f} s, p99 {p99 * 1000:.2f} ms, "
              f"{sum(r.lookups for r in rounds) - len(failed)}/"
              f"{sum(r.lookups for r in rounds)} up")
        for line in failed[:5]:
            print(f"{'':>14}failed: {line}")
        ok = ok and not failed
    new, old = medians["dnspython"], medians["hand-written"]
    print(f"ratio dnspython / hand-written: CPU {new[0] / old[0]:.2f}, "
          f"p99 {new[2] / old[2]:.2f}")
    holds = new[1] < interval and new[0] <= CPU_BUDGET_S
    print(f"dnspython {'holds' if holds else 'does NOT hold'} the monitor's budget "
          f"at {FULL_SITES:,} sites")
    return 0 if ok and holds else 1


if __name__ == "__main__":
    sys.exit(main())
