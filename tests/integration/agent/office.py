"""An office on 127.0.0.1 for agent tests: the district CA, a real ``dlict intake serve``,
and an agent enrolled with it through a real token and ``dlict agent enroll``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from tests.intake_support import BIN, Served, intake_serve

SITE = "4401000001"


@dataclass(frozen=True)
class EnrolledAgent:
    served: Served
    config: Path
    state: Path

    def run(self, spec: dict[str, Any] | None, *args: str,
            shift: str | None = None) -> subprocess.CompletedProcess[str]:
        """``dlict agent ARGS --config`` with the test jobs of ``spec`` (None: the real jobs);
        ``shift``: under libfaketime, this process's wall clock moved by e.g. ``+2h``."""
        command = ([sys.executable, "-m", "dlict"] if spec is None else
                   [sys.executable, "-m", "tests.integration.agent.launch",
                    json.dumps({**spec, "enrolled": True})])
        command += ["agent", *args, "--config", str(self.config)]
        env = dict(os.environ)
        if shift is not None:
            faketime = shutil.which("faketime")
            assert faketime, "Debian's faketime package is needed (bootstrap.sh installs it)"
            command = [faketime, "-f", shift, *command]
            env["DONT_FAKE_MONOTONIC"] = "1"  # timeouts and back-off keep real seconds
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=120, check=False)


@contextmanager
def office_with_agent(base: Path, host: str, **settings: Any) -> Iterator[EnrolledAgent]:
    """A running office and one enrolled agent whose configuration adds ``settings``."""
    data = base / "data"
    made = subprocess.run([str(BIN / "dlict"), "--data-dir", str(data), "ca", "init"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    with intake_serve(data) as served:
        config, state = base / "agent.yml", base / "state"
        config.write_text(json.dumps({
            "site": SITE, "host": host, "office": f"https://127.0.0.1:{served.port}",
            "state_dir": str(state), "push": {"timeout_s": 5}, **settings}))
        token = subprocess.run([str(BIN / "dlict"), "--data-dir", str(data), "ca",
                                "issue-token", "--site", SITE, "--host", host],
                               capture_output=True, text=True, timeout=60, check=False)
        assert token.returncode == 0, token.stderr
        agent = EnrolledAgent(served, config, state)
        enrol = agent.run(None, "enroll", "--token", token.stdout.strip().splitlines()[-1])
        assert enrol.returncode == 0, enrol.stdout + enrol.stderr
        yield agent
