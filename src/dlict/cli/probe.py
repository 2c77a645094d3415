"""``dlict probe``: an ad-hoc ICMP sweep with fping-like output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from dlict.cli.context import app_context
from dlict.core.errors import ExitCode, InputError
from dlict.probes.icmp import Sweep, fping_line, parse_targets


def probe(
    ctx: typer.Context,
    targets: Annotated[list[str] | None, typer.Argument(help="IPv4 addresses.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Addresses, one a line.")] = None,
    count: Annotated[int, typer.Option("--count", help="Echoes per target.")] = 1,
    interval: Annotated[float, typer.Option("--interval",
                                            help="Milliseconds between any two sends.")] = 1.0,
    period: Annotated[float, typer.Option("--period", help="Milliseconds between two sends "
                                                           "to one target.")] = 1000.0,
    timeout: Annotated[float, typer.Option("--timeout", help="Milliseconds to wait for the "
                                                             "last replies.")] = 1000.0,
) -> None:
    """Ping many targets through one raw socket; exit 0 when every target answered, 1 if not."""
    actx = app_context(ctx)
    names = list(targets or [])
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"{file}: cannot read: {exc.strerror}") from exc
        for number, line in enumerate(lines, start=1):
            text = line.split("#", 1)[0].strip()
            if text:
                try:
                    names += parse_targets([text])
                except InputError as exc:
                    raise InputError(f"{file}:{number}: {exc}") from exc
    if not names:
        raise InputError("no targets: give addresses or --file FILE")
    results = Sweep(parse_targets(names), count=count, interval_ms=interval, period_ms=period,
                    timeout_ms=timeout).run()
    # one write for tens of thousands of lines, not one call each
    if actx.json_output:
        sys.stdout.write(json.dumps([r.as_dict() for r in results]) + "\n")
    else:
        sys.stdout.write("".join(f"{fping_line(r)}\n" for r in results))
    if any(r.received == 0 for r in results):
        raise typer.Exit(ExitCode.FINDINGS)
