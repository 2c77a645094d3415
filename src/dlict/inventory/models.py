"""Pydantic models of a district: sites (the office and each school) and their hosts."""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from dlict.dltv import NO_SOURCE, SOURCES
from dlict.netdev.platforms import platform_names

SCHOOL_GROUP = re.compile(r"^school_(?P<code>.*)$")
SCHOOL_CODE = re.compile(r"^[0-9]{10}$")
# An OBEC code typed in Thai (๐-๙) or full-width (０-９) digits is the same code: it is
# compared and stored in ASCII digits. Any other character, digit-like or not, is refused.
_CODE_DIGITS = str.maketrans({chr(base + n): str(n) for base in (0x0E50, 0xFF10)
                              for n in range(10)})
OFFICE_SITE_ID = "office"
DLTV_SOURCES = (*SOURCES, NO_SOURCE)
DLTV_CHANNELS = range(1, 16)

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$"
)


def normalise_school_code(text: str) -> str:
    """A school code with Thai and full-width digits written as ASCII digits."""
    return text.strip().translate(_CODE_DIGITS)


def is_address(value: str) -> bool:
    """An IP address (v4 or v6) or an RFC 1123 host name."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        # Dotted digits that failed as an IP (999.1.1.1) are a typo, not a host name.
        return bool(_HOSTNAME.match(value)) and not re.fullmatch(r"[\d.]+", value)
    return True


def _check_address(value: str) -> str:
    if not is_address(value):
        raise ValueError(f"'{value}' is not an IP address or host name")
    return value


def _check_url_or_address(value: str) -> str:
    host = re.sub(r"^[a-z]+://", "", value).split("/", 1)[0]
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host.strip("[]")
    if not is_address(host):
        raise ValueError(f"'{value}' does not name a valid host")
    return value


Address = Annotated[str, AfterValidator(_check_address)]
Endpoint = Annotated[str, AfterValidator(_check_url_or_address)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              allow_inf_nan=False)


class Link(_Strict):
    """One internet link of a site."""

    isp: str = Field(min_length=1)
    wan_address: Address | None = None
    probe_targets: list[Address] = Field(default_factory=list)


def known_dltv_channels(value: list[int]) -> list[int]:
    """``value`` when every channel is one DLTV broadcasts (the inventory's and the agent's)."""
    wrong = [c for c in value if c not in DLTV_CHANNELS]
    if wrong:
        raise ValueError(f"DLTV channels are 1-15, got {wrong}")
    return value


class Dltv(_Strict):
    """How the site's DLTV reception can be watched."""

    source: str
    address: Endpoint | None = None
    channels: list[int] = Field(default_factory=list)

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in DLTV_SOURCES:
            raise ValueError(
                f"unknown receiver source '{value}' (expected one of {', '.join(DLTV_SOURCES)})"
            )
        return value

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[int]) -> list[int]:
        return known_dltv_channels(value)


class DnsCheck(_Strict):
    """Ask ``server`` for ``name``: the school's resolver answers, or not."""

    server: Address
    name: str = Field(min_length=1)


