"""The built wheel, installed into fresh virtual environments as a user would install it:
with no extra, dlict's core commands work and a command of a missing extra says in one line
which extra to install (exit 3); each extra makes its own commands work.

The wheel is built from this checkout; its dependencies are gathered once into a wheelhouse
(pip's ordinary client: its cache, or the package index), and every environment installs from
that wheelhouse alone (``--no-index``), so nothing of the test's own environment leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.monitoring import fetch, free_port
from tests.conftest import EXAMPLE_INVENTORY, REPO
from tests.intake_support import stop_by_sigterm

pytestmark = pytest.mark.integration

EXTRAS = ("netdev", "netscan", "monitor")
# A command of each extra that gets as far as needing the extra's packages.
EXTRA_COMMANDS = {
    "netdev": ("netdev", "backup", "--limit", "s4401010001-gw"),
    "netscan": ("netscan", "verify", "--limit", "s4401010001-srv", "--timeout", "0.2",
                "--retries", "0"),
    "monitor": ("monitor", "--once"),
}
INSTALL_TIMEOUT_S = 300


def _clean_environment() -> dict[str, str]:
    """This process's environment without what would let the checkout's sources or the test
    environment's packages in."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


@dataclass(frozen=True)
class Installed:
    """A fresh virtual environment holding the built wheel with ``extras``."""

    extras: tuple[str, ...]
    root: Path

    def dlict(self, *args: str, data_dir: Path, timeout: float = 60
              ) -> subprocess.CompletedProcess[str]:
        env = _clean_environment()
        env["DLICT_NETDEV_PASSWORD"] = "not-a-real-password"  # netdev needs a login to start
        return subprocess.run([str(self.root / "bin" / "dlict"), "--data-dir", str(data_dir),
                               *args], capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=data_dir.parent, check=False)


def _setup(*command: str, cwd: Path | None = None) -> None:
    """Run one step of building or installing; a failure shows what the step said."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S, env=_clean_environment(), check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({done.returncode}):\n"
                             f"{done.stdout}{done.stderr}")


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout and the wheels of all its dependencies, extras
    included."""
    house = tmp_path_factory.mktemp("wheelhouse")
    _setup(sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(house), cwd=REPO)
    (wheel,) = house.glob("dlict-*.whl")
    _setup(sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(house),
           f"{wheel}[all]")
    return house


def _install(wheelhouse: Path, root: Path, extras: tuple[str, ...]) -> Installed:
    _setup(sys.executable, "-m", "venv", "--without-pip", str(root))
    requirement = f"dlict[{','.join(extras)}]" if extras else "dlict"
    # pip of this environment installs into the new one (--python): no pip inside it needed
    _setup(sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"), "install",
           "--quiet", "--no-index", "--find-links", str(wheelhouse), requirement)
    return Installed(extras, root)


class Environments:
    """One fresh environment per set of extras, made when a test first asks for it."""

    def __init__(self, wheelhouse: Path, tmp: pytest.TempPathFactory) -> None:
        self.wheelhouse = wheelhouse
        self.tmp = tmp
        self.made: dict[tuple[str, ...], Installed] = {}

    def with_extras(self, *extras: str) -> Installed:
        if extras not in self.made:
            root = self.tmp.mktemp("venv-" + ("-".join(extras) or "core"))
            self.made[extras] = _install(self.wheelhouse, root, extras)
        return self.made[extras]


