"""No secret on disk or screen: every kind of command that needs no test fleet, run as a real
``dlict`` process with known test secrets in its environment, leaves none of them in any file
under the areas it writes (data dir with its log, ``$TMPDIR``, ``$HOME`` with ``~/.ansible``),
leaves no ansible-runner directory behind, and prints none of them — also when a probed
service (Tvheadend, an HTTP service, Prometheus) echoes the password it was sent. And a
command stopped by SIGTERM while Ansible runs removes its private directory and its Ansible
program on the way out.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lab.monitoring import DLICT, School, free_port, write_district
from tests.integration.test_dltv_sources import (
    PASSWORD as TVHEADEND_PASSWORD,
)
from tests.integration.test_dltv_sources import (
    USER as TVHEADEND_USER,
)
from tests.integration.test_dltv_sources import (
    FixtureServer,
    Handler,
    Page,
    SilentServer,
    server,  # noqa: F401 - the Tvheadend fixture, reused
)

SECRETS = {
    "DLICT_NETDEV_PASSWORD": "Nd-pass-7Q2xv",
    "DLICT_NETDEV_SECRET": "Nd-enable-K8w3j",
    "ANSIBLE_VAULT_PASSWORD": "Vault-pw-Hq4n8",
    "VAULT_TOKEN": "hvs-Vt9f3Lm2Zk",
    "DLICT_PROMETHEUS_PASSWORD": "Prom-pw-5Zr1c",
    "DLICT_TVHEADEND_PASSWORD": TVHEADEND_PASSWORD,
}
USERS = {"DLICT_NETDEV_USER": "admin", "DLICT_TVHEADEND_USER": TVHEADEND_USER,
         "DLICT_PROMETHEUS_USER": "grafana"}
SCHOOL = "4401010001"
GATEWAY = f"s{SCHOOL}-gw"


def _needles() -> dict[str, bytes]:
    """Each secret as bytes, and the Basic tokens built from them."""
    found = {name: value.encode() for name, value in SECRETS.items()}
    for user_var, password_var in (("DLICT_TVHEADEND_USER", "DLICT_TVHEADEND_PASSWORD"),
                                   ("DLICT_PROMETHEUS_USER", "DLICT_PROMETHEUS_PASSWORD")):
        pair = f"{USERS[user_var]}:{SECRETS[password_var]}".encode()
        found[f"Basic token of {password_var}"] = base64.b64encode(pair)
    return found


class EchoingHandler(Handler):
    """The fixture Tvheadend, answering every error with the password it was sent in the
    status line and the body, as a misconfigured server or proxy does."""

    def send_response(self, code: int, message: str | None = None) -> None:
        given = self.headers.get("Authorization", "")
        if code >= 400 and given.startswith("Basic "):
            user, _, password = base64.b64decode(given[6:]).decode().partition(":")
            message = f"Server Error for {user} with {password}"
        super().send_response(code, message)


@dataclass
class Sandbox:
    """Everything one dlict process may write, under one root the test owns."""

    root: Path
    inventory: Path

    @property
    def tmpdir(self) -> Path:
        return self.root / "tmp"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{Path(DLICT).parent}:/usr/bin:/bin",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            "HOME": str(self.home), "TMPDIR": str(self.tmpdir), "LANG": "C.UTF-8",
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            **USERS, **SECRETS,
        }

    def dlict(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [DLICT, "--data-dir", str(self.data), "-i", str(self.inventory), *args],
            env=self.env(), cwd=self.root, capture_output=True, timeout=timeout, check=False)

    def files_holding_secrets(self) -> list[str]:
        found = []
        needles = _needles()
        for path in sorted(self.root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            content = path.read_bytes()
            found += [f"{path.relative_to(self.root)}: {name}" for name, needle in
                      needles.items() if needle in content]
        return found

    def left_in_tmpdir(self) -> list[str]:
        return sorted(p.name for p in self.tmpdir.iterdir())


def secrets_in(text: bytes) -> list[str]:
    return [name for name, needle in _needles().items() if needle in text]


@pytest.fixture
def echoing_tvheadend(server: FixtureServer) -> FixtureServer:  # noqa: F811
    server.RequestHandlerClass = EchoingHandler
    server.auth = "basic"
    server.pages["/api/status/inputs"] = Page(b"{}", 500)
    server.pages["/metrics"] = Page(b"", 500)
    server.pages["/api/v1/query_range"] = Page(b"", 500)
    return server


@pytest.fixture
def sandbox(tmp_path: Path, echoing_tvheadend: FixtureServer) -> Iterator[Sandbox]:
    refusing = free_port()
    inventory = write_district(tmp_path / "inventory", [School(
        SCHOOL, probe_targets=["127.0.0.1"],
        services={"http": [f"{echoing_tvheadend.base}/metrics"]},
        dltv={"source": "tvheadend", "address": echoing_tvheadend.base, "channels": [1]},
    )], {"count": 1, "period_ms": 100, "timeout_ms": 300, "check_timeout_s": 2})
    host_vars = inventory / "host_vars"
    host_vars.mkdir()
    (host_vars / f"{GATEWAY}.yml").write_text(yaml.safe_dump(
        {"ansible_host": "127.0.0.1", "ansible_port": refusing}))
    box = Sandbox(tmp_path, inventory)
    for area in (box.tmpdir, box.home):
        area.mkdir()
    yield box


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    codes: tuple[int, ...]
    check: Callable[[Sandbox, FixtureServer, str], None] = lambda *_: None


def _monitor_json(box: Sandbox, tvh: FixtureServer, stdout: str) -> None:
    row = json.loads(stdout)[0]
    # the server did echo the password, and the user sees that it was masked
    assert "Server Error for dlict-monitor with ***" in row["dltv"]["error"]
    assert row["services"][0]["up"] is False


def _echo_seen(box: Sandbox, tvh: FixtureServer, stdout: str) -> None:
    assert tvh.seen.requests, "the probed server was never asked"


CASES = {
    "inventory validate": Case(("inventory", "validate"), (0,)),
    "inventory show": Case(("--json", "inventory", "show"), (0,)),
    "controls list": Case(("controls", "list"), (0,)),
    "monitor --once --json": Case(("monitor", "--once", "--json"), (1,), _monitor_json),
    "monitor --once": Case(("--lang", "en", "monitor", "--once"), (1,), _echo_seen),
    "netdev backup": Case(("netdev", "backup"), (3,)),
    "report dltv-survey": Case(("report", "dltv-survey", "--timeout", "3"), (3,), _echo_seen),
    "runs list": Case(("runs", "list"), (0,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_command_leaves_no_secret_on_disk_or_screen(
        name: str, sandbox: Sandbox, echoing_tvheadend: FixtureServer) -> None:
    case = CASES[name]
    args = case.args
    if name == "report dltv-survey":
        args = (*args, "--prometheus", echoing_tvheadend.base)
    done = sandbox.dlict(*args)
    output = done.stdout + done.stderr
    assert done.returncode in case.codes, output.decode(errors="replace")
    case.check(sandbox, echoing_tvheadend, done.stdout.decode())
    assert secrets_in(output) == []
    assert sandbox.files_holding_secrets() == []
    assert sandbox.left_in_tmpdir() == []


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            listed = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in listed:
            found |= {int(child)} | _children(int(child))
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _still_running(processes: dict[int, str]) -> list[str]:
    return [command for pid, command in processes.items()
            if _alive(pid) and _command(pid) == command]


def _stop(process: subprocess.Popen[bytes], children: dict[int, str]) -> None:
    """Leave nothing running whatever the test found (a failing dlict orphans Ansible)."""
    if process.poll() is None:
        process.kill()
        process.wait()
    for pid, command in children.items():
        if _alive(pid) and _command(pid) == command:
            os.kill(pid, signal.SIGKILL)


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.1)


def test_sigterm_during_an_ansible_run_removes_its_private_dir_and_program(
        sandbox: Sandbox) -> None:
    """An audit whose SSH server accepts and never speaks: ansible-playbook waits; SIGTERM."""
    silent = SilentServer()
    (sandbox.inventory / "host_vars" / "office-log.yml").write_text(yaml.safe_dump(
        {"ansible_host": "127.0.0.1", "ansible_port": silent.port, "ansible_user": "nobody"}))
    children: dict[int, str] = {}
    process = subprocess.Popen(
        [DLICT, "--data-dir", str(sandbox.data), "-i", str(sandbox.inventory), "audit",
         "--limit", "office-log", "--no-devices"],
        env=sandbox.env(), cwd=sandbox.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: bool(sandbox.left_in_tmpdir()) or process.poll() is not None, 60,
                  "ansible-runner directory")
        # an Ansible worker (which leaves ansible-playbook's process group) is connecting
        _wait_for(lambda: any(_command(c).startswith("ssh") for c in _children(process.pid))
                  or process.poll() is not None, 60, "ssh started by Ansible")
        assert process.poll() is None, process.communicate()
        private = sandbox.left_in_tmpdir()
        assert (sandbox.tmpdir / private[0]).stat().st_mode & 0o777 == 0o700
        children.update({pid: _command(pid) for pid in _children(process.pid)})
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=30)
        took = time.monotonic() - started
        time.sleep(0.5)  # init reaps what was killed
        # while the SSH server still holds its connections, or they would end by themselves
        left_running = _still_running(children)
    finally:
        _stop(process, children)
        silent.close()
    assert process.returncode == 143, stderr
    assert b"stopped by SIGTERM" in stderr and b"Traceback" not in stderr
    assert took < 10
    assert sandbox.left_in_tmpdir() == []
    assert any(command.startswith("ssh") for command in children.values())
    assert left_running == []
    assert sandbox.files_holding_secrets() == []


SLOW_INVENTORY_SCRIPT = """#!{python}
import time
time.sleep(30)
print("{{}}")
"""


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_while_the_inventory_loads_removes_the_private_dir(
        sandbox: Sandbox, stop: signal.Signals, code: int) -> None:
    """An inventory script that takes its time keeps ansible-inventory running; a signal.
    ansible-inventory and the script are killed, not left to finish on their own."""
    script = sandbox.inventory / "slow.py"
    script.write_text(SLOW_INVENTORY_SCRIPT.format(python=sys.executable))
    script.chmod(0o755)
    children: dict[int, str] = {}
    process = subprocess.Popen(
        [DLICT, "--data-dir", str(sandbox.data), "-i", str(sandbox.inventory), "inventory",
         "validate"], env=sandbox.env(), cwd=sandbox.root, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: any("slow.py" in _command(c) for c in _children(process.pid))
                  or process.poll() is not None, 60, "inventory script started")
        assert process.poll() is None, process.communicate()
        assert len(sandbox.left_in_tmpdir()) == 1
        children.update({pid: _command(pid) for pid in _children(process.pid)})
        process.send_signal(stop)
        _stdout, stderr = process.communicate(timeout=30)
        time.sleep(0.5)
        left_running = _still_running(children)
    finally:
        _stop(process, children)
    assert process.returncode == code, stderr
    assert b"Traceback" not in stderr
    assert sandbox.left_in_tmpdir() == []
    assert left_running == []
    assert sandbox.files_holding_secrets() == []
