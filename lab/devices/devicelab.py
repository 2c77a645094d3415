"""A lab of fake network devices for tests: start many, write their known_hosts, stop all.

with DeviceLab() as lab:
    gw = lab.add("school-01-gw", "routeros", outputs_from_case("routeros", case_dir))
    write_known_hosts(tmp_path / "known_hosts", lab.devices)
    ...  # netmiko to gw.address:gw.port as gw.username / gw.password
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from lab.devices.fakenos_ios import FakeNosIosDevice
from lab.devices.sshdevice import DEFAULT_PASSWORD, Acceptor, SshDevice, platform_named

# The device outputs are the rule tests' fixtures: one set of files serves both.
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "unit" / "netdev" / "fixtures"


class FakeDevice(Protocol):
    """What a test may ask of any fake device, whichever server plays it."""

    name: str
    platform: str
    username: str
    password: str
    enable_secret: str | None

    @property
    def device_type(self) -> str: ...

    @property
    def address(self) -> str: ...

    @property
    def port(self) -> int: ...

    def known_hosts_line(self) -> str: ...

    def set_outputs(self, outputs: Mapping[str, str]) -> None: ...

    def present_wrong_host_key(self) -> None: ...

    def connect_params(self) -> dict[str, Any]: ...

    def stop(self) -> None: ...


def outputs_from_case(platform: str, case_dir: Path) -> dict[str, str]:
    """The command → output table of one fixture case.

    ``case_dir`` holds ``<output-name>.txt`` files (tests/unit/netdev/fixtures/<platform>/
    <case>/); each output name is turned into the command that produces it on ``platform``.
    A missing file leaves that command unanswered (the device prints its error line).

    Raises:
        ValueError: a .txt file names no output of the platform, or the folder has none.
    """
    commands = platform_named(platform).commands
    outputs: dict[str, str] = {}
    for path in sorted(case_dir.glob("*.txt")):
        if path.stem not in commands:
            raise ValueError(f"{path}: {platform} has no output {path.stem!r}; {sorted(commands)}")
        outputs[commands[path.stem]] = path.read_text(encoding="utf-8")
    if not outputs:
        raise ValueError(f"{case_dir}: no output files ({', '.join(sorted(commands))}.txt)")
    return outputs


def write_known_hosts(path: Path, devices: Iterable[FakeDevice]) -> Path:
    """Write an OpenSSH known_hosts file (mode 0600) naming every device's host key."""
    text = "".join(device.known_hosts_line() + "\n" for device in devices)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    path.chmod(0o600)
    return path


class DeviceLab:
    """Many fake devices sharing one acceptor thread; ``add`` starts a device at once."""

    def __init__(self) -> None:
        self.devices: list[FakeDevice] = []
        self._acceptor: Acceptor | None = None
        self._workdir: Path | None = None

    def __enter__(self) -> DeviceLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __getitem__(self, name: str) -> FakeDevice:
        for device in self.devices:
            if device.name == name:
                return device
        raise KeyError(name)

    def add(
        self,
        name: str,
        platform: str,
        outputs: Mapping[str, str] | None = None,
        *,
        username: str = "dlict",
        password: str = DEFAULT_PASSWORD,
        enable_secret: str | None = None,
        address: str = "127.0.0.1",
        dead: bool = False,
        fakenos: bool = False,
        wrong_host_key: bool = False,
    ) -> FakeDevice:
        """Start a device and return it.

        Arguments:
            platform: routeros, ios or fortios.
            outputs: command → output text (see ``outputs_from_case``).
            enable_secret: IOS only; the login lands at ``>`` and needs ``enable``.
            address: any address in 127/8; the port is chosen by the OS.
            dead: accept TCP, never speak SSH.
            fakenos: serve with FakeNOS instead of our server (IOS only).
            wrong_host_key: present a key other than the one ``known_hosts_line`` names.
        """
        if any(device.name == name for device in self.devices):
            raise ValueError(f"device {name!r} is already in the lab")
        device: FakeDevice
        if fakenos:
            if platform != "ios" or dead:
                raise ValueError("FakeNOS plays live IOS devices only")
            device = FakeNosIosDevice(
                name,
                outputs,
                workdir=self._keys_dir(),
                username=username,
                password=password,
                enable_secret=enable_secret,
                address=address,
            ).start()
        else:
            if self._acceptor is None:
                self._acceptor = Acceptor()
            device = SshDevice(
                name,
                platform,
                outputs,
                username=username,
                password=password,
                enable_secret=enable_secret,
                address=address,
                dead=dead,
                acceptor=self._acceptor,
            ).start()
        if wrong_host_key:
            device.present_wrong_host_key()
        self.devices.append(device)
        return device

    def write_known_hosts(self, path: Path) -> Path:
        return write_known_hosts(path, self.devices)

    def stop(self) -> None:
        """Stop every device, the acceptor, and remove the key files."""
        while self.devices:
            self.devices.pop().stop()
        if self._acceptor is not None:
            self._acceptor.close()
            self._acceptor = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _keys_dir(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="dlict-devices-"))
        return self._workdir
