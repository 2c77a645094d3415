"""A message dlict prints is one line when its output is a pipe, however long the path in it:
a user greps it. (Rich breaks lines at 80 columns when the output is not a terminal.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE_INVENTORY, REPO


def test_a_long_message_to_a_pipe_is_one_line(tmp_path: Path) -> None:
    inventory = tmp_path / ("a-folder-with-a-long-name-" * 4) / "district"
    shutil.copytree(EXAMPLE_INVENTORY, inventory)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run(
        [sys.executable, "-m", "dlict", "--data-dir", str(tmp_path / "data"),
         "-i", str(inventory), "inventory", "validate"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith(f"{inventory}: valid — ")
    assert len(lines[0]) > 120
