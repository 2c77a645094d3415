"""Edit the approved-accounts register ``dlict_accounts`` in the user's inventory files.

The change is reviewed before it is written: the YAML is edited with ruamel.yaml's round-trip
mode (comments, key order and quoting kept), the whole inventory is loaded with the edited file
in a scratch copy through dlict's own inventory loader, and only a change that loads is shown
as a unified diff and written (atomically, keeping the file's mode). A change that would make
the inventory invalid is refused with the loader's lines and nothing is written.
"""

from __future__ import annotations

import difflib
import io
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dlict.core.errors import InputError, InventoryError
from dlict.core.extras import require_extra
from dlict.core.files import write_atomic
from dlict.core.inputs import read_input_text
from dlict.inventory.locate import VARS_DIRS, YAML_SUFFIXES

ACCOUNTS = "dlict_accounts"


@dataclass(frozen=True)
class RegisterFile:
    """Where the register is written: the file and the key path of the list in it."""

    path: Path
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """A reviewed edit: the file, its text before and after, and the diff to show."""

    path: Path
    before: str
    after: str

    @property
    def diff(self) -> str:
        name = str(self.path)
        return "".join(difflib.unified_diff(self.before.splitlines(keepends=True),
                                            self.after.splitlines(keepends=True),
                                            fromfile=name, tofile=name))

    @property
    def empty(self) -> bool:
        return self.before == self.after

    def write(self) -> None:
        """Write the edited file whole or not at all, with the mode it had."""
        if self.empty:
            return
        if read_input_text(self.path, InputError) != self.before:
            raise InputError(f"{self.path}: changed by someone else while dlict edited it; "
                             "nothing written: run the command again")
        write_atomic(self.path, self.after, self.path.stat().st_mode & 0o7777)


def _yaml() -> Any:
    require_extra("access", "ruamel.yaml")
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _yaml_files(inventory: Path) -> list[Path]:
    if inventory.is_file():
        candidates = [inventory, *(inventory.parent / "group_vars").glob("all*")]
    else:
        candidates = sorted((inventory / "group_vars").glob("all*"))
        candidates += sorted(p for p in inventory.iterdir() if p.suffix in YAML_SUFFIXES)
    out: list[Path] = []
    for path in candidates:
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES)
        elif path.suffix in YAML_SUFFIXES:
            out.append(path)
    return out


def _keys_in(path: Path, document: Any) -> tuple[str, ...] | None:
    if not isinstance(document, Mapping):
        return None
    if "group_vars" in path.parts and ACCOUNTS in document:
        return (ACCOUNTS,)
    top = document.get("all")
    if "group_vars" not in path.parts and isinstance(top, Mapping):
        variables = top.get("vars")
        if isinstance(variables, Mapping) and ACCOUNTS in variables:
            return ("all", "vars", ACCOUNTS)
    return None


def find_register(inventory: Path) -> RegisterFile:
    """The file that holds ``dlict_accounts`` for group ``all``; where it would go if unset:
    ``group_vars/all.yml`` when it exists, else the inventory file's ``all: vars:``.

    Raises:
        InputError: no place to write it.
    """
    yaml = _yaml()
    files = _yaml_files(inventory)
    for path in files:
        document = yaml.load(read_input_text(path, InputError))
        keys = _keys_in(path, document)
        if keys is not None:
            return RegisterFile(path, keys)
    base = inventory if inventory.is_dir() else inventory.parent
    for name in ("all.yml", "all.yaml"):
        if (base / "group_vars" / name).is_file():
            return RegisterFile(base / "group_vars" / name, (ACCOUNTS,))
    for path in files:
        document = yaml.load(read_input_text(path, InputError))
        if "group_vars" not in path.parts and isinstance(document, Mapping) and "all" in document:
            return RegisterFile(path, ("all", "vars", ACCOUNTS))
    raise InputError(f"{inventory}: no place for the approved-accounts register: create "
                     "group_vars/all.yml (or an all: vars: section) first")


Edit = Callable[[list[Any]], None]


