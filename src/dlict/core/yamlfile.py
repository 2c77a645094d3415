"""Reading YAML files the user wrote, bounded, with errors that name the file and line.

Every YAML file dlict reads (configuration, inventory, group_vars, host_vars, web config)
goes through here: a regular file of at most ``MAX_INPUT_BYTES``, parsed by the safe loader,
whose aliases may not expand it by more than ``MAX_ALIAS_EXPANSION`` nodes. An alias bomb
("billion laughs") is a few hundred bytes that expands to billions of values in whatever
walks it next — dlict's own code, Ansible's JSON export — so it is refused right after
parsing, before anything expands it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from dlict.core.errors import InputError
from dlict.core.inputs import MAX_INPUT_BYTES, read_input_text

# Nodes that aliases may add to a file once expanded: sharing one block of settings among
# 500 schools adds ~10,000; a bomb adds billions.
MAX_ALIAS_EXPANSION = 100_000


def yaml_error_line(path: Path, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: ``file:line: malformed YAML: problem``."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and mark is not None and context_mark.line != mark.line:
        problem += f" ({context} opened on line {context_mark.line + 1})"
    return f"{where}: malformed YAML: {problem}"


class _Expansion:
    """How many nodes a document holds once every alias is replaced by what it names."""

    def __init__(self, path: Path, error: type[InputError]) -> None:
        self.path = path
        self.error = error
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()

    def size(self, node: yaml.Node) -> int:
        key = id(node)
        if key in self.sizes:
            return self.sizes[key]
        if key in self.open:
            raise self.error(f"{self.path}:{node.start_mark.line + 1}: a YAML alias refers to "
                             "a node that contains it (a recursive structure)")
        self.open.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(self.size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(self.size(k) + self.size(v) for k, v in node.value)
        self.open.discard(key)
        self.sizes[key] = total
        return total


def check_aliases(path: Path, root: yaml.Node, error: type[InputError] = InputError) -> None:
    """Refuse a document whose aliases expand it past ``MAX_ALIAS_EXPANSION`` extra nodes.

    Raises:
        error: an alias bomb or a recursive alias, naming file and line.
    """
    expansion = _Expansion(path, error)
    expanded = expansion.size(root)
    added = expanded - len(expansion.sizes)
    if added > MAX_ALIAS_EXPANSION:
        raise error(f"{path}:{root.start_mark.line + 1}: YAML aliases expand this document "
                    f"by {added} values (at most {MAX_ALIAS_EXPANSION}; an alias bomb?)")


@contextmanager
def _bounded_loader(path: Path, text: str,
                    error: type[InputError]) -> Iterator[yaml.SafeLoader]:
    """A safe loader over ``text`` whose syntax and nesting errors become ``error`` lines."""
    loader = yaml.SafeLoader(text)
    try:
        yield loader
    except yaml.YAMLError as exc:
        raise error(yaml_error_line(path, exc)) from exc
    except RecursionError as exc:
        raise error(f"{path}: YAML nested too deeply") from exc
    finally:
        loader.dispose()


def compose_yaml(path: Path, text: str, error: type[InputError] = InputError) -> list[yaml.Node]:
    """The node trees of every document in ``text``, each checked by :func:`check_aliases`.

    Raises:
        error: malformed YAML, nesting too deep, or an alias bomb, naming file and line.
    """
    with _bounded_loader(path, text, error) as loader:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                check_aliases(path, node, error)
                documents.append(node)
        return documents


def load_yaml_text(path: Path, text: str, error: type[InputError] = InputError) -> Any:
    """The value of the single YAML document in ``text`` (``None`` when empty), bounded.

    Raises:
        error: malformed YAML, nesting too deep, or an alias bomb, naming file and line.
    """
    with _bounded_loader(path, text, error) as loader:
        node = loader.get_single_node()
        if node is None:
            return None
        check_aliases(path, node, error)
        return loader.construct_document(node)


def load_yaml_file(path: Path, error: type[InputError] = InputError,
                   limit: int = MAX_INPUT_BYTES) -> Any:
    """Parse one YAML file safely and bounded; every problem is ``error`` naming the file.

    Raises:
        error: the file is not a regular file, too large, not UTF-8, malformed, or an
            alias bomb.
    """
    return load_yaml_text(path, read_input_text(path, error, limit), error)
