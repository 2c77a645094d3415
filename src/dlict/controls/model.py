"""The SOP control catalog: what each control is, why, how it is checked and fixed."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dlict.core.errors import OperationalError
from dlict.i18n import pick
from dlict.netdev.platforms import platform_names

CONTROL_ID = re.compile(r"^(?P<prefix>FW|AV|EP|ID|LOG)-(?P<number>\d{2})$")
# Platforms of the network-device controls: the device platform registry's names.
DEVICE_PLATFORMS = platform_names()
AREA_PREFIX = {"firewall": "FW", "antivirus": "AV", "endpoint": "EP", "identity": "ID",
               "logging": "LOG"}


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class CheckedBy(StrEnum):
    """What judges a control: the SOP playbooks on Linux hosts, the device rules over SSH
    (netdev), or packets sent from outside (netscan)."""

    ANSIBLE = "ansible"
    NETDEV = "netdev"
    NETSCAN = "netscan"


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=CONTROL_ID.pattern)
    area: str
    sop_clause: str
    title_th: str
    title_en: str
    rationale: str
    legal_reference: str | None = None
    severity: Severity
    platforms: tuple[str, ...] = ("debian", "ubuntu")
    checked_by: CheckedBy = CheckedBy.ANSIBLE
    check: str
    fix: str

    def title(self, lang: str) -> str:
        return pick(self.title_th, self.title_en, lang)


class _AreaFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: str
    sop_clause: str
    platforms: tuple[str, ...] = ("debian", "ubuntu")
    controls: list[dict[str, object]]

    @model_validator(mode="after")
    def _known_area(self) -> _AreaFile:
        if self.area not in AREA_PREFIX:
            raise ValueError(f"unknown area {self.area}")
        return self


class Catalog:
    """All controls, in catalog order, by ID and by area."""

    def __init__(self, controls: list[Control]) -> None:
        self.controls = controls
        self.by_id = {c.id: c for c in controls}

    @property
    def areas(self) -> list[str]:
        return list(dict.fromkeys(c.area for c in self.controls))

    def in_areas(self, areas: list[str],
                 checked_by: CheckedBy = CheckedBy.ANSIBLE) -> list[Control]:
        """The areas' controls judged by ``checked_by`` (the playbooks unless told)."""
        return [c for c in self.controls if c.area in areas and c.checked_by is checked_by]

    def checked_by(self, checker: CheckedBy) -> list[Control]:
        return [c for c in self.controls if c.checked_by is checker]


def _parse_area(name: str, text: str) -> list[Control]:
    data = _AreaFile.model_validate(yaml.safe_load(text))
    prefix = AREA_PREFIX[data.area]
    controls = []
    for entry in data.controls:
        control = Control.model_validate({"area": data.area, "sop_clause": data.sop_clause,
                                          "platforms": data.platforms, **entry})
        if not control.id.startswith(prefix + "-"):
            raise ValueError(f"{name}: {control.id} is not a {data.area} control ({prefix}-nn)")
        unserved = set(control.platforms) - {"debian", "ubuntu", *DEVICE_PLATFORMS}
        if control.checked_by is CheckedBy.NETDEV and unserved:
            raise ValueError(f"{name}: {control.id} names device platform "
                             f"{', '.join(sorted(unserved))}, which no dlict platform is")
        controls.append(control)
    return controls


@cache
def load_catalog() -> Catalog:
    """The catalog shipped with dlict (package data ``dlict/controls/catalog/*.yml``).

    Raises:
        OperationalError: the shipped catalog is broken (a packaging bug, not user input).
    """
    controls: list[Control] = []
    folder = resources.files("dlict.controls") / "catalog"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yml"):
            continue
        try:
            controls += _parse_area(entry.name, entry.read_text(encoding="utf-8"))
        except (ValidationError, ValueError, yaml.YAMLError) as exc:
            raise OperationalError(f"control catalog {entry.name} is broken: {exc}") from exc
    ids = [c.id for c in controls]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise OperationalError(f"control catalog has duplicate IDs: {', '.join(duplicates)}")
    order = list(AREA_PREFIX)
    controls.sort(key=lambda c: (order.index(c.area), c.id))
    return Catalog(controls)
