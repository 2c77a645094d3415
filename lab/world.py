"""A country-sized monitoring world: a monitor plan of many sites and plausible results.

Used by bench/bench_metrics.py (30,000 sites) and by the tests that check what its exposition
says (a handful of sites).
"""

from __future__ import annotations

import random

from dlict.dltv import ChannelStatus, ReceiverStatus, make_source, thresholds_from
from dlict.exporter.plan import MonitorPlan, ReceiverCheck, ServiceCheck, SiteNames
from dlict.exporter.state import LinkSample, MonitorState, ServiceSample
from dlict.inventory.models import MonitorSettings


def _address(index: int) -> str:
    return f"127.{100 + index // 65536}.{(index // 256) % 256}.{index % 256}"


def country_plan(sites: int) -> MonitorPlan:
    """A monitor plan for ``sites`` schools: an ICMP target, an HTTP check and a DLTV
    receiver with two channels each, at addresses from 127.100.0.0 on."""
    plan = MonitorPlan(settings=MonitorSettings())
    thresholds = thresholds_from(None, "tvheadend")
    for index in range(sites):
        site = f"{10_0000_0000 + index}"
        plan.icmp_sites[_address(index)] = [site]
        plan.sites[site] = SiteNames(f"โรงเรียนบ้าน {index}", f"Ban School {index}", "เมือง")
        url = f"http://{_address(index)}/"
        plan.services.append(ServiceCheck(site, "http", url, url=url))
        receiver = f"http://{_address(index)}:9981"
        plan.receivers.append(ReceiverCheck(site, "tvheadend", receiver, thresholds,
                                            make_source("tvheadend", receiver, [1, 2],
                                                        thresholds)))
    return plan


def fill(plan: MonitorPlan, state: MonitorState, rng: random.Random) -> None:
    """Give every target of ``plan`` a plausible newest result in ``state``."""
    fill_links(plan, state, rng)
    fill_checks(plan, state, rng, 0, len(plan.services))


def fill_links(plan: MonitorPlan, state: MonitorState, rng: random.Random) -> None:
    """One ICMP cycle's results for every site (2 % of links down)."""
    links = {}
    for address in plan.icmp_sites:
        rtt = rng.uniform(0.005, 0.080)
        lost = rng.random() < 0.02
        links[address] = LinkSample(10, 0 if lost else 10, None if lost else rtt,
                                    None if lost else rtt * 0.8, None if lost else rtt * 1.4,
                                    None if lost else rtt * 0.1)
    state.put_links(links, 10.2)


def fill_checks(plan: MonitorPlan, state: MonitorState, rng: random.Random, first: int,
                count: int) -> None:
    """New results for ``count`` service checks and receivers from index ``first`` on."""
    for check in plan.services[first:first + count]:
        state.put_service((check.site, check.kind, check.target),
                          ServiceSample(True, rng.uniform(0.02, 0.3), status=200))
    for receiver in plan.receivers[first:first + count]:
        state.put_receiver(receiver.site, ReceiverStatus(
            "tvheadend", True, locked=True, signal_ratio=rng.uniform(0.5, 0.9),
            snr_db=rng.uniform(6, 14), ber=0.0, uncorrected_blocks=rng.randrange(100),
            channels={1: ChannelStatus(True, 2_000_000.0), 2: ChannelStatus(True, 1_500_000.0)}))
