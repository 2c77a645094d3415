"""The fake devices answer real netmiko over real SSH as the real platforms would."""

from __future__ import annotations

import socket
import stat
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from netmiko import BaseConnection, ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

from lab.devices import DeviceLab, FakeDevice, outputs_from_case, write_known_hosts
from lab.devices.sshdevice import platform_named

ROUTEROS = {
    "/export terse": (
        "# 2024-04-01 10:00:00 by RouterOS 7.12.1\n"
        "# software id = 4XQ9-0B7Z\n"
        "/system identity set name=gw\n"
        "/ip service set telnet disabled=yes\n"
        "/system logging action add name=remote remote=198.51.100.10 target=remote"
    ),
    "/ip service print detail without-paging": (
        "Flags: X - disabled, I - invalid\n"
        ' 0 X name="telnet" port=23 address="" vrf=main\n'
        ' 1   name="ssh" port=22 address=192.0.2.0/24 vrf=main'
    ),
    "/user print detail without-paging": (
        "Flags: X - disabled\n"
        ' 0   ;;; system default user\n      name="ops" group=full address="" '
        "last-logged-in=apr/01/2024 10:00:00"
    ),
}
IOS = {
    "show running-config": (
        "Building configuration...\n\nCurrent configuration : 1024 bytes\n!\n"
        "version 15.2\nhostname R1\n!\nlogging host 198.51.100.10\n"
        "ntp server 198.51.100.1\n!\nend"
    ),
    "show version": (
        "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8, "
        "RELEASE SOFTWARE (fc1)\nR1 uptime is 3 weeks, 2 days"
    ),
}
FORTIOS = {
    "show full-configuration": (
        "#config-version=FGT60F-7.2.8-FW-build1639-240313:opmode=0:vdom=0:user=admin\n"
        "#conf_file_ver=1234567890\n#buildno=1639\n#global_vdom=1\n"
        'config system global\n    set hostname "FGT60F"\n    set admin-telnet disable\nend'
    ),
}
OUTPUTS = {"routeros": ROUTEROS, "ios": IOS, "fortios": FORTIOS}
TIMEOUT = 2.0
# (platform, served by FakeNOS, enable secret)
KINDS = [
    pytest.param("routeros", False, None, id="routeros"),
    pytest.param("fortios", False, None, id="fortios"),
    pytest.param("ios", False, None, id="ios"),
    pytest.param("ios", True, "Enable-Secret-1", id="ios-fakenos"),
]


@pytest.fixture
def lab() -> Iterator[DeviceLab]:
    with DeviceLab() as devices:
        yield devices


def connect(device: FakeDevice, known_hosts: Path, **overrides: Any) -> BaseConnection:
    """netmiko as dlict uses it: strict host keys from our own known_hosts only."""
    params: dict[str, Any] = {
        **device.connect_params(),
        "ssh_strict": True,
        "system_host_keys": False,
        "alt_host_keys": True,
        "alt_key_file": str(known_hosts),
        "conn_timeout": TIMEOUT,
        "banner_timeout": TIMEOUT,
        "auth_timeout": TIMEOUT,
        **overrides,
    }
    return ConnectHandler(**params)


def fetch(device: FakeDevice, known_hosts: Path) -> dict[str, str]:
    """Every output the platform's rules read, by command, from one session."""
    with connect(device, known_hosts) as conn:
        if device.enable_secret is not None:
            conn.enable()
        return {
            command: str(conn.send_command(command))
            for command in platform_named(device.platform).commands.values()
        }


@pytest.mark.parametrize(("platform", "fakenos", "secret"), KINDS)
def test_device_serves_its_outputs_to_netmiko(
    lab: DeviceLab, tmp_path: Path, platform: str, fakenos: bool, secret: str | None
) -> None:
    device = lab.add("edge1", platform, OUTPUTS[platform], fakenos=fakenos, enable_secret=secret)
    known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")

    assert fetch(device, known_hosts) == OUTPUTS[platform]


@pytest.mark.parametrize(("platform", "fakenos", "secret"), KINDS)
def test_changed_outputs_are_served_to_the_next_backup(
    lab: DeviceLab, tmp_path: Path, platform: str, fakenos: bool, secret: str | None
) -> None:
    device = lab.add("edge1", platform, OUTPUTS[platform], fakenos=fakenos, enable_secret=secret)
    known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")
    before = fetch(device, known_hosts)
    changed = {command: text + "\n# changed" for command, text in OUTPUTS[platform].items()}

    device.set_outputs(changed)

    assert before == OUTPUTS[platform]
    assert fetch(device, known_hosts) == changed


@pytest.mark.parametrize("fakenos", [False, True], ids=["sshdevice", "fakenos"])
def test_a_device_presenting_another_host_key_is_refused(
    lab: DeviceLab, tmp_path: Path, fakenos: bool
) -> None:
    device = lab.add("sw1", "ios", IOS, fakenos=fakenos, wrong_host_key=True)
    known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")

    with pytest.raises(NetmikoTimeoutException, match=r"Host key for server .* does not match"):
        connect(device, known_hosts)


