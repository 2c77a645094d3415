"""The host's own SOP controls, from inside: the commands the playbooks' verify tasks run,
judged by the pure functions of :mod:`dlict.agent.jobs.host_checks`.

Every command runs with a timeout, under ``LC_ALL=C``, with its output bounded. A program
that is missing, times out or fails to start gives an ``error`` result for each control that
needs it, naming the program: a school PC without chrony is told, never a crash.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.host_checks import (
    Verdict,
    clamd_socket,
    judge_av01,
    judge_av03,
    judge_ep01,
    judge_ep05,
    judge_firewall,
    judge_id01,
    judge_id02,
    judge_id03,
    judge_id04,
    judge_log04,
)
from dlict.agent.jobs.recorder import Recorder
from dlict.agent.jobs.settings import HostJobSettings
from dlict.agent.records import Record
from dlict.core.results import Status

NAME = "host"
MAX_OUTPUT_CHARS = 1 << 20  # the largest of these outputs (a rule set) is some kilobytes
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: The Debian package that brings each program, for the error line.
PACKAGES = {"nft": "nftables", "sshd": "openssh-server", "chronyc": "chrony", "awk": "mawk",
            "dpkg-query": "dpkg", "apt-config": "apt"}
DPKG_FORMAT = "${Package} ${db:Status-Status}\n"
FIREWALL = ("FW-01", "FW-03", "FW-05")
SSHD = ("ID-01", "ID-02", "ID-03")


@dataclass(frozen=True, slots=True)
class Output:
    """What a command gave: ``problem`` is set (one line) when it could not run at all."""

    returncode: int
    stdout: str
    stderr: str
    problem: str | None = None
    missing: bool = False  # the program is not installed

    @property
    def ran(self) -> bool:
        return self.problem is None


def search_path() -> str:
    """Where programs are looked for: ``PATH``, then the system folders (sshd is in sbin)."""
    return f"{os.environ.get('PATH', '')}:{_SYSTEM_PATH}"


def run_command(argv: Sequence[str], timeout_s: float, path: str | None = None) -> Output:
    """``argv`` run once, its program looked for in ``path`` (default :func:`search_path`);
    never raises for a missing program, a timeout or a crash of it."""
    program = shutil.which(argv[0], path=path or search_path())
    if program is None:
        package = PACKAGES.get(argv[0])
        return Output(-1, "", "", f"{argv[0]} not installed"
                      + (f" (Debian package {package})" if package else ""), missing=True)
    try:
        # A session of its own: at the timeout the program goes with everything it started,
        # so no grandchild keeps the pipes open.
        process = subprocess.Popen([program, *argv[1:]], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env={**os.environ, "LC_ALL": "C"}, start_new_session=True)
    except OSError as exc:
        return Output(-1, "", "", f"{argv[0]}: {exc.strerror or exc}")
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return Output(-1, "", "", f"{argv[0]} gave no answer within {timeout_s:g} s")
    return Output(process.returncode, _text(stdout), _text(stderr))


def clamd_ping(path: str, timeout_s: float) -> tuple[str, str]:
    """(answer, error) of ``zPING`` on clamd's socket, as the AV-01 probe reads them."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(path)
            sock.sendall(b"zPING\0")
            answer = sock.recv(64)
    except OSError as exc:
        return "", f"{type(exc).__name__}: {exc}"
    return answer.rstrip(b"\0").decode("utf-8", errors="replace").strip(), ""


def _text(data: bytes) -> str:
    return data[:MAX_OUTPUT_CHARS].decode("utf-8", errors="replace")


def _last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


