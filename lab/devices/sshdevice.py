"""A fake network device: a paramiko SSH server in the test process that speaks like RouterOS,
FortiOS or Cisco IOS to netmiko's ``mikrotik_routeros``, ``fortinet`` and ``cisco_ios`` drivers.

Each device listens on its own socket on 127/8 with its own host key and answers the commands
netmiko's session preparation sends plus a replaceable {command: output} table; anything else
gets the platform's error line. One acceptor thread serves every device of a lab; a live
session costs two threads (paramiko's transport and the shell), an idle device none.
"""

from __future__ import annotations

import codecs
import contextlib
import ipaddress
import re
import selectors
import socket
import threading
import time
from collections.abc import Callable, Mapping
from io import StringIO
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)

from dlict.netdev.platforms import PLATFORMS, Platform

PLATFORM_BY_NAME: dict[str, Platform] = {p.name: p for p in PLATFORMS.values()}
DEFAULT_PASSWORD = "Fake-Device-1"

_HOSTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,34}")
_SESSION_SETUP_TIMEOUT = 10.0
_STOP_JOIN_TIMEOUT = 2.0
_POLL = 0.05
# A paramiko server without a moduli file still advertises group-exchange kex but then
# negotiates without it, and netmiko's fortinet driver prefers group-exchange: turn it off.
_NO_GROUP_EXCHANGE = {
    "kex": ["diffie-hellman-group-exchange-sha256", "diffie-hellman-group-exchange-sha1"]
}


def platform_named(name: str) -> Platform:
    """The dlict platform called ``name`` (routeros, ios, fortios)."""
    try:
        return PLATFORM_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown platform {name!r}; one of {sorted(PLATFORM_BY_NAME)}") from None


def new_host_key() -> paramiko.PKey:
    """A fresh Ed25519 host key (microseconds, so every device can have its own)."""
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return paramiko.Ed25519Key.from_private_key(StringIO(pem.decode()))


def netmiko_params(device_type: str, address: str, port: int, username: str, password: str,
                   enable_secret: str | None) -> dict[str, Any]:
    """netmiko ConnectHandler arguments that reach a fake device (no host-key options)."""
    params: dict[str, Any] = {"device_type": device_type, "host": address, "port": port,
                              "username": username, "password": password}
    if enable_secret is not None:
        params["secret"] = enable_secret
    return params


def known_hosts_entry(address: str, port: int, key: paramiko.PKey) -> str:
    """One OpenSSH known_hosts line; a port other than 22 is written ``[host]:port``."""
    host = address if port == 22 else f"[{address}]:{port}"
    return f"{host} {key.get_name()} {key.get_base64()}"


def check_loopback(address: str) -> None:
    """Fake devices listen on 127/8 only: nothing in the tests may reach a real network."""
    if ipaddress.ip_address(address) not in ipaddress.ip_network("127.0.0.0/8"):
        raise ValueError(f"fake devices listen on 127.0.0.0/8 only, not {address}")


class SessionGauge:
    """How many SSH sessions the paramiko devices serve at once, and the most at any time:
    what a test reads to see that a client kept its concurrency bound."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def reset(self) -> None:
        with self._lock:
            self.current = self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.current -= 1


SESSIONS = SessionGauge()


class Acceptor:
    """One thread accepting connections for many listening sockets."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="fake-device-acceptor", daemon=True)
        self._thread.start()

    def add(self, listener: socket.socket, on_accept: Callable[[socket.socket], None]) -> None:
        listener.setblocking(False)
        with self._lock:
            self._selector.register(listener, selectors.EVENT_READ, on_accept)
        self._wake()

    def remove(self, listener: socket.socket) -> None:
        with self._lock, contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(listener)
        self._wake()

    def close(self) -> None:
        self._closed = True
        self._wake()
        self._thread.join(_STOP_JOIN_TIMEOUT)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _run(self) -> None:
        while not self._closed:
            for key, _ in self._selector.select():
                if key.data is None:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                listener: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                conn.setblocking(True)
                key.data(conn)


class _Login(paramiko.ServerInterface):
    """Password login and one interactive shell channel."""

    def __init__(self, device: SshDevice) -> None:
        self.device = device
        self.user = ""
        self.shell_requested = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        user = username
        # RouterOS reads console options after a "+" in the login name; netmiko sends
        # "+ct511w4098h" (no colours, no terminal detection, 511 columns, 4098 rows).
        if self.device.platform == "routeros":
            user = username.split("+", 1)[0]
        if user == self.device.username and password == self.device.password:
            self.user = user
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args: Any) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell_requested.set()
        return True


