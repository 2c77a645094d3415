"""The ICMP sweep against emulated school links (lab/netemu.py): what it measures must be
what the links do. Delay, jitter and loss are known (the responder applies them and counts
what it really did), so the figures are checked against both the plan and the count.

The prober runs inside the emulation's own network namespace; nothing leaves it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lab.netemu import EmulatedLinks, Link, emulated_links, school_links

ROUNDS = 200
DEAD = "10.213.0.9"  # in the emulated prefix, no link: never answers

PROBER = """
import json, sys
from dlict.probes.icmp import Sweep
targets, count, period = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
results = Sweep(targets, count=count, interval_ms=1, period_ms=period, timeout_ms=1000).run()
print(json.dumps([dict(r.as_dict(), rtts=r.rtts_ms) for r in results]))
"""


def sweep_inside(em: EmulatedLinks, targets: list[str], count: int,
                 period_ms: float) -> dict[str, dict[str, Any]]:
    """Run a Sweep in a child process inside the emulation's namespace."""
    run = em.run([sys.executable, "-c", PROBER, json.dumps(targets), str(count),
                  str(period_ms)], timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return {row["target"]: row for row in json.loads(run.stdout)}


def namespaces() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                             check=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def test_measured_rtt_loss_and_jitter_match_the_emulated_links() -> None:
    links = school_links()
    with emulated_links(links) as em:
        measured = sweep_inside(em, [*em.addresses, DEAD], ROUNDS, period_ms=50)
        done = em.stats()

    for address, link in links.items():
        row, did = measured[address], done[address]
        where = f"{address} ({link})"
        # Loss: exactly what the responder dropped, and that is the link's share.
        assert row["sent"] == ROUNDS and did.requests == ROUNDS, where
        assert did.pending == 0, where
        assert row["received"] == did.replied, where
        assert row["loss_ratio"] * 100 == pytest.approx(did.loss_percent), where
        assert abs(row["loss_ratio"] * 100 - link.loss_percent) <= 3, where
        # Delay: within 1 ms + 5 % of the plan, and close to what was really applied.
        assert abs(row["rtt_s"] * 1000 - link.delay_ms) <= 1 + 0.05 * link.delay_ms, where
        assert did.mean_delay_ms is not None
        assert abs(row["rtt_s"] * 1000 - did.mean_delay_ms) <= 0.5, where
        # An echo cannot come back before its delay: the RTT is never under-measured.
        assert row["min_s"] * 1000 >= link.delay_ms - link.jitter_ms - 0.05, where
        assert len(row["rtts"]) == row["received"]

    jittery = next(a for a, link in links.items() if link.jitter_ms)
    applied = done[jittery].jitter_ms
    assert applied is not None and applied > 1
    assert measured[jittery]["jitter_s"] * 1000 == pytest.approx(applied, abs=0.3, rel=0.1)
    steady = next(a for a, link in links.items() if not link.jitter_ms and not link.loss_percent)
    assert measured[steady]["jitter_s"] < 0.0005

    assert measured[DEAD]["received"] == 0 and measured[DEAD]["loss_ratio"] == 1


def test_links_change_while_running_and_everything_is_removed() -> None:
    created: list[str] = []
    responder_pids: list[int] = []
    with pytest.raises(RuntimeError, match="leaving on purpose"), \
            emulated_links({"10.213.0.1": Link(2)}, seed=7) as em:
        created.append(em.namespace)
        responder_pids.append(em._responder.pid)
        assert em.namespace in namespaces()
        em.set_link("10.213.0.1", Link(30))
        em.set_link("10.213.0.7", Link(10, loss_percent=50))
        em.reset_stats()
        measured = sweep_inside(em, ["10.213.0.1", "10.213.0.7"], 20, period_ms=20)
        done = em.stats()
        assert measured["10.213.0.1"]["rtt_s"] == pytest.approx(0.030, abs=0.0025)
        assert measured["10.213.0.7"]["received"] == done["10.213.0.7"].replied == 10
        assert done["10.213.0.7"].dropped == 10
        with pytest.raises(ValueError, match="not a target address"):
            em.set_link("192.0.2.1", Link(1))
        raise RuntimeError("leaving on purpose")
    assert created and created[0] not in namespaces()
    assert not Path(f"/proc/{responder_pids[0]}").exists()


def test_a_bad_link_is_refused_before_anything_is_made() -> None:
    before = namespaces()
    with pytest.raises(ValueError, match="impossible link"):
        Link(-1)
    with pytest.raises(ValueError, match="not a target address"), \
            emulated_links({"10.213.0.254": Link(1)}):
        pass
    assert namespaces() == before
