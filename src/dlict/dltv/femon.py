"""A Linux DVB tuner read with ``dvb-fe-tool --femon`` (v4l-utils): lock, signal, C/N, errors.

``dvb-fe-tool -m -c 1`` prints, on standard error, one status line per sample, e.g.::

    Lock   (0x1f) Quality= Good Signal= -45.00dBm C/N= 12.30dB UCB= 0 postBER= 0

The line starts with the name of the highest frontend status bit set (RF, Carrier, Viterbi,
Sync, Lock, Timeout, Reinit; blank when none) and the bits in hex; then the statistics the
driver has: ``Signal`` in dBm or as a percentage of the driver's own scale, ``C/N`` in dB (or
a percentage with old drivers), ``UCB`` the running count of uncorrected blocks, ``postBER``
and ``preBER`` as rates such as ``28.0x10^-6``, and ``PER``. With the old DVBv3 statistics
``postBER`` is the driver's raw number, not a rate, and is not used.

The tuner is read where it is: ``address`` is ``adapterN[/frontendM]`` for one in this
machine, ``host[:port][/adapterN[/frontendM]]`` for one behind ``dvbv5-daemon`` (port 5555 by
default), or the path of a file holding ``dvb-fe-tool --femon`` output (an agent may write it).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from dlict.core.errors import InputError
from dlict.core.inputs import read_input_bytes
from dlict.dltv.model import DVB_FEMON, ReceiverStatus, Thresholds

PROGRAM = "dvb-fe-tool"
DAEMON_PORT = 5555
FE_HAS_LOCK = 0x10
MAX_ERROR_CHARS = 300  # the output's last line as the error: a tool gone wrong may print MBs
#: A femon output file holds one sample (a few hundred bytes); past this it is no such file.
MAX_FEMON_FILE_BYTES = 1 << 20
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\a")
_STATUS = re.compile(r"^\s*(?:(RF|Carrier|Viterbi|Sync|Lock|Timeout|Reinit)\s*)?"
                     r"\((0x[0-9a-fA-F]+)\)(.*)$")
_FIELD = re.compile(r"([A-Za-z][A-Za-z/]*)=\s*(\S+)")
_VALUE = re.compile(r"^(-?\d+(?:\.\d+)?)(?:x10\^(-?\d+))?(dBm|dB|%)?$")
_LOCAL = re.compile(r"^(?:/dev/dvb/)?adapter(\d+)(?:[/.:]frontend(\d+))?$")
_REMOTE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d+))?"
                     r"(?:/adapter(\d+)(?:/frontend(\d+))?)?$")


def _value(token: str) -> tuple[float, str] | None:
    match = _VALUE.match(token)
    if match is None:
        return None
    try:
        number = float(match.group(1))
        if match.group(2) is not None:
            number *= 10.0 ** int(match.group(2))
    except (OverflowError, ValueError):  # an exponent no tuner gives, or too many digits
        return None
    return (number, match.group(3) or "") if math.isfinite(number) else None


def _rate(token: str | None) -> float | None:
    """A BER from ``dvb-fe-tool``: ``0``, ``1.23`` or ``28.0x10^-6``; a bare non-zero integer is
    a DVBv3 driver's raw figure in its own units and gives None."""
    if token is None or (parsed := _value(token)) is None or parsed[1] or parsed[0] < 0:
        return None
    number, _unit = parsed
    if number and "x10^" not in token and "." not in token:
        return None
    return number


