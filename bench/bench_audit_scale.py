"""Benchmark: how `dlict audit` scales with the number of hosts (issue 18).

For each fleet size N (hosts in total: the office log server and N-1 schools) the fleet is
started, every area applied once, then three runs alternate in each round:

- ``dlict audit --no-devices`` of this checkout;
- the anchor: plain ``ansible-playbook --check --diff`` of the playbooks as of commit
  ``ANCHOR_COMMIT`` (extracted with ``git archive``), with their own ansible.cfg;
- the same anchor with the Mitogen strategy (``mitogen_linear``), when mitogen is installed;
- ``dlict audit --workers`` over ``--workers`` worker nodes (default 2; 0 leaves the column
  out): the plays run on the nodes, which here are namespace hosts of this same machine, so
  the column shows where the work goes (the controller's CPU against the nodes'), not a
  wall-time gain — every node shares the same 2 cores.

Each run is timed in wall seconds and in controller CPU seconds: user+sys of the whole child
process tree (``RUSAGE_CHILDREN`` deltas). The hosts' own work runs under sshd inside their
namespaces and is counted apart as ``hosts cpu s`` (every process of their PID namespaces,
reaped children included): on this machine it shares the controller's 2 cores, where a
district's schools do it on their own machines. The benchmark makes itself a child
subreaper, so the SSH control masters a run leaves behind (ControlPersist) are adopted, ended
and counted with that run.
The worker nodes' CPU is counted apart (every process of their PID namespaces, reaped children
included) and printed as ``nodes cpu s``.

After all sizes a least-squares line per column gives the seconds per added host and a
projection to 500 hosts, with the controller's CPU floor (CPU seconds / cores). The 15-minute
goal is judged twice: by the wall line measured here, where the simulated hosts' work takes
the same 2 cores; and with the hosts' work elsewhere, by the wall line less the hosts' CPU
seconds over the cores (never below the controller's CPU floor).

Run as root from the repository:
    .venv/bin/python -m bench.bench_audit_scale [--sizes 3,6,12,24] [--rounds 1] [--workers 2]
        [--json F]
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import importlib.metadata
import json
import math
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlict.core.ansible_env import mitogen_strategy_dir
from lab.fleet.fleet import Fleet

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ANCHOR_COMMIT = "e73581f"
PROJECTED_HOSTS = 500
GOAL_SECONDS = 900.0
GOAL_SPEEDUP = 3.0
GOAL_SPEEDUP_FROM = 12
FORKS = "20"
PR_SET_CHILD_SUBREAPER = 36

DLICT = "dlict audit"
ANCHOR = "ansible-playbook --check"
MITOGEN = "ansible-playbook --check (mitogen)"
WORKERS = "dlict audit --workers"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Timing:
    """One run: wall seconds and the controller's CPU seconds (user+sys of its process tree);
    ``nodes_cpu``: the worker nodes' CPU seconds, for a run on them; ``hosts_cpu``: the
    audited hosts' own CPU seconds."""

    wall: float
    cpu: float
    nodes_cpu: float = 0.0
    hosts_cpu: float = 0.0


#: A timed run: (scratch folder, the running fleet, data dir) -> its timing.
Column = Callable[[Path, Fleet, Path], Timing]


@dataclass
class SizeFigures:
    """The medians over the rounds at one fleet size, per column."""

    hosts: int
    runs: dict[str, list[Timing]] = field(default_factory=dict)

    def wall(self, column: str) -> float:
        """Median wall seconds of ``column``."""
        return statistics.median(t.wall for t in self.runs[column])

    def cpu(self, column: str) -> float:
        """Median controller CPU seconds of ``column``."""
        return statistics.median(t.cpu for t in self.runs[column])

    def nodes_cpu(self, column: str) -> float:
        """Median worker-node CPU seconds of ``column`` (0 for a run on the controller)."""
        return statistics.median(t.nodes_cpu for t in self.runs[column])

    def hosts_cpu(self, column: str) -> float:
        """Median CPU seconds the audited hosts spent in ``column``'s runs."""
        return statistics.median(t.hosts_cpu for t in self.runs[column])

    def wall_hosts_elsewhere(self, column: str, cores: int) -> float:
        """Median wall seconds less the hosts' CPU seconds over ``cores``: the time the run
        would take were the hosts' work done on their own machines, at the least the
        controller's CPU over the cores."""
        return statistics.median(max(t.wall - t.hosts_cpu / cores, t.cpu / cores)
                                 for t in self.runs[column])