class Shell:
    """The command line of one session: a prompt and an answer per line."""

    def __init__(self, device: SshDevice, user: str) -> None:
        self.device = device
        self.user = user

    @property
    def echo(self) -> bool:
        """Whether typed characters are echoed (not while a password is typed)."""
        return True

    def greeting(self) -> str:
        return ""

    def prompt(self) -> str:
        raise NotImplementedError

    def execute(self, line: str) -> str | None:
        """The reply to one line, or None when the line ends the session."""
        raise NotImplementedError

    def lookup(self, command: str) -> str | None:
        return self.device.outputs.get(command)


class RouterOsShell(Shell):
    def greeting(self) -> str:
        return (
            "\n\n\n"
            "  MMM      MMM       KKK                          TTTTTTTTTTT      KKK\n"
            "  MMMM    MMMM       KKK                          TTTTTTTTTTT      KKK\n"
            "  MMM MMMM MMM  III  KKK  KKK  RRRRRR     OOOOOO      TTT     III  KKK  KKK\n"
            "  MMM  MM  MMM  III  KKKKK     RRR  RRR  OOO  OOO     TTT     III  KKKKK\n"
            "  MMM      MMM  III  KKK KKK   RRRRRR    OOO  OOO     TTT     III  KKK KKK\n"
            "  MMM      MMM  III  KKK  KKK  RRR  RRR   OOOOOO      TTT     III  KKK  KKK\n"
            "\n"
            "  MikroTik RouterOS 7.12.1 (c) 1999-2023       https://www.mikrotik.com/\n"
            "\n"
            "Press F1 for help\n\n"
        )

    def prompt(self) -> str:
        return f"[{self.user}@{self.device.hostname}] > "

    def execute(self, line: str) -> str | None:
        command = line.strip()
        if not command:
            return ""
        if command in ("quit", "/quit"):
            return None
        # At the root menu RouterOS takes "/export" and "export" alike.
        for candidate in (command, "/" + command.lstrip("/"), command.lstrip("/")):
            text = self.lookup(candidate)
            if text is not None:
                return text
        word = command.lstrip("/").split()[0]
        return f"bad command name {word} (line 1 column {line.index(word) + 1})"


class FortiOsShell(Shell):
    _STATUS = (
        "Version: FortiGate-60F v7.2.8,build1639,240313 (GA.M)\n"
        "Firmware Signature: certified\n"
        "Virus-DB: 92.02345(2024-03-20 10:27)\n"
        "Extended DB: 92.02345(2024-03-20 10:26)\n"
        "IPS-DB: 27.00748(2024-03-19 01:39)\n"
        "Serial-Number: FGT60FTK00000000\n"
        "BIOS version: 05000029\n"
        "System Part-Number: P24232-04\n"
        "Log hard disk: Not available\n"
        "Hostname: {hostname}\n"
        "Private Encryption: Disable\n"
        "Operation Mode: NAT\n"
        "Current virtual domain: root\n"
        "Max number of virtual domains: 10\n"
        "Virtual domains status: 1 in NAT mode, 0 in TP mode\n"
        "Virtual domain configuration: disable\n"
        "FIPS-CC mode: disable\n"
        "Current HA mode: standalone\n"
        "Branch point: 1639\n"
        "Release Version Information: GA\n"
        "System time: Mon Apr  1 10:00:00 2024\n"
        "Last reboot reason: warm reboot"
    )

    def __init__(self, device: SshDevice, user: str) -> None:
        super().__init__(device, user)
        self.sections: list[str] = []

    def prompt(self) -> str:
        if self.sections:
            return f"{self.device.hostname} ({self.sections[-1]}) # "
        return f"{self.device.hostname} # "

    def execute(self, line: str) -> str | None:
        command = line.strip()
        if not command:
            return ""
        if "|" in command:
            base, _, filt = command.partition("|")
            return self._grep(base.strip(), filt.strip())
        words = command.split()
        if words[0] == "exit" and not self.sections:
            return None
        if words[0] == "config" and len(words) > 1:
            self.sections.append(words[-1])
            return ""
        if words[0] == "edit" and self.sections and len(words) > 1:
            self.sections.append(words[1].strip('"'))
            return ""
        if words[0] in ("next", "abort") and self.sections:
            self.sections.pop()
            return ""
        if words[0] == "end" and self.sections:
            self.sections.clear()
            return ""
        if words[0] in ("set", "unset") and self.sections:
            if self.sections[-1] == "console" and words[1:2] == ["output"] and len(words) > 2:
                self.device.console_output = words[2]
            return ""
        return self._answer(command)

    def _answer(self, command: str) -> str:
        text = self.lookup(command)
        if text is not None:
            return text
        if command == "get system status":
            return self._STATUS.format(hostname=self.device.hostname)
        if command == "get system console":
            return (
                "mode                : line\n"
                "baudrate            : 9600\n"
                f"output              : {self.device.console_output}\n"
                "login               : enable\n"
                "fortiexplorer       : enable"
            )
        words = command.split()
        if words[0] in ("show", "get", "diagnose", "execute") and len(words) > 1:
            return f"command parse error before '{words[1]}'\nCommand fail. Return code -61"
        return "Unknown action 0\nCommand fail. Return code -1"

    def _grep(self, command: str, filt: str) -> str:
        args = filt.split()
        if not args or args[0] != "grep":
            return "Unknown action 0\nCommand fail. Return code -1"
        options = {a for a in args[1:] if a.startswith("-")}
        pattern = " ".join(a for a in args[1:] if not a.startswith("-"))
        flags = re.IGNORECASE if "-i" in options else 0
        invert = "-v" in options
        lines = self._answer(command).split("\n")
        return "\n".join(ln for ln in lines if bool(re.search(pattern, ln, flags)) != invert)


