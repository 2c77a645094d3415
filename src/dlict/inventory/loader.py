"""Load an inventory through Ansible's own parser (ansible-runner), then validate it.

Every problem found becomes one line naming the file (and line where it can be told), the
group or host, and what is wrong; all of them are reported together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import ansible_runner
from pydantic import BaseModel, ValidationError

from dlict.core.ansible_env import ansible_path, require_program
from dlict.core.errors import InventoryError
from dlict.core.logging import register_secret
from dlict.core.runner_dir import runner_dir
from dlict.inventory.devices import device_type_for, is_known_device_type, served_types_text
from dlict.inventory.locate import YamlIndex, display
from dlict.inventory.models import (
    HOST_SETTINGS,
    OFFICE_SITE_ID,
    SCHOOL_CODE,
    SCHOOL_GROUP,
    AccessSettings,
    ApprovedAccount,
    Host,
    IncidentSettings,
    Inventory,
    MonitorSettings,
    NetdevSettings,
    OfficeSettings,
    Role,
    Site,
    SiteKind,
    SiteMeta,
    is_address,
    normalise_school_code,
)

SITE_VAR = "dlict_site"
MONITOR_VAR = "dlict_monitor"
NETDEV_VAR = "dlict_netdev"
OFFICE_VAR = "dlict_office"
INCIDENTS_VAR = "dlict_incidents"
ACCESS_VAR = "dlict_access"
ACCOUNTS_VAR = "dlict_accounts"
OFFICE_GROUP = "office"
SCHOOLS_GROUP = "schools"
SECRET_VARS = frozenset({
    "ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_password",
    "ansible_become_pass", "ansible_sudo_pass", "ansible_httpapi_password",
})
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|community|api_key)$", re.IGNORECASE)
_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")
_UNPARSED = re.compile(r"Unable to parse (?P<path>\S+) as an inventory source")
ROLE_NAMES = ", ".join(r.value for r in Role)
_S = TypeVar("_S", bound=BaseModel)


@dataclass
class _Group:
    name: str
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Raw:
    groups: dict[str, _Group]
    hostvars: dict[str, dict[str, Any]]


def _ansible_export(path: Path) -> tuple[dict[str, Any], str]:
    require_program("ansible-inventory")
    with runner_dir() as private:
        out, err = ansible_runner.get_inventory(
            action="list",
            inventories=[str(path.resolve())],
            response_format="json",
            export=True,
            quiet=True,
            private_data_dir=str(private.path),
            envvars={"PATH": ansible_path(), "ANSIBLE_INVENTORY_UNPARSED_WARNING": "True"},
        )
    if not isinstance(out, dict):
        raise InventoryError(
            [f"{display(path)}: Ansible could not read this inventory: {err.strip()}"]
        )
    return out, err


def _raw_inventory(export: Mapping[str, Any]) -> _Raw:
    groups: dict[str, _Group] = {}
    for name, body in export.items():
        if name == "_meta" or not isinstance(body, Mapping):
            continue
        groups[name] = _Group(
            name=name,
            hosts=list(body.get("hosts", [])),
            children=list(body.get("children", [])),
            vars=dict(body.get("vars", {})),
        )
    for group in list(groups.values()):
        for child in group.children:
            groups.setdefault(child, _Group(child))
    hostvars = {h: dict(v) for h, v in export.get("_meta", {}).get("hostvars", {}).items()}
    for group in groups.values():
        for host in group.hosts:
            hostvars.setdefault(host, {})
    return _Raw(groups, hostvars)


def _group_members(raw: _Raw) -> dict[str, frozenset[str]]:
    """Every group's hosts, its descendants' included."""
    members: dict[str, frozenset[str]] = {}

    def collect(group: str, path: frozenset[str]) -> frozenset[str]:
        if group in members:
            return members[group]
        if group in path or group not in raw.groups:
            return frozenset()
        node = raw.groups[group]
        found = set(node.hosts)
        for child in node.children:
            found |= collect(child, path | {group})
        members[group] = frozenset(found)
        return members[group]

    for name in raw.groups:
        collect(name, frozenset())
    return members


def _group_depths(raw: _Raw) -> dict[str, int]:
    """How deep each group sits below ``all``; deeper groups' variables win."""
    depth = {"all": 0}
    frontier = ["all"]
    for _ in range(len(raw.groups)):
        following = []
        for group in frontier:
            for child in raw.groups.get(group, _Group(group)).children:
                if depth.get(child, -1) < depth[group] + 1:
                    depth[child] = depth[group] + 1
                    following.append(child)
        if not following:
            break
        frontier = following
    return depth


