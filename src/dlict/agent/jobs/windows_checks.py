"""Windows PCs' SOP controls, judged from what well-known PowerShell commands print: pure
functions, no I/O.

One PowerShell script (``playbooks/roles/dlict_windows/files/dlict-observe.ps1``) gathers every
observation of a PC in one run and prints one JSON document; its keys are the sections below.
The same judges serve ``dlict audit`` over WinRM (the role's filter plugin calls
:func:`judge_all` on the controller) and the school agent on a Windows PC, so both agree.

Windows PowerShell 5.1's ``ConvertTo-Json`` writes enumerations as numbers, dates as
``/Date(ms)/`` and a single object where a list was meant; PowerShell 7 may write enumeration
names. Every reader here takes either. Anything malformed reads as "not observed", which
fails (or errors) the control that needed it, never a crash.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dlict.agent.jobs.host_checks import Verdict, verdict_of
from dlict.core.results import Status

#: The controls judged here, in catalog order.
CONTROLS = ("FW-21", "AV-21", "AV-22", "AV-23", "EP-21", "EP-22", "EP-23", "EP-24", "EP-25",
            "ID-21", "ID-22", "ID-23", "ID-24", "LOG-21", "LOG-22")
PROFILES = ("Domain", "Private", "Public")
# Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity: GpoBoolean and Action.
_GPO_TRUE = {1, "True", "true"}  # 1 == True: a JSON true matches too
_ACTION_BLOCK = {4, "Block"}
# System.ServiceProcess.ServiceStartMode
_START_DISABLED = {4, "Disabled"}
# BitLocker: ProtectionStatus Off 0 / On 1 / Unknown 2; VolumeType OperatingSystem 0.
_PROTECTION_ON = {1, "On"}
_OS_VOLUME = {0, "OperatingSystem"}
# Win32_SystemEnclosure.ChassisTypes that are portable (laptop, notebook, tablet, ...).
PORTABLE_CHASSIS = frozenset({8, 9, 10, 11, 12, 14, 18, 21, 30, 31, 32})
# auditpol's subcategory GUIDs: the names are translated on a Thai Windows, the GUIDs never.
AUDIT_SUBCATEGORIES = {
    "{0CCE9215-69AE-11D9-BED3-505054503030}": ("Logon", "Success and Failure"),
    "{0CCE9235-69AE-11D9-BED3-505054503030}": ("User Account Management", "Success and Failure"),
    "{0CCE922F-69AE-11D9-BED3-505054503030}": ("Audit Policy Change", "Success"),
}
NO_USERS = "Get-LocalUser gave no account: the local accounts could not be read"
_DATE_MS = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")


@dataclass(frozen=True, slots=True)
class WindowsLimits:
    """The role's defaults (playbooks/roles/dlict_windows/defaults/main.yml): a test holds the
    two together."""

    max_signature_age_days: float = 7
    max_update_age_days: float = 45
    min_password_length: int = 8
    max_lockout_threshold: int = 10
    min_security_log_bytes: int = 196_608 * 1024  # CIS: 196,608 KB or more
    usb_storage: str = "block"  # block | allow
    rdp: str = "off"  # off | nla (NLA only, and only from rdp_networks)
    rdp_networks: tuple[str, ...] = ()
    bitlocker_exception: str = ""  # a documented reason this laptop is not encrypted


# ---- readers --------------------------------------------------------------------------------

def as_list(value: object) -> list[Mapping[str, Any]]:
    """ConvertTo-Json's one object or list of objects, as a list of mappings."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [item for item in items if isinstance(item, Mapping)]


def as_mapping(value: object) -> Mapping[str, Any]:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, Mapping) else {}


def ps_datetime(value: object) -> datetime | None:
    """``/Date(ms)/`` (PowerShell 5.1), an ISO string (7), or ``{"value": ..., "DateTime":
    ...}`` (an object with notes) as an aware UTC datetime."""
    if isinstance(value, Mapping):
        value = value.get("value", value.get("DateTime"))
    if not isinstance(value, str):
        return None
    match = _DATE_MS.search(value)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