class Services(_Strict):
    """Services checked from the office besides the ICMP link probe."""

    tcp: list[Endpoint] = Field(default_factory=list)
    dns: list[DnsCheck] = Field(default_factory=list)
    http: list[Endpoint] = Field(default_factory=list)

    @field_validator("tcp")
    @classmethod
    def _host_and_port(cls, value: list[str]) -> list[str]:
        for item in value:
            port = item.rsplit(":", 1)[-1] if ":" in item else ""
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"'{item}' must be host:port")
        return value

    @field_validator("http")
    @classmethod
    def _web_address(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.startswith(("http://", "https://")):
                raise ValueError(f"'{item}' must start with http:// or https://")
        return value


class DltvThresholds(_Strict):
    """When a receiver of one kind counts as weak or its stream as stale."""

    snr_min_db: float | None = None
    signal_min_ratio: float | None = Field(default=None, ge=0, le=1)
    max_segment_age_s: float | None = Field(default=None, gt=0)


class MonitorSettings(_Strict):
    """The ``dlict_monitor`` variable of group ``all``: how ``dlict monitor`` paces itself."""

    count: int = Field(default=10, ge=1, le=1000)
    period_ms: float = Field(default=1000, ge=10)
    timeout_ms: float = Field(default=1000, gt=0)
    services_interval_s: float = Field(default=60, ge=5)
    check_timeout_s: float = Field(default=5, gt=0)
    workers: int = Field(default=32, ge=1, le=512)
    dltv_thresholds: dict[str, DltvThresholds] = Field(default_factory=dict)

    @field_validator("dltv_thresholds")
    @classmethod
    def _known_kinds(cls, value: dict[str, DltvThresholds]) -> dict[str, DltvThresholds]:
        unknown = sorted(set(value) - set(DLTV_SOURCES))
        if unknown:
            raise ValueError(f"unknown receiver kind {', '.join(unknown)} "
                             f"(expected one of {', '.join(DLTV_SOURCES)})")
        return value


class NetdevSettings(_Strict):
    """The ``dlict_netdev`` variable of group ``all``: how dlict reaches and judges devices.

    ``known_hosts``: the OpenSSH known_hosts file device keys are checked against (the user's
    ~/.ssh/known_hosts when unset); an unknown or changed key is refused. ``timeout_s`` bounds
    each step of a device session (connect, banner, login, every command); ``workers`` devices
    are worked on at once. ``min_firmware``: the lowest acceptable version per platform
    (routeros, ios, fortios).
    """

    known_hosts: str | None = None
    timeout_s: float = Field(default=20, gt=0, le=600)
    workers: int = Field(default=16, ge=1, le=256)
    min_firmware: dict[str, str] = Field(default_factory=dict)

    @field_validator("min_firmware", mode="before")
    @classmethod
    def _known_platforms(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(platform_names()))
        if unknown:
            raise ValueError(f"unknown platform {', '.join(unknown)} "
                             f"(expected one of {', '.join(platform_names())})")
        return {k: str(v) for k, v in value.items()}


class OfficeSettings(_Strict):
    """The ``dlict_office`` variable of group ``all``: who the office is, for the documents
    dlict writes (memos, reports, forms) and the signature blocks in them.

    ``doc_prefix`` is the office's registry prefix for outgoing documents (ที่ ศธ 04xxx/...).
    A name left empty prints as a dotted line to fill in by hand.
    """

    name_th: str = "สำนักงานเขตพื้นที่การศึกษา"
    name_en: str = "Educational Service Area Office"
    short_th: str = "สพท."
    doc_prefix: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    director_name: str = ""
    director_title_th: str = "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา"
    director_title_en: str = "Director of the Educational Service Area Office"
    dlict_head_name: str = ""
    dlict_head_title_th: str = (
        "ผู้อำนวยการกลุ่มส่งเสริมการศึกษาทางไกล เทคโนโลยีสารสนเทศและการสื่อสาร")
    dlict_head_title_en: str = "Head of the DLICT group"


class IncidentSettings(_Strict):
    """The ``dlict_incidents`` variable of group ``all``: deadlines and which findings open a
    case (``dlict.incidents``).

    ``report_hours``: deadline kind (``agency``, ``ncsa``) → threat level (``non-serious``,
    ``serious``, ``critical``) → hours from awareness; ``pdpc_hours``: PDPA s.37(4)'s window when
    personal data is involved. ``raise_on``: finding source (``audit``, ``netscan``, ``agent``) →
    the control severities whose failure opens (or joins) a case; ``always_raise``: control IDs
    that open a case whatever their severity (a second UID 0 account, ID-04).
    """

    report_hours: dict[str, dict[str, float]] = Field(default_factory=lambda: {
        "agency": {"non-serious": 72.0, "serious": 24.0, "critical": 1.0},
        "ncsa": {"non-serious": 72.0, "serious": 24.0, "critical": 1.0},
    })
    pdpc_hours: float = Field(default=72.0, gt=0, le=24 * 30)
    raise_on: dict[str, list[str]] = Field(default_factory=lambda: {
        "audit": ["critical"], "netscan": ["critical"], "agent": ["critical"],
    })
    always_raise: list[str] = Field(default_factory=lambda: ["ID-04"])


LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


class AccessSystem(_Strict):
    """One information system a person may ask access to (``dlict_access.systems``): its
    names and the hosts or groups where an account gives that access (none for a web
    application dlict does not manage)."""

    name_th: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    hosts: list[str] = Field(default_factory=list)


class AccessSettings(_Strict):
    """The ``dlict_access`` variable of group ``all`` (``dlict.access``).

    ``sla_min_days``/``sla_max_days``: the SOP's 3-5 working days from receipt to decision;
    ``remind_days``: approvals expiring within this many days are reminded; ``holidays_file``:
    the office's copy of the Thai public holidays (relative to the inventory; unset: dlict's);
    ``systems``: code → the systems on the request form.
    """

    sla_min_days: int = Field(default=3, ge=0, le=60)
    sla_max_days: int = Field(default=5, ge=1, le=60)
    remind_days: int = Field(default=14, ge=1, le=365)
    holidays_file: str | None = None
    systems: dict[str, AccessSystem] = Field(default_factory=lambda: {
        "server": AccessSystem(name_th="เครื่องแม่ข่ายของสำนักงาน (บัญชีเข้าระบบ)",
                               name_en="Office servers (login account)",
                               hosts=["linux_servers"]),
        "student-data": AccessSystem(name_th="ระบบข้อมูลนักเรียน",
                                     name_en="Student data system"),
        "school-data": AccessSystem(name_th="ระบบข้อมูลพื้นฐานโรงเรียน",
                                    name_en="School basic data system"),
        "nutrition": AccessSystem(name_th="ระบบอาหารกลางวัน (ภาวะโภชนาการ)",
                                  name_en="School lunch and nutrition system"),
    })


class ApprovedAccount(_Strict):
    """One entry of the approved-accounts register ``dlict_accounts`` (ID-09): an approved
    access-request form. ``request`` links it to the form dlict recorded; ``provision``: the
    identity role creates the account where it is approved."""

    name: str
    full_name: str = ""
    position: str = ""
    approved_by: str = ""
    approved_on: date | None = None
    expires: date
    hosts: list[str] = Field(min_length=1)
    request: str | None = None
    provision: bool = False

    @field_validator("name")
    @classmethod
    def _login_name(cls, value: str) -> str:
        if not LOGIN_NAME.match(value):
            raise ValueError(f"'{value}' is not a login name (lower-case letters, digits, _ "
                             "and -, at most 32)")
        return value


class Contact(_Strict):
    name: str = Field(min_length=1)
    position: str = ""
    phone: str = ""
    email: str = ""


class SiteMeta(_Strict):
    """The ``dlict_site`` group variable of the office and of every school group."""

    school_code: str | None = None
    name_th: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    amphoe: str = Field(min_length=1)
    province: str = Field(min_length=1)
    link: Link | list[Link] | None = None
    dltv: Dltv | None = None
    services: Services | None = None
    lan: list[ipaddress.IPv4Network] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)

    @field_validator("school_code", mode="before")
    @classmethod
    def _ten_digits(cls, value: object) -> object:
        if value is None:
            return None
        text = str(value)
        code = normalise_school_code(text)
        if not SCHOOL_CODE.match(code):
            raise ValueError(f"school code '{text}' must be 10 digits (the OBEC code)")
        return code

    @property
    def links(self) -> list[Link]:
        if self.link is None:
            return []
        return self.link if isinstance(self.link, list) else [self.link]


