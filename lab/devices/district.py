"""A district inventory whose network devices are the fake devices of a DeviceLab."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from lab.devices.devicelab import FakeDevice

DEVICE_TYPE = {"routeros": "mikrotik_routeros", "ios": "cisco_ios", "fortios": "fortinet"}
LOG_SERVER = "198.51.100.10"  # the fixtures' district log server; never contacted here
MIN_FIRMWARE = {"routeros": "7.12", "ios": "15.2(7)E", "fortios": "7.2.8"}


def write_device_district(root: Path, devices: Sequence[FakeDevice], known_hosts: Path, *,
                          per_school: int = 6, timeout_s: float = 5, workers: int = 8,
                          host_vars: dict[str, dict[str, Any]] | None = None) -> Path:
    """Schools of ``per_school`` devices each, an office log server, dlict_netdev settings."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "group_vars").mkdir(exist_ok=True)
    schools: dict[str, Any] = {}
    codes = []
    for index in range(0, len(devices), per_school):
        code = f"44010{index // per_school + 1:05d}"
        codes.append(code)
        schools[f"school_{code}"] = {"hosts": {
            d.name: {"ansible_host": d.address, "ansible_port": d.port,
                     "netmiko_device_type": DEVICE_TYPE[d.platform],
                     **(host_vars or {}).get(d.name, {})}
            for d in devices[index:index + per_school]}}
    hosts = {"all": {"children": {
        "office": {"hosts": {"office-log": {"ansible_host": LOG_SERVER}}},
        "schools": {"children": schools},
        "linux_servers": {"hosts": {"office-log": None}},
        "log_servers": {"hosts": {"office-log": None}},
        "network_devices": {"hosts": {d.name: None for d in devices}},
    }}}
    (root / "hosts.yml").write_text(yaml.safe_dump(hosts, allow_unicode=True))
    (root / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        "ansible_user": "dlict",
        "dlict_netdev": {"known_hosts": str(known_hosts), "timeout_s": timeout_s,
                         "workers": workers, "min_firmware": MIN_FIRMWARE},
    }))
    (root / "group_vars" / "office.yml").write_text(yaml.safe_dump({"dlict_site": {
        "name_th": "สำนักงานเขต", "name_en": "Office", "amphoe": "เมือง",
        "province": "มหาสารคาม"}}, allow_unicode=True))
    for code in codes:
        (root / "group_vars" / f"school_{code}.yml").write_text(yaml.safe_dump({"dlict_site": {
            "school_code": code, "name_th": f"โรงเรียน {code}", "name_en": f"School {code}",
            "amphoe": "เมือง", "province": "มหาสารคาม"}}, allow_unicode=True))
    return root