# ---- firewall -------------------------------------------------------------------------------

def judge_fw21(profiles: object) -> Verdict:
    """FW-21 (``Get-NetFirewallProfile``): Domain, Private and Public profiles each enabled
    with inbound default Block."""
    seen = {str(p.get("Name")): p for p in as_list(profiles)}
    wrong = []
    for name in PROFILES:
        profile = seen.get(name)
        if profile is None:
            wrong.append(f"{name} not reported")
        elif profile.get("Enabled") not in _GPO_TRUE:
            wrong.append(f"{name} off")
        elif profile.get("DefaultInboundAction") not in _ACTION_BLOCK:
            wrong.append(f"{name} inbound {profile.get('DefaultInboundAction')}")
    return verdict_of("FW-21", not wrong, "Domain, Private and Public profiles on, inbound "
                    "default Block", "firewall profiles: " + ", ".join(wrong))


# ---- antivirus: Get-MpComputerStatus --------------------------------------------------------

def judge_av21(status: object) -> Verdict:
    """AV-21: Microsoft Defender's service and real-time protection are on."""
    mp = as_mapping(status)
    if not mp:
        return Verdict("AV-21", Status.FAIL, "Get-MpComputerStatus gave nothing: Defender "
                       "is not running (or another antivirus replaced it)")
    parts = {"AMServiceEnabled": mp.get("AMServiceEnabled"),
             "AntivirusEnabled": mp.get("AntivirusEnabled"),
             "RealTimeProtectionEnabled": mp.get("RealTimeProtectionEnabled")}
    off = [name for name, value in parts.items() if value is not True]
    return verdict_of("AV-21", not off, "Defender on, real-time protection on",
                    "Defender: " + ", ".join(f"{name} {parts[name]}" for name in off))


def judge_av22(status: object, now: datetime, limit_days: float) -> Verdict:
    """AV-22: Defender's antivirus signatures are no older than ``limit_days``."""
    mp = as_mapping(status)
    updated = ps_datetime(mp.get("AntivirusSignatureLastUpdated"))
    if updated is not None:
        age = (now - updated).total_seconds() / 86400
    elif _int(mp.get("AntivirusSignatureAge")) is not None:
        age = float(_int(mp.get("AntivirusSignatureAge")) or 0)
    else:
        return Verdict("AV-22", Status.FAIL, "Defender reports no signature date")
    version = mp.get("AntivirusSignatureVersion") or "?"
    text = f"signatures {version} are {age:.1f} days old (limit {limit_days:g})"
    return verdict_of("AV-22", age <= limit_days, text, text)


def judge_av23(status: object) -> Verdict:
    """AV-23: tamper protection is on."""
    value = as_mapping(status).get("IsTamperProtected")
    return verdict_of("AV-23", value is True, "tamper protection on",
                    f"tamper protection {'off' if value is False else 'not reported'}")


# ---- endpoint ---------------------------------------------------------------------------------

def judge_ep21(service: object, hotfixes: object, now: datetime, limit_days: float) -> Verdict:
    """EP-21 (``Get-Service wuauserv``, ``Get-HotFix``): the Windows Update service is not
    disabled and an update was installed within ``limit_days``."""
    start = as_mapping(service).get("StartType")
    if not as_mapping(service):
        return Verdict("EP-21", Status.FAIL, "the Windows Update service (wuauserv) is missing")
    if start in _START_DISABLED:
        return Verdict("EP-21", Status.FAIL, "the Windows Update service (wuauserv) is disabled")
    installed = [moment for fix in as_list(hotfixes)
                 if (moment := ps_datetime(fix.get("InstalledOn"))) is not None]
    if not installed:
        return Verdict("EP-21", Status.FAIL, "no installed update has a date (Get-HotFix)")
    age = (now - max(installed)).total_seconds() / 86400
    text = f"last update installed {age:.0f} days ago (limit {limit_days:g})"
    return verdict_of("EP-21", age <= limit_days, text, text)