@dataclass(frozen=True)
class Line:
    """``value = intercept + slope * hosts``."""

    intercept: float
    slope: float

    def at(self, hosts: float) -> float:
        """The line's value at ``hosts``."""
        return self.intercept + self.slope * hosts


def fit(points: Sequence[tuple[float, float]]) -> Line:
    """Least-squares line through ``points`` (x, y).

    With a single distinct x the slope cannot be fitted: the line then goes through the origin
    (cost proportional to the hosts), which is the cautious reading of one measurement.
    """
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    x_mean, y_mean = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - x_mean) ** 2 for x in xs)
    if spread == 0:
        return Line(0.0, y_mean / x_mean)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in points) / spread
    return Line(y_mean - slope * x_mean, slope)


def become_subreaper() -> None:
    """Adopt orphaned descendants (SSH control masters), so their CPU can be counted."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _direct_children() -> set[int]:
    me = os.getpid()
    children: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields start after the last ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            children.add(int(entry.name))
    return children


def _end_adopted(before: set[int]) -> None:
    # Only processes that became our children during the run: the fleet's own are in `before`.
    for pid in _direct_children() - before:
        try:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            continue


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def namespace_cpu(init_pid: int) -> float:
    """CPU seconds of every process in the PID namespace of ``init_pid``, with the children
    each has reaped (a process that ended during a run is counted in its parent's)."""
    try:
        namespace = Path(f"/proc/{init_pid}/ns/pid").readlink()
    except OSError:
        return 0.0
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "ns" / "pid").readlink() != namespace:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the command name
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / CLOCK_TICKS


def _nodes_cpu(fleet: Fleet) -> float:
    return sum(namespace_cpu(pid) for pid in _inits(fleet, {w.name for w in fleet.workers}))


def _hosts_cpu(fleet: Fleet) -> float:
    return sum(namespace_cpu(pid) for pid in _inits(fleet, {h.name for h in fleet.hosts}))


def _inits(fleet: Fleet, names: set[str]) -> list[int]:
    """The init process of each of the fleet's namespaces called one of ``names``."""
    inits: dict[str, int] = {}
    for process in fleet.record.processes:
        if process.host in names:
            inits[process.host] = process.pid  # the last one recorded is the node's init
    return list(inits.values())


def timed(command: list[str], env: dict[str, str], fleet: Fleet,
          nodes: bool = False) -> Timing:
    """Run ``command`` against ``fleet``; exit 0 or 1 is fine (1 = findings), anything else
    ends the benchmark. With ``nodes``, the fleet's worker nodes' CPU is measured too."""
    before = _direct_children()
    cpu_before = _cpu_of_children()
    nodes_before = _nodes_cpu(fleet) if nodes else 0.0
    hosts_before = _hosts_cpu(fleet)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    _end_adopted(before)
    cpu = _cpu_of_children() - cpu_before
    nodes_cpu = _nodes_cpu(fleet) - nodes_before if nodes else 0.0
    hosts_cpu = _hosts_cpu(fleet) - hosts_before
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command[:4])} … exited {result.returncode}:\n"
                         f"{result.stderr[-2000:]}\n{result.stdout[-2000:]}")
    return Timing(elapsed, cpu, nodes_cpu, hosts_cpu)


def extract_anchor(work: Path) -> Path:
    """Extract the anchor's playbooks (as of ``ANCHOR_COMMIT``) into ``work``; their folder."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ANCHOR_COMMIT, "playbooks"],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise SystemExit(f"cannot extract the anchor's playbooks: git archive {ANCHOR_COMMIT} "
                         f"failed (is this a checkout with its history?):\n"
                         f"{archive.stderr.decode(errors='replace')[-2000:]}")
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive.stdout, check=True)
    return work / "playbooks"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str | int | None]:
    """Cores, memory, CPU model and the Ansible and Mitogen versions."""
    model = platform.processor() or "unknown"
    memory_kib = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gib": f"{memory_kib / 1024 ** 2:.1f}",
            "cpu_model": model, "ansible_core": _version("ansible-core"),
            "mitogen": _version("mitogen")}


def measure_size(hosts: int, rounds: int, columns: dict[str, Column],
                 env: dict[str, str], workers: int) -> SizeFigures:
    """Start a fleet of ``hosts`` hosts (and ``workers`` worker nodes), apply once, time
    every column ``rounds`` times."""
    figures = SizeFigures(hosts, {name: [] for name in columns})
    with (Fleet.start(schools=hosts - 1, workers=workers) as fleet,
          tempfile.TemporaryDirectory() as scratch):
        work = Path(scratch)
        inventory = str(fleet.inventory_path)
        data = str(work / "data")
        print(f"== {len(fleet.hosts)} hosts (fleet up in {fleet.boot_seconds:.1f} s); "
              f"applying every area once …", flush=True)
        applied = subprocess.run([*dlict_command(), "-i", inventory, "--data-dir", data,
                                  "apply", "all"],
                                 env=env, capture_output=True, text=True, check=False)
        if applied.returncode not in (0, 1):
            raise SystemExit(f"dlict apply all exited {applied.returncode}:\n"
                             f"{applied.stderr[-2000:]}\n{applied.stdout[-2000:]}")
        for round_number in range(1, rounds + 1):
            said = []
            for name, run in columns.items():
                timing = run(work, fleet, Path(data))
                figures.runs[name].append(timing)
                said.append(f"{name} {timing.wall:.2f} s / cpu {timing.cpu:.2f} s"
                            + (f" + nodes {timing.nodes_cpu:.2f} s" if timing.nodes_cpu else "")
                            + f", hosts cpu {timing.hosts_cpu:.2f} s")
            print(f"round {round_number}: " + "; ".join(said), flush=True)
    return figures


def dlict_command() -> list[str]:
    """This checkout's dlict (PYTHONPATH puts its src/ first)."""
    return [sys.executable, "-m", "dlict"]


