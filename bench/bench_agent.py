"""Benchmark: CPU and memory of `dlict agent run` for one school, against Debian's
prometheus-node-exporter + prometheus-blackbox-exporter doing the nearest equivalent work.

Both sides work on the same loopback targets for the same fixed window, at the agent's
default job intervals (read from agents/agent.example.yml):

* link (every link interval): ICMP echo to 127.0.0.1-3, one DNS question to a DNS responder
  and one HTTP GET to an HTTP server, both run by this script on 127.0.0.1. The anchor: the
  blackbox exporter's icmp, dns and http_2xx modules, one /probe a target;
* dltv (every dltv interval): the HLS playlist fetched over HTTP. The anchor: http_2xx;
* host (every link interval, the cadence of the agent's samples): the host's own state. The
  anchor: a scrape of node-exporter's /metrics (its default collectors). The agent's host job
  runs hourly and reads SOP controls instead, which no exporter does;
* lan (ARP sweep): no exporter does it; the agent's sweep is counted on its side only.

This script plays Prometheus for the anchor (its scrapes are not counted) and the office's
intake for the agent (`dlict intake serve`, not counted either). Measured from /proc, from
the end of the first round to the end of the window: CPU seconds of the process and its
children (live and reaped: utime + stime + cutime + cstime), its VmHWM, and the peak of the
whole family's PSS sampled every 0.5 s (the agent runs each job in a child process).

Goal (issue 14): the agent under 2 % of one core and under 60 MB.

Run as root from the repository:  .venv/bin/python -m bench.bench_agent [--window 600]
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lab.monitoring import fetch, free_port

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "agents" / "agent.example.yml"
BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
GOAL_CORE_PERCENT = 2.0
GOAL_MIB = 60.0
ICMP_TARGETS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
DNS_NAME = "dltv.bench.invalid"
# The agent asks a resolver on port 53 (as a school's is); a loopback address of its own.
DNS_ADDRESS = "127.53.0.1"
SITE, HOST = "4401000001", "s4401000001-srv"
PLAYLIST = b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nseg1.ts\n"

BLACKBOX_MODULES = {
    "icmp": {"prober": "icmp", "timeout": "5s", "icmp": {"preferred_ip_protocol": "ip4"}},
    "http_2xx": {"prober": "http", "timeout": "5s", "http": {"preferred_ip_protocol": "ip4"}},
    "dns": {"prober": "dns", "timeout": "5s",
            "dns": {"query_name": DNS_NAME, "query_type": "A", "preferred_ip_protocol": "ip4",
                    "transport_protocol": "udp"}},
}


@dataclass(frozen=True)
class Intervals:
    """How often each kind of work runs (seconds), from the agent's sample configuration."""

    link: float
    dltv: float

    @classmethod
    def from_sample(cls, path: Path = SAMPLE) -> Intervals:
        jobs = yaml.safe_load(path.read_text())["jobs"]
        return cls(link=float(jobs["link"]["interval_s"]), dltv=float(jobs["dltv"]["interval_s"]))


@dataclass(frozen=True)
class Targets:
    """The loopback servers both sides probe."""

    dns_port: int
    http_port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    @property
    def playlist_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/live.m3u8"


@dataclass
class Usage:
    """What one side used over the measured window."""

    cpu_seconds: float
    window_seconds: float
    hwm_mib: float
    family_peak_mib: float
    parts: dict[str, float] = field(default_factory=dict)  # peak MiB a process

    @property
    def core_percent(self) -> float:
        return 100 * self.cpu_seconds / self.window_seconds


# --- loopback targets -------------------------------------------------------------------


def dns_answer(query: bytes) -> bytes | None:
    """An answer (A 127.0.0.1) to a one-question DNS query, or None if it is not one."""
    if len(query) < 17:
        return None
    query_id, _flags, questions = struct.unpack_from("!HHH", query)
    if questions != 1:
        return None
    end = 12
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    question = query[12:end + 5]
    header = struct.pack("!HHHHHH", query_id, 0x8180, 1, 1, 0, 0)
    record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
    return header + question + record