def test_a_device_missing_from_known_hosts_is_refused(lab: DeviceLab, tmp_path: Path) -> None:
    known = lab.add("gw1", "routeros", ROUTEROS)
    stranger = lab.add("gw2", "routeros", ROUTEROS)
    known_hosts = write_known_hosts(tmp_path / "known_hosts", [known])

    with pytest.raises(NetmikoTimeoutException, match="not found in known_hosts"):
        connect(stranger, known_hosts)


def test_a_dead_device_fails_within_the_banner_timeout(lab: DeviceLab, tmp_path: Path) -> None:
    device = lab.add("hung", "routeros", dead=True)
    known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")
    started = time.monotonic()

    with pytest.raises(NetmikoTimeoutException, match="banner"):
        connect(device, known_hosts, banner_timeout=1.0)

    assert time.monotonic() - started < 1.0 + TIMEOUT


def test_a_wrong_password_is_an_authentication_failure(lab: DeviceLab, tmp_path: Path) -> None:
    device = lab.add("fw1", "fortios", FORTIOS)
    known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")

    with pytest.raises(NetmikoAuthenticationException):
        connect(device, known_hosts, password="not-it")


@pytest.mark.parametrize("fakenos", [False, True], ids=["sshdevice", "fakenos"])
def test_ios_running_config_needs_enable_when_the_user_is_not_privileged(
    lab: DeviceLab, tmp_path: Path, fakenos: bool
) -> None:
    device = lab.add("sw1", "ios", IOS, enable_secret="Enable-Secret-1", fakenos=fakenos)
    known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")

    with connect(device, known_hosts) as conn:
        user_exec = conn.send_command("show running-config")
        assert not conn.check_enable_mode()
        conn.enable()
        assert conn.check_enable_mode()
        privileged = conn.send_command("show running-config")

    assert "% Invalid input detected" in user_exec
    assert privileged == IOS["show running-config"]


def test_a_wrong_enable_secret_fails_to_enable(lab: DeviceLab, tmp_path: Path) -> None:
    device = lab.add("sw1", "ios", IOS, enable_secret="Enable-Secret-1")
    known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")

    with connect(device, known_hosts, secret="wrong") as conn, pytest.raises(ValueError):
        conn.enable()


@pytest.mark.parametrize(
    ("platform", "command", "error"),
    [
        ("routeros", "/ip frobnicate print", "bad command name ip"),
        ("fortios", "show frobnicate", "command parse error before 'frobnicate'"),
        ("ios", "show frobnicate", "% Invalid input detected at '^' marker."),
    ],
)
def test_an_unknown_command_gets_the_platform_error(
    lab: DeviceLab, tmp_path: Path, platform: str, command: str, error: str
) -> None:
    device = lab.add("dev1", platform, OUTPUTS[platform])
    known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")

    with connect(device, known_hosts) as conn:
        assert error in conn.send_command(command)


def test_sixty_devices_start_fast_and_serve_concurrent_backups(tmp_path: Path) -> None:
    platforms = ["routeros", "fortios", "ios"]
    with DeviceLab() as lab:
        started = time.monotonic()
        devices = [
            lab.add(f"school-{i:02d}", platforms[i % 3], OUTPUTS[platforms[i % 3]])
            for i in range(60)
        ]
        start_seconds = time.monotonic() - started
        known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")

        with ThreadPoolExecutor(max_workers=12) as pool:
            fetched = list(pool.map(lambda d: fetch(d, known_hosts), devices))

        assert start_seconds < 1.0
        assert len({d.port for d in devices}) == 60
        assert len(set(known_hosts.read_text().splitlines())) == 60
        assert fetched == [OUTPUTS[d.platform] for d in devices]
        ports = [d.port for d in devices]
    for port in ports[:3]:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_known_hosts_is_private_and_names_each_port(lab: DeviceLab, tmp_path: Path) -> None:
    gw = lab.add("gw", "routeros", address="127.0.0.2")
    sw = lab.add("sw", "ios", fakenos=True)

    path = lab.write_known_hosts(tmp_path / "known_hosts")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().splitlines() == [gw.known_hosts_line(), sw.known_hosts_line()]
    assert gw.known_hosts_line().startswith(f"[127.0.0.2]:{gw.port} ssh-ed25519 AAAA")
    assert sw.known_hosts_line().startswith(f"[127.0.0.1]:{sw.port} ssh-rsa AAAA")


def test_devices_listen_on_loopback_only(lab: DeviceLab) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        lab.add("gw", "routeros", address="192.0.2.1")


def test_outputs_from_case_maps_output_names_to_commands(tmp_path: Path) -> None:
    case = tmp_path / "routeros" / "compliant"
    case.mkdir(parents=True)
    texts: Mapping[str, str] = {"config": "/ip service set telnet disabled=yes\n", "users": "x"}
    for name, text in texts.items():
        (case / f"{name}.txt").write_text(text)

    assert outputs_from_case("routeros", case) == {
        "/export terse": texts["config"],
        "/user print detail without-paging": texts["users"],
    }


def test_outputs_from_case_refuses_a_file_the_platform_does_not_produce(tmp_path: Path) -> None:
    (tmp_path / "config.txt").write_text("hostname R1\n")
    (tmp_path / "services.txt").write_text("")

    with pytest.raises(ValueError, match="no output 'services'"):
        outputs_from_case("ios", tmp_path)
