"""The repository's layers import only downwards (docs/DESIGN: lab/ is the simulated district).

src/dlict is the product and imports none of the others; lab/ may import dlict; bench/ and
tests/ may import dlict and lab/ but never each other (a benchmark is run by a test as a
subprocess, which is not an import). Read from the source with ast: nothing is imported here.
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO

#: folder -> top-level packages its modules must never import
FORBIDDEN = {
    "src/dlict": {"lab", "tests", "bench"},
    "lab": {"tests", "bench"},
    "bench": {"tests"},
    "tests": {"bench"},
}


def imported_packages(source: str, filename: str) -> set[str]:
    """The top-level package of every absolute import in ``source`` (relative ones stay home)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def wrong_imports(folder: str, forbidden: set[str]) -> list[str]:
    """``path: package`` for every forbidden import in ``folder``'s .py files."""
    wrong = []
    for path in sorted((REPO / folder).rglob("*.py")):
        imported = imported_packages(path.read_text(encoding="utf-8"), str(path))
        wrong += [f"{path.relative_to(REPO)}: imports {name}"
                  for name in sorted(imported & forbidden)]
    return wrong


@pytest.mark.parametrize(("folder", "forbidden"), sorted(FORBIDDEN.items()))
def test_layer_imports_only_what_it_may(folder: str, forbidden: set[str]) -> None:
    assert (REPO / folder).is_dir(), f"{folder} is missing"
    assert list((REPO / folder).rglob("*.py")), f"{folder} has no Python files"
    assert wrong_imports(folder, forbidden) == []


def test_the_checker_sees_every_kind_of_import() -> None:
    source = (
        "import bench.bench_metrics\n"
        "from tests.conftest import REPO\n"
        "from . import sibling\n"
        "def later():\n"
        "    from lab.world import fill\n"
    )
    assert imported_packages(source, "x.py") == {"bench", "tests", "lab"}