def plan(inventory: Path, edit: Edit,
         validate: Callable[[Path], object] | None = None) -> Change:
    """Apply ``edit`` to the register's list in a round-trip copy of its file and check the
    whole inventory still loads.

    Arguments:
        inventory: the inventory (directory or file) the user works with.
        edit: changes the register list in place (ruamel's CommentedSeq).
        validate: loads an inventory path, raising ``InventoryError`` (default: dlict's loader).

    Raises:
        InventoryError: the edited inventory does not load; its lines say why.
    """
    target = find_register(inventory)
    yaml = _yaml()
    from ruamel.yaml.util import load_yaml_guess_indent

    before = read_input_text(target.path, InputError)
    # ruamel guesses the sequence indent (dash to item) and the dash's offset; the rest of
    # the file keeps its mapping indent when the edit is written in the same style.
    _, sequence, offset = load_yaml_guess_indent(before)
    sequence, offset = sequence or 2, offset or 0
    yaml.indent(mapping=max(sequence - offset, 2), sequence=sequence, offset=offset)
    document = yaml.load(before)
    register = _register_list(document, target.keys)
    edit(register)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    change = Change(target.path, before, buffer.getvalue())
    _validate(inventory, change, validate)
    return change


def _register_list(document: Any, keys: tuple[str, ...]) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node = document
    for key in keys[:-1]:
        if node.get(key) is None:
            node[key] = CommentedMap()
        node = node[key]
    if node.get(keys[-1]) is None:
        node[keys[-1]] = CommentedSeq()
    found = node[keys[-1]]
    if not isinstance(found, list):
        raise InputError(f"{ACCOUNTS} is not a list: fix the inventory by hand first")
    return found


def _validate(inventory: Path, change: Change,
              validate: Callable[[Path], object] | None) -> None:
    if validate is None:
        from dlict.inventory.loader import load_inventory

        validate = load_inventory
    with tempfile.TemporaryDirectory(prefix="dlict-register-") as scratch:
        copy = Path(scratch) / "inventory"
        if inventory.is_dir():
            shutil.copytree(inventory, copy, symlinks=False)
            edited = copy / change.path.relative_to(inventory)
            checked = copy
        else:
            copy.mkdir()
            shutil.copy2(inventory, copy / inventory.name)
            for name in VARS_DIRS:
                if (inventory.parent / name).is_dir():
                    shutil.copytree(inventory.parent / name, copy / name)
            edited = copy / change.path.relative_to(inventory.parent)
            checked = copy / inventory.name
        edited.write_text(change.after, encoding="utf-8")
        try:
            validate(checked)
        except InventoryError as exc:
            lines = [line.replace(str(copy), str(inventory if inventory.is_dir()
                                                  else inventory.parent))
                     for line in exc.lines()]
            raise InventoryError([f"{change.path}: the register change would make the "
                                  "inventory invalid; nothing written:", *lines]) from None


def entry(*, name: str, full_name: str, position: str, approved_by: str, approved_on: date,
          expires: date, hosts: list[str], request: str) -> Any:
    """A register entry in the documented field order (docs/playbooks.md)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    hosts_seq = CommentedSeq(hosts)
    hosts_seq.fa.set_flow_style()
    return CommentedMap([
        ("name", name), ("full_name", full_name), ("position", position),
        ("approved_by", approved_by), ("approved_on", approved_on), ("expires", expires),
        ("hosts", hosts_seq), ("request", request), ("provision", True),
    ])


def add_entry(new: Any) -> Edit:
    def edit(register: list[Any]) -> None:
        register.append(new)
    return edit


def remove_request(request: str) -> Edit:
    """Drop the entries that came from ``request`` (hand-typed entries are never touched)."""
    def edit(register: list[Any]) -> None:
        keep = [e for e in register if not _is_of(e, request)]
        del register[:]
        register.extend(keep)
    return edit


def set_expiry(request: str, expires: date) -> Edit:
    def edit(register: list[Any]) -> None:
        for item in register:
            if _is_of(item, request):
                item["expires"] = expires
    return edit


def _is_of(item: Any, request: str) -> bool:
    return isinstance(item, Mapping) and str(item.get("request", "")) == request
