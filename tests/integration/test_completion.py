"""Shell completion (Typer's own): the script a user installs, and bash really completing.

Run as installed (the ``dlict`` program, in subprocesses), since completion is what a shell
does with that program.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DLICT = Path(sys.executable).parent / "dlict"
BASH = shutil.which("bash")


def _bash(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert BASH is not None, "bash is needed to test shell completion"
    env = os.environ | {"PATH": f"{DLICT.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([BASH, "-c", script, "bash", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def _shown_script() -> str:
    # run from bash (not exec'd by it), as a user would: Typer detects the current shell
    shown = _bash('dlict --show-completion; exit $?')
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def test_show_completion_prints_the_bash_script() -> None:
    script = _shown_script()
    assert "complete -o default -F _dlict_completion dlict" in script
    assert "_DLICT_COMPLETE=complete_bash" in script


def test_the_script_for_a_named_shell_without_detection() -> None:
    env = os.environ | {"_DLICT_COMPLETE": "source_bash"}
    named = subprocess.run([DLICT], capture_output=True, text=True, env=env, timeout=60,
                           check=False)
    assert named.returncode == 0, named.stderr
    assert named.stdout.strip() == _shown_script().strip()


@pytest.mark.parametrize(("words", "expected"), [
    ('(dlict inv)', ["inventory"]),
    ('(dlict runs "")', ["list", "show"]),
])
def test_bash_completes_with_the_shown_script(tmp_path: Path, words: str,
                                              expected: list[str]) -> None:
    script = tmp_path / "dlict.bash"
    script.write_text(_shown_script(), encoding="utf-8")
    completed = _bash(f'source "$1"; COMP_WORDS={words}; COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); '
                      '_dlict_completion dlict; printf "%s\\n" "${COMPREPLY[@]}"', str(script))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == expected
