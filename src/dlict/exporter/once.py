"""``dlict monitor --once``: one round of every check, per site, and its results for the
evidence store (one per site link, per service, per DLTV receiver)."""

from __future__ import annotations

from typing import Any

from dlict.core.results import Result, Status
from dlict.exporter.plan import MonitorPlan
from dlict.exporter.state import MonitorState
from dlict.inventory.models import Inventory

LINK_TARGET = "link"
DLTV_TARGET = "dltv"


def site_report(inventory: Inventory, plan: MonitorPlan,
                state: MonitorState) -> list[dict[str, Any]]:
    """Per site with anything monitored: its link targets, services and DLTV receiver."""
    links = plan.sites_with_links()
    out = []
    for site in inventory.sites:
        targets = {a: state.links[a].as_dict() for a in links.get(site.id, [])
                   if a in state.links}
        services = [{"kind": kind, "target": target, **sample.as_dict()}
                    for (sid, kind, target), sample in state.services.items() if sid == site.id]
        receiver = state.receivers.get(site.id)
        if not targets and not services and receiver is None:
            continue
        row: dict[str, Any] = {"site": site.id, "name_th": site.meta.name_th,
                               "name_en": site.meta.name_en}
        if targets:
            row["link_up"] = any(t["received"] for t in targets.values())
            row["targets"] = targets
        if services:
            row["services"] = services
        if receiver is not None:
            row["dltv"] = receiver.as_dict()
        out.append(row)
    return out


def failing(row: dict[str, Any]) -> list[str]:
    """What is wrong at a site of ``site_report``, in words; empty when nothing is."""
    problems = []
    if row.get("link_up") is False:
        problems.append("link down")
    problems += [f"{s['kind']} {s['target']} down" for s in row.get("services", [])
                 if not s["up"]]
    dltv = row.get("dltv")
    if dltv is not None and (not dltv.get("reachable") or dltv.get("locked") is False):
        problems.append("DLTV not readable" if not dltv.get("reachable") else "DLTV unlocked")
    return problems


def once_results(rows: list[dict[str, Any]]) -> list[Result]:
    """A round's verdicts: a link down, a service down, a DLTV receiver unreadable or unlocked
    is a fail (a finding, as ``--once`` has always exited 1 for it)."""
    results = []
    for row in rows:
        site = row["site"]
        if "link_up" in row:
            evidence = ", ".join(f"{address} received {t['received']}/{t['sent']}"
                                 for address, t in row["targets"].items())
            results.append(Result(site=site, host=site, target=LINK_TARGET,
                                  status=_verdict(row["link_up"]), evidence=evidence))
        for service in row.get("services", []):
            results.append(Result(site=site, host=site,
                                  target=f"{service['kind']} {service['target']}",
                                  status=_verdict(service["up"]),
                                  evidence=service.get("detail") or ""))
        dltv = row.get("dltv")
        if dltv is not None:
            good = bool(dltv.get("reachable")) and dltv.get("locked") is not False
            evidence = (str(dltv.get("error") or "not readable") if not dltv.get("reachable")
                        else f"{dltv.get('source')}: locked {dltv.get('locked')}")
            results.append(Result(site=site, host=site, target=DLTV_TARGET,
                                  status=_verdict(good), evidence=evidence))
    return results


def _verdict(good: bool) -> Status:
    return Status.PASS if good else Status.FAIL
