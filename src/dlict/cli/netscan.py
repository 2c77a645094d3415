"""``dlict netscan verify`` (FW-11) and ``dlict netscan discover`` (EP-07): packets from
outside, judged against the inventory."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated

import typer

from dlict.cli.context import AppContext, app_context
from dlict.cli.options import JsonOption, number_option
from dlict.cli.results_view import log_results, print_results, run_as_dict
from dlict.core.errors import InventoryError
from dlict.core.numbers import NumberRange
from dlict.core.results import Result
from dlict.i18n import text

app = typer.Typer(
    help="Packets from outside: which ports of each host answer (FW-11), which devices are "
         "on each site's LAN (EP-07). Needs root (raw sockets) and scapy.",
    no_args_is_help=True,
)
RUN_KIND = "netscan"

TimeoutOption = Annotated[float, number_option(
    "--timeout", NumberRange(0.1, 60), "Seconds to wait for answers after the last probe.")]
RetriesOption = Annotated[int, number_option(
    "--retries", NumberRange(0, 5, whole=True), "How often unanswered probes are sent again.")]


def _status(actx: AppContext, text: str) -> AbstractContextManager[object]:
    return nullcontext() if actx.json_output else actx.console.status(text)


def _record_and_show(actx: AppContext, results: list[Result], title: str,
                     summary: dict[str, float | int], figures: str) -> None:
    record = actx.record(RUN_KIND, results)
    run_id = record.id
    log_results(RUN_KIND, run_id, results)
    if actx.json_output:
        actx.print_json(run_as_dict(record.run, results) | summary)
    else:
        print_results(actx.console, results, actx.lang, title)
        stored = text("cli.stored_as_run", actx.lang)
        actx.console.print(f"{figures}; {stored} {run_id}")
    if record.exit_code:
        raise typer.Exit(record.exit_code)


@app.command("verify")
def verify(
    ctx: typer.Context,
    limit: Annotated[str | None, typer.Option(
        "--limit", "-l", help="Hosts, groups or sites (comma-separated, wildcards allowed); "
                              "default every host with a known policy.")] = None,
    ports: Annotated[str | None, typer.Option(
        "--ports", help="More ports to probe: 8080,tcp/9000,udp/161.")] = None,
    timeout: TimeoutOption = 2.0,
    retries: RetriesOption = 1,
    _json: JsonOption = False,
) -> None:
    """Probe each host from here; every port must answer as its firewall policy says (FW-11).

    Exit 0 when every host matches its policy, 1 on a mismatch, 3 when a host could not be
    probed.
    """
    from dlict.inventory.select import select_hosts
    from dlict.netscan.policy import firewall_defaults, policies_for
    from dlict.netscan.scapy_loader import scapy_engine
    from dlict.netscan.verify import make_plans, parse_extra_ports, run_probes

    actx = app_context(ctx)
    inventory = actx.inventory()
    extra = parse_extra_ports(ports)
    hosts = select_hosts(inventory, limit)
    policy_set = policies_for(hosts, firewall_defaults())
    if policy_set.problems:
        raise InventoryError(policy_set.problems)
    engine = scapy_engine()
    plan = make_plans(hosts, policy_set.policies, engine, extra)
    probes = sum(len(p.ports) for p in plan.plans)
    started = time.monotonic()
    with _status(actx, f"probing {len(plan.plans)} hosts ({probes} probes)…"):
        probed = run_probes(plan.plans, engine, timeout, retries)
    seconds = round(time.monotonic() - started, 2)
    results = sorted(plan.results + probed, key=lambda r: (r.site, r.host))
    _record_and_show(
        actx, results,
        text("cli.fw11_title", actx.lang),
        {"hosts_probed": len(plan.plans), "probes": probes, "seconds": seconds},
        text("cli.fw11_figures", actx.lang, hosts=len(plan.plans), probes=probes,
             seconds=seconds))


@app.command("discover")
def discover(
    ctx: typer.Context,
    site: Annotated[str | None, typer.Option(
        "--site", help="One site (school code, office or its group); default every site "
                       "with dlict_site.lan.")] = None,
    interface: Annotated[str | None, typer.Option(
        "--interface", help="Sweep out of this interface instead of the one the route to "
                            "the LAN uses.")] = None,
    timeout: TimeoutOption = 1.0,
    retries: RetriesOption = 1,
    _json: JsonOption = False,
) -> None:
    """Sweep each site's LANs with ARP; every answering device must be in the inventory
    (EP-07).

    Exit 0 when every device is known, 1 when one is not, 3 when a LAN could not be swept.
    """
    from dlict.netscan.discover import plan_sweeps, run_sweeps, select_sites
    from dlict.netscan.engine import addresses_of
    from dlict.netscan.oui import vendor
    from dlict.netscan.scapy_loader import scapy_engine

    actx = app_context(ctx)
    inventory = actx.inventory()
    sites = select_sites(inventory, site)
    engine = scapy_engine()
    sweeps, errors = plan_sweeps(sites, engine, interface)
    addresses = sum(len(addresses_of(s.network)) for s in sweeps)
    started = time.monotonic()
    with _status(actx, f"sweeping {len(sweeps)} LANs ({addresses} addresses)…"):
        swept = run_sweeps(inventory, sweeps, engine, vendor, timeout, retries)
    seconds = round(time.monotonic() - started, 2)
    _record_and_show(
        actx, errors + swept,
        text("cli.ep07_title", actx.lang),
        {"lans_swept": len(sweeps), "addresses": addresses, "seconds": seconds},
        text("cli.ep07_figures", actx.lang, lans=len(sweeps), addresses=addresses,
             seconds=seconds))
