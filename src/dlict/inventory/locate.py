"""Find where in the user's files a group, host or variable is written, for error lines.

Ansible's parser tells what the inventory means but not where each piece came from; this
index of the YAML files' key paths and lines answers "file:line" for a problem.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dlict.core.errors import InputError
from dlict.core.inputs import MAX_INPUT_BYTES, read_input_text
from dlict.core.yamlfile import compose_yaml

YAML_SUFFIXES = (".yml", ".yaml")
# The extensions Ansible's yaml inventory plugin takes (its ``yaml_extensions`` default).
YAML_PLUGIN_SUFFIXES = (*YAML_SUFFIXES, ".json")
VARS_DIRS = ("group_vars", "host_vars")
# All the files of one inventory together: Ansible holds every one of them in memory at once.
MAX_INVENTORY_BYTES = 8 * MAX_INPUT_BYTES
KeyPath = tuple[str, ...]


def display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


@dataclass
class _File:
    path: Path
    keys: list[tuple[KeyPath, int]] = field(default_factory=list)


def _walk(node: yaml.Node, prefix: KeyPath, out: list[tuple[KeyPath, int]],
          duplicates: list[tuple[str, int, int]]) -> None:
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            line = key.start_mark.line + 1
            if name in first_line:
                # YAML keeps only the last of two equal keys: a school listed twice vanishes.
                duplicates.append((name, line, first_line[name]))
            first_line.setdefault(name, line)
            key_path = (*prefix, name)
            out.append((key_path, line))
            _walk(value, key_path, out, duplicates)


def _tree_files(root: Path) -> list[Path]:
    """Every file under ``root`` that is not hidden, in a stable order; linked directories
    are followed as Ansible follows them, each directory visited once (a link loop ends)."""
    found = []
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        info = Path(dirpath).stat()
        if (info.st_dev, info.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath) / name for name in sorted(filenames) if not name.startswith(".")]
    return found


def ansible_reads(root: Path) -> list[Path]:
    """Every file Ansible may open for an inventory file or directory: the tree of a
    directory; a file with the group_vars and host_vars beside it."""
    if root.is_dir():
        return _tree_files(root)
    return [root] + [path for name in VARS_DIRS for path in _tree_files(root.parent / name)]


def _yaml_plugin_takes(source: Path) -> bool:
    """Whether Ansible reads an inventory file as YAML rather than INI.

    Its yaml plugin takes .yml/.yaml/.json files and tries a file with no extension first,
    leaving it to the ini plugin unless it holds a YAML mapping; every other file is INI.
    """
    if source.suffix:
        return source.suffix in YAML_PLUGIN_SUFFIXES
    try:
        first = next(yaml.compose_all(read_input_text(display(source)),
                                     Loader=yaml.SafeLoader), None)
    except yaml.YAMLError:
        return False
    except RecursionError:
        return True
    return isinstance(first, yaml.MappingNode)


def inventory_files(root: Path) -> list[Path]:
    """Every YAML file Ansible would read for an inventory file or directory."""
    return [path for path in ansible_reads(root)
            if (path == root and _yaml_plugin_takes(root)) or path.name.endswith(YAML_SUFFIXES)]


def _unfit_file(path: Path) -> str | None:
    """Why Ansible must not be given ``path`` (not a regular file, or too large), if so."""
    try:
        info = path.stat()
    except OSError as exc:
        return f"{display(path)}: cannot read: {exc.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return f"{display(path)}: not a regular file; an inventory holds only files"
    if info.st_size > MAX_INPUT_BYTES:
        return (f"{display(path)}: too large ({info.st_size} bytes; at most "
                f"{MAX_INPUT_BYTES} are read)")
    return None


def unfit_inventory_files(root: Path) -> list[str]:
    """One line for each file of the inventory that is not a regular file or too large, and
    for a tree too large as a whole: checked before Ansible opens any of them."""
    problems = [problem for path in ansible_reads(root)
                if (problem := _unfit_file(path)) is not None]
    if not problems:
        total = sum(path.stat().st_size for path in ansible_reads(root))
        if total > MAX_INVENTORY_BYTES:
            problems.append(f"{display(root)}: the inventory's files hold {total} bytes "
                            f"(at most {MAX_INVENTORY_BYTES})")
    return problems


class YamlIndex:
    """Key paths and lines of every YAML file in an inventory; syntax errors collected."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[_File] = []
        self.syntax_errors: list[str] = unfit_inventory_files(root)
        if not self.syntax_errors:
            for path in inventory_files(root):
                self._index(path)

    def _index(self, path: Path) -> None:
        shown = Path(display(path))
        try:
            documents = compose_yaml(shown, read_input_text(shown))
        except InputError as exc:
            self.syntax_errors.append(str(exc))
            return
        entry = _File(path)
        duplicates: list[tuple[str, int, int]] = []
        for node in documents:
            if node is not None:
                _walk(node, (), entry.keys, duplicates)
        self.syntax_errors += [
            f"{display(path)}:{line}: duplicate key '{name}' (first on line {first}): "
            "YAML keeps only the last one"
            for name, line, first in duplicates
        ]
        self.files.append(entry)

    def _vars_files(self, kind: str, name: str) -> list[_File]:
        """group_vars/NAME.yml, group_vars/NAME/*.yml (or host_vars) anywhere in the tree."""
        out = []
        for entry in self.files:
            parts = entry.path.parts
            if kind in parts:
                after = parts[parts.index(kind) + 1:]
                if after and (Path(after[0]).stem == name or after[0] == name):
                    out.append(entry)
        return out

    @staticmethod
    def _best(entry: _File, suffix: KeyPath) -> int | None:
        """Line of the longest prefix of ``suffix`` found at the end of a key path."""
        for length in range(len(suffix), 0, -1):
            want = suffix[:length]
            for key_path, line in entry.keys:
                if key_path[-length:] == want:
                    return line
        return None

    def _where(self, entries: list[_File], suffix: KeyPath) -> str | None:
        """``file:line`` of the first entry that has the key, else the first file alone."""
        for entry in entries:
            line = self._best(entry, suffix)
            if line is not None:
                return f"{display(entry.path)}:{line}"
        return display(entries[0].path) if entries else None

    def group_var(self, group: str, var_path: KeyPath) -> str:
        """Where a group variable (or the group itself) is written."""
        where = self._where(self._vars_files("group_vars", group), var_path)
        if where is None:
            inline = [f for f in self.files if "group_vars" not in f.path.parts
                      and "host_vars" not in f.path.parts]
            where = self._where(inline, (group, "vars", *var_path)) if var_path else None
            where = where or self._where(inline, (group,))
        return where or display(self.root)

    def host(self, host: str, var_path: KeyPath = ()) -> str:
        """Where a host (or one of its variables) is written."""
        where = self._where(self._vars_files("host_vars", host), var_path) if var_path else None
        if where is None:
            inline = [f for f in self.files if "group_vars" not in f.path.parts
                      and "host_vars" not in f.path.parts]
            where = self._where(inline, ("hosts", host, *var_path))
        return where or display(self.root)