def is_portable(chassis: object) -> bool:
    """``Win32_SystemEnclosure``'s ChassisTypes name a laptop, notebook or tablet."""
    types = [_int(t) for enclosure in as_list(chassis)
             for t in (enclosure.get("ChassisTypes") or [])
             if isinstance(enclosure.get("ChassisTypes"), list)]
    return any(t in PORTABLE_CHASSIS for t in types if t is not None)


def judge_ep22(volumes: object, chassis: object, exception: str) -> Verdict:
    """EP-22 (``Get-BitLockerVolume``): a laptop's operating-system volume is protected by
    BitLocker, or the inventory documents why not; a desktop passes as not applicable."""
    if not is_portable(chassis):
        return Verdict("EP-22", Status.SKIPPED, "not a laptop (chassis type): BitLocker is "
                       "required on portable PCs only")
    os_volume = next((v for v in as_list(volumes) if v.get("VolumeType") in _OS_VOLUME), None)
    if os_volume is not None and os_volume.get("ProtectionStatus") in _PROTECTION_ON:
        return Verdict("EP-22", Status.PASS,
                       f"BitLocker protects {os_volume.get('MountPoint', 'the OS volume')}")
    if exception.strip():
        return Verdict("EP-22", Status.PASS, f"not encrypted; documented exception: "
                       f"{exception.strip()[:200]}")
    where = os_volume.get("MountPoint", "the OS volume") if os_volume else "the OS volume"
    return Verdict("EP-22", Status.FAIL, f"BitLocker does not protect {where} of this laptop "
                   f"and no exception is documented")


def judge_ep23(smb: object) -> Verdict:
    """EP-23 (``Get-SmbServerConfiguration``): the SMBv1 server is off."""
    value = as_mapping(smb).get("EnableSMB1Protocol")
    return verdict_of("EP-23", value is False, "SMBv1 server off",
                    "SMBv1 server on" if value is True else "SMBv1 setting not reported")


def judge_ep24(rdp: object, limits: WindowsLimits) -> Verdict:
    """EP-24 (registry Terminal Server values, the Remote Desktop firewall rules): RDP off, or
    with ``rdp: nla`` Network Level Authentication required and the enabled inbound rules open
    only to ``rdp_networks``."""
    data = as_mapping(rdp)
    deny = _int(data.get("fDenyTSConnections"))
    if deny == 1:
        return Verdict("EP-24", Status.PASS, "Remote Desktop off")
    if limits.rdp != "nla":
        return Verdict("EP-24", Status.FAIL, "Remote Desktop on (policy: off)")
    if _int(data.get("UserAuthentication")) != 1:
        return Verdict("EP-24", Status.FAIL, "Remote Desktop on without Network Level "
                       "Authentication")
    allowed = set(limits.rdp_networks)
    remote = [str(address) for rule in as_list(data.get("Rules"))
              if rule.get("Enabled") in _GPO_TRUE
              for address in _strings(rule.get("RemoteAddress"))]
    open_to = sorted(set(remote) - allowed)
    if not remote or open_to:
        return Verdict("EP-24", Status.FAIL, "Remote Desktop is open to "
                       + (", ".join(open_to[:5]) if open_to else "no listed network")
                       + f" (allowed: {', '.join(sorted(allowed)) or 'none'})")
    return Verdict("EP-24", Status.PASS, f"Remote Desktop with NLA, only from "
                   f"{', '.join(sorted(set(remote)))}")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def judge_ep25(usbstor: object, policy: str) -> Verdict:
    """EP-25 (registry ``HKLM:\\SYSTEM\\CurrentControlSet\\Services\\USBSTOR`` Start): with
    policy ``block`` the USB storage driver is disabled (Start 4)."""
    start = _int(as_mapping(usbstor).get("Start"))
    if policy != "block":
        return Verdict("EP-25", Status.PASS, f"policy {policy}: USB storage allowed")
    return verdict_of("EP-25", start == 4, "USB storage driver disabled (USBSTOR Start 4)",
                    f"USB storage driver enabled (USBSTOR Start {start})")


