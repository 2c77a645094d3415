"""The ``jobs:`` section of the agent's configuration (owned by the jobs; one model a job).

Every job's model extends :class:`JobSettings` (enabled, interval, deadline) with what that
job observes. The targets reuse the inventory's own models (``Services``, ``Dltv``), so a
school's agent is configured with the same words as ``dlict monitor``'s inventory.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dlict.core.errors import InputError
from dlict.dltv import SOURCES, make_source
from dlict.inventory.models import Address, Services, known_dltv_channels

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# The endpoint role's dlict_endpoint_risky_packages (a test holds the two together).
RISKY_PACKAGES = ("telnetd", "inetutils-telnetd", "telnetd-ssl", "rsh-server",
                  "rsh-redone-server", "vsftpd", "proftpd-basic", "pure-ftpd", "tftpd-hpa")
# A /20, as `dlict netscan discover`: larger LANs are a design to split.
MAX_LAN_ADDRESSES = 4096


def _within_deadline(settings: JobSettings, seconds: float, what: str) -> None:
    """A job whose own waits reach its deadline would be cut every run: say so at load."""
    if seconds >= settings.deadline_s:
        raise ValueError(f"{what}: up to {seconds:g} s, not below deadline_s "
                         f"{settings.deadline_s:g}: every run would be cut")


class JobSettings(BaseModel):
    """What every job has: whether it runs, how often, and when it is cut."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    interval_s: float = Field(default=60, ge=5, le=86_400)
    deadline_s: float = Field(default=30, ge=1, le=3_600)