def _effective_vars(raw: _Raw, members: Mapping[str, frozenset[str]],
                    depths: Mapping[str, int], host: str) -> dict[str, Any]:
    """Group vars from general to specific, then host vars — Ansible's default precedence."""
    merged: dict[str, Any] = {}
    groups = sorted((g for g in raw.groups if host in members.get(g, ())),
                    key=lambda g: (depths.get(g, 1), g))
    for group in groups:
        merged.update(raw.groups[group].vars)
    merged.update(raw.hostvars.get(host, {}))
    return merged


# Worded without "name: value" so that log redaction leaves the advice readable.
PLAINTEXT_ADVICE = ("plaintext secret in variable {name} — keep it in Ansible Vault or take it "
                    "from the environment")


def _plaintext_secret_names(variables: Mapping[str, Any]) -> list[str]:
    """Names of secret-looking variables whose value is neither vaulted nor a lookup."""
    names = []
    for name, value in variables.items():
        if name not in SECRET_VARS and not _SECRET_NAME.search(name):
            continue
        if isinstance(value, Mapping) and "__ansible_vault" in value:
            continue
        if isinstance(value, str) and "{{" in value:
            continue
        register_secret(value)
        names.append(name)
    return sorted(names)


def _pydantic_lines(exc: ValidationError) -> Iterator[tuple[tuple[str, ...], str]]:
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"] if not str(p).startswith(("Link", "list[")))
        if err["type"] == "missing":
            message = "required field missing"
        elif err["type"] == "extra_forbidden":
            message = "unknown field (a typo?)"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
        yield loc, message


class _Validator:
    def __init__(self, path: Path, raw: _Raw, index: YamlIndex) -> None:
        self.path = path
        self.raw = raw
        self.index = index
        self.problems: list[str] = []
        self.members = _group_members(raw)
        # every host a site group names, valid metadata or not, so one bad school does not
        # also make each of its hosts "belong to no site"
        self.claimed: dict[str, list[str]] = {}
        self.depths = _group_depths(raw)

    def group_problem(self, group: str, var_path: tuple[str, ...], message: str,
                      label: bool = True) -> None:
        where = self.index.group_var(group, var_path)
        field_name = ".".join(var_path) if label else ""
        subject = f"group {group}: {field_name}: " if field_name else f"group {group}: "
        self.problems.append(f"{where}: {subject}{message}")

    def host_problem(self, host: str, var_path: tuple[str, ...], message: str,
                     label: bool = True) -> None:
        where = self.index.host(host, var_path)
        field_name = ".".join(var_path) if label else ""
        subject = f"host {host}: {field_name}: " if field_name else f"host {host}: "
        self.problems.append(f"{where}: {subject}{message}")

    def site_meta(self, group: str) -> SiteMeta | None:
        data = self.raw.groups[group].vars.get(SITE_VAR)
        if data is None:
            self.group_problem(group, (),
                               f"site metadata missing: set the group variable {SITE_VAR}")
            return None
        if not isinstance(data, Mapping):
            self.group_problem(group, (SITE_VAR,), "must be a mapping of site fields")
            return None
        try:
            return SiteMeta.model_validate(dict(data))
        except ValidationError as exc:
            for loc, message in _pydantic_lines(exc):
                self.group_problem(group, (SITE_VAR, *loc), message)
            return None

    def monitor_settings(self) -> MonitorSettings:
        return self.district_settings(MONITOR_VAR, MonitorSettings, "monitor settings")

    def netdev_settings(self) -> NetdevSettings:
        return self.district_settings(NETDEV_VAR, NetdevSettings, "network device settings")

    def office_settings(self) -> OfficeSettings:
        return self.district_settings(OFFICE_VAR, OfficeSettings, "office settings")

    def incident_settings(self) -> IncidentSettings:
        return self.district_settings(INCIDENTS_VAR, IncidentSettings, "incident settings")

    def access_settings(self) -> AccessSettings:
        return self.district_settings(ACCESS_VAR, AccessSettings, "access-request settings")

    def accounts(self) -> tuple[ApprovedAccount, ...]:
        """The approved-accounts register of group ``all``; every entry checked."""
        data = self.raw.groups.get("all", _Group("all")).vars.get(ACCOUNTS_VAR)
        if data is None:
            return ()
        if not isinstance(data, list):
            self.group_problem("all", (ACCOUNTS_VAR,), "must be a list of approved accounts")
            return ()
        found = []
        for number, entry in enumerate(data):
            if not isinstance(entry, Mapping):
                self.group_problem("all", (ACCOUNTS_VAR, str(number)),
                                   "must be a mapping (name, expires, hosts, ...)")
                continue
            try:
                found.append(ApprovedAccount.model_validate(dict(entry)))
            except ValidationError as exc:
                for loc, message in _pydantic_lines(exc):
                    self.group_problem("all", (ACCOUNTS_VAR, str(number), *loc), message)
        return tuple(found)

    def district_settings(self, name: str, model: type[_S], what: str) -> _S:
        """A settings mapping of group ``all`` (its defaults when absent or wrong)."""
        data = self.raw.groups.get("all", _Group("all")).vars.get(name)
        if data is None:
            return model()
        if not isinstance(data, Mapping):
            self.group_problem("all", (name,), f"must be a mapping of {what}")
            return model()
        try:
            return model.model_validate(dict(data))
        except ValidationError as exc:
            for loc, message in _pydantic_lines(exc):
                self.group_problem("all", (name, *loc), message)
            return model()

    def claim(self, group: str, site_id: str) -> None:
        for host in self.members.get(group, frozenset()):
            self.claimed.setdefault(host, []).append(site_id)

    def sites(self) -> list[Site]:
        found: list[Site] = []
        groups = self.raw.groups
        office_hosts = self.members.get(OFFICE_GROUP, frozenset())
        if OFFICE_GROUP in groups and office_hosts:
            self.claim(OFFICE_GROUP, OFFICE_SITE_ID)
            meta = self.site_meta(OFFICE_GROUP)
            if meta is not None:
                found.append(Site(id=OFFICE_SITE_ID, kind=SiteKind.OFFICE, group=OFFICE_GROUP,
                                  meta=meta, hosts=tuple(sorted(office_hosts))))
        codes: dict[str, str] = {}
        for group in groups.get(SCHOOLS_GROUP, _Group(SCHOOLS_GROUP)).children:
            match = SCHOOL_GROUP.match(group)
            code = normalise_school_code(match["code"]) if match else group
            self.claim(group, code)
            if match is None or not SCHOOL_CODE.match(code):
                self.group_problem(group, (), "a group under schools must be named "
                                   "school_<code> with the school's 10-digit OBEC code")
                continue
            meta = self.site_meta(group)
            if meta is None:
                continue
            if meta.school_code is None:
                self.group_problem(group, (SITE_VAR, "school_code"), "required field missing")
                continue
            if meta.school_code != code:
                self.group_problem(group, (SITE_VAR, "school_code"),
                                   f"'{meta.school_code}' does not match the group name {group}")
            if meta.school_code in codes:
                self.group_problem(group, (SITE_VAR, "school_code"),
                                   f"duplicate school code {meta.school_code}: "
                                   f"also used by group {codes[meta.school_code]}")
                continue
            codes[meta.school_code] = group
            found.append(Site(id=meta.school_code, kind=SiteKind.SCHOOL, group=group, meta=meta,
                              hosts=tuple(sorted(self.members.get(group, frozenset())))))
        return found

    def hosts(self, sites: list[Site]) -> dict[str, Host]:
        site_of = self.claimed
        role_members = {role: self.members.get(role.value, frozenset()) for role in Role}
        groups_of: dict[str, set[str]] = {}
        for group, members in self.members.items():
            for member in members:
                groups_of.setdefault(member, set()).add(group)
        out: dict[str, Host] = {}
        for host in sorted(self.raw.hostvars):
            variables = _effective_vars(self.raw, self.members, self.depths, host)
            owners = site_of.get(host, [])
            roles = frozenset(r for r, members in role_members.items() if host in members)
            ok = True
            if not owners:
                self.host_problem(host, (), "belongs to no site: put it under office or "
                                  "a school_<code> group under schools")
                ok = False
            elif len(owners) > 1:
                self.host_problem(host, (), f"belongs to more than one site: {', '.join(owners)}")
                ok = False
            if not roles:
                self.host_problem(host, (), f"is in no role group (one of {ROLE_NAMES})")
                ok = False
            address = str(variables.get("ansible_host", host))
            if not is_address(address):
                self.host_problem(host, ("ansible_host",),
                                  f"'{address}' is not an IP address or host name")
                ok = False
            device_type = self.device_type(host, variables, roles)
            port = variables.get("ansible_port")
            if port is not None and (not str(port).isdigit() or not 0 < int(port) < 65536):
                self.host_problem(host, ("ansible_port",), f"'{port}' is not a TCP port")
                ok = False
            mac = variables.get("dlict_mac")
            if mac is not None and not _MAC.match(str(mac)):
                self.host_problem(host, ("dlict_mac",),
                                  f"'{mac}' is not a MAC address (aa:bb:cc:dd:ee:ff)")
                ok = False
            if ok:
                user = variables.get("ansible_user")
                out[host] = Host(
                    name=host, address=address, site=owners[0], roles=roles,
                    device_type=device_type,
                    groups=frozenset(groups_of.get(host, ())),
                    port=int(port) if port is not None else None,
                    user=str(user) if user is not None else None,
                    mac=str(mac).lower().replace("-", ":") if mac is not None else None,
                    settings={k: v for k, v in variables.items() if k in HOST_SETTINGS},
                )
        self.dltv_receivers(sites, role_members[Role.DLTV_RECEIVER])
        self.plaintext_secrets()
        return out

    def device_type(self, host: str, variables: Mapping[str, Any],
                    roles: frozenset[Role]) -> str | None:
        netmiko_type = variables.get("netmiko_device_type")
        network_os = variables.get("ansible_network_os")
        device_type = device_type_for(netmiko_type, network_os)
        if Role.NETWORK_DEVICE not in roles:
            return device_type
        if device_type is None and network_os:
            self.host_problem(host, ("ansible_network_os",),
                              f"unknown network OS '{network_os}': set netmiko_device_type "
                              f"(dlict serves {served_types_text()})")
        elif device_type is None:
            self.host_problem(host, (), "network device without a type: set "
                              f"netmiko_device_type (dlict serves {served_types_text()})")
        elif not is_known_device_type(device_type):
            where = "netmiko_device_type" if netmiko_type else "ansible_network_os"
            self.host_problem(host, (where,),
                              f"unknown device type '{device_type}': no dlict platform serves "
                              f"it (dlict serves {served_types_text()})")
        return device_type

    def plaintext_secrets(self) -> None:
        """Flag a secret written in clear where it is written: in a group's or a host's vars."""
        for group in sorted(self.raw.groups):
            for name in _plaintext_secret_names(self.raw.groups[group].vars):
                self.group_problem(group, (name,), PLAINTEXT_ADVICE.format(name=name), False)
        for host in sorted(self.raw.hostvars):
            for name in _plaintext_secret_names(self.raw.hostvars[host]):
                self.host_problem(host, (name,), PLAINTEXT_ADVICE.format(name=name), False)

    def dltv_receivers(self, sites: list[Site], receivers: frozenset[str]) -> None:
        for site in sites:
            if site.meta.dltv is None and receivers.intersection(site.hosts):
                self.group_problem(site.group, (SITE_VAR,), "has a host in dltv_receivers but "
                                   "no dltv metadata (source, address, channels)")


def _unparsed_sources(stderr: str) -> list[str]:
    return [f"{display(Path(m['path']))}: Ansible could not parse this file as an inventory source"
            for m in _UNPARSED.finditer(stderr)]


def load_inventory(path: Path) -> Inventory:
    """Read and validate a district inventory (a directory or a single YAML/INI file).

    Raises:
        InventoryError: one line per problem; nothing is returned half-valid.
    """
    if not path.exists():
        raise InventoryError([f"{display(path)}: inventory not found"])
    index = YamlIndex(path)
    if index.syntax_errors:
        raise InventoryError(index.syntax_errors)
    export, stderr = _ansible_export(path)
    problems = _unparsed_sources(stderr)
    raw = _raw_inventory(export)
    validator = _Validator(path, raw, index)
    sites = validator.sites()
    hosts = validator.hosts(sites)
    monitor = validator.monitor_settings()
    netdev = validator.netdev_settings()
    office = validator.office_settings()
    incidents = validator.incident_settings()
    access = validator.access_settings()
    accounts = validator.accounts()
    problems += validator.problems
    if problems:
        raise InventoryError(problems)
    if not hosts:
        raise InventoryError([f"{display(path)}: the inventory has no hosts"])
    return Inventory(source=str(path), sites=tuple(sites), hosts=hosts, monitor=monitor,
                     netdev=netdev, office=office,
                     incidents=incidents, access=access, accounts=accounts)