def make_columns(anchor_playbooks: Path, strategy_dir: Path | None,
                 env: dict[str, str], workers: int) -> dict[str, Column]:
    """The runs to time, by column name."""

    def run_dlict(work: Path, fleet: Fleet, data: Path) -> Timing:
        return timed([*dlict_command(), "-i", str(fleet.inventory_path), "--data-dir",
                      str(data), "audit", "--no-devices"], env, fleet)

    def anchor_env(work: Path) -> dict[str, str]:
        return {**env, "ANSIBLE_CONFIG": str(anchor_playbooks / "ansible.cfg"),
                "ANSIBLE_SSH_CONTROL_PATH_DIR": tempfile.mkdtemp(dir=work)}

    def anchor_command(inventory: str) -> list[str]:
        return [str(BIN / "ansible-playbook"), "-i", inventory, "--check", "--diff",
                "-e", "dlict_mode=audit", "--forks", FORKS, str(anchor_playbooks / "site.yml")]

    def run_anchor(work: Path, fleet: Fleet, data: Path) -> Timing:
        return timed(anchor_command(str(fleet.inventory_path)), anchor_env(work), fleet)

    columns: dict[str, Column] = {DLICT: run_dlict, ANCHOR: run_anchor}
    if strategy_dir is not None:
        def run_mitogen(work: Path, fleet: Fleet, data: Path) -> Timing:
            return timed(anchor_command(str(fleet.inventory_path)),
                         {**anchor_env(work), "ANSIBLE_STRATEGY_PLUGINS": str(strategy_dir),
                          "ANSIBLE_STRATEGY": "mitogen_linear"}, fleet)

        columns[MITOGEN] = run_mitogen
    if workers:
        def run_workers(work: Path, fleet: Fleet, data: Path) -> Timing:
            return timed([*dlict_command(), "-i", str(fleet.inventory_path), "--data-dir",
                          str(data), "audit", "--no-devices",
                          "--workers", ",".join(w.name for w in fleet.workers)],
                         {**env, "DLICT_WORKER_SSH_CONFIG": str(fleet.workers_ssh_config)},
                         fleet, nodes=True)

        columns[WORKERS] = run_workers
    return columns


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def print_size(figures: SizeFigures) -> dict[str, float]:
    """Print one size's table and ratios; return the ratios."""
    n = figures.hosts
    print(f"-- {n} hosts (median of {len(figures.runs[DLICT])} rounds)")
    print(f"{'column':<36} {'wall s':>9} {'cpu s':>9} {'cpu s/host':>11} {'wall s/host':>12}"
          f" {'nodes cpu s':>12} {'hosts cpu s':>12}")
    for name in figures.runs:
        wall, cpu, nodes = figures.wall(name), figures.cpu(name), figures.nodes_cpu(name)
        print(f"{name:<36} {wall:>9.2f} {cpu:>9.2f} {cpu / n:>11.3f} {wall / n:>12.3f}"
              f" {nodes:>12.2f} {figures.hosts_cpu(name):>12.2f}")
    ratios = {"anchor_dlict_wall": _ratio(figures.wall(ANCHOR), figures.wall(DLICT)),
              "anchor_dlict_cpu": _ratio(figures.cpu(ANCHOR), figures.cpu(DLICT))}
    line = (f"ratio anchor/dlict: wall {ratios['anchor_dlict_wall']:.2f}x, "
            f"cpu {ratios['anchor_dlict_cpu']:.2f}x")
    if MITOGEN in figures.runs:
        ratios["anchor_mitogen_wall"] = _ratio(figures.wall(ANCHOR), figures.wall(MITOGEN))
        ratios["anchor_mitogen_cpu"] = _ratio(figures.cpu(ANCHOR), figures.cpu(MITOGEN))
        line += (f"; anchor/mitogen: wall {ratios['anchor_mitogen_wall']:.2f}x, "
                 f"cpu {ratios['anchor_mitogen_cpu']:.2f}x")
    print(line, flush=True)
    if WORKERS in figures.runs:
        ratios["workers_dlict_wall"] = _ratio(figures.wall(WORKERS), figures.wall(DLICT))
        ratios["dlict_workers_controller_cpu"] = _ratio(figures.cpu(DLICT), figures.cpu(WORKERS))
        print(f"worker nodes: wall {figures.wall(WORKERS):.2f} s "
              f"({ratios['workers_dlict_wall']:.2f}x dlict audit's); controller cpu "
              f"{figures.cpu(WORKERS):.2f} s ({ratios['dlict_workers_controller_cpu']:.1f}x less), "
              f"nodes cpu {figures.nodes_cpu(WORKERS):.2f} s", flush=True)
    return ratios


