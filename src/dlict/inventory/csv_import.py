"""Build a district inventory from a school list (CSV, UTF-8 with or without BOM).

Headers may be English or the Thai ones found in OBEC/office spreadsheets. Rows are numbered
as a spreadsheet shows them (the header is row 1). Nothing is written unless every row is
valid, and the result is checked with Ansible's parser before it is moved into place.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dlict.core.errors import CsvImportError, InputError
from dlict.core.files import os_failure
from dlict.core.inputs import read_input_bytes
from dlict.dltv import DVB_FEMON
from dlict.inventory.devices import NETWORK_OS, is_known_device_type, served_types_text
from dlict.inventory.loader import load_inventory
from dlict.inventory.locate import display
from dlict.inventory.models import Dltv, Link, SiteMeta, is_address

# column → accepted header spellings (compared case-insensitively, spaces trimmed)
COLUMNS: dict[str, tuple[str, ...]] = {
    "school_code": ("school_code", "code", "รหัสโรงเรียน", "รหัสสถานศึกษา", "รหัส 10 หลัก"),
    "name_th": ("name_th", "ชื่อโรงเรียน", "ชื่อสถานศึกษา"),
    "name_en": ("name_en", "ชื่อภาษาอังกฤษ", "ชื่อโรงเรียน (อังกฤษ)"),
    "amphoe": ("amphoe", "district", "อำเภอ"),
    "province": ("province", "จังหวัด"),
    "isp": ("isp", "ผู้ให้บริการอินเทอร์เน็ต", "ผู้ให้บริการ"),
    "wan_address": ("wan_address", "ไอพีสาธารณะ", "wan ip"),
    "server_address": ("server_address", "ไอพีเครื่องแม่ข่าย"),
    "router_address": ("router_address", "ไอพีเราเตอร์"),
    "router_type": ("router_type", "ชนิดเราเตอร์"),
    "dltv_source": ("dltv_source", "แหล่งสัญญาณ dltv"),
    "dltv_address": ("dltv_address", "ที่อยู่ตัวรับ dltv"),
    "contact_name": ("contact_name", "ผู้ประสานงาน"),
    "contact_phone": ("contact_phone", "โทรศัพท์"),
}
REQUIRED = ("school_code", "name_th", "name_en", "amphoe", "province")


@dataclass
class _School:
    row: int
    meta: SiteMeta
    server: str | None
    router: str | None
    router_type: str | None
    dltv_host: str | None


def _header_map(header: list[str]) -> dict[str, int]:
    wanted = {alias.strip().lower(): column for column, aliases in COLUMNS.items()
              for alias in aliases}
    return {wanted[h.strip().lower()]: i for i, h in enumerate(header)
            if h.strip().lower() in wanted}


def _cell(row: list[str], columns: Mapping[str, int], name: str) -> str:
    index = columns.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def _row_meta(cells: Mapping[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {k: cells[k] for k in REQUIRED}
    if cells["isp"] or cells["wan_address"]:
        link: dict[str, Any] = {"isp": cells["isp"] or "unknown"}
        if cells["wan_address"]:
            link["wan_address"] = cells["wan_address"]
            link["probe_targets"] = [cells["wan_address"]]
        meta["link"] = link
    if cells["dltv_source"]:
        dltv: dict[str, Any] = {"source": cells["dltv_source"]}
        if cells["dltv_address"]:
            dltv["address"] = cells["dltv_address"]
        meta["dltv"] = dltv
    if cells["contact_name"]:
        meta["contacts"] = [{"name": cells["contact_name"], "phone": cells["contact_phone"]}]
    return meta


def _parse_row(
    number: int, cells: Mapping[str, str], where: str
) -> tuple[_School | None, list[str]]:
    problems = []
    for name in REQUIRED:
        if not cells[name]:
            problems.append(f"{where}: row {number}: {name}: empty")
    if problems:
        return None, problems
    try:
        meta = SiteMeta.model_validate(_row_meta(cells))
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"] if p not in (Link.__name__, Dltv.__name__))
            problems.append(f"{where}: row {number}: {loc}: "
                            f"{str(err['msg']).removeprefix('Value error, ')}")
        return None, problems
    for column in ("server_address", "router_address"):
        if cells[column] and not is_address(cells[column]):
            problems.append(f"{where}: row {number}: {column}: "
                            f"'{cells[column]}' is not an IP address or host name")
    router_type = cells["router_type"] or None
    if router_type and not is_known_device_type(NETWORK_OS.get(router_type, router_type)):
        problems.append(f"{where}: row {number}: router_type: unknown device type "
                        f"'{router_type}' (dlict serves {served_types_text()})")
    if cells["router_address"] and not router_type:
        problems.append(f"{where}: row {number}: router_type: required when router_address is set")
    dltv_host = cells["dltv_address"] if meta.dltv and meta.dltv.source == DVB_FEMON else None
    if problems:
        return None, problems
    return _School(number, meta, cells["server_address"] or None, cells["router_address"] or None,
                   router_type, dltv_host), []


def read_schools(csv_path: Path) -> list[_School]:
    """Parse and check every row; all problems are reported together."""
    where = display(csv_path)
    try:
        text = read_input_bytes(Path(where)).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{where}: not UTF-8 text (save the sheet as CSV UTF-8): {exc.reason}"
        ) from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputError(f"{where}: empty file")
    columns = _header_map(rows[0])
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(f"{where}: row 1: missing column(s): {', '.join(missing)}")
    schools: list[_School] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: _cell(row, columns, name) for name in COLUMNS}
        school, row_problems = _parse_row(number, cells, where)
        problems += row_problems
        if school is None:
            continue
        code = school.meta.school_code or ""
        if code in seen:
            problems.append(f"{where}: row {number}: school_code: duplicate {code}, "
                            f"first on row {seen[code]}")
            continue
        seen[code] = number
        schools.append(school)
    if problems:
        raise CsvImportError(problems)
    if not schools:
        raise InputError(f"{where}: no school rows")
    if not any(s.server or s.router or s.dltv_host for s in schools):
        # an inventory without a single host fails validation; say so before writing it
        raise CsvImportError([
            f"{where}: row {s.row}: no address: server_address and router_address are empty "
            "(the inventory needs at least one host)" for s in schools])
    return schools


def _inventory_documents(schools: list[_School]) -> tuple[dict[str, Any], dict[str, Any]]:
    school_groups: dict[str, Any] = {}
    roles: dict[str, dict[str, Any]] = {"linux_servers": {}, "network_devices": {},
                                        "dltv_receivers": {}}
    group_vars: dict[str, Any] = {}
    for school in schools:
        code = school.meta.school_code
        hosts: dict[str, Any] = {}
        if school.server:
            hosts[f"s{code}-srv"] = {"ansible_host": school.server}
            roles["linux_servers"][f"s{code}-srv"] = None
        if school.router:
            device_type = NETWORK_OS.get(school.router_type or "", school.router_type)
            hosts[f"s{code}-gw"] = {"ansible_host": school.router,
                                    "netmiko_device_type": device_type}
            roles["network_devices"][f"s{code}-gw"] = None
        if school.dltv_host:
            hosts[f"s{code}-dvb"] = {"ansible_host": school.dltv_host}
            roles["dltv_receivers"][f"s{code}-dvb"] = None
        school_groups[f"school_{code}"] = {"hosts": hosts} if hosts else None
        group_vars[f"school_{code}"] = {
            "dlict_site": school.meta.model_dump(mode="json", exclude_none=True,
                                                 exclude_defaults=True)
            | {"school_code": code}
        }
    children: dict[str, Any] = {"schools": {"children": school_groups}}
    children.update({role: {"hosts": hosts} for role, hosts in roles.items() if hosts})
    return {"all": {"children": children}}, group_vars


def _dump(path: Path, document: Any, comment: str = "") -> None:
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(comment + text.replace(": null\n", ":\n"), encoding="utf-8")


def import_schools(csv_path: Path, out_dir: Path) -> int:
    """Write an inventory for the schools in ``csv_path`` to ``out_dir`` (new or empty).

    Returns:
        How many schools were written.

    Raises:
        CsvImportError: rows are invalid (each named by its row number); nothing is written.
        InputError: the file is unreadable or ``out_dir`` already holds files.
    """
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"{display(out_dir)}: already exists and is not empty; "
                         "choose a new directory (nothing was overwritten)")
    schools = read_schools(csv_path)
    hosts_doc, group_vars = _inventory_documents(schools)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".dlict-import-", dir=out_dir.parent))
    try:
        (staging / "group_vars").mkdir()
        _dump(staging / "hosts.yml", hosts_doc,
              f"# Imported by dlict from {csv_path.name}: {len(schools)} schools.\n")
        for group, variables in group_vars.items():
            _dump(staging / "group_vars" / f"{group}.yml", variables)
        load_inventory(staging)
        staging.chmod(0o750)
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):  # named by the folder asked for, not the staging one
            cause = OSError(exc.errno, exc.strerror)
            raise os_failure(out_dir, "write the inventory (nothing was written)", cause) from exc
        raise
    return len(schools)
