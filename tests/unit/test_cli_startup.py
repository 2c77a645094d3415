"""``dlict --version`` and ``dlict --help`` start without the heavy libraries: each command
group is imported when it runs (dlict.cli.lazy)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dlict.cli.lazy import COMMANDS, load_command
from tests.conftest import REPO

HEAVY = ("ansible_runner", "jinja2", "prometheus_client", "netmiko", "paramiko", "scapy")

# The real program (dlict.cli.entry, as the console script), then which heavy modules it left.
_PROGRAM = """
import json, sys
sys.argv = ["dlict", *json.loads(sys.argv[1])]
from dlict.cli.entry import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = {heavy}
sys.stderr.write(json.dumps({{"code": code, "loaded": [m for m in heavy if m in sys.modules]}}))
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_import_no_heavy_library(args: list[str]) -> None:
    run = subprocess.run([sys.executable, "-c", _PROGRAM.format(heavy=list(HEAVY)),
                          json.dumps(args)], cwd=REPO, capture_output=True, text=True,
                         check=False, timeout=60)
    outcome = json.loads(run.stderr)
    assert outcome == {"code": 0, "loaded": []}, run.stderr
    assert run.stdout.strip(), "printed nothing"


def test_help_lists_every_command_with_its_own_summary() -> None:
    """The summaries ``dlict --help`` shows without importing are the commands' own."""
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert (command.help or "").split("\n\n")[0].replace("\n", " ").startswith(
            entry.summary), name