class IosShell(Shell):
    # Commands a privilege-1 (">") session may not run.
    PRIVILEGED = ("show running-config", "show startup-config", "show archive")

    def __init__(self, device: SshDevice, user: str) -> None:
        super().__init__(device, user)
        self.enabled = device.enable_secret is None
        self.asking_secret = False

    @property
    def echo(self) -> bool:
        return not self.asking_secret

    def prompt(self) -> str:
        if self.asking_secret:
            return "Password: "
        return f"{self.device.hostname}{'#' if self.enabled else '>'}"

    def execute(self, line: str) -> str | None:
        if self.asking_secret:
            self.asking_secret = False
            if line == self.device.enable_secret:
                self.enabled = True
                return ""
            return "% Bad secrets\n"
        command = line.strip()
        if not command:
            return ""
        if command in ("exit", "logout", "quit"):
            return None
        if command == "enable":
            self.asking_secret = not self.enabled
            return ""
        if command == "disable":
            self.enabled = self.device.enable_secret is None
            return ""
        if re.fullmatch(r"terminal (length|width) \d+", command):
            return ""
        if command == "show privilege":
            return f"Current privilege level is {15 if self.enabled else 1}"
        text = self.lookup(command)
        if text is not None and (self.enabled or not command.startswith(self.PRIVILEGED)):
            return text
        return self._invalid(line)

    def _invalid(self, line: str) -> str:
        words = list(re.finditer(r"\S+", line))
        marker = words[1] if len(words) > 1 and words[0].group() == "show" else words[0]
        column = len(self.prompt()) + marker.start()
        return " " * column + "^\n% Invalid input detected at '^' marker.\n"


SHELLS: dict[str, type[Shell]] = {
    "routeros": RouterOsShell,
    "fortios": FortiOsShell,
    "ios": IosShell,
}
DEFAULT_HOSTNAMES = {"routeros": "gw", "fortios": "FGT60F", "ios": "R1"}