class HostJob:
    """FW-01/03/05, ID-01..04, EP-01, EP-05, LOG-04 (the clock), AV-01 and AV-03 of the
    agent's own host."""

    name = NAME

    def __init__(self, settings: HostJobSettings, path: str | None = None) -> None:
        self.settings = settings
        self.path = path
        self.interval_s = settings.interval_s
        self.deadline_s = settings.deadline_s

    def _run(self, *argv: str) -> Output:
        return run_command(argv, self.settings.command_timeout_s, self.path)

    def verdicts(self) -> list[Verdict]:
        return [*self.firewall(), *self.identity(), *self.endpoint(), self.clock(),
                self.antivirus(), self.signatures()]

    def run(self, context: JobContext) -> Sequence[Record]:
        out = Recorder(context)
        for verdict in self.verdicts():
            out.result(verdict.status, verdict.evidence, control=verdict.control)
        return out.records

    def firewall(self) -> list[Verdict]:
        ruleset = self._run("nft", "--json", "list", "ruleset")
        if not ruleset.ran or ruleset.returncode != 0:
            why = ruleset.problem or f"nft --json list ruleset: {_last_line(ruleset.stderr)}"
            return [Verdict(control, Status.ERROR, why) for control in FIREWALL]
        return judge_firewall(ruleset.stdout)

    def identity(self) -> list[Verdict]:
        passwd = self._run("awk", "-F", ":", '{ print $1 ":" $3 ":" $7 }', "/etc/passwd")
        uid0 = (judge_id04(passwd.stdout) if passwd.ran and passwd.returncode == 0 else
                Verdict("ID-04", Status.ERROR, passwd.problem or
                        f"cannot read /etc/passwd: {_last_line(passwd.stderr)}"))
        empty = self._run("awk", "-F", ":", '$2 == "" { print $1 }', "/etc/shadow")
        sshd = self._run("sshd", "-T")
        if sshd.missing:
            # No SSH server: nothing listens for the logins ID-01 and ID-02 restrict.
            why = f"{sshd.problem}: no SSH server to judge"
            first: list[Verdict] = [Verdict("ID-01", Status.SKIPPED, why),
                                    Verdict("ID-02", Status.SKIPPED, why)]
            sshd_text: str | None = None
        elif sshd.problem is not None:
            return [Verdict(control, Status.ERROR, sshd.problem) for control in SSHD] + [uid0]
        elif sshd.returncode != 0:  # sshd -T refuses a broken configuration: say why
            why = f"sshd -T: {_last_line(sshd.stderr) or f'exit status {sshd.returncode}'}"
            return [Verdict(control, Status.FAIL, why) for control in SSHD] + [uid0]
        else:
            first = [judge_id01(sshd.stdout, sshd.stderr), judge_id02(sshd.stdout, sshd.stderr)]
            sshd_text = sshd.stdout
        if empty.problem is not None:
            return [*first, Verdict("ID-03", Status.ERROR, empty.problem), uid0]
        return [*first, judge_id03(empty.stdout, empty.returncode == 0, sshd_text, empty.stderr),
                uid0]

    def endpoint(self) -> list[Verdict]:
        # dpkg-query exits 1 when a package is unknown; its lines still say what is there
        packages = self._run("dpkg-query", "-W", "-f", DPKG_FORMAT, "unattended-upgrades")
        setting = self._run("apt-config", "dump", "--format", "%v%n",
                            "APT::Periodic::Unattended-Upgrade")
        risky = self._run("dpkg-query", "-W", "-f", DPKG_FORMAT,
                          *self.settings.risky_packages)
        problem = packages.problem or setting.problem
        return [Verdict("EP-01", Status.ERROR, problem) if problem is not None
                else judge_ep01(packages.stdout, setting.stdout),
                Verdict("EP-05", Status.ERROR, risky.problem) if risky.problem is not None
                else judge_ep05(risky.stdout, self.settings.risky_packages)]

    def clock(self) -> Verdict:
        tracking = self._run("chronyc", "-c", "tracking")
        if tracking.problem is not None:
            return Verdict("LOG-04", Status.ERROR, tracking.problem)
        sources = self._run("chronyc", "-c", "-n", "sources")
        return judge_log04(tracking.stdout, sources.stdout,
                           max_offset_ms=self.settings.max_clock_offset_ms,
                           local_clock_ok=self.settings.local_clock_ok,
                           error=tracking.stderr)

    def antivirus(self) -> Verdict:
        packages = self._run("dpkg-query", "-W", "-f", DPKG_FORMAT, "clamav-daemon")
        if packages.problem is not None:
            return Verdict("AV-01", Status.ERROR, packages.problem)
        try:
            conf = Path(self.settings.clamd_conf).read_text(encoding="utf-8", errors="replace")
        except OSError:
            conf = ""  # no clamd.conf: clamd's default socket, as the playbook's probe
        answer, error = clamd_ping(clamd_socket(conf), self.settings.command_timeout_s)
        return judge_av01(packages.stdout, answer, error)

    def signatures(self) -> Verdict:
        directory = Path(self.settings.clamav_db_dir)
        databases: dict[str, float] = {}
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        databases[entry.name] = entry.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            pass
        except OSError as exc:
            return Verdict("AV-03", Status.ERROR, f"cannot read {directory}: "
                                                  f"{exc.strerror or exc}")
        return judge_av03(databases, time.time(), str(directory),
                          self.settings.max_signature_age_days)
