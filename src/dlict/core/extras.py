"""The optional parts of dlict (pip extras) and the one way a command asks for one.

A core-only ``pip install dlict`` runs every command that needs nothing more; a command that
needs an extra imports it where it is used, through ``require_extra``, so a missing extra is
one line naming what to install (exit 3), never a traceback at start-up.
"""

from __future__ import annotations

import importlib

from dlict.core.errors import OperationalError


def require_extra(extra: str, *modules: str) -> None:
    """Import ``modules`` (which pip extra ``extra`` installs) now, so that the caller's own
    imports of them cannot fail.

    Raises:
        OperationalError: one of them cannot be imported; the message names the extra.
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise OperationalError(_missing(extra, module, exc)) from exc


def missing_extra(extra: str, *modules: str) -> str | None:
    """The line ``require_extra`` would fail with, or None when ``modules`` import: for a
    command that carries on without the extra's part (dlict audit without netmiko)."""
    try:
        require_extra(extra, *modules)
    except OperationalError as exc:
        return str(exc)
    return None


def _missing(extra: str, module: str, exc: ImportError) -> str:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return (f"dlict {extra} needs the Python package {module}, which cannot be imported "
            f"({reason}): pip install 'dlict[{extra}]'")
