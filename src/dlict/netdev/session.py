"""One SSH session per device through netmiko: host key checked against known_hosts, every
step bounded by the timeout, and the few ways it fails told apart in plain words."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dlict.inventory.models import Host
from dlict.netdev.credentials import Credentials
from dlict.netdev.platforms import Platform


class Failure(StrEnum):
    UNREACHABLE = "unreachable"  # no TCP connection, no SSH banner, or a session that hung
    HOST_KEY = "host-key"  # unknown or changed host key: refused
    LOGIN = "login"  # the device refused the user or password
    ERROR = "error"  # the device answered, but not as its platform should


class DeviceError(Exception):
    """A device could not be worked on; ``failure`` says how, the message what to do."""

    def __init__(self, failure: Failure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


@dataclass(frozen=True)
class SessionOptions:
    known_hosts: Path
    timeout_s: float


def fetch_outputs(host: Host, platform: Platform, credentials: Credentials,
                  options: SessionOptions, names: tuple[str, ...] | None = None
                  ) -> dict[str, str]:
    """Run the platform's commands (``names`` of them, all when None) on ``host``; returns
    output name → text.

    Raises:
        DeviceError: unreachable, host key refused, login refused, or a command failed.
    """
    from netmiko import ConnectHandler

    port = host.port or 22
    where = f"{host.name} ({host.address}:{port})"
    if not options.known_hosts.is_file():
        raise DeviceError(Failure.HOST_KEY, f"{where}: known_hosts file {options.known_hosts} "
                          "does not exist: no host key can be verified, so none is trusted")
    timeout = options.timeout_s
    params: dict[str, object] = {
        "device_type": platform.device_type, "host": host.address, "port": port,
        "username": credentials.user, "password": credentials.password or "",
        "secret": credentials.secret or "",
        "ssh_strict": True, "system_host_keys": False, "alt_host_keys": True,
        "alt_key_file": str(options.known_hosts),
        "conn_timeout": timeout, "banner_timeout": timeout, "auth_timeout": timeout,
        "blocking_timeout": timeout, "read_timeout_override": timeout,
        "session_timeout": timeout, "keepalive": 0, "fast_cli": True,
        "allow_agent": False,
    }
    if credentials.key_file:
        params |= {"use_keys": True, "key_file": credentials.key_file}
    try:
        connection = ConnectHandler(**params)
    except Exception as exc:
        raise _classify(where, options.known_hosts, exc) from None
    try:
        if platform.needs_enable and not connection.check_enable_mode():
            connection.enable()
        outputs: dict[str, str] = {}
        for name, command in platform.commands.items():
            if names is not None and name not in names:
                continue
            text = connection.send_command(command, read_timeout=timeout)
            outputs[name] = text if isinstance(text, str) else str(text)
            refusal = platform.command_error(outputs[name])
            if refusal is not None:
                raise DeviceError(Failure.ERROR, f"{where}: '{command}' was refused: {refusal} "
                                  "(is the login allowed to read the configuration?)")
        return outputs
    except DeviceError:
        raise
    except Exception as exc:
        raise _classify(where, options.known_hosts, exc) from None
    finally:
        with contextlib.suppress(OSError, EOFError):
            connection.disconnect()


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _classify(where: str, known_hosts: Path, exc: Exception) -> DeviceError:
    import paramiko

    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    for item in chain:
        if isinstance(item, paramiko.BadHostKeyException):
            return DeviceError(
                Failure.HOST_KEY,
                f"{where}: host key does not match {known_hosts} — refused. The device may have "
                f"been replaced or someone is in the path: compare its fingerprint "
                f"({item.key.get_name()} {item.key.fingerprint}) with the device before "
                "updating known_hosts",
            )
    if "not found in known_hosts" in text:
        return DeviceError(Failure.HOST_KEY,
                           f"{where}: host key not in {known_hosts} — refused. Check the "
                           "device's fingerprint, then add its key (ssh-keyscan) to that file")
    for item in chain:
        if isinstance(item, paramiko.AuthenticationException) \
                or type(item).__name__ == "NetmikoAuthenticationException":
            return DeviceError(Failure.LOGIN, f"{where}: login refused for this user")
    if any(isinstance(e, (TimeoutError, socket.timeout, ConnectionError, EOFError))
           for e in chain) or type(exc).__name__ in ("NetmikoTimeoutException",
                                                     "ReadTimeout"):
        first = str(exc).strip().splitlines()
        detail = next((line for line in first if line.strip()), type(exc).__name__)
        return DeviceError(Failure.UNREACHABLE, f"{where}: no answer ({detail.strip()})")
    return DeviceError(Failure.ERROR, f"{where}: {type(exc).__name__}: {str(exc).strip()[:300]}")


def outputs_summary(outputs: Mapping[str, str]) -> str:
    return ", ".join(f"{name} {len(text.splitlines())} lines" for name, text in outputs.items())
