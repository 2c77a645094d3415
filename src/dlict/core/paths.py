"""Where the shipped data lives: playbooks, collectors and dashboards.

In a wheel they sit inside the package (``dlict/_data/``); in a source checkout (editable
install, tests) they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from dlict.core.errors import OperationalError

DataFolder = Literal["playbooks", "collectors", "dashboards"]

_PACKAGE = Path(__file__).resolve().parent.parent
_CHECKOUT = _PACKAGE.parent.parent


def data_path(folder: DataFolder) -> Path:
    """The directory holding a shipped data folder.

    Raises:
        OperationalError: neither the installed copy nor a checkout's copy exists.
    """
    for candidate in (_PACKAGE / "_data" / folder, _CHECKOUT / folder):
        if candidate.is_dir():
            return candidate
    raise OperationalError(f"dlict's {folder}/ folder is missing from this installation")