#: The variables that name a host's SSH private key, in Ansible's order of preference.
KEY_FILE_VARS = ("ansible_ssh_private_key_file", "ansible_private_key_file")
# Host variables dlict reads besides the connection ones: netdev credentials and settings,
# how worker nodes reach the hosts (playbooks/workers.py),
# and what the firewall policy of a host is made of (for dlict netscan verify).
HOST_SETTINGS = frozenset({
    "ansible_password", "ansible_ssh_pass", "ansible_ssh_password",
    *KEY_FILE_VARS, "ansible_become_password",
    "ansible_ssh_common_args",
    "dlict_wan_interfaces", "dlict_mgmt_networks", "dlict_district_networks",
    "dlict_firewall_services", "dlict_firewall_ssh_port", "dlict_firewall_role_services",
    "dlict_netscan_allowed",
})


class Role(StrEnum):
    LINUX_SERVER = "linux_servers"
    WINDOWS_ENDPOINT = "windows_endpoints"
    NETWORK_DEVICE = "network_devices"
    DLTV_RECEIVER = "dltv_receivers"
    LOG_SERVER = "log_servers"


class SiteKind(StrEnum):
    OFFICE = "office"
    SCHOOL = "school"


class Host(BaseModel):
    """A host of the district.

    ``groups``: every Ansible group it is in (the firewall's role services are keyed by group).
    ``port``/``user``: how to reach it over SSH (ansible_port, ansible_user). ``mac``: its
    registered MAC (dlict_mac), for LAN discovery. ``settings``: the few further variables dlict
    itself reads (HOST_SETTINGS), as Ansible exported them — a vaulted value stays encrypted.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    address: str
    site: str
    roles: frozenset[Role]
    device_type: str | None = None
    groups: frozenset[str] = frozenset()
    port: int | None = None
    user: str | None = None
    mac: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class Site(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: SiteKind
    group: str
    meta: SiteMeta
    hosts: tuple[str, ...]


class Inventory(BaseModel):
    """A validated district: every host in exactly one site and at least one role."""

    model_config = ConfigDict(frozen=True)

    source: str
    sites: tuple[Site, ...]
    hosts: dict[str, Host]
    monitor: MonitorSettings = MonitorSettings()
    netdev: NetdevSettings = NetdevSettings()
    office: OfficeSettings = OfficeSettings()
    incidents: IncidentSettings = IncidentSettings()
    access: AccessSettings = AccessSettings()
    accounts: tuple[ApprovedAccount, ...] = ()

    def site(self, site_id: str) -> Site:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)

    def hosts_in_role(self, role: Role) -> list[Host]:
        return [h for h in self.hosts.values() if role in h.roles]

    @property
    def kind_counts(self) -> dict[str, int]:
        return {
            "sites": len(self.sites),
            "schools": sum(1 for s in self.sites if s.kind is SiteKind.SCHOOL),
            "hosts": len(self.hosts),
        }


