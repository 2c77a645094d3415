"""The long-running agent builds its jobs without loading the heavy engines: scapy (the LAN
sweep) and cryptography (the HTTP probe's certificate reading) are imported only in a job's
forked child, so they never count in the agent's resident memory (goal: under 60 MB)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

CODE = """
import json, sys
from dlict.agent.config import AgentConfig
from dlict.agent.jobs.registry import build_jobs
config = AgentConfig.model_validate({"site": "4401010001", "host": "srv",
    "office": "https://127.0.0.1:8443", "jobs": {
        "link": {"icmp": ["127.0.0.1"], "services": {"http": ["https://127.0.0.1/"]}},
        "dltv": {"receivers": [{"source": "hls", "address": "http://127.0.0.1/d",
                                "channels": [1]}]},
        "lan": {"networks": ["192.168.1.0/24"]}}})
jobs = build_jobs(config)
print(json.dumps({"jobs": [j.name for j in jobs],
                  "loaded": sorted({m.split(".")[0] for m in sys.modules
                                    if m.split(".")[0] in ("scapy", "cryptography")})}))
"""


def test_building_every_job_loads_no_heavy_engine() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          timeout=60, check=False, env={"PYTHONPATH": str(REPO / "src")})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"jobs": ["link", "dltv", "lan", "host"],
                                       "loaded": []}
