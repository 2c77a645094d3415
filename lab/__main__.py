"""Command line for the simulated district.

    python -m lab build|up|down|cleanup|status   the test fleet (namespace hosts)
    python -m lab devices serve --state DIR      fake network devices for the demo
    python -m lab school-nat up|down|cut|restore  a school behind a NAT router (namespaces)
    python -m lab agent-demo --data D --state S   its agent reporting to the office's intake
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from lab import schoolnat
from lab.fleet.fleet import (
    Fleet,
    cleanup_stale,
    load_records,
    record_for_state_dir,
    teardown,
)
from lab.fleet.rootfs import ensure_rootfs
from lab.fleet.sysutil import FleetError, is_same_process, remove_tree
from lab.schoolnat import SchoolNat, SchoolNatError


def _build(arguments: argparse.Namespace) -> int:
    print(ensure_rootfs(log=arguments.log))
    return 0


def _up(arguments: argparse.Namespace) -> int:
    fleet = Fleet.start(schools=arguments.schools, workers=arguments.workers,
                        state_dir=arguments.state, detached=True)
    for host in fleet.hosts + fleet.workers:
        print(f"# {host.name:<20} {host.address}", file=sys.stderr)
    if fleet.workers:
        print(f"# worker nodes: DLICT_WORKER_SSH_CONFIG={fleet.workers_ssh_config} "
              f"dlict audit --workers {','.join(w.name for w in fleet.workers)}",
              file=sys.stderr)
    print(f"# stop it with: python -m lab down --state {fleet.state_dir}", file=sys.stderr)
    print(fleet.inventory_path)
    return 0


def _down(arguments: argparse.Namespace) -> int:
    state_dir: Path = arguments.state
    record = record_for_state_dir(state_dir)
    if record is not None:
        teardown(record)
    elif (state_dir / ".dlict-fleet").exists():
        remove_tree(state_dir)
    else:
        print(f"{state_dir} is not a fleet state directory", file=sys.stderr)
        return 2
    return 0


def _cleanup(arguments: argparse.Namespace) -> int:
    removed = cleanup_stale(include_detached=arguments.all)
    print(f"removed {len(removed)} fleet(s){': ' + ', '.join(removed) if removed else ''}")
    return 0


def _status(_: argparse.Namespace) -> int:
    records = load_records()
    if not records:
        print("no fleets")
    for record in records:
        owner = "detached" if record.detached else f"owner pid {record.owner_pid}"
        if not record.detached and not record.owner_alive():
            owner += " (gone: stale, `cleanup` removes it)"
        hosts = sorted({p.host for p in record.processes if is_same_process(p.pid, p.start_time)})
        print(f"{record.fleet_id}  10.213.{record.index}.0/24  {owner}  state {record.state_dir}")
        print(f"    running hosts: {', '.join(hosts) or 'none'}")
        print(f"    namespaces: {', '.join(record.namespaces) or 'none'}")
    return 0


def _serve_devices(arguments: argparse.Namespace) -> int:
    # Imported here: the fleet commands need neither paramiko nor FakeNOS.
    from lab.devices.serve import serve

    return serve(arguments.state)


def _school_nat_up(_: argparse.Namespace) -> int:
    lab = schoolnat.build(f"{schoolnat.DETACHED_OWNER}-{secrets.token_hex(3)}")
    print(json.dumps(lab.describe(), indent=2))
    print(f"# stop it with: python -m lab school-nat down {lab.lab_id}", file=sys.stderr)
    return 0


def _existing_school_nat(lab_id: str) -> SchoolNat | None:
    if lab_id not in schoolnat.lab_ids():
        print(f"no school NAT lab {lab_id!r} on this machine (see `school-nat list`)",
              file=sys.stderr)
        return None
    return SchoolNat.of(lab_id)


def _school_nat_down(arguments: argparse.Namespace) -> int:
    if _existing_school_nat(arguments.id) is None:
        return 2
    problems = schoolnat.teardown(arguments.id)
    if problems:
        raise SchoolNatError("; ".join(problems))
    return 0


def _school_nat_cut(arguments: argparse.Namespace) -> int:
    lab = _existing_school_nat(arguments.id)
    if lab is None:
        return 2
    lab.cut_uplink()
    return 0


def _school_nat_restore(arguments: argparse.Namespace) -> int:
    lab = _existing_school_nat(arguments.id)
    if lab is None:
        return 2
    lab.restore_uplink()
    return 0


def _school_nat_list(_: argparse.Namespace) -> int:
    for lab_id in schoolnat.lab_ids():
        print(lab_id)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build (or find) the cached root filesystem")
    build.add_argument("--log", type=Path, default=None,
                       help="where the build's debootstrap and apt output goes "
                            "(default: build.log next to the image)")
    build.set_defaults(run=_build)
    up = commands.add_parser("up", help="start a fleet that keeps running; prints the inventory")
    up.add_argument("--schools", type=int, default=2, help="number of schools (default 2)")
    up.add_argument("--workers", type=int, default=0,
                    help="worker nodes for dlict audit --workers (default 0)")
    up.add_argument("--state", type=Path, default=None, help="state directory (absent or empty)")
    up.set_defaults(run=_up)
    down = commands.add_parser("down", help="stop the fleet whose state is in --state")
    down.add_argument("--state", type=Path, required=True)
    down.set_defaults(run=_down)
    cleanup = commands.add_parser("cleanup", help="remove fleets whose owner process died")
    cleanup.add_argument("--all", action="store_true", help="also remove fleets started by `up`")
    cleanup.set_defaults(run=_cleanup)
    commands.add_parser("status", help="list the fleets on this machine").set_defaults(run=_status)
    devices = commands.add_parser("devices", help="fake network devices")
    device_commands = devices.add_subparsers(dest="devices_command", required=True)
    serve = device_commands.add_parser(
        "serve", help="serve the demo devices until stopped; writes DIR/inventory, "
                      "DIR/known_hosts, DIR/password (0600) and, once all listen, DIR/ready")
    serve.add_argument("--state", type=Path, required=True)
    serve.set_defaults(run=_serve_devices)
    school = commands.add_parser("school-nat", help="a school LAN behind a NAT router "
                                 "namespace and an office namespace (lab/schoolnat.py)")
    school_commands = school.add_subparsers(dest="school_command", required=True)
    school_commands.add_parser(
        "up", help="build one that keeps running; prints its namespaces and addresses (JSON)"
    ).set_defaults(run=_school_nat_up)
    school_commands.add_parser("list", help="the ids of those on this machine").set_defaults(
        run=_school_nat_list)
    for name, run, text in (("down", _school_nat_down, "stop its processes, remove it"),
                            ("cut", _school_nat_cut, "drop everything on the router's WAN"),
                            ("restore", _school_nat_restore, "remove that drop")):
        action = school_commands.add_parser(name, help=text)
        action.add_argument("id", help="the id `up` printed")
        action.set_defaults(run=run)
    demo = commands.add_parser("agent-demo", help="a school behind NAT whose agent reports to "
                               "the office's intake (the README demo's last part)")
    demo.add_argument("--data", type=Path, required=True, help="the office's dlict data dir")
    demo.add_argument("--state", type=Path, required=True, help="the agent's files")
    demo.set_defaults(run=_agent_demo)
    return parser


def _agent_demo(arguments: argparse.Namespace) -> int:
    from lab.agentdemo import run_demo

    return run_demo(arguments.data, arguments.state)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the lab's command line; return the exit code."""
    arguments = _parser().parse_args(argv)
    try:
        code: int = arguments.run(arguments)
    except (FleetError, SchoolNatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    return code


if __name__ == "__main__":
    sys.exit(main())