@pytest.fixture(scope="module")
def environments(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Environments:
    return Environments(wheelhouse, tmp_path_factory)


ENVIRONMENTS = [(), *((extra,) for extra in EXTRAS)]


def _name(extras: tuple[str, ...]) -> str:
    return "+".join(extras) or "no-extra"


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "internal error" not in output, output


@pytest.mark.parametrize("extras", ENVIRONMENTS, ids=_name)
def test_core_commands_work_from_the_wheel(environments: Environments, extras: tuple[str, ...],
                                           tmp_path: Path) -> None:
    installed = environments.with_extras(*extras)
    where = subprocess.run([str(installed.root / "bin" / "python"), "-c",
                            "import dlict; print(dlict.__file__)"], capture_output=True,
                           text=True, env=_clean_environment(), cwd=tmp_path, timeout=60,
                           check=True)
    assert Path(where.stdout.strip()).is_relative_to(installed.root)  # the wheel, not the checkout
    data = tmp_path / "data"
    help_text = installed.dlict("--help", data_dir=data)
    assert help_text.returncode == 0, help_text.stderr
    assert "monitor" in help_text.stdout and "inventory" in help_text.stdout

    controls = installed.dlict("controls", "list", data_dir=data)
    assert controls.returncode == 0, controls.stderr
    assert "LOG-06" in controls.stdout

    validate = installed.dlict("-i", str(EXAMPLE_INVENTORY), "inventory", "validate",
                               data_dir=data)
    assert validate.returncode == 0, validate.stderr
    assert "valid" in validate.stdout
    for result in (help_text, controls, validate):
        _no_traceback(result)


@pytest.mark.parametrize(("extras", "missing"),
                         [(extras, extra) for extras in ENVIRONMENTS
                          for extra in EXTRAS if extra not in extras],
                         ids=lambda v: _name(v) if isinstance(v, tuple) else f"without-{v}")
def test_a_missing_extra_is_one_line_naming_it(environments: Environments,
                                               extras: tuple[str, ...], missing: str,
                                               tmp_path: Path) -> None:
    installed = environments.with_extras(*extras)
    result = installed.dlict("-i", str(EXAMPLE_INVENTORY), *EXTRA_COMMANDS[missing],
                             data_dir=tmp_path / "data")
    _no_traceback(result)
    assert result.returncode == 3, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"pip install 'dlict[{missing}]'" in lines[0]


@pytest.mark.parametrize("extra", EXTRAS)
def test_an_extra_adds_its_commands(environments: Environments, extra: str,
                                    tmp_path: Path) -> None:
    installed = environments.with_extras(extra)
    data = tmp_path / "data"
    group_help = installed.dlict(extra, "--help", data_dir=data)
    assert group_help.returncode == 0, group_help.stderr
    if extra == "monitor":
        _monitor_serves_metrics(installed, tmp_path)
        return
    result = installed.dlict("-i", str(EXAMPLE_INVENTORY), *EXTRA_COMMANDS[extra],
                             data_dir=data)
    _no_traceback(result)
    assert "pip install" not in result.stdout + result.stderr
    # the command reached the device or host and judged it, whatever the verdict
    host = EXTRA_COMMANDS[extra][3]
    assert host in result.stdout, (result.stdout, result.stderr)
    assert "stored as run" in result.stdout or "บันทึกเป็นครั้งที่" in result.stdout


def _monitor_serves_metrics(installed: Installed, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "monitor.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(installed.root / "bin" / "dlict"), "-i", str(EXAMPLE_INVENTORY), "--data-dir",
             str(tmp_path / "data"), "monitor", "--listen", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, text=True, env=_clean_environment())
    try:
        body = _first_metrics(process, f"http://127.0.0.1:{port}/metrics", log)
    finally:
        stop_by_sigterm(process)
    assert "# TYPE dlict_monitor_targets gauge" in body  # written by prometheus_client
    assert "Traceback" not in log.read_text()


def _first_metrics(process: subprocess.Popen[str], url: str, log: Path) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"dlict monitor ended early: {log.read_text()}")
        try:
            status, _headers, body = fetch(url, timeout=2)
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return body.decode()
        time.sleep(0.2)
    raise AssertionError(f"no /metrics after 30 s: {log.read_text()}")



def test_audit_without_the_netdev_extra_audits_the_hosts(environments: Environments,
                                                         tmp_path: Path) -> None:
    """A limit naming a device and a host: the device part says which extra to install in
    one line, the hosts' part still runs (nothing listens there: unreachable, exit 3) and the
    run is stored."""
    installed = environments.with_extras()
    result = installed.dlict("-i", str(EXAMPLE_INVENTORY), "audit", "--limit",
                             "s4401010001-gw,s4401010001-srv", data_dir=tmp_path / "data",
                             timeout=180)
    _no_traceback(result)
    assert result.returncode == 3, (result.stdout, result.stderr)
    naming = [line for line in result.stderr.splitlines()
              if "pip install 'dlict[netdev]'" in line]
    assert len(naming) == 1, result.stderr
    assert "s4401010001-srv" in result.stderr  # the host was audited (and found unreachable)
    assert "stored as run" in result.stdout or "บันทึกเป็นครั้งที่" in result.stdout
