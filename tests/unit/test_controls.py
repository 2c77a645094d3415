"""The shipped control catalog: complete, consistent, and documented."""

from __future__ import annotations

from dlict.controls import CheckedBy, load_catalog
from dlict.controls.reference import catalog_markdown
from tests.conftest import REPO


def test_catalog_covers_the_five_sop_areas() -> None:
    catalog = load_catalog()
    assert catalog.areas == ["firewall", "antivirus", "endpoint", "identity", "logging"]
    prefixes = {c.area: c.id.split("-")[0] for c in catalog.controls}
    assert prefixes == {"firewall": "FW", "antivirus": "AV", "endpoint": "EP", "identity": "ID",
                        "logging": "LOG"}
    for control in catalog.controls:
        assert control.title_th and control.title_en and control.check and control.fix


def test_docs_controls_md_is_generated_from_the_catalog() -> None:
    assert (REPO / "docs" / "controls.md").read_text() == catalog_markdown()


def test_every_playbook_control_is_tagged_in_the_playbooks() -> None:
    text = "\n".join(p.read_text() for p in (REPO / "playbooks").rglob("*.yml"))
    playbook_controls = load_catalog().checked_by(CheckedBy.ANSIBLE)
    missing = [c.id for c in playbook_controls if c.id not in text]
    assert missing == []
    assert len(playbook_controls) == 44  # 29 Linux, 15 Windows
