"""The CLI parses, passes callbacks and prints: it never writes the evidence store itself.
Runs are recorded through ``dlict.runs``, which judges them the same way for every caller.

The write methods are read from store.py: every public method of ``EvidenceStore`` whose body
opens a write transaction (``self._write()``), so a write method added tomorrow is covered.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "dlict"


def store_write_methods() -> set[str]:
    tree = ast.parse((SRC / "core" / "store.py").read_text(encoding="utf-8"))
    (store,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "EvidenceStore"]
    writes = set()
    for method in store.body:
        if not isinstance(method, ast.FunctionDef) or method.name.startswith("_"):
            continue
        for node in ast.walk(method):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "_write"):
                writes.add(method.name)
    return writes


def calls_in(path: Path, names: set[str]) -> list[str]:
    """``path:line name`` for every call of a method named in ``names``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(SRC.parent)}:{node.lineno} {node.func.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in names]


def test_the_write_methods_are_found_in_the_store() -> None:
    writes = store_write_methods()
    assert {"start_run", "add_results", "finish_run"} <= writes
    assert "runs" not in writes and "results" not in writes  # readers are not writers


def test_no_cli_module_calls_a_store_write_method() -> None:
    writes = store_write_methods()
    found = [call for path in sorted((SRC / "cli").rglob("*.py"))
             for call in calls_in(path, writes)]
    assert not found, "the CLI writes the store itself (use dlict.runs):\n" + "\n".join(found)
