"""The register edit keeps a hand-written inventory as its author wrote it (comments, key
order, quoting, indentation), and an edit that would leave the inventory invalid is never
written: the real loader (Ansible's parser, then dlict's models) judges a scratch copy."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dlict.access.register import add_entry, entry, find_register, plan, remove_request
from dlict.core.errors import InventoryError
from dlict.inventory import load_inventory

pytestmark = pytest.mark.integration

COMMENTED = """\
# The district's approved accounts — keep one entry per signed form.
ansible_user: dlict   # the account Ansible logs in with
zeta_setting: "quoted on purpose"
dlict_accounts:
  # the first admin, approved on paper in 2025
  - name: somchai            # login name
    full_name: นายสมชาย ใจดี
    position: นักวิชาการคอมพิวเตอร์
    approved_by: ผอ.สพม.มหาสารคาม
    approved_on: 2026-05-01
    expires: 2099-04-30      # ISO date
    hosts: [office]
alpha_setting: 1             # after the register, on purpose: order must stay
"""

EXISTING = [
    "# The district's approved accounts — keep one entry per signed form.",
    "ansible_user: dlict   # the account Ansible logs in with",
    'zeta_setting: "quoted on purpose"',
    "  # the first admin, approved on paper in 2025",
    "  - name: somchai            # login name",
    "    expires: 2099-04-30      # ISO date",
    "alpha_setting: 1             # after the register, on purpose: order must stay",
]


def _commented(example_copy: Path) -> Path:
    (example_copy / "group_vars" / "all.yml").unlink()
    target = example_copy / "group_vars" / "all" / "accounts.yml"
    target.parent.mkdir()
    target.write_text(COMMENTED)
    return target


def _new(**over: Any) -> Any:
    fields: dict[str, Any] = {
        "name": "somsri", "full_name": "นางสมศรี ทดสอบ", "position": "ครู",
        "approved_by": "ผอ.", "approved_on": date(2026, 12, 3), "expires": date(2027, 12, 3),
        "hosts": ["office-log"], "request": "ACC-2569-0001"}
    fields.update(over)
    return entry(**fields)


def test_found_where_the_author_keeps_it(example_copy: Path) -> None:
    target = _commented(example_copy)
    assert find_register(example_copy).path == target


def test_add_then_remove_keeps_comments_order_and_quotes(example_copy: Path) -> None:
    target = _commented(example_copy)
    change = plan(example_copy, add_entry(_new()))
    change.write()
    after = target.read_text()
    lines = after.splitlines()
    for line in EXISTING:
        assert line in lines, line
    assert after.index("zeta_setting") < after.index("dlict_accounts") < after.index(
        "alpha_setting")
    assert "  - name: somsri\n    full_name: นางสมศรี ทดสอบ" in after  # the file's own indent
    assert not [d for d in change.diff.splitlines()[2:] if d.startswith("-")]  # adds only
    accounts = load_inventory(example_copy).accounts
    assert [a.name for a in accounts] == ["somchai", "somsri"]
    assert accounts[1].provision is True and accounts[1].request == "ACC-2569-0001"

    plan(example_copy, remove_request("ACC-2569-0001")).write()
    assert target.read_text() == COMMENTED  # back byte for byte


def test_a_malformed_result_is_never_written(example_copy: Path) -> None:
    target = _commented(example_copy)
    for bad in (_new(name="Not A Login"), _new(hosts=[])):
        with pytest.raises(InventoryError) as caught:
            plan(example_copy, add_entry(bad))
        assert "nothing written" in caught.value.lines()[0]
        assert any("dlict_accounts" in line for line in caught.value.lines()[1:])
        assert target.read_text() == COMMENTED


def test_a_file_changed_meanwhile_is_not_overwritten(example_copy: Path) -> None:
    target = _commented(example_copy)
    change = plan(example_copy, add_entry(_new()))
    target.write_text(COMMENTED + "# someone else's edit\n")
    with pytest.raises(Exception, match="changed by someone else"):
        change.write()
    assert target.read_text().endswith("# someone else's edit\n")
