"""The device platform registry: every platform in it is complete, and every platform folder is
in it — so adding a platform is one folder plus one registry line, and nothing is forgotten."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

import dlict.netdev.platforms as platforms_package
from dlict.controls import DEVICE_PLATFORMS, CheckedBy, load_catalog
from dlict.inventory.devices import NETWORK_OS, is_known_device_type
from dlict.inventory.models import NetdevSettings
from dlict.netdev.platforms import CONFIG, PLATFORMS, REGISTRY, DevicePlatform, platform_for
from tests.unit.netdev.harness import FIXTURES, cases

# Every member the DevicePlatform protocol declares.
MEMBERS = sorted(n for n in vars(DevicePlatform) if not n.startswith("_"))
FLAGS = {"needs_enable"}
PLATFORM_DIR = Path(platforms_package.__file__).parent


def test_the_protocol_has_the_members_a_platform_is_made_of() -> None:
    assert {"name", "device_types", "commands", "error_markers", "needs_enable", "rules",
            "normalize", "firmware_version"} <= set(MEMBERS)


@pytest.mark.parametrize("platform", REGISTRY, ids=lambda p: p.name)
def test_every_platform_is_complete(platform: DevicePlatform) -> None:
    for member in MEMBERS:
        value = getattr(platform, member)
        assert value is not None, member
        if member in FLAGS:
            assert isinstance(value, bool), member
        elif isinstance(value, str | tuple | Mapping):
            assert value, f"{platform.name}.{member} is empty"
        else:
            assert callable(value), member
    assert CONFIG in platform.commands
    assert all(isinstance(c, str) and c.strip() for c in platform.commands.values())
    assert platform.config_command == platform.commands[CONFIG]
    assert platform.device_type == platform.device_types[0]


@pytest.mark.parametrize("platform", REGISTRY, ids=lambda p: p.name)
def test_each_rule_answers_a_netdev_control_of_the_catalog(platform: DevicePlatform) -> None:
    catalog = load_catalog()
    for control in platform.rules:
        assert control in catalog.by_id, f"{platform.name}: {control} is not in the catalog"
        assert catalog.by_id[control].checked_by is CheckedBy.NETDEV, control
        assert platform.name in catalog.by_id[control].platforms, control


def test_device_types_and_network_os_names_are_unique_across_platforms() -> None:
    names = [p.name for p in REGISTRY]
    device_types = [t for p in REGISTRY for t in p.device_types]
    network_os = [o for p in REGISTRY for o in p.network_os]
    assert len(set(names)) == len(names)
    assert len(set(device_types)) == len(device_types), device_types
    assert len(set(network_os)) == len(network_os), network_os


def test_every_platform_folder_is_registered_and_has_fixtures() -> None:
    folders = sorted(p.name for p in PLATFORM_DIR.iterdir()
                     if p.is_dir() and (p / "__init__.py").is_file())
    assert folders == sorted(p.name for p in REGISTRY)
    for platform in REGISTRY:
        assert (FIXTURES / platform.name / "README.md").is_file(), platform.name
        assert "compliant" in cases(platform), platform.name


def test_inventory_catalog_and_session_read_the_one_registry() -> None:
    served = {t for p in REGISTRY for t in p.device_types}
    assert set(PLATFORMS) == served
    assert all(is_known_device_type(t) for t in served)
    assert not any(is_known_device_type(t) for t in ("huawei", "ruijie_os", "cisco_nxos"))
    assert all(platform_for(t) is p for p in REGISTRY for t in p.device_types)
    assert {NETWORK_OS[o] for p in REGISTRY for o in p.network_os} <= served
    assert tuple(p.name for p in REGISTRY) == DEVICE_PLATFORMS
    settings = NetdevSettings.model_validate({"min_firmware": {p.name: "1" for p in REGISTRY}})
    assert set(settings.min_firmware) == set(DEVICE_PLATFORMS)


@pytest.mark.parametrize(("guide", "heading"), [
    ("guide.en.md", "### Adding a device platform"),
    ("guide.th.md", "### การเพิ่มแพลตฟอร์มอุปกรณ์"),
])
def test_the_guides_say_how_to_add_a_platform_and_name_every_served_type(guide: str,
                                                                         heading: str) -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / guide).read_text(encoding="utf-8")
    assert heading in text
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    assert "REGISTRY" in section and "src/dlict/netdev/platforms/" in section
    assert all(f"`{t}`" in text for p in REGISTRY for t in p.device_types)
