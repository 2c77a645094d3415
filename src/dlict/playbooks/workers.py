"""Run a part of a playbook run on a worker node, with ansible-runner's own streaming.

The office's dlict keeps the inventory, the trust (known_hosts) and the evidence store; a
worker node near the schools (one per amphoe, say) runs the plays. One part goes:

    ansible_runner transmit  →  ssh NODE ansible-runner worker  →  ansible_runner process

``transmit`` packs a private data directory holding everything the run needs and nothing
else: a copy of dlict's playbooks, the inventory, the known_hosts the hosts' keys are checked
against, dlict's tags callback and the strategy plugin. The SSH key the hosts accept never
leaves this machine: dlict loads it into an ssh-agent of its own for the run and forwards
that agent to the node (``ssh -A``); the node's Ansible names the key by its public half. The
node's events stream back on the same SSH connection and are judged here as if the run were
local. A node needs ansible-runner, ansible-core and Mitogen (``pip install dlict`` gives
them) and SSH access; nothing of dlict's state lives on it.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ansible_runner
import yaml

from dlict.core.ansible_env import mitogen_strategy_dir
from dlict.core.errors import InputError, OperationalError
from dlict.core.logging import redact
from dlict.core.paths import data_path
from dlict.core.processes import stop_process
from dlict.core.runner_dir import RunnerDir
from dlict.inventory.locate import ansible_reads, unfit_inventory_files
from dlict.inventory.models import KEY_FILE_VARS, Host

CALLBACK_DIR = Path(__file__).resolve().parent / "ansible_plugins" / "callback"
SSH_ARGS_VAR = "ansible_ssh_common_args"
IMPORT_KEYS = ("import_playbook", "ansible.builtin.import_playbook")
DEFAULT_RUNNER = "ansible-runner"
_DESTINATION = re.compile(r"^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9][A-Za-z0-9._:-]*$")
_OPTION = re.compile(r"^(?P<key>[A-Za-z]+)(?:=|\s+)(?P<value>.*)$")
_AGENT_WAIT_S = 5.0


class WorkerError(OperationalError):
    """A worker node could not run its part (unreachable, refused, no ansible-runner)."""


@dataclass(frozen=True)
class WorkerNode:
    """An execution node, as ssh names it: ``[user@]host`` (or a Host of the ssh config)."""

    destination: str

    @classmethod
    def parse(cls, text: str) -> WorkerNode:
        """Raises: InputError: not something ssh takes as a destination."""
        value = text.strip()
        if not _DESTINATION.match(value):
            raise InputError(f"worker node '{text}': expected [user@]host")
        return cls(value)


@dataclass(frozen=True)
class WorkerSetup:
    """What every part run on a worker node shares, checked before anything runs."""

    nodes: tuple[WorkerNode, ...]
    inventory: Path
    known_hosts: Path
    #: the hosts' ansible_ssh_common_args without the known_hosts options (set per node)
    ssh_args: str
    key_file: Path | None
    ssh_config: Path | None
    runner: str = DEFAULT_RUNNER


def worker_setup(nodes: Sequence[str], inventory: Path, hosts: Sequence[Host], *,
                 ssh_config: Path | None = None,
                 runner: str = DEFAULT_RUNNER) -> WorkerSetup:
    """Check that ``hosts`` can be audited from worker nodes and say how.

    The hosts must share one SSH key and one ``ansible_ssh_common_args`` (the node gets one
    copy of each); the known_hosts file is the one those arguments name
    (``UserKnownHostsFile``), else ``~/.ssh/known_hosts``.

    Raises:
        InputError: no node, a bad node name, hosts that differ in key or SSH arguments, a
            known_hosts or key file that is not a regular file, or an inventory file that is not a
            regular file or is too large.
    """
    parsed = tuple(WorkerNode.parse(n) for n in nodes)
    if not parsed:
        raise InputError("no worker node given")
    if len(set(parsed)) != len(parsed):
        raise InputError("a worker node is named twice")
    unfit = unfit_inventory_files(inventory)
    if unfit:
        raise InputError(unfit[0])
    ssh_args = _one_value(hosts, (SSH_ARGS_VAR,), "SSH arguments") or ""
    key = _one_value(hosts, KEY_FILE_VARS, "SSH key")
    rest, known = _split_known_hosts(ssh_args)
    known_hosts = Path(known).expanduser() if known else Path("~/.ssh/known_hosts").expanduser()
    _regular_file(known_hosts, "known_hosts file")
    key_file = Path(key).expanduser() if key else None
    if key_file is not None:
        _regular_file(key_file, "SSH key")
    if ssh_config is not None:
        _regular_file(ssh_config, "ssh config for the worker nodes")
    if not runner or any(c.isspace() for c in runner) or runner.startswith("-"):
        raise InputError(f"worker_runner '{runner}': expected a program name or path")
    return WorkerSetup(parsed, inventory, known_hosts, rest, key_file, ssh_config, runner)


def _one_value(hosts: Sequence[Host], names: Sequence[str], what: str) -> str | None:
    values = {str(next((h.settings[n] for n in names if h.settings.get(n)), "")) for h in hosts}
    if len(values) > 1:
        raise InputError(f"worker nodes need one {what} for every host; the inventory has "
                         f"{len(values)} ({', '.join(names)})")
    value = values.pop() if values else ""
    return value or None


def _split_known_hosts(ssh_args: str) -> tuple[str, str | None]:
    """``ssh_args`` without its UserKnownHostsFile and StrictHostKeyChecking options (the
    node gets its own), and the known_hosts file named."""
    try:
        words = shlex.split(ssh_args)
    except ValueError as exc:
        raise InputError(f"{SSH_ARGS_VAR}: {exc}") from None
    kept: list[str] = []
    known: str | None = None
    index = 0
    while index < len(words):
        word = words[index]
        option = None
        if word == "-o" and index + 1 < len(words):
            option, index = words[index + 1], index + 2
        elif word.startswith("-o") and len(word) > 2:
            option, index = word[2:], index + 1
        else:
            kept.append(word)
            index += 1
            continue
        match = _OPTION.match(option)
        key = match["key"].lower() if match else ""
        if key == "userknownhostsfile" and match:
            files = match["value"].split()
            if len(files) != 1:
                raise InputError(f"{SSH_ARGS_VAR}: worker nodes need one UserKnownHostsFile")
            known = files[0]
        elif key != "stricthostkeychecking":
            kept += ["-o", option]
    return shlex.join(kept), known


def _regular_file(path: Path, what: str) -> None:
    if not path.is_file() or path.is_symlink():
        raise InputError(f"{path}: the {what} is not a regular file")


class RemoteRuns:
    """The parts of one run that go to worker nodes: one agent, one private-dir layout."""

    def __init__(self, setup: WorkerSetup, agent_env: Mapping[str, str],
                 public_key: str | None) -> None:
        self.setup = setup
        self.agent_env = dict(agent_env)
        self.public_key = public_key

    @classmethod
    @contextlib.contextmanager
    def prepare(cls, setup: WorkerSetup, tmp: Path) -> Iterator[RemoteRuns]:
        """Start the run's ssh-agent holding the hosts' key (stopped on exit)."""
        if setup.key_file is None:
            if not os.environ.get("SSH_AUTH_SOCK"):
                raise InputError("worker nodes log in to the hosts with an agent's key: set "
                                 "ansible_ssh_private_key_file or start ssh-agent")
            yield cls(setup, {"SSH_AUTH_SOCK": os.environ["SSH_AUTH_SOCK"]}, None)
            return
        socket_path = tmp / "agent.sock"
        agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + _AGENT_WAIT_S
            while not socket_path.exists():
                if agent.poll() is not None or time.monotonic() > deadline:
                    raise WorkerError("ssh-agent did not start")
                time.sleep(0.02)
            env = {"SSH_AUTH_SOCK": str(socket_path)}
            added = subprocess.run(
                ["ssh-add", "-q", str(setup.key_file)], env={**os.environ, **env,
                                                             "SSH_ASKPASS_REQUIRE": "never"},
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                check=False)
            if added.returncode != 0:
                raise InputError(f"{setup.key_file}: ssh-add refused the key "
                                 f"({redact(added.stderr.strip())}); a key with a "
                                 "passphrase must already be in your ssh-agent")
            public = subprocess.run(["ssh-keygen", "-y", "-f", str(setup.key_file)],
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    timeout=30, check=False)
            if public.returncode != 0:
                raise InputError(f"{setup.key_file}: cannot read the key's public half")
            yield cls(setup, env, public.stdout)
        finally:
            stop_process(agent, timeout=5)

    def run(self, kwargs: Mapping[str, Any], where: RunnerDir, node: WorkerNode,
            send: Callable[[Mapping[str, Any] | None], None],
            cancel: Callable[[], bool]) -> tuple[str, int]:
        """Run one part (ansible-runner ``kwargs``, as for a local run) on ``node``; events
        go to ``send`` as they come back. Returns the part's status and return code.

        Raises:
            WorkerError: the node could not be reached or ran nothing.
        """
        remote_dir = f"/tmp/dlict-worker-{secrets.token_hex(6)}"  # noqa: S108 - on the node
        private = where.path
        streamed = self._pack(kwargs, private, remote_dir)
        stream_file = where.tmp / "transmit.stream"
        with stream_file.open("w+b") as out:
            # a cancel callback of dlict's own, or ansible-runner installs its signal handlers
            ansible_runner.run(private_data_dir=str(private), streamer="transmit", _output=out,
                               cancel_callback=cancel, **streamed)
        stderr_file = where.tmp / "ssh.stderr"
        command = self._ssh_command(node, remote_dir)
        with stream_file.open("rb") as stream_in, stderr_file.open("wb") as stderr:
            ssh = subprocess.Popen(command, stdin=stream_in, stdout=subprocess.PIPE,
                                   stderr=stderr, env={**os.environ, **self.agent_env},
                                   start_new_session=True)
        if ssh.stdout is None:  # pragma: no cover - stdout=PIPE always gives one
            raise WorkerError("ssh gave no output pipe")
        stopper = _Stopper(ssh, cancel)
        events = 0

        def handle(raw: Mapping[str, Any]) -> bool:
            nonlocal events
            events += 1
            send(raw)
            return False  # nothing to keep on disk: events live in the evidence store

        try:
            result = ansible_runner.run(private_data_dir=str(where.tmp / "process"),
                                        streamer="process", _input=ssh.stdout,
                                        event_handler=handle, cancel_callback=cancel,
                                        quiet=True)
        finally:
            stopper.stop()
            ssh.stdout.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                ssh.wait(timeout=10)  # the node's last words (its artifacts) end the stream
            stop_process(ssh, timeout=5)
        if stopper.fired:
            return "canceled", 254
        if events == 0:
            lines = stderr_file.read_text(errors="replace").strip().splitlines()
            said = redact(lines[-1]) if lines else f"ssh exited {ssh.returncode}"
            raise WorkerError(f"worker node {node.destination}: nothing ran ({said})")
        return str(result.status), int(result.rc or 0)

    def _pack(self, kwargs: Mapping[str, Any], private: Path,
              remote_dir: str) -> dict[str, Any]:
        """Fill ``private`` with what the node needs; return transmit's arguments, whose paths
        are the node's (``remote_dir``)."""
        project = private / "project"
        shutil.copytree(data_path("playbooks"), project,
                        ignore=shutil.ignore_patterns("__pycache__", "*.retry"))
        playbook = _project_playbook(Path(kwargs["playbook"]), data_path("playbooks"), project)
        inventory = copy_inventory(self.setup.inventory, private / "inventory")
        files = private / "files"
        shutil.copytree(CALLBACK_DIR, files / "callback",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copyfile(self.setup.known_hosts, files / "known_hosts")
        envvars = {
            **kwargs["envvars"],
            "ANSIBLE_CONFIG": f"{remote_dir}/project/ansible.cfg",
            "ANSIBLE_CALLBACK_PLUGINS": f"{remote_dir}/files/callback",
            # short and the node's own: Mitogen's socket and SSH's control sockets live here
            "TMPDIR": f"{remote_dir}/files/tmp",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": f"{remote_dir}/files/tmp",
        }
        (files / "tmp").mkdir()
        (files / "tmp" / ".keep").write_text("")
        strategy = mitogen_strategy_dir() if kwargs["mitogen"] else None
        if strategy is not None:
            shutil.copytree(strategy, files / "strategy",
                            ignore=shutil.ignore_patterns("__pycache__"))
            envvars["ANSIBLE_STRATEGY_PLUGINS"] = f"{remote_dir}/files/strategy"
            envvars["ANSIBLE_STRATEGY"] = "mitogen_linear"
        ssh_args = " ".join(filter(None, [
            self.setup.ssh_args, f"-o UserKnownHostsFile={remote_dir}/files/known_hosts",
            "-o StrictHostKeyChecking=yes"]))
        extravars = {**kwargs["extravars"], SSH_ARGS_VAR: ssh_args}
        if self.public_key is not None:
            (files / "id.pub").write_text(self.public_key)
            # ssh takes the public half and signs with the forwarded agent's private key
            extravars["ansible_ssh_private_key_file"] = f"{remote_dir}/files/id.pub"
        return {
            "playbook": str(playbook),
            "inventory": str(inventory),
            "limit": kwargs["limit"],
            "tags": kwargs["tags"],
            "skip_tags": kwargs["skip_tags"],
            "extravars": extravars,
            "forks": kwargs["forks"],
            "cmdline": kwargs["cmdline"],
            "envvars": envvars,
            "settings": {"suppress_ansible_output": True},
        }

    def _ssh_command(self, node: WorkerNode, remote_dir: str) -> list[str]:
        command = ["ssh"]
        if self.setup.ssh_config is not None:
            command += ["-F", str(self.setup.ssh_config)]
        command += ["-A", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                    "-o", "ForwardAgent=yes", "--", node.destination,
                    shlex.join([self.setup.runner, "worker", "--private-data-dir", remote_dir,
                                "--delete"])]
        return command


def copy_inventory(source: Path, into: Path) -> Path:
    """Copy every file Ansible reads for the inventory ``source`` (a directory's tree; a
    file with the group_vars and host_vars beside it) into ``into``, laid out as it is;
    returns the copy's inventory path."""
    base = source if source.is_dir() else source.parent
    for path in ansible_reads(source):
        target = into / source.name / path.relative_to(base) if source.is_dir() else (
            into / path.relative_to(base))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return into / source.name


def _project_playbook(playbook: Path, playbooks: Path, project: Path) -> Path:
    """The run's playbook in ``project`` (the copy of ``playbooks`` sent to the node): one of
    dlict's own, or the run's list of imports of them, written there with relative paths.

    Raises:
        InputError: it is, or imports, a playbook that is not one of dlict's.
    """
    root = playbooks.resolve()
    with contextlib.suppress(ValueError):
        return project / playbook.resolve().relative_to(root)
    plays = yaml.safe_load(playbook.read_text(encoding="utf-8")) or []
    for play in plays:
        key = next((k for k in IMPORT_KEYS if isinstance(play, dict) and k in play), None)
        if key is None:
            raise InputError(f"{playbook}: worker nodes run only dlict's own playbooks")
        target = Path(str(play[key]))
        path = target if target.is_absolute() else playbook.parent / target
        try:
            play[key] = str(path.resolve().relative_to(root))
        except ValueError:
            raise InputError(f"{playbook}: {target} is not one of dlict's playbooks") from None
    written = project / "dlict-run.yml"
    written.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
    return written


class _Stopper:
    """Ends the SSH connection (and with it the node's run) when the run is cancelled."""

    def __init__(self, ssh: subprocess.Popen[bytes], cancel: Callable[[], bool]) -> None:
        self.fired = False
        self._done = threading.Event()
        self._ssh = ssh
        self._cancel = cancel
        self._thread = threading.Thread(target=self._watch, name="dlict-worker-stop",
                                        daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.5):
            if self._cancel():
                self.fired = True
                self._ssh.terminate()
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)
