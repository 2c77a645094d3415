"""Find where in the user's files a group, host or variable is written, for error lines.

Ansible's parser tells what the inventory means but not where each piece came from; this
index of the YAML files' key paths and lines answers "file:line" for a problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dlict.core.yamlfile import yaml_error_line

YAML_SUFFIXES = (".yml", ".yaml")
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


def inventory_files(root: Path) -> list[Path]:
    """Every YAML file Ansible would read for an inventory file or directory."""
    if root.is_file():
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return found


class YamlIndex:
    """Key paths and lines of every YAML file in an inventory; syntax errors collected."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[_File] = []
        self.syntax_errors: list[str] = []
        for path in inventory_files(root):
            self._index(path)

    def _index(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            self.syntax_errors.append(f"{display(path)}: not UTF-8 text ({exc.reason})")
            return
        try:
            documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        except yaml.YAMLError as exc:
            self.syntax_errors.append(yaml_error_line(Path(display(path)), exc))
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