def project(all_figures: list[SizeFigures], cores: int) -> dict[str, dict[str, float]]:
    """Print the fitted lines and the 500-host projection per column; return them."""
    single = len({f.hosts for f in all_figures}) < 2
    print(f"== projection to {PROJECTED_HOSTS} hosts ({cores} cores)"
          + (" — one size only: taken as proportional to the hosts" if single else ""))
    projections: dict[str, dict[str, float]] = {}
    for name in all_figures[0].runs:
        wall = fit([(f.hosts, f.wall(name)) for f in all_figures])
        cpu = fit([(f.hosts, f.cpu(name)) for f in all_figures])
        hosts = fit([(f.hosts, f.hosts_cpu(name)) for f in all_figures])
        elsewhere = fit([(f.hosts, f.wall_hosts_elsewhere(name, cores)) for f in all_figures])
        wall_500, cpu_500 = wall.at(PROJECTED_HOSTS), cpu.at(PROJECTED_HOSTS)
        floor = cpu_500 / cores
        elsewhere_500 = max(elsewhere.at(PROJECTED_HOSTS), floor)
        projections[name] = {"wall_a": wall.intercept, "wall_b": wall.slope,
                             "cpu_c": cpu.intercept, "cpu_d": cpu.slope,
                             "hosts_cpu_per_host": hosts.slope,
                             "wall_hosts_elsewhere_b": elsewhere.slope,
                             "wall_500": wall_500, "cpu_500": cpu_500,
                             "cpu_floor_500": floor, "projected_500": max(wall_500, floor),
                             "projected_500_hosts_elsewhere": elsewhere_500}
        print(f"{name}: seconds per added host: wall {wall.slope:.3f} s, cpu {cpu.slope:.3f} s, "
              f"hosts' cpu {hosts.slope:.3f} s; {PROJECTED_HOSTS} hosts: wall {wall_500:.0f} s, "
              f"controller cpu {cpu_500:.0f} s / {cores} cores = {floor:.0f} s at the least; "
              f"with the hosts' work elsewhere {elsewhere_500:.0f} s", flush=True)
    return projections


def nodes_needed(all_figures: list[SizeFigures], cores: int) -> dict[str, float] | None:
    """With worker nodes: the office controller's CPU at 500 hosts, and how many nodes of
    ``cores`` cores (this machine's) would hold the nodes' CPU within the 15-minute goal —
    a projection from the fitted nodes' CPU, with the hosts' own work elsewhere."""
    if WORKERS not in all_figures[0].runs:
        return None
    controller = fit([(f.hosts, f.cpu(WORKERS)) for f in all_figures]).at(PROJECTED_HOSTS)
    nodes = fit([(f.hosts, f.nodes_cpu(WORKERS)) for f in all_figures]).at(PROJECTED_HOSTS)
    needed = nodes / (GOAL_SECONDS * cores)
    print(f"with worker nodes, {PROJECTED_HOSTS} hosts: office controller cpu {controller:.0f} s "
          f"({controller / PROJECTED_HOSTS:.2f} s per host); nodes cpu {nodes:.0f} s, i.e. "
          f"{math.ceil(needed)} nodes of {cores} cores for {GOAL_SECONDS:.0f} s "
          "(a projection: on this machine the nodes share its cores)", flush=True)
    return {"controller_cpu_500": controller, "nodes_cpu_500": nodes,
            "nodes_needed_for_goal": needed}


