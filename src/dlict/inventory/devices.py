"""Which network device types an inventory may name: exactly those a device platform serves
(the registry in ``dlict.netdev.platforms``), by netmiko device_type or Ansible network_os."""

from __future__ import annotations

from dlict.netdev.platforms import PLATFORMS, REGISTRY, served_device_types

# ansible_network_os (FQCN or short) → the netmiko device_type dlict connects with.
NETWORK_OS: dict[str, str] = {os: p.device_type for p in REGISTRY for os in p.network_os}


def device_type_for(netmiko_type: object, network_os: object) -> str | None:
    """The netmiko device_type for a host's variables, or None when it cannot be told."""
    if isinstance(netmiko_type, str) and netmiko_type:
        return netmiko_type
    if isinstance(network_os, str) and network_os:
        return NETWORK_OS.get(network_os)
    return None


def is_known_device_type(device_type: str) -> bool:
    """Does a platform serve ``device_type``? Any other type would only ever be skipped."""
    return device_type in PLATFORMS


def served_types_text() -> str:
    """The served device types for an error line: ``cisco_ios, cisco_xe, ...``."""
    return ", ".join(served_device_types())
