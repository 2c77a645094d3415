"""Fake network devices that real netmiko reaches over real SSH on 127/8.

``SshDevice`` (our paramiko server: RouterOS, FortiOS, IOS) and ``FakeNosIosDevice`` (FakeNOS
playing IOS) share one interface, ``FakeDevice``; a ``DeviceLab`` starts and stops many.
"""

from lab.devices.devicelab import (
    FIXTURES,
    DeviceLab,
    FakeDevice,
    outputs_from_case,
    write_known_hosts,
)
from lab.devices.fakenos_ios import FakeNosIosDevice
from lab.devices.sshdevice import DEFAULT_PASSWORD, SshDevice

__all__ = [
    "DEFAULT_PASSWORD",
    "FIXTURES",
    "DeviceLab",
    "FakeDevice",
    "FakeNosIosDevice",
    "SshDevice",
    "outputs_from_case",
    "write_known_hosts",
]