class SshDevice:
    """One fake device served over real SSH on 127/8.

    Arguments:
        name: the device's name in the test (also its hostname unless ``hostname`` is given).
        platform: routeros, ios or fortios.
        outputs: command → output text; replaceable later with ``set_outputs``.
        username, password: the one login the device accepts.
        enable_secret: IOS only; when set the login lands in user EXEC (``R1>``) and
            ``show running-config`` needs ``enable`` with this secret, as on a real IOS whose
            user is not privilege 15.
        dead: accept TCP and never send the SSH banner (a hung device).
        host_key: the key to serve; a fresh Ed25519 key when None.
        acceptor: the lab's shared acceptor; the device runs its own when None.
    """

    def __init__(
        self,
        name: str,
        platform: str,
        outputs: Mapping[str, str] | None = None,
        *,
        username: str = "dlict",
        password: str = DEFAULT_PASSWORD,
        enable_secret: str | None = None,
        hostname: str | None = None,
        address: str = "127.0.0.1",
        port: int = 0,
        dead: bool = False,
        host_key: paramiko.PKey | None = None,
        acceptor: Acceptor | None = None,
    ) -> None:
        check_loopback(address)
        self.spec = platform_named(platform)
        if enable_secret is not None and platform != "ios":
            raise ValueError("enable_secret is an IOS notion")
        self.name = name
        self.platform = platform
        self.hostname = hostname or name
        if not _HOSTNAME.fullmatch(self.hostname):
            raise ValueError(f"not a device hostname: {self.hostname!r}")
        self.username = username
        self.password = password
        self.enable_secret = enable_secret
        self.dead = dead
        self.outputs: Mapping[str, str] = dict(outputs or {})
        self.console_output = "more"  # FortiOS "config system console / set output"
        self.host_key = host_key or new_host_key()
        self.known_key = self.host_key
        self._address = address
        self._port = port
        self._listener: socket.socket | None = None
        self._acceptor = acceptor
        self._own_acceptor = False
        self._lock = threading.Lock()
        self._stopping = False
        self._transports: set[paramiko.Transport] = set()
        self._threads: set[threading.Thread] = set()

    @property
    def device_type(self) -> str:
        return self.spec.device_type

    @property
    def address(self) -> str:
        return self._address

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> SshDevice:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self._address, self._port))
        # A dead device never accepts: the kernel still completes the TCP handshake for the
        # backlog, so the client connects and then waits for a banner that never comes.
        listener.listen(16)
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._stopping = False
        if not self.dead:
            if self._acceptor is None:
                self._acceptor = Acceptor()
                self._own_acceptor = True
            self._acceptor.add(listener, self._on_accept)
        return self

    def stop(self) -> None:
        self._stopping = True
        if self._listener is not None:
            if self._acceptor is not None and not self.dead:
                self._acceptor.remove(self._listener)
            self._listener.close()
            self._listener = None
        with self._lock:
            transports = list(self._transports)
            threads = list(self._threads)
        for transport in transports:
            transport.close()
        for thread in threads:
            thread.join(_STOP_JOIN_TIMEOUT)
        if self._own_acceptor and self._acceptor is not None:
            self._acceptor.close()
            self._acceptor = None
            self._own_acceptor = False

    def __enter__(self) -> SshDevice:
        return self if self._listener else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Replace the command table; the next command sent, in any session, sees it."""
        self.outputs = dict(outputs)

    def present_wrong_host_key(self) -> None:
        """Serve a new host key from now on; ``known_hosts_line`` keeps naming the old one."""
        self.host_key = new_host_key()

    def known_hosts_line(self) -> str:
        return known_hosts_entry(self._address, self._port, self.known_key)

    def connect_params(self) -> dict[str, Any]:
        """netmiko ConnectHandler arguments that reach this device (no host-key options)."""
        return netmiko_params(self.device_type, self._address, self._port, self.username,
                              self.password, self.enable_secret)

    def _on_accept(self, conn: socket.socket) -> None:
        if self._stopping:
            conn.close()
            return
        thread = threading.Thread(
            target=self._serve, args=(conn,), name=f"fake-{self.name}", daemon=True
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with SESSIONS:
            self._serve_session(conn)

    def _serve_session(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn, disabled_algorithms=_NO_GROUP_EXCHANGE)
        with self._lock:
            self._transports.add(transport)
        try:
            transport.add_server_key(self.host_key)
            login = _Login(self)
            transport.start_server(server=login)
            channel = _first_channel(transport)
            if channel is None or not _wait_while_active(transport, login.shell_requested):
                return
            shell = SHELLS[self.platform](self, login.user)
            _run_shell(channel, shell)
        except (paramiko.SSHException, EOFError, OSError):
            pass  # the client went away or we are stopping; either ends the session
        finally:
            transport.close()
            with self._lock:
                self._transports.discard(transport)
                self._threads.discard(threading.current_thread())


def _first_channel(transport: paramiko.Transport) -> paramiko.Channel | None:
    # Polled: paramiko's accept() misses the wake-up of a client that left before it waited.
    deadline = time.monotonic() + _SESSION_SETUP_TIMEOUT
    while transport.is_active() and time.monotonic() < deadline:
        channel = transport.accept(_POLL)
        if channel is not None:
            return channel
    return None


def _wait_while_active(transport: paramiko.Transport, event: threading.Event) -> bool:
    deadline = time.monotonic() + _SESSION_SETUP_TIMEOUT
    while transport.is_active() and time.monotonic() < deadline:
        if event.wait(_POLL):
            return True
    return False


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _run_shell(channel: paramiko.Channel, shell: Shell) -> None:
    """Echo keystrokes, run each line, print the reply and the next prompt."""
    channel.sendall(_crlf(shell.greeting() + shell.prompt()).encode())
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line: list[str] = []
    after_cr = False
    while True:
        data = channel.recv(65536)
        if not data:
            return
        out: list[str] = []
        for char in decoder.decode(data):
            if char == "\n" and after_cr:
                after_cr = False
                continue
            after_cr = char == "\r"
            if char in "\r\n":
                reply = shell.execute("".join(line))
                line.clear()
                if reply is None:
                    channel.sendall(("".join(out) + "\r\n").encode())
                    return
                out.append("\r\n")
                if reply:
                    out.append(_crlf(reply if reply.endswith("\n") else reply + "\n"))
                out.append(shell.prompt())
            elif char == "\x03":
                line.clear()
                out.append("^C\r\n" + shell.prompt())
            elif char in "\x7f\x08":
                if line:
                    line.pop()
                    if shell.echo:
                        out.append("\b \b")
            elif char.isprintable():
                line.append(char)
                if shell.echo:
                    out.append(char)
        if out:
            channel.sendall("".join(out).encode())