def parse_femon(text: str) -> ReceiverStatus:
    """Normalise ``dvb-fe-tool --femon`` output; the last status line counts.

    Arguments:
        text: what ``dvb-fe-tool`` printed (both streams), colour codes or not.

    Returns:
        ``reachable`` True with ``locked`` from the FE_HAS_LOCK bit when a status line is
        there; ``reachable`` False with the output's last line as ``error`` when none is.
    """
    lines = [_ANSI.sub("", line).rstrip() for line in text.splitlines()]
    status = None
    for line in lines:
        if line.startswith("\t"):
            continue  # a further layer's statistics (ISDB-T); satellite has one layer
        if match := _STATUS.match(line):
            status = match
    if status is None:
        last = next((line.strip() for line in reversed(lines) if line.strip()), "no output")
        last = last[:MAX_ERROR_CHARS] + ("…" if len(last) > MAX_ERROR_CHARS else "")
        return ReceiverStatus.unreadable(DVB_FEMON, f"{PROGRAM}: {last}")
    bits = int(status.group(2), 16)
    fields = dict(_FIELD.findall(status.group(3)))
    result = ReceiverStatus(DVB_FEMON, reachable=True, locked=bool(bits & FE_HAS_LOCK))
    if (signal := _value(fields.get("Signal", ""))) is not None:
        number, unit = signal
        if unit == "dBm":
            result.signal_dbm = number
        elif unit == "%":
            result.signal_ratio = min(1.0, max(0.0, number / 100))
    if (cnr := _value(fields.get("C/N", ""))) is not None and cnr[1] == "dB":
        result.snr_db = cnr[0]
    if (ucb := _value(fields.get("UCB", ""))) is not None and not ucb[1] and ucb[0] >= 0:
        result.uncorrected_blocks = int(ucb[0])
    # The metric is the error rate before correction: preBER when the driver gives it, else
    # postBER (after the inner Viterbi/LDPC decoder, before Reed-Solomon/BCH).
    pre, post = _rate(fields.get("preBER")), _rate(fields.get("postBER"))
    result.ber = pre if pre is not None else post
    return result


class FemonSource:
    """A DVB tuner read with ``dvb-fe-tool``; ``address`` as the module describes."""

    def __init__(self, address: str = "", channels: Sequence[int] = (),
                 thresholds: Thresholds | None = None) -> None:
        self.address = address.strip()
        self.channels = list(channels)
        self.thresholds = thresholds

    def command(self) -> list[str]:
        """The ``dvb-fe-tool`` arguments for this address (not for a file address)."""
        address = self.address
        args = [PROGRAM, "--femon", "--count=1"]
        if not address or address == "local":
            return args
        if local := _LOCAL.match(address):
            adapter, frontend = local.groups()
        elif remote := _REMOTE.match(address):
            host, port, adapter, frontend = remote.groups()
            args += [f"--server={host.strip('[]')}", f"--tcp-port={port or DAEMON_PORT}"]
        else:
            return [*args, f"--adapter={address}"]  # dvb-fe-tool will say what is wrong
        if adapter is not None:
            args.append(f"--adapter={adapter}")
        if frontend is not None:
            args.append(f"--frontend={frontend}")
        return args

    def _file(self) -> Path | None:
        address = self.address.removeprefix("file://")
        if address.startswith(("/", "./", "../")) and not address.startswith("/dev/dvb/"):
            return Path(address)
        return None

    def read(self, timeout_s: float) -> ReceiverStatus:
        """One sample, within ``timeout_s``; never raises for a missing program or tuner."""
        if (path := self._file()) is not None:
            try:
                text = read_input_bytes(path, limit=MAX_FEMON_FILE_BYTES)
            except InputError as exc:
                return ReceiverStatus.unreadable(DVB_FEMON, str(exc))
            return parse_femon(text.decode("utf-8", errors="replace"))
        command = self.command()
        program = shutil.which(PROGRAM)
        if program is None:
            return ReceiverStatus.unreadable(DVB_FEMON, f"{PROGRAM} not installed "
                                             "(Debian package dvb-tools)")
        try:
            done = subprocess.run([program, *command[1:]], capture_output=True,
                                  timeout=timeout_s, check=False,
                                  env={**os.environ, "LC_ALL": "C"})
        except subprocess.TimeoutExpired:
            return ReceiverStatus.unreadable(
                DVB_FEMON, f"{PROGRAM} gave no status within {round(timeout_s, 3)} s")
        except OSError as exc:
            return ReceiverStatus.unreadable(DVB_FEMON, f"{PROGRAM}: {exc.strerror or exc}")
        output = (done.stdout + done.stderr).decode("utf-8", errors="replace")
        result = parse_femon(output)
        if not result.reachable and done.returncode:
            last = (result.error or "").removeprefix(f"{PROGRAM}: ")
            if last.startswith("Connecting to "):  # all it prints when the daemon is not there
                last = f"no answer from dvbv5-daemon at {last.removeprefix('Connecting to ')}"
            result.error = f"{PROGRAM}: {last} (exit status {done.returncode})"
        return result