# ---- identity ---------------------------------------------------------------------------------

def _rid(user: Mapping[str, Any]) -> str:
    sid = user.get("SID")
    if isinstance(sid, Mapping):  # a SecurityIdentifier object: {"Value": "S-1-5-..."}
        sid = sid.get("Value")
    return str(sid).rsplit("-", 1)[-1] if sid else ""


def judge_id21(users: object) -> Verdict:
    """ID-21 (``Get-LocalUser``): the built-in Administrator (RID 500) is disabled or
    renamed."""
    if not as_list(users):
        return Verdict("ID-21", Status.FAIL, NO_USERS)
    admin = next((u for u in as_list(users) if _rid(u) == "500"), None)
    if admin is None:
        return Verdict("ID-21", Status.FAIL, "no account with RID 500 reported")
    name, enabled = str(admin.get("Name")), admin.get("Enabled")
    if enabled is False:
        return Verdict("ID-21", Status.PASS, f"built-in administrator {name!r} disabled")
    if name.lower() != "administrator":
        return Verdict("ID-21", Status.PASS, f"built-in administrator renamed to {name!r}")
    return Verdict("ID-21", Status.FAIL, "built-in Administrator enabled under its own name")


def judge_id22(users: object) -> Verdict:
    """ID-22 (``Get-LocalUser``): the Guest account (RID 501) is disabled."""
    if not as_list(users):
        return Verdict("ID-22", Status.FAIL, NO_USERS)
    guest = next((u for u in as_list(users) if _rid(u) == "501"), None)
    if guest is None:
        return Verdict("ID-22", Status.PASS, "no Guest account")
    return verdict_of("ID-22", guest.get("Enabled") is False, "Guest disabled",
                    f"Guest account {guest.get('Name')!r} enabled")


_NET_ACCOUNTS = {
    "min_length": re.compile(r"^Minimum password length:\s*(\S+)", re.M),
    "threshold": re.compile(r"^Lockout threshold:\s*(\S+)", re.M),
}


def judge_id23(net_accounts: object, limits: WindowsLimits) -> Verdict:
    """ID-23 (``net accounts``, English output): minimum password length and an account
    lockout threshold between 1 and ``max_lockout_threshold``."""
    text = net_accounts if isinstance(net_accounts, str) else ""
    found = {key: (m.group(1) if (m := pattern.search(text)) else None)
             for key, pattern in _NET_ACCOUNTS.items()}
    if found["min_length"] is None or found["threshold"] is None:
        return Verdict("ID-23", Status.ERROR, "net accounts printed no policy dlict can read "
                       "(an English system locale is expected)")
    length = _int(found["min_length"]) or 0
    threshold = _int(found["threshold"])  # "Never" reads as no lockout
    wrong = []
    if length < limits.min_password_length:
        wrong.append(f"minimum password length {length} (at least "
                     f"{limits.min_password_length})")
    if threshold is None or not 1 <= threshold <= limits.max_lockout_threshold:
        wrong.append(f"lockout threshold {found['threshold']} (1 to "
                     f"{limits.max_lockout_threshold})")
    return verdict_of("ID-23", not wrong, f"minimum password length {length}, lockout after "
                    f"{threshold} failures", "; ".join(wrong))


def approved_names(register: Iterable[Mapping[str, Any]], scope: Sequence[str],
                   today: date) -> set[str]:
    """Accounts the register (``dlict_accounts``) approves for a host whose names are
    ``scope`` ('all', the host, its groups) and whose expiry has not passed — the rule
    the Linux role's ID-09 applies."""
    names = set()
    for approval in register:
        hosts = approval.get("hosts", [])
        hosts = [hosts] if isinstance(hosts, str) else list(hosts or [])
        expires = str(approval.get("expires", ""))
        if set(hosts) & set(scope) and expires >= today.isoformat():
            names.add(str(approval.get("name")))
    return names


