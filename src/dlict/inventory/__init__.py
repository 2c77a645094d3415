"""The district inventory: Ansible's own parser, then dlict's site and host models."""

from dlict.inventory.loader import load_inventory
from dlict.inventory.models import Host, Inventory, Role, Site, SiteKind

__all__ = ["Host", "Inventory", "Role", "Site", "SiteKind", "load_inventory"]