@contextlib.contextmanager
def loopback_targets() -> Iterator[Targets]:
    """A DNS responder on DNS_ADDRESS:53 and an HTTP server (a page and an HLS playlist) on
    127.0.0.1."""
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind((DNS_ADDRESS, 53))
    dns.settimeout(0.5)
    stop = threading.Event()

    def answer_dns() -> None:
        while not stop.is_set():
            try:
                query, peer = dns.recvfrom(512)
            except TimeoutError:
                continue
            reply = dns_answer(query)
            if reply is not None:
                dns.sendto(reply, peer)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PLAYLIST if self.path.endswith(".m3u8") else b"<html>ok</html>\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threads = [threading.Thread(target=answer_dns, daemon=True),
               threading.Thread(target=web.serve_forever, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        yield Targets(dns.getsockname()[1], web.server_address[1])
    finally:
        stop.set()
        web.shutdown()
        web.server_close()
        for thread in threads:
            thread.join(timeout=5)
        dns.close()


# --- /proc ------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def family(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    members = [pid]
    for child in _children(pid):
        members += family(child)
    return members


def _stat_fields(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return []


def cpu_seconds(pid: int) -> float:
    """CPU of ``pid``, its reaped children and its live descendants, in seconds."""
    total = 0
    for index, member in enumerate(family(pid)):
        fields = _stat_fields(member)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime
            if index == 0:
                total += int(fields[13]) + int(fields[14])  # cutime, cstime (reaped)
    return total / TICKS


def status_kib(pid: int, key: str) -> int:
    """A ``kB`` field of /proc/PID/status (VmHWM, VmRSS); 0 if the process is gone."""
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    return 0


def pss_kib(pid: int) -> int:
    """The process's proportional set size: shared pages divided among those sharing them."""
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def family_rss_kib(pid: int) -> int:
    """The family's memory, PSS summed: a job's child forked from the agent shares its pages
    copy-on-write, and summing RSS would count each shared page twice."""
    return sum(pss_kib(member) for member in family(pid))


# --- running and measuring --------------------------------------------------------------


def wait_listening(url: str, process: subprocess.Popen[bytes], name: str,
                   timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited {process.returncode} at start")
        with contextlib.suppress(OSError):
            if fetch(url, timeout=2)[0] == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"{name} did not answer {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL, by PID."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def measure(pids: dict[str, int], window: float,
            work: Callable[[float], None]) -> Usage:
    """Run ``work(elapsed)`` every 0.5 s for ``window`` seconds; what ``pids`` used meanwhile."""
    before = sum(cpu_seconds(pid) for pid in pids.values())
    started = time.monotonic()
    peak_family = 0
    peaks = dict.fromkeys(pids, 0)
    while (elapsed := time.monotonic() - started) < window:
        work(elapsed)
        for name, pid in pids.items():
            peaks[name] = max(peaks[name], family_rss_kib(pid))
        peak_family = max(peak_family, sum(family_rss_kib(pid) for pid in pids.values()))
        time.sleep(min(0.5, max(0.0, window - (time.monotonic() - started))))
    used = sum(cpu_seconds(pid) for pid in pids.values()) - before
    measured = time.monotonic() - started
    hwm = sum(status_kib(pid, "VmHWM") for pid in pids.values())
    return Usage(used, measured, hwm / 1024, peak_family / 1024,
                 {name: kib / 1024 for name, kib in peaks.items()})


class Schedule:
    """Calls each action at 0, every, 2 x every, ... seconds of elapsed time."""

    def __init__(self, actions: Sequence[tuple[float, Callable[[], None]]]) -> None:
        self.actions = list(actions)
        self.next_due = [0.0] * len(self.actions)
        self.failures: list[str] = []

    def __call__(self, elapsed: float) -> None:
        for index, (every, action) in enumerate(self.actions):
            if elapsed >= self.next_due[index]:
                self.next_due[index] += every
                try:
                    action()
                except (OSError, ValueError) as error:
                    self.failures.append(str(error))


def anchor_usage(targets: Targets, intervals: Intervals, window: float, work: Path) -> Usage:
    """node-exporter + blackbox-exporter, scraped as Prometheus would for one school."""
    programs = {}
    for name in ("prometheus-node-exporter", "prometheus-blackbox-exporter"):
        path = shutil.which(name)
        if path is None:
            raise SystemExit(f"{name} is not installed (bootstrap.sh installs it)")
        programs[name] = path
    node_port, blackbox_port = free_port(), free_port()
    config = work / "blackbox.yml"
    config.write_text(yaml.safe_dump({"modules": BLACKBOX_MODULES}))
    log = (work / "exporters.log").open("wb")
    node = subprocess.Popen([programs["prometheus-node-exporter"],
                             f"--web.listen-address=127.0.0.1:{node_port}"],
                            stdout=log, stderr=log)
    blackbox = subprocess.Popen([programs["prometheus-blackbox-exporter"],
                                 f"--config.file={config}",
                                 f"--web.listen-address=127.0.0.1:{blackbox_port}"],
                                stdout=log, stderr=log)
    try:
        node_url = f"http://127.0.0.1:{node_port}/metrics"
        probe = f"http://127.0.0.1:{blackbox_port}/probe"
        wait_listening(node_url, node, "prometheus-node-exporter")
        wait_listening(f"http://127.0.0.1:{blackbox_port}/metrics", blackbox,
                       "prometheus-blackbox-exporter")
        failed: list[str] = []

        def probe_ok(module: str, target: str) -> Callable[[], None]:
            def run() -> None:
                body = fetch(f"{probe}?module={module}&target={target}")[2].decode()
                if "\nprobe_success 1" not in "\n" + body:
                    failed.append(f"{module} {target}")
            return run

        link = [probe_ok("icmp", address) for address in ICMP_TARGETS]
        link += [probe_ok("dns", f"{DNS_ADDRESS}:{targets.dns_port}"),
                 probe_ok("http_2xx", targets.http_url)]

        def link_round() -> None:
            for action in link:
                action()
            fetch(node_url)

        schedule = Schedule([(intervals.link, link_round),
                             (intervals.dltv, probe_ok("http_2xx", targets.playlist_url))])
        schedule(0.0)  # the first round: start-up costs are not counted
        schedule.next_due = [every for every, _ in schedule.actions]
        usage = measure({"node-exporter": node.pid, "blackbox-exporter": blackbox.pid},
                        window, schedule)
        if failed or schedule.failures:
            raise SystemExit(f"anchor probes failed: {(failed + schedule.failures)[:5]}")
        return usage
    finally:
        stop(node)
        stop(blackbox)
        log.close()


# --- the agent --------------------------------------------------------------------------


class AgentUnavailableError(Exception):
    """`dlict agent` (or the office side it needs) is not there yet, or refused a step."""


def _dlict(*args: str, timeout: float = 60) -> str:
    done = subprocess.run([str(BIN / "dlict"), *args], capture_output=True, text=True,
                          check=False, timeout=timeout)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()
        raise AgentUnavailableError(f"`dlict {' '.join(args[:3])}`: "
                                    f"{last[-1] if last else f'exit {done.returncode}'}")
    return done.stdout


def agent_config(path: Path, office: str, targets: Targets, intervals: Intervals) -> None:
    """The agent's configuration for the same loopback targets.

    The keys are agent/jobs/settings.py's; the LAN sweep is off (no exporter does it).
    """
    config = {
        "site": SITE, "host": HOST, "office": office, "state_dir": str(path.parent / "state"),
        "jobs": {
            "link": {"interval_s": intervals.link, "deadline_s": 30,
                     "icmp": list(ICMP_TARGETS),
                     "services": {"dns": [{"server": DNS_ADDRESS, "name": DNS_NAME}],
                                  "http": [targets.http_url]}},
            "dltv": {"interval_s": intervals.dltv, "deadline_s": 60,
                     "receivers": [{"source": "hls", "channels": [1],
                                    "address": targets.playlist_url.replace(
                                        ".m3u8", "{channel:02d}.m3u8")}]},
            "lan": {"enabled": False},
            "host": {"interval_s": 3600, "deadline_s": 120},
        },
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


@contextlib.contextmanager
def running_intake(data: Path) -> Iterator[str]:
    """The office: a CA and `dlict intake serve` on 127.0.0.1; yields its URL."""
    _dlict("--data-dir", str(data), "ca", "init")
    port, metrics_port = free_port(), free_port()
    with (data.parent / "intake.log").open("wb") as log:
        intake = subprocess.Popen(
            [str(BIN / "dlict"), "--data-dir", str(data), "intake", "serve",
             "--listen", f"127.0.0.1:{port}", "--metrics-listen", f"127.0.0.1:{metrics_port}"],
            stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while not _listening(port):
            if intake.poll() is not None or time.monotonic() > deadline:
                raise AgentUnavailableError("`dlict intake serve` did not start")
            time.sleep(0.1)
        yield f"https://127.0.0.1:{port}"
    finally:
        stop(intake)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def agent_usage(targets: Targets, intervals: Intervals, window: float, work: Path) -> Usage:
    """`dlict agent run` for one school, enrolled with a real intake on 127.0.0.1."""
    _dlict("agent", "--help")
    data = work / "office"
    data.mkdir()
    with running_intake(data) as office:
        config = work / "agent.yml"
        agent_config(config, office, targets, intervals)
        token = _dlict("--data-dir", str(data), "ca", "issue-token", "--site", SITE,
                       "--host", HOST).strip().splitlines()[-1]
        _dlict("agent", "enroll", "--config", str(config), "--token", token)
        with (work / "agent.log").open("wb") as log:
            agent = subprocess.Popen([str(BIN / "dlict"), "agent", "run", "--config",
                                      str(config)], stdout=log, stderr=log)
        try:
            time.sleep(min(5.0, window))  # the first round of every job: start-up not counted
            if agent.poll() is not None:
                tail = (work / "agent.log").read_text(errors="replace").strip().splitlines()
                raise AgentUnavailableError(f"`dlict agent run` exited {agent.returncode}: "
                                            f"{tail[-1] if tail else ''}")
            return measure({"agent": agent.pid}, window, lambda _elapsed: None)
        finally:
            stop(agent)


# --- report -----------------------------------------------------------------------------


def describe(label: str, usage: Usage) -> str:
    parts = ", ".join(f"{name} {mib:.1f}" for name, mib in usage.parts.items())
    return (f"{label:36} cpu {usage.cpu_seconds:7.3f} s over {usage.window_seconds:.1f} s = "
            f"{usage.core_percent:6.3f} % of one core; peak PSS {usage.family_peak_mib:6.1f} MiB"
            f" ({parts}); VmHWM {usage.hwm_mib:.1f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=600,
                        help="seconds measured on each side (default 600)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: ICMP probes need raw sockets")
    if args.window <= 0:
        raise SystemExit("--window must be positive")
    intervals = Intervals.from_sample()
    print(f"== one school for {args.window:g} s: link every {intervals.link:g} s "
          f"(ICMP {len(ICMP_TARGETS)}, DNS 1, HTTP 1), DLTV HLS every {intervals.dltv:g} s, "
          f"host metrics every {intervals.link:g} s; loopback only")
    with loopback_targets() as targets, tempfile.TemporaryDirectory(
            prefix="dlict-bench-agent-") as tmp:
        work = Path(tmp)
        anchor = anchor_usage(targets, intervals, args.window, work)
        print(describe("node-exporter + blackbox-exporter", anchor))
        try:
            agent: Usage | None = agent_usage(targets, intervals, args.window, work)
        except AgentUnavailableError as error:
            agent = None
            print(f"agent: not available ({error})")
    goals = f"agent < {GOAL_CORE_PERCENT:g} % of one core, < {GOAL_MIB:g} MB"
    if agent is None:
        print("ratio agent / anchor: cpu n/a, memory n/a")
        print(f"goals: {goals}: NOT MEASURED")
        return 1
    print(describe("dlict agent run", agent))
    cpu_ratio = agent.cpu_seconds / anchor.cpu_seconds if anchor.cpu_seconds else float("inf")
    print(f"ratio agent / anchor: cpu {cpu_ratio:.2f}, "
          f"memory {agent.family_peak_mib / anchor.family_peak_mib:.2f}")
    met = agent.core_percent < GOAL_CORE_PERCENT and agent.family_peak_mib * 1.048576 < GOAL_MIB
    print(f"goals: {goals}: {'met' if met else 'NOT MET'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
