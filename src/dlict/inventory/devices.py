"""Network device platforms dlict knows, by netmiko device_type and Ansible network_os."""

from __future__ import annotations

# netmiko device_type values dlict accepts for hosts in network_devices.
DEVICE_TYPES: frozenset[str] = frozenset({
    "mikrotik_routeros", "cisco_ios", "cisco_xe", "cisco_nxos", "cisco_asa", "fortinet",
    "juniper_junos", "huawei", "hp_procurve", "hp_comware", "aruba_os", "ubiquiti_edge",
    "ubiquiti_edgeswitch", "paloalto_panos", "linux", "ruijie_os", "zyxel_os",
})

# ansible_network_os (FQCN or short) → netmiko device_type.
NETWORK_OS: dict[str, str] = {
    "community.routeros.routeros": "mikrotik_routeros",
    "routeros": "mikrotik_routeros",
    "cisco.ios.ios": "cisco_ios",
    "ios": "cisco_ios",
    "cisco.nxos.nxos": "cisco_nxos",
    "nxos": "cisco_nxos",
    "cisco.asa.asa": "cisco_asa",
    "asa": "cisco_asa",
    "fortinet.fortios.fortios": "fortinet",
    "fortios": "fortinet",
    "junipernetworks.junos.junos": "juniper_junos",
    "junos": "juniper_junos",
    "community.network.ce": "huawei",
    "arista.eos.eos": "arista_eos",
    "eos": "arista_eos",
}


def device_type_for(netmiko_type: object, network_os: object) -> str | None:
    """The netmiko device_type for a host's variables, or None when it cannot be told."""
    if isinstance(netmiko_type, str) and netmiko_type:
        return netmiko_type
    if isinstance(network_os, str) and network_os:
        return NETWORK_OS.get(network_os)
    return None


def is_known_device_type(device_type: str) -> bool:
    return device_type in DEVICE_TYPES or device_type in NETWORK_OS.values()
