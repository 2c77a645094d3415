"""The district inventory: Ansible's own parser, then dlict's site and host models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlict.inventory.models import Host, Inventory, Role, Site, SiteKind

if TYPE_CHECKING:
    from dlict.inventory.loader import load_inventory

__all__ = ["Host", "Inventory", "Role", "Site", "SiteKind", "load_inventory"]


def __getattr__(name: str) -> Any:
    # The loader brings Ansible's parser (tens of MB): only those who load an inventory pay.
    if name == "load_inventory":
        from dlict.inventory.loader import load_inventory

        return load_inventory
    raise AttributeError(name)
