"""A one-field edit of a manifest entry or of the seal state is tampering: the seal refuses
the source (or the whole run, for the state) and the check reports it; neither crashes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.security.sealer_trees import (
    Tree,
    check,
    copy_tree,
    problems,
    seal,
    unsealed_tree,
)

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    tree = unsealed_tree(tmp_path_factory.mktemp("sealed"))
    first = seal(tree)
    assert first.code == 0, first.output
    return tree


@pytest.fixture
def sealed(original: Tree, tmp_path: Path) -> Tree:
    return copy_tree(original, tmp_path / "copy")


def field(name: str, value: Any) -> Callable[[dict[str, Any]], str]:
    def edit(data: dict[str, Any]) -> str:
        if value is KeyError:
            del data[name]
        else:
            data[name] = value
        return json.dumps(data, sort_keys=True, separators=(",", ":"))
    edit.__name__ = f"{name}={value!r}"[:40]
    return edit


def raw(text: str, label: str) -> Callable[[dict[str, Any]], str]:
    def edit(_data: dict[str, Any]) -> str:
        return text
    edit.__name__ = label
    return edit


ENTRY_EDITS = [
    field("seq", "2"), field("day", 20261128), field("file", 7),
    field("file", "../../../../etc/passwd"), field("sha256", "zz"), field("prev", "not hex"),
    field("sig", "!!!"), field("sig", "abc"), field("tail", KeyError), field("lines", -1),
    raw('{"seq": 2, "size": 1e400}', "size=1e400"), raw("[]", "a list"),
    raw(DEEP, "deeply nested"), raw("{not json", "not JSON"),
]


@pytest.mark.parametrize("edit", ENTRY_EDITS, ids=lambda e: e.__name__)
def test_an_edited_manifest_entry_is_tampering(sealed: Tree,
                                               edit: Callable[[dict[str, Any]], str]) -> None:
    tree = sealed
    manifest = tree.source(0) / "manifest.dlict.jsonl"
    lines = manifest.read_text().splitlines()
    lines[1] = edit(json.loads(lines[1]))
    manifest.write_text("\n".join(lines) + "\n")
    edited = manifest.read_bytes()

    result = seal(tree)
    assert result.code == 1, result.output
    assert f"REFUSED {tree.name(0)}: the manifest does not verify" in result.stdout
    assert manifest.read_bytes() == edited

    run, report = check(tree)
    assert run.code == 1
    kinds = {kind for kind, _, _ in problems(report, tree.name(0))}
    assert kinds & {"manifest-edited", "chain-broken"}, kinds
    assert problems(report, tree.name(1)) == []


def test_a_manifest_that_is_a_fifo_is_tampering_not_a_hang(sealed: Tree) -> None:
    tree = sealed
    manifest = tree.source(0) / "manifest.dlict.jsonl"
    manifest.unlink()
    os.mkfifo(manifest, 0o640)
    result = seal(tree, timeout=30)
    assert result.code == 1
    assert f"REFUSED {tree.name(0)}: the manifest does not verify (manifest-edited: " \
           f"manifest.dlict.jsonl: a FIFO is in its place" in result.stdout, result.output
    run, report = check(tree, timeout=30)
    assert run.code == 1
    assert "manifest-edited" in {kind for kind, _, _ in problems(report, tree.name(0))}


def head(name: str, value: Any) -> Callable[[dict[str, Any]], str]:
    def edit(data: dict[str, Any]) -> str:
        first = next(iter(data["heads"]))
        data["heads"][first][name] = value
        return json.dumps(data)
    edit.__name__ = f"heads.{name}={value!r}"
    return edit


STATE_EDITS = [
    field("heads", []), field("sig", 7), field("sig", "@@@"), field("heads", {"a/b": "x"}),
    head("seq", "3"), head("hash", 5), head("hash", "beef"), head("day", "2026-13-45"),
    raw('{"heads": {"a/b": {"seq": 1e400, "hash": "", "day": "2026-01-01"}}, "sig": ""}',
        "seq=1e400"),
    raw("[]", "a list"), raw(DEEP, "deeply nested"), raw("{not json", "not JSON"),
]


def test_the_untouched_copy_is_clean(sealed: Tree) -> None:
    """The control: without the edit, the same tree seals and checks clean."""
    assert seal(sealed).code == 0
    run, _report = check(sealed)
    assert run.code == 0, run.stdout


@pytest.mark.parametrize("edit", STATE_EDITS, ids=lambda e: e.__name__)
def test_an_edited_seal_state_is_tampering(sealed: Tree,
                                           edit: Callable[[dict[str, Any]], str]) -> None:
    tree = sealed
    state = tree.state / "heads.json"
    state.write_text(edit(json.loads(state.read_text())))
    edited = state.read_bytes()

    result = seal(tree)
    assert result.code == 1, result.output
    assert result.stdout.startswith(f"REFUSED seal state: {state}: "), result.output
    assert "refusing to seal on top of it" in result.stdout
    assert state.read_bytes() == edited

    run, report = check(tree)
    assert run.code == 1
    assert [p["kind"] for p in report["problems"]] == ["state"], report["problems"]
    assert str(state) in report["problems"][0]["detail"]
