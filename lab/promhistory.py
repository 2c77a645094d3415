"""A real Prometheus holding history written by a test or a benchmark.

Samples are written as OpenMetrics text, turned into TSDB blocks with ``promtool tsdb
create-blocks-from openmetrics`` (Debian's prometheus package) and served by a Prometheus on a
free loopback port. Backfilled samples must be older than what the head block would accept:
keep them at least 3 hours in the past.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dlict.core.processes import stop_process
from lab.monitoring import free_port

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def need_programs() -> None:
    """Fail loudly when Debian's prometheus package is missing."""
    missing = [p for p in (PROMETHEUS, PROMTOOL) if shutil.which(p) is None]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not installed: apt-get install prometheus")


def backfill(source: Path, data: Path) -> None:
    """Blocks from the OpenMetrics file ``source`` into the TSDB directory ``data``."""
    need_programs()
    data.mkdir(parents=True, exist_ok=True)
    # One block for the whole month: promtool reads the whole file once per block.
    subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                    "--max-block-duration=768h", str(source), str(data)],
                   check=True, capture_output=True, timeout=1800)


@contextmanager
def serving(data: Path) -> Iterator[str]:
    """Prometheus over ``data`` on 127.0.0.1; its URL. Stopped (by PID) on the way out."""
    need_programs()
    base = data.parent
    config = base / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = base / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data}",
             "--storage.tsdb.retention.time=400d", f"--web.listen-address=127.0.0.1:{port}",
             "--query.max-samples=200000000"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(url, process, log_path)
            yield url
        finally:
            stop_process(process, timeout=15)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}:\n"
                               f"{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus not ready within 60 s:\n{log.read_text()[-3000:]}")
