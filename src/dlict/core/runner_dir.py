"""A private directory for one ansible-runner call, gone when the call ends.

ansible-runner writes the whole environment of the Ansible program it starts (every
``DLICT_*`` password included) into ``artifacts/<id>/command`` of its data directory, and
with no data directory given it makes one under ``$TMPDIR`` and never removes it. Every
ansible-runner call in dlict therefore runs inside :func:`runner_dir`: a directory made
with ``mkdtemp`` (0700, owned by this user) and removed in a ``finally``, on SIGTERM and
SIGINT too.

SIGTERM is turned into :class:`Terminated` (a ``SystemExit`` with code 143) so that the
``finally`` blocks run, after every process started under dlict (ansible-inventory and the
inventory scripts it runs, say) has been killed. A call that can cancel its Ansible program
(``cancellable=True``) asks for it with :meth:`RunnerDir.stop_requested`, passed as
ansible-runner's ``cancel_callback``: the signal is then only noted, every process started
under dlict is killed (Ansible's workers leave ansible-playbook's process group, so
ansible-runner's own kill of that group leaves them running), and the signal's exception is
raised once the call has returned, so no Ansible program goes on changing hosts after dlict
has gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


class Terminated(SystemExit):
    """SIGTERM arrived: unwind (running every ``finally``) and exit 128 + 15."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def raise_for(signum: int) -> None:
    """Raise the exception a stop signal stands for (SIGINT: KeyboardInterrupt)."""
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated


def terminate_by_exception(signum: int, _frame: FrameType | None) -> None:
    """A SIGTERM handler that unwinds like Ctrl-C does, so ``finally`` blocks run."""
    raise_for(signum)


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated`, so that temporary directories are
    removed on the way out (signals reach the main thread only: elsewhere, nothing). The
    previous handler is put back on leaving: the CLI may run inside another program (tests)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, terminate_by_exception)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


#: A Unix socket's path holds at most 107 bytes; Mitogen makes one in the program's TMPDIR.
_SOCKET_ROOM = 107 - len("/dlict-tmp-xxxxxxxx/mitogen_unix_xxxxxxxx.sock")


@dataclass
class RunnerDir:
    """The private directory of one ansible-runner call and the stop signal it got, if any;
    ``tmp`` is the TMPDIR of the Ansible program it runs (Mitogen's socket, Python's temporary
    files), removed with it even when the program was killed."""

    path: Path
    tmp: Path
    stop_signal: int | None = None

    def stop_requested(self) -> bool:
        """ansible-runner's ``cancel_callback``: True once SIGTERM or SIGINT arrived, and
        then every process this one started has been killed."""
        if self.stop_signal is None:
            return False
        kill_descendants()
        return True


def _parents() -> dict[int, int]:
    """Every visible process id and its parent's, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return parents


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_descendants() -> None:
    """Stop every process this one started (and theirs), until none is left, then kill them:
    a stopped process cannot fork while the tree is being read."""
    stopped: set[int] = set()
    while fresh := _descendants(os.getpid()) - stopped:
        for pid in fresh:
            _signal(pid, signal.SIGSTOP)
        stopped |= fresh
    for pid in stopped:
        _signal(pid, signal.SIGKILL)


def _signal(pid: int, number: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, number)


@contextmanager
def _stop_signals(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals (and may install handlers)
        return
    previous: dict[int, _Handler] = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        signal.signal(number, handler)
    try:
        yield
    finally:
        for restored, old in previous.items():
            signal.signal(restored, old if old is not None else signal.SIG_DFL)


@contextmanager
def runner_dir(*, cancellable: bool = False) -> Iterator[RunnerDir]:
    """A 0700 directory to give ansible-runner as ``private_data_dir``, removed on exit.

    Arguments:
        cancellable: the call passes :meth:`RunnerDir.stop_requested` as ansible-runner's
            ``cancel_callback``; a stop signal is then noted rather than raised, and raised
            when the call has returned.

    Raises:
        Terminated: SIGTERM arrived.
        KeyboardInterrupt: SIGINT arrived.
    """
    path = Path(tempfile.mkdtemp(prefix="dlict-ansible-"))
    base = tempfile.gettempdir()
    try:
        # mkdtemp: 0700 and a name no one can guess, in /tmp too
        tmp = Path(tempfile.mkdtemp(prefix="dlict-tmp-",
                                    dir=base if len(base) <= _SOCKET_ROOM else "/tmp"))  # noqa: S108
    except BaseException:
        _remove(path)
        raise
    private = RunnerDir(path, tmp)

    def note_or_raise(signum: int, _frame: FrameType | None) -> None:
        if not cancellable or private.stop_signal is not None:
            # a second signal does not wait for the cancel either
            kill_descendants()
            raise_for(signum)
        private.stop_signal = signum

    try:
        with _stop_signals(note_or_raise):
            yield private
            if private.stop_signal is not None:
                raise_for(private.stop_signal)
    finally:
        _remove(private.path)
        _remove(private.tmp)


def _remove(path: Path) -> None:
    # a second signal waits until the directory is gone rather than cut its removal short
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        shutil.rmtree(path)
    except OSError as exc:
        from loguru import logger  # here: the CLI's start-up (``dlict --version``) needs no log

        logger.warning("could not remove ansible-runner's directory {}: {} (it may hold "
                       "secrets: remove it by hand)", path, exc.strerror or exc)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
