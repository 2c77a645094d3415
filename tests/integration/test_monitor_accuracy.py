"""`dlict monitor` against emulated school links (lab/netemu.py) while its /metrics is being
scraped without pause: the RTT and loss it serves must be what the links do — within
1 ms + 5 % of the emulated delay and 3 points of the emulated loss over 200 echoes — however
busy the exporter is. 2,000 more targets (loopback inside the namespace) make every scrape a
real piece of work. Everything runs in the emulation's own network namespace."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from lab.monitoring import DLICT, School, write_district
from lab.netemu import EmulatedLinks, emulated_links

ECHOES = 200
PORT = 9310

SCRAPER = """
import sys, threading, time, urllib.request
url, seconds = sys.argv[1], float(sys.argv[2])
until, done = time.monotonic() + seconds, []
def scrape(zipped):
    while time.monotonic() < until:
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if zipped else {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                answer.read()
                done.append(1)
        except OSError:
            time.sleep(0.05)
threads = [threading.Thread(target=scrape, args=(n % 2 == 0,)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(len(done))
"""

FETCH = """
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())
except OSError:
    pass
"""


def _metrics(em: EmulatedLinks) -> dict[str, dict[str, float]]:
    run = em.run([sys.executable, "-c", FETCH, f"http://127.0.0.1:{PORT}/metrics"], timeout=30)
    values: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(run.stdout):
        for sample in family.samples:
            key = sample.labels.get("target", "")
            values.setdefault(sample.name, {})[key] = sample.value
    return values


def test_rtt_and_loss_stay_accurate_under_continuous_scrapes(tmp_path: Path) -> None:
    with emulated_links() as em:
        emulated = [School(f"44010100{n:02d}", probe_targets=[address])
                    for n, address in enumerate(em.addresses, start=1)]
        crowd = [School(f"44020000{n:02d}", probe_targets=[
            f"127.1.{n}.{i}" for i in range(1, 101)]) for n in range(20)]
        inventory = write_district(tmp_path / "inv", emulated + crowd,
                                   {"count": ECHOES, "period_ms": 50, "timeout_ms": 1000})
        log = (tmp_path / "monitor.log").open("w")
        em.popen([DLICT, "-i", str(inventory), "--data-dir", str(tmp_path / "data"),
                  "monitor", "--listen", f"127.0.0.1:{PORT}"], stdout=log, stderr=log)
        scraper = em.popen([sys.executable, "-c", SCRAPER, f"http://127.0.0.1:{PORT}/metrics",
                            "20"], stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90
        values: dict[str, dict[str, float]] = {}
        while time.monotonic() < deadline:
            values = _metrics(em)
            if "dlict_monitor_cycle_seconds" in values:
                break
            time.sleep(1)
        assert "dlict_monitor_cycle_seconds" in values, (tmp_path / "monitor.log").read_text()
        scrapes = int(scraper.communicate(timeout=90)[0].strip())

    assert scrapes > 50, f"only {scrapes} scrapes while the cycle ran"
    assert sum(values["dlict_probe_up"].values()) == len(em.links) + 2000
    for address, link in em.links.items():
        print(address, link, "rtt ms", values["dlict_probe_rtt_seconds"][address] * 1000,
              "loss %", values["dlict_probe_loss_ratio"][address] * 100, "scrapes", scrapes)
        rtt_ms = values["dlict_probe_rtt_seconds"][address] * 1000
        loss = values["dlict_probe_loss_ratio"][address] * 100
        assert abs(rtt_ms - link.delay_ms) <= 1 + 0.05 * link.delay_ms, (address, rtt_ms, link)
        assert abs(loss - link.loss_percent) <= 3, (address, loss, link)
