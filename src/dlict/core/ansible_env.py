"""The environment Ansible programs run with when dlict starts them."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dlict.core.errors import MissingProgramError


def ansible_bin_dir() -> Path:
    """The directory of the Ansible programs that belong to this Python (the venv's bin)."""
    return Path(sys.executable).parent


def ansible_path() -> str:
    """PATH with this Python's bin first, so ansible-runner finds the matching ansible-*."""
    current = os.environ.get("PATH", "")
    first = str(ansible_bin_dir())
    if current.split(os.pathsep)[0] == first:
        return current
    return os.pathsep.join([first, current])


def require_program(name: str) -> str:
    """Make ``name`` findable by ansible-runner and return its full path.

    ansible-runner looks programs up on this process's own PATH (not the environment it is
    given for the child), so the venv's bin is put first here, once.

    Raises:
        MissingProgramError: the program is not installed.
    """
    os.environ["PATH"] = ansible_path()
    found = shutil.which(name)
    if found is None:
        raise MissingProgramError(name, "install dlict with its dependencies: pip install dlict")
    return found


def mitogen_strategy_dir() -> Path | None:
    """The Mitogen strategy plugins' directory, or None when Mitogen is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "plugins" / "strategy"


def strategy_env(mitogen: bool) -> dict[str, str]:
    """The environment that makes ansible-playbook run with the Mitogen strategy (none when
    it is off or not installed: Ansible's own linear strategy)."""
    if not mitogen:
        return {}
    plugins = mitogen_strategy_dir()
    if plugins is None:
        from loguru import logger

        logger.warning("the Mitogen strategy is not installed: Ansible runs with its own "
                       "(slower) linear strategy")
        return {}
    return {"ANSIBLE_STRATEGY_PLUGINS": str(plugins), "ANSIBLE_STRATEGY": "mitogen_linear"}
