"""scapy is loaded only when a scan runs: the CLI starts without it."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_and_the_planning_modules_do_not_import_scapy() -> None:
    code = ("import sys, dlict.cli.app, dlict.netscan.verify, dlict.netscan.discover, "
            "dlict.netscan.oui; print(sorted(m for m in sys.modules if m.startswith('scapy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
