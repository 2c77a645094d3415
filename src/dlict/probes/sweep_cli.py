"""What ``dlict probe`` does, importing nothing but the ICMP engine.

``dlict probe`` is the fping of the toolkit: a sweep of 30,000 addresses takes about 0.2 s,
and loading the whole command line (Typer, pydantic settings, loguru, every command group)
costs twice that. So ``dlict.cli.entry`` answers ``dlict probe …`` straight from here, and the
Typer command (``dlict --json probe …``, ``dlict probe --help``) calls the same function.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from dlict.core.errors import DlictError, ExitCode, InputError
from dlict.core.inputs import read_input_text
from dlict.core.numbers import NumberRange
from dlict.probes.icmp import MAX_COUNT, Sweep, fping_lines, parse_targets


def read_target_file(path: str | os.PathLike[str]) -> list[str]:
    """Addresses, one a line, ``#`` comments; a bad line is one error naming file and line."""
    lines = read_input_text(path).splitlines()
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


def run_probe(targets: Sequence[str], file: str | os.PathLike[str] | None, count: int,
              interval_ms: float, period_ms: float, timeout_ms: float,
              json_output: bool) -> int:
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
        sys.stdout.write(fping_lines(results))
    return int(ExitCode.FINDINGS if any(r.received == 0 for r in results) else ExitCode.OK)


# What each number option accepts, for this parser and the Typer command alike (milliseconds).
PROBE_NUMBERS = {
    "--count": NumberRange(1, MAX_COUNT, whole=True),
    "--interval": NumberRange(0, 60_000),
    "--period": NumberRange(0, 3_600_000),
    "--timeout": NumberRange(0, 3_600_000, low_open=True),
}
_DEFAULTS: dict[str, float] = {"--count": 1, "--interval": 1.0, "--period": 1000.0,
                               "--timeout": 1000.0}


def parse_options(argv: Sequence[str]) -> tuple[list[str], str | None, dict[str, float], bool]:
    """Targets, --file, the numbers and --json, as the Typer command takes them (``--opt
    value`` or ``--opt=value``). Hand-written: argparse alone would add a third to the
    start-up."""
    targets: list[str] = []
    file: str | None = None
    numbers = dict(_DEFAULTS)
    json_output = False
    words = list(argv)
    while words:
        word = words.pop(0)
        if not word.startswith("--"):
            targets.append(word)
            continue
        if word == "--json":
            json_output = True
            continue
        name, given, value = word.partition("=")
        if name != "--file" and name not in PROBE_NUMBERS:
            raise InputError(f"no such option: {name}")
        if not given:
            if not words:
                raise InputError(f"option {name} requires an argument")
            value = words.pop(0)
        if name == "--file":
            file = value
            continue
        numbers[name] = PROBE_NUMBERS[name].check(name, value)
    return targets, file, numbers, json_output


def main(argv: Sequence[str]) -> int:
    """``dlict probe`` options (the same as the Typer command's) after the word ``probe``."""
    try:
        targets, file, numbers, json_output = parse_options(argv)
        return run_probe(targets, file, int(numbers["--count"]), numbers["--interval"],
                         numbers["--period"], numbers["--timeout"], json_output)
    except DlictError as exc:
        for line in exc.lines():
            sys.stderr.write(f"dlict: {line}\n")
        return int(exc.exit_code)
