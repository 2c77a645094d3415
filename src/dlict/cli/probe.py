"""``dlict probe``: an ad-hoc ICMP sweep with fping-like output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlict.cli.context import app_context
from dlict.cli.options import number_option
from dlict.probes.sweep_cli import PROBE_NUMBERS, run_probe


def probe(
    ctx: typer.Context,
    targets: Annotated[list[str] | None, typer.Argument(help="IPv4 addresses.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Addresses, one a line.")] = None,
    count: Annotated[int, number_option("--count", PROBE_NUMBERS["--count"],
                                        "Echoes per target.")] = 1,
    interval: Annotated[float, number_option("--interval", PROBE_NUMBERS["--interval"],
                                             "Milliseconds between any two sends.")] = 1.0,
    period: Annotated[float, number_option("--period", PROBE_NUMBERS["--period"],
                                           "Milliseconds between two sends to one "
                                           "target.")] = 1000.0,
    timeout: Annotated[float, number_option("--timeout", PROBE_NUMBERS["--timeout"],
                                            "Milliseconds to wait for the last "
                                            "replies.")] = 1000.0,
    json_output: Annotated[bool, typer.Option("--json", help="JSON instead of fping-like "
                                                             "lines.")] = False,
) -> None:
    """Ping many targets through one raw socket; exit 0 when every target answered, 1 if not."""
    code = run_probe(targets or [], file, count, interval, period, timeout,
                     json_output or app_context(ctx).json_output)
    if code:
        raise typer.Exit(code)
