"""Test support for ``dlict monitor``: small districts written as inventories, the monitor run
as a real process (optionally in a network namespace of the test's own), HTTP fetches."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DLICT = str(Path(sys.executable).parent / "dlict")


@dataclass
class School:
    code: str
    probe_targets: list[str] = field(default_factory=list)
    services: dict[str, Any] | None = None
    dltv: dict[str, Any] | None = None


def write_district(root: Path, schools: Sequence[School],
                   monitor: dict[str, Any] | None = None) -> Path:
    """A valid inventory directory: an office with one server and the given schools."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "group_vars").mkdir(exist_ok=True)
    children = {f"school_{s.code}": {"hosts": {f"s{s.code}-gw": {"ansible_host": "127.30.0.1"}}}
                for s in schools}
    hosts = {"all": {"children": {
        "office": {"hosts": {"office-log": {"ansible_host": "127.30.0.10"}}},
        "schools": {"children": children},
        "linux_servers": {"hosts": {"office-log": None}},
        "network_devices": {"hosts": {f"s{s.code}-gw": None for s in schools},
                            "vars": {"netmiko_device_type": "mikrotik_routeros"}},
    }}}
    (root / "hosts.yml").write_text(yaml.safe_dump(hosts, allow_unicode=True))
    (root / "group_vars" / "all.yml").write_text(
        yaml.safe_dump({"dlict_monitor": monitor or {}}))
    (root / "group_vars" / "office.yml").write_text(yaml.safe_dump({"dlict_site": {
        "name_th": "สำนักงานเขต", "name_en": "Office", "amphoe": "เมือง",
        "province": "มหาสารคาม"}}, allow_unicode=True))
    for school in schools:
        site: dict[str, Any] = {"school_code": school.code, "name_th": f"โรงเรียน {school.code}",
                                "name_en": f"School {school.code}", "amphoe": "เมือง",
                                "province": "มหาสารคาม"}
        if school.probe_targets:
            site["link"] = {"isp": "UniNet", "probe_targets": school.probe_targets}
        if school.services:
            site["services"] = school.services
        if school.dltv:
            site["dltv"] = school.dltv
        (root / "group_vars" / f"school_{school.code}.yml").write_text(
            yaml.safe_dump({"dlict_site": site}, allow_unicode=True))
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, user: str | None = None, password: str | None = None,
          headers: dict[str, str] | None = None, timeout: float = 10,
          context: Any = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@dataclass
class Monitor:
    process: subprocess.Popen[str]
    url: str
    log: Path

    def metrics(self) -> str:
        status, _headers, body = fetch(f"{self.url}/metrics")
        assert status == 200
        return body.decode()

    def output(self) -> str:
        return self.log.read_text()


def _wait_healthy(monitor: Monitor, timeout: float, context: Any = None,
                  auth: tuple[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if monitor.process.poll() is not None:
            raise AssertionError(f"dlict monitor ended early: {monitor.output()}")
        try:
            status, _h, body = fetch(f"{monitor.url}/healthz", *(auth or (None, None)),
                                     timeout=2, context=context)
        except OSError:
            time.sleep(0.1)
            continue
        if status == 200 and json.loads(body)["status"] == "ok":
            return
        time.sleep(0.1)
    raise AssertionError(f"dlict monitor not healthy after {timeout} s: {monitor.output()}")


@contextmanager
def running_monitor(inventory: Path, tmp: Path, *extra: str, port: int | None = None,
                    prefix: Sequence[str] = (), wait: bool = True, scheme: str = "http",
                    context: Any = None, auth: tuple[str, str] | None = None,
                    timeout: float = 60) -> Iterator[Monitor]:
    """``dlict monitor`` as a real process, stopped (by its PID) whatever happens."""
    port = port or free_port()
    log = tmp / f"monitor-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*prefix, DLICT, "-i", str(inventory), "--data-dir", str(tmp / "data"), "monitor",
             "--listen", f"127.0.0.1:{port}", *extra],
            stdout=out, stderr=subprocess.STDOUT, text=True, env={**os.environ})
    monitor = Monitor(process, f"{scheme}://127.0.0.1:{port}", log)
    try:
        if wait:
            _wait_healthy(monitor, timeout, context, auth)
        yield monitor
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def self_signed_certificate(tmp: Path) -> tuple[Path, Path]:
    """A key and a certificate for 127.0.0.1, written as monitor.key and monitor.crt."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "monitor.crt", tmp / "monitor.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


@dataclass
class NamespaceHost:
    """A host in a network namespace of the test's own, reached over a veth pair."""

    namespace: str
    address: str

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "netns", "exec", self.namespace, *command], check=True,
                              capture_output=True, text=True, timeout=30)

    def ignore_echo(self, ignore: bool = True) -> None:
        self.run("sysctl", "-q", "-w", f"net.ipv4.icmp_echo_ignore_all={int(ignore)}")


@contextmanager
def namespace_host(number: int) -> Iterator[NamespaceHost]:
    """10.214.N.2 in its own namespace; 10.214.N.1 on this side of the veth. Removed on exit,
    whatever happens (deleting the namespace deletes both ends of the veth)."""
    tag = f"{os.getpid() % 100000}{number}"
    namespace, outside, inside = f"dlict-mon-{tag}", f"dmo{tag}", f"dmi{tag}"
    _ip("netns", "add", namespace)
    try:
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", namespace)
        _ip("addr", "add", f"10.214.{number}.1/30", "dev", outside)
        _ip("link", "set", outside, "up")
        _ip("-n", namespace, "addr", "add", f"10.214.{number}.2/30", "dev", inside)
        _ip("-n", namespace, "link", "set", inside, "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        yield NamespaceHost(namespace, f"10.214.{number}.2")
    finally:
        subprocess.run(["ip", "link", "del", outside], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
