"""What ``dlict probe`` does, importing nothing but the ICMP engine.

``dlict probe`` is the fping of the toolkit: a sweep of 30,000 addresses takes about 0.2 s,
and loading the whole command line (Typer, pydantic settings, loguru, every command group)
costs twice that. So ``dlict.cli.entry`` answers ``dlict probe …`` straight from here, and the
Typer command (``dlict --json probe …``, ``dlict probe --help``) calls the same function.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dlict.core.errors import DlictError, ExitCode, InputError
from dlict.probes.icmp import Sweep, fping_line, parse_targets


def read_target_file(path: Path) -> list[str]:
    """Addresses, one a line, ``#`` comments; a bad line is one error naming file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    numbered = [(number, line.split("#", 1)[0].strip())
                for number, line in enumerate(lines, start=1)]
    texts = [text for _number, text in numbered if text]
    try:
        return parse_targets(texts)  # all at once: 30,000 lines are the usual case
    except InputError:
        for number, text in numbered:  # now find the line to name
            if text:
                try:
                    parse_targets([text])
                except InputError as exc:
                    raise InputError(f"{path}:{number}: {exc}") from exc
        raise


def run_probe(targets: Sequence[str], file: Path | None, count: int, interval_ms: float,
              period_ms: float, timeout_ms: float, json_output: bool) -> int:
    """Sweep, print fping-like lines (or JSON); the exit code: 0 all answered, 1 if not."""
    names = parse_targets(targets)
    if file is not None:
        names = list(dict.fromkeys(names + read_target_file(file)))
    if not names:
        raise InputError("no targets: give addresses or --file FILE")
    results = Sweep(names, count=count, interval_ms=interval_ms,
                    period_ms=period_ms, timeout_ms=timeout_ms).run()
    # one write for tens of thousands of lines, not one call each
    if json_output:
        import json  # only here: the usual run prints text

        sys.stdout.write(json.dumps([r.as_dict() for r in results]) + "\n")
    else:
        sys.stdout.write("".join(f"{fping_line(r)}\n" for r in results))
    return int(ExitCode.FINDINGS if any(r.received == 0 for r in results) else ExitCode.OK)


def main(argv: Sequence[str]) -> int:
    """``dlict probe`` options (the same as the Typer command's) after the word ``probe``."""
    parser = argparse.ArgumentParser(prog="dlict probe", add_help=False)
    parser.add_argument("targets", nargs="*")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--period", type=float, default=1000.0)
    parser.add_argument("--timeout", type=float, default=1000.0)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse has said what is wrong
        return int(ExitCode.BAD_INPUT) if exc.code else 0
    try:
        return run_probe(args.targets, args.file, args.count, args.interval, args.period,
                         args.timeout, json_output=False)
    except DlictError as exc:
        for line in exc.lines():
            sys.stderr.write(f"dlict: {line}\n")
        return int(exc.exit_code)
