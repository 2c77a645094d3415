"""The README demo's last part: a school behind NAT whose agent reports to the office."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_the_agent_demo_delivers_what_the_agent_kept_while_its_uplink_was_cut(
        tmp_path: Path) -> None:
    demo = subprocess.run(
        [sys.executable, "-m", "lab", "agent-demo", "--data", str(tmp_path / "data"),
         "--state", str(tmp_path / "state")],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "records stay queued in the outbox" in demo.stdout  # while the uplink was cut
    assert "; 0 queued" in demo.stdout
    assert 'dlict_agent_up{site="4401000099",host="s4401000099-srv"} 1' in demo.stdout
    with sqlite3.connect(tmp_path / "data" / "evidence.sqlite") as db:
        targets = {row[0] for row in db.execute(
            "SELECT target FROM results WHERE site = '4401000099' AND target IS NOT NULL")}
    assert "icmp 10.214.0.10" in targets, targets
    assert not subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                              check=True).stdout.count("dlict-snat-")
