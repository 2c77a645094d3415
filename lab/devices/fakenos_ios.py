"""A Cisco IOS device served by FakeNOS (an independent fake, not ours) with our outputs.

The NOS definition is built here: user EXEC ``R1>`` at login, ``enable`` asks for the enable
secret and leads to ``R1#``, ``show running-config`` answers in privileged EXEC only (at ``>``
a real IOS rejects it with "% Invalid input"), ``show version`` in both.

FakeNOS's own ``FakeNOS`` class wants fixed ports and integer timeouts of a second or more, and
starts listening in a thread after ``start()`` returns; so this module runs FakeNOS's
``ParamikoSshServer`` with its ``CMDShell`` and ``Nos`` directly, bound to an OS-given port and
listening before ``start()`` returns.

FakeNOS copies the command table into each new session, so ``set_outputs`` reaches the next
session, not one already open. The host key is read when the server starts: presenting another
key restarts the server on the same port.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fakenos.core.nos import Nos  # type: ignore[import-untyped]
from fakenos.plugins.servers.ssh_server_paramiko import ParamikoSshServer  # type: ignore[import-untyped]
from fakenos.plugins.shell.cmd_shell import CMDShell  # type: ignore[import-untyped]

from lab.devices.sshdevice import (
    DEFAULT_PASSWORD,
    check_loopback,
    known_hosts_entry,
    netmiko_params,
    platform_named,
)

PRIVILEGED = "{base_prompt}#"
ANY_EXEC = ["{base_prompt}>", "{base_prompt}#"]
PASSWORD_PROMPT = "Password: "


class _ListeningServer(ParamikoSshServer):  # type: ignore[misc]
    """FakeNOS's SSH server, listening as soon as it is bound and telling its real port,
    and stopping even when a client left in the middle of the handshake."""

    def _bind_sockets(self) -> None:
        super()._bind_sockets()
        self._socket.listen()
        self.port = self._socket.getsockname()[1]

    def _listen(self) -> None:
        # FakeNOS calls listen() again in this thread, on a socket stop() may have closed.
        with contextlib.suppress(OSError):
            super()._listen()

    def connection_function(self, client: socket.socket, is_running: threading.Event) -> None:
        # A client that leaves mid-handshake (refusing our host key) is no server error; its
        # session's accept() then returns None, which FakeNOS does not expect.
        with contextlib.suppress(paramiko.SSHException, EOFError, OSError, AttributeError):
            super().connection_function(client, is_running)

    def _close_active_connections(self) -> None:
        with self._active_sessions_lock:
            sessions = list(self._active_sessions)
        super()._close_active_connections()
        # FakeNOS waits in Transport.accept() with no timeout; when the client left before
        # that wait began, neither paramiko nor close() wakes it, and the thread is not daemonic.
        for session in sessions:
            with session.lock:
                session.server_accept_cv.notify_all()


def write_rsa_key(path: Path) -> paramiko.RSAKey:
    """A new RSA host key in ``path`` (0600), the format FakeNOS's ``ssh_key_file`` reads."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return paramiko.RSAKey.from_private_key_file(str(path))


def ios_commands(outputs: Mapping[str, str], enable_secret: str | None) -> dict[str, Any]:
    """The FakeNOS command table of an IOS device with these outputs."""
    commands: dict[str, Any] = {
        "_default_": {
            "output": "% Invalid input detected at '^' marker.\n",
            "help": "what IOS says to an unknown command",
        },
        "terminal length 0": {"output": "", "help": "no paging", "prompt": ANY_EXEC},
        "terminal width 511": {"output": "", "help": "line width", "prompt": ANY_EXEC},
        "disable": {"output": "", "new_prompt": "{base_prompt}>", "prompt": ANY_EXEC},
    }
    if enable_secret is None:
        commands["enable"] = {"output": "", "new_prompt": PRIVILEGED, "prompt": ANY_EXEC}
    else:
        commands["enable"] = {
            "output": "",
            "new_prompt": PASSWORD_PROMPT,
            "prompt": "{base_prompt}>",
        }
        # CMDShell matches whole lines; the secret is the one line accepted at "Password: ".
        commands[enable_secret] = {
            "output": "",
            "new_prompt": PRIVILEGED,
            "prompt": PASSWORD_PROMPT,
        }
    for command, text in outputs.items():
        privileged = command.startswith(("show running-config", "show startup-config"))
        commands[command] = {
            "output": text,
            "help": f'execute the command "{command}"',
            "prompt": PRIVILEGED if privileged else ANY_EXEC,
        }
    return commands


class FakeNosIosDevice:
    """An IOS device served by FakeNOS; the same interface as ``SshDevice``.

    Arguments:
        name: the device's name (and hostname, hence the prompt ``name>``/``name#``).
        outputs: command → output text.
        workdir: where the host key file is written.
        enable_secret: None lands the login at ``name#`` (a privilege-15 user); a secret lands
            it at ``name>`` and ``enable`` needs the secret.
    """

    platform = "ios"

    def __init__(
        self,
        name: str,
        outputs: Mapping[str, str] | None = None,
        *,
        workdir: Path,
        username: str = "dlict",
        password: str = DEFAULT_PASSWORD,
        enable_secret: str | None = None,
        address: str = "127.0.0.1",
    ) -> None:
        check_loopback(address)
        self.spec = platform_named("ios")
        self.name = name
        self.username = username
        self.password = password
        self.enable_secret = enable_secret
        self._address = address
        self._port = 0
        self._key_file = workdir / f"{name}.rsa"
        self.known_key = write_rsa_key(self._key_file)
        initial = "{base_prompt}>" if enable_secret is not None else PRIVILEGED
        self._nos = Nos(
            name=f"dlict_ios_{name}",
            commands=ios_commands(outputs or {}, enable_secret),
            initial_prompt=initial,
        )
        self._server: _ListeningServer | None = None

    @property
    def device_type(self) -> str:
        return self.spec.device_type

    @property
    def address(self) -> str:
        return self._address

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> FakeNosIosDevice:
        self._server = _ListeningServer(
            shell=CMDShell,
            nos=self._nos,
            nos_inventory_config={},
            port=self._port,
            username=self.username,
            password=self.password,
            ssh_key_file=str(self._key_file),
            ssh_banner="",
            shell_configuration={"base_prompt": self.name, "intro": ""},
            address=self._address,
            timeout=0.2,
            watchdog_interval=0.2,
        )
        self._server.start()
        self._port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeNosIosDevice:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Replace the command table for sessions opened from now on."""
        self._nos.commands = ios_commands(outputs, self.enable_secret)

    def present_wrong_host_key(self) -> None:
        """Restart on the same port with a new key; ``known_hosts_line`` keeps the old one."""
        write_rsa_key(self._key_file)
        if self._server is not None:
            self.stop()
            self.start()

    def known_hosts_line(self) -> str:
        return known_hosts_entry(self._address, self._port, self.known_key)

    def connect_params(self) -> dict[str, Any]:
        """netmiko ConnectHandler arguments that reach this device (no host-key options)."""
        return netmiko_params(self.device_type, self._address, self._port, self.username,
                              self.password, self.enable_secret)