class LinkJobSettings(JobSettings):
    """Probes from inside the school to the district's targets, with ``dlict monitor``'s
    engines: ICMP echoes to ``icmp`` (IPv4 addresses), and the service checks of ``services``
    (``tcp``, ``dns``, ``http``: the inventory's ``dlict_site.services`` shape)."""

    icmp: list[Address] = Field(default_factory=list, max_length=256)
    services: Services = Services()
    count: int = Field(default=5, ge=1, le=100)
    period_ms: float = Field(default=200, ge=10, le=10_000)
    timeout_ms: float = Field(default=1_000, gt=0, le=30_000)
    check_timeout_s: float = Field(default=5, gt=0, le=120)

    @field_validator("icmp")
    @classmethod
    def _ipv4_only(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                address = ipaddress.ip_address(item)
            except ValueError:
                raise ValueError(f"'{item}' must be an IPv4 address (the probe sends raw "
                                 "ICMP, names are not resolved)") from None
            if address.version != 4:
                raise ValueError(f"'{item}': only IPv4 targets so far")
        return value

    @model_validator(mode="after")
    def _fits(self) -> LinkJobSettings:
        sweep_s = (self.count - 1) * self.period_ms / 1000 + self.timeout_ms / 1000
        _within_deadline(self, max(sweep_s, self.check_timeout_s), "the ICMP sweep or a check")
        return self

    @property
    def has_targets(self) -> bool:
        services = self.services
        return bool(self.icmp or services.tcp or services.dns or services.http)


class DltvReceiver(BaseModel):
    """One receiver, as the inventory's ``dlict_site.dltv`` names it; ``address`` may also be
    what only an agent can read: ``adapterN`` (the tuner in this machine) or the path of a
    file of ``dvb-fe-tool --femon`` output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    address: str = Field(default="", max_length=2048)
    channels: list[int] = Field(default_factory=list, max_length=15)

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in SOURCES:
            raise ValueError(f"unknown receiver source '{value}' "
                             f"(expected one of {', '.join(SOURCES)})")
        return value

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[int]) -> list[int]:
        return known_dltv_channels(value)

    @model_validator(mode="after")
    def _readable(self) -> DltvReceiver:
        """The address is one its source can read (a URL for Tvheadend and HLS)."""
        try:
            make_source(self.source, self.address, self.channels)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return self


class DltvJobSettings(JobSettings):
    """DLTV from inside the school: Tvheadend on the LAN, the local tuner through
    ``dvb-fe-tool``, the HLS streams from the school's own connection."""

    interval_s: float = Field(default=300, ge=5, le=86_400)
    deadline_s: float = Field(default=60, ge=1, le=3_600)
    receivers: list[DltvReceiver] = Field(default_factory=list, max_length=8)
    read_timeout_s: float = Field(default=20, gt=0, le=600)

    @model_validator(mode="after")
    def _fits(self) -> DltvJobSettings:
        _within_deadline(self, self.read_timeout_s, "the receiver reads (read_timeout_s)")
        return self


class KnownDevice(BaseModel):
    """A device the school's LAN may hold: its address, and its MAC where registered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=128)
    address: Address
    mac: str | None = None

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        if value is None:
            return None
        mac = value.strip().lower().replace("-", ":")
        if not _MAC.match(mac):
            raise ValueError(f"'{value}' is not a MAC address (aa:bb:cc:dd:ee:ff)")
        return mac


class LanJobSettings(JobSettings):
    """EP-07 from inside: an ARP sweep of the school's LANs, every answer compared with
    ``known``. Needs root or CAP_NET_RAW, and scapy (``dlict[netscan]``)."""

    interval_s: float = Field(default=900, ge=5, le=86_400)
    deadline_s: float = Field(default=120, ge=1, le=3_600)
    networks: list[ipaddress.IPv4Network] = Field(default_factory=list, max_length=16)
    interface: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.@-]{1,15}$")
    known: list[KnownDevice] = Field(default_factory=list, max_length=4096)
    timeout_s: float = Field(default=2, ge=0.1, le=60)
    retries: int = Field(default=1, ge=0, le=5)

    @model_validator(mode="after")
    def _fits(self) -> LanJobSettings:
        sweeps_s = len(self.networks) * self.timeout_s * (self.retries + 1)
        _within_deadline(self, sweeps_s, "the sweeps (timeout_s, retries, per network)")
        return self

    @field_validator("networks")
    @classmethod
    def _small_enough(cls, value: list[ipaddress.IPv4Network]) -> list[ipaddress.IPv4Network]:
        for network in value:
            if network.num_addresses > MAX_LAN_ADDRESSES:
                raise ValueError(f"{network} has {network.num_addresses} addresses; the agent "
                                 f"sweeps at most {MAX_LAN_ADDRESSES} (a /20) at once")
        return value


class WindowsHostSettings(BaseModel):
    """The Windows PC's limits (the dlict_windows role's defaults) and the accounts approved
    for it: on a PC the office cannot reach, the register is given to the agent here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    powershell: str = "powershell.exe"
    max_update_age_days: float = Field(default=45, gt=0, le=3650)
    min_password_length: int = Field(default=8, ge=1, le=128)
    max_lockout_threshold: int = Field(default=10, ge=1, le=999)
    min_security_log_kb: int = Field(default=196_608, ge=64)
    usb_storage: Literal["block", "allow"] = "block"
    rdp: Literal["off", "nla"] = "off"
    rdp_networks: list[str] = Field(default_factory=list, max_length=64)
    bitlocker_exception: str = Field(default="", max_length=500)
    #: None: no register given, ID-24 is not judged here (the office's audit judges it).
    approved_accounts: list[str] | None = Field(default=None, max_length=1000)


class HostJobSettings(JobSettings):
    """The host's own SOP controls, judged from local command output as the playbooks'
    verify tasks judge them (the limits are the roles' defaults)."""

    interval_s: float = Field(default=3_600, ge=5, le=86_400)
    deadline_s: float = Field(default=60, ge=1, le=3_600)
    command_timeout_s: float = Field(default=10, gt=0, le=300)
    max_signature_age_days: float = Field(default=7, gt=0, le=365)
    clamav_db_dir: str = "/var/lib/clamav"
    clamd_conf: str = "/etc/clamav/clamd.conf"
    max_clock_offset_ms: float = Field(default=10, gt=0, le=3_600_000)
    # A district time server with no source above it serves its own clock; a school's
    # host never should (LOG-04 fails on it).
    local_clock_ok: bool = False
    @model_validator(mode="after")
    def _fits(self) -> HostJobSettings:
        _within_deadline(self, self.command_timeout_s, "the commands (command_timeout_s)")
        return self

    windows: WindowsHostSettings = WindowsHostSettings()

    # EP-05: the endpoint role's list of server packages that send passwords in clear text.
    risky_packages: list[str] = Field(default_factory=lambda: list(RISKY_PACKAGES),
                                      max_length=100)


class JobsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    link: LinkJobSettings = LinkJobSettings()
    dltv: DltvJobSettings = DltvJobSettings()
    lan: LanJobSettings = LanJobSettings()
    host: HostJobSettings = HostJobSettings()