def goals(all_figures: list[SizeFigures],
          projections: dict[str, dict[str, float]]) -> dict[str, bool | None]:
    """Print the two goal lines; return whether each is met (None: not measured)."""
    projected = projections[DLICT]["projected_500"]
    in_time = projected < GOAL_SECONDS
    print(f"goal: {PROJECTED_HOSTS} hosts under 15 min ({GOAL_SECONDS:.0f} s): "
          f"{'met' if in_time else 'NOT met'} (dlict projected {projected:.0f} s, the larger of "
          f"the wall line and the cpu floor, with the simulated hosts' work on these cores)")
    elsewhere = projections[DLICT]["projected_500_hosts_elsewhere"]
    elsewhere_in_time = elsewhere < GOAL_SECONDS
    print(f"goal: {PROJECTED_HOSTS} hosts under 15 min with the hosts' work on their own "
          f"machines: {'met' if elsewhere_in_time else 'NOT met'} (dlict projected "
          f"{elsewhere:.0f} s: the wall line less the hosts' cpu over the cores, at the least "
          f"the cpu floor; controller cpu {projections[DLICT]['cpu_d']:.2f} s per added host)")
    large = [f for f in all_figures if f.hosts >= GOAL_SPEEDUP_FROM]
    speedup: bool | None = None
    if not large:
        verdict = "not measured"
    else:
        ratios = [_ratio(f.wall(ANCHOR), f.wall(DLICT)) for f in large]
        speedup = min(ratios) >= GOAL_SPEEDUP
        verdict = (f"{'met' if speedup else 'NOT met'} (anchor/dlict wall "
                   + ", ".join(f"{r:.2f}x at {f.hosts}" for r, f in zip(ratios, large,
                                                                        strict=True)) + ")")
    print(f"goal: dlict >= {GOAL_SPEEDUP:.0f}x faster than ansible-playbook --check at "
          f"{GOAL_SPEEDUP_FROM}+ hosts: {verdict}", flush=True)
    return {"under_15_min_at_500": in_time,
            "under_15_min_at_500_hosts_elsewhere": elsewhere_in_time,
            "3x_faster_at_12_plus": speedup}


def _sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes are host counts of 1 or more, e.g. 3,6,12,24")
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[3, 6, 12, 24],
                        help="fleet sizes in hosts (office + schools), comma separated")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, choices=range(0, 9),
                        metavar="N", help="worker nodes for the --workers column (0: none)")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    args = parser.parse_args()

    about = machine()
    print(f"machine: {about['cores']} cores, {about['memory_gib']} GiB memory, "
          f"{about['cpu_model']}; ansible-core {about['ansible_core']}, "
          f"mitogen {about['mitogen']}", flush=True)
    cores = os.cpu_count() or 1
    pythonpath = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": pythonpath}
    strategy_dir = mitogen_strategy_dir()
    if strategy_dir is None:
        print("mitogen: not installed")
    become_subreaper()
    with tempfile.TemporaryDirectory() as anchor_work:
        playbooks = extract_anchor(Path(anchor_work))
        columns = make_columns(playbooks, strategy_dir, env, args.workers)
        all_figures: list[SizeFigures] = []
        ratios: dict[int, dict[str, float]] = {}
        for hosts in args.sizes:
            figures = measure_size(hosts, args.rounds, columns, env, args.workers)
            all_figures.append(figures)
            ratios[hosts] = print_size(figures)
    projections = project(all_figures, cores)
    capacity = nodes_needed(all_figures, cores)
    met = goals(all_figures, projections)
    if args.json:
        args.json.write_text(json.dumps({
            "machine": about, "anchor_commit": ANCHOR_COMMIT, "rounds": args.rounds,
            "sizes": [{"hosts": f.hosts,
                       "runs": {name: [asdict(t) for t in runs] for name, runs in f.runs.items()},
                       "median": {name: {"wall": f.wall(name), "cpu": f.cpu(name),
                                         "nodes_cpu": f.nodes_cpu(name),
                                         "hosts_cpu": f.hosts_cpu(name)}
                                  for name in f.runs},
                       "ratios": ratios[f.hosts]} for f in all_figures],
            "projections": projections, "worker_nodes": capacity, "goals": met},
            indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