def judge_id24(users: object, approved: set[str] | None) -> Verdict:
    """ID-24: every enabled local account but the built-in ones (RID 500, 501, 503, 504) is
    on the approved-accounts register for this PC."""
    if approved is None:
        return Verdict("ID-24", Status.SKIPPED, "no approved-accounts register given")
    if not as_list(users):
        return Verdict("ID-24", Status.FAIL, NO_USERS)
    builtin = {"500", "501", "503", "504"}
    enabled = [str(u.get("Name")) for u in as_list(users)
               if u.get("Enabled") is True and _rid(u) not in builtin]
    lower = {name.lower() for name in approved}
    unapproved = sorted(name for name in enabled if name.lower() not in lower)
    return verdict_of("ID-24", not unapproved, f"{len(enabled)} enabled local account(s), all "
                    "approved", "not in the register for this PC: " + ", ".join(unapproved))


# ---- logging --------------------------------------------------------------------------------

def judge_log21(auditpol_csv: object) -> Verdict:
    """LOG-21 (``auditpol /get /category:* /r``): Logon and User Account Management audit
    success and failure, Audit Policy Change audits success."""
    text = auditpol_csv if isinstance(auditpol_csv, str) else ""
    settings: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text.strip())):
        guid = (row.get("Subcategory GUID") or "").strip().upper()
        if guid:
            settings[guid] = (row.get("Inclusion Setting") or "").strip()
    if not settings:
        return Verdict("LOG-21", Status.ERROR, "auditpol printed no audit policy")
    wrong = []
    for guid, (name, wanted) in AUDIT_SUBCATEGORIES.items():
        have = settings.get(guid, "not reported")
        if not _covers(have, wanted):
            wrong.append(f"{name}: {have} (needs {wanted})")
    return verdict_of("LOG-21", not wrong, "Logon, User Account Management and Audit Policy "
                    "Change are audited", "; ".join(wrong))


def _covers(have: str, wanted: str) -> bool:
    return have == "Success and Failure" or have == wanted


def judge_log22(security_log: object, min_bytes: int) -> Verdict:
    """LOG-22 (``Get-WinEvent -ListLog Security``): the Security log is enabled and at least
    ``min_bytes`` large."""
    log = as_mapping(security_log)
    size = _int(log.get("MaximumSizeInBytes"))
    if size is None:
        return Verdict("LOG-22", Status.FAIL, "the Security log size was not reported")
    if log.get("IsEnabled") is False:
        return Verdict("LOG-22", Status.FAIL, "the Security log is disabled")
    text = f"Security log up to {size // 1024} KB (at least {min_bytes // 1024} KB)"
    return verdict_of("LOG-22", size >= min_bytes, text, text)


# ---- all of them ------------------------------------------------------------------------------

def judge_all(observed: Mapping[str, Any], limits: WindowsLimits, now: datetime,
              approved: set[str] | None) -> list[Verdict]:
    """Every Windows control from one observation document (dlict-observe.ps1's JSON)."""
    defender = observed.get("defender")
    users = observed.get("local_users")
    return [
        judge_fw21(observed.get("firewall_profiles")),
        judge_av21(defender),
        judge_av22(defender, now, limits.max_signature_age_days),
        judge_av23(defender),
        judge_ep21(observed.get("wuauserv"), observed.get("hotfixes"), now,
                   limits.max_update_age_days),
        judge_ep22(observed.get("bitlocker"), observed.get("chassis"),
                   limits.bitlocker_exception),
        judge_ep23(observed.get("smb")),
        judge_ep24(observed.get("rdp"), limits),
        judge_ep25(observed.get("usbstor"), limits.usb_storage),
        judge_id21(users),
        judge_id22(users),
        judge_id23(observed.get("net_accounts"), limits),
        judge_id24(users, approved),
        judge_log21(observed.get("auditpol")),
        judge_log22(observed.get("security_log"), limits.min_security_log_bytes),
    ]
