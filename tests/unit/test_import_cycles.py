"""No two modules of src/dlict import each other, however indirectly, and nothing outside
dlict/cli imports the CLI: the library must be usable by an agent or an intake without it.

The graph is read from the source (ast), not from a running interpreter, so a cycle hidden in
a function body counts: every ``import``/``from … import`` anywhere in a module is an edge,
module level, inside functions and under ``if TYPE_CHECKING`` alike. A lazy import defers a
cycle to run time; it does not remove the two modules' knowledge of each other. Importing
``a.b.c`` is an edge to ``a.b.c`` only (not to the packages ``a`` and ``a.b`` Python also
loads): a package's ``__init__`` re-exporting its own modules is not a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "dlict"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def _absolute(module: str | None, level: int, importer: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The dlict modules ``name`` imports anywhere in its source."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, name, path.name == "__init__.py")
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One concrete cycle (a → … → a) per strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_path_within(graph, group) for group in groups]


def _path_within(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest way from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                todo.append(nxt)
    raise AssertionError(f"no cycle in {group}")


def test_the_graph_is_read_from_every_module() -> None:
    graph = import_graph()
    # a sanity check that the walk sees real edges, function-level ones included
    assert "dlict.core.store" in graph["dlict.runs"]
    assert "dlict.netdev.operations" in graph["dlict.cli.sop"]  # imported inside a function
    assert len(graph) > 50


def test_no_import_cycle_among_dlict_modules() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" → ".join(c) for c in found)


def test_nothing_outside_the_cli_imports_it() -> None:
    graph = import_graph()
    offenders = sorted(f"{name} imports {target}" for name, targets in graph.items()
                       if not _in_cli(name) and name not in CLI_ENTRY_POINTS
                       for target in targets if _in_cli(target))
    assert not offenders, "\n".join(offenders)


# ``python -m dlict`` is the CLI's own entry point.
CLI_ENTRY_POINTS = {f"{PACKAGE}.__main__"}


def _in_cli(module: str) -> bool:
    return module == f"{PACKAGE}.cli" or module.startswith(f"{PACKAGE}.cli.")


def test_a_cycle_is_found_and_named() -> None:
    # the finder itself, on a graph with a known cycle and a tail into it
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c", "a"]]
