"""The ``dlict`` command: global options, sub-command groups, errors turned into exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dlict import __version__
from dlict.cli.lazy import LazyCommands
from dlict.core.errors import DlictError, ExitCode
from dlict.core.printable import printable
from dlict.core.runner_dir import Terminated, sigterm_unwinds

app = typer.Typer(
    name="dlict",
    help="Operations toolkit of a district education office's DLICT group: apply and audit "
    "the cyber-security SOP, keep logs as the Computer Crime Act asks, watch school links "
    "and DLTV.",
    no_args_is_help=True,
    cls=LazyCommands,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"dlict {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    inventory_path: Annotated[
        Path | None,
        typer.Option("-i", "--inventory", help="Ansible inventory (directory or file).",
                     show_default=False),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML configuration file.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the evidence store and logs live.")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on standard output.")
    ] = False,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of tables and reports: th or en.")
    ] = None,
    log_json: Annotated[
        bool | None, typer.Option("--log-json", help="Log records as JSON lines (for shipping).")
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    # here, not at the top: ``dlict --version`` and ``--help`` load no settings, no pydantic
    from dlict.cli.context import AppContext
    from dlict.core.config import load_settings
    from dlict.core.logging import setup_logging

    settings = load_settings(
        config_file=config,
        overrides={"inventory": inventory_path, "data_dir": data_dir, "lang": lang,
                   "log_json": log_json},
    )
    setup_logging(settings.log_level, settings.log_json)
    ctx.obj = AppContext(settings=settings, json_output=json_output)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; exit 0 ok, 1 findings, 2 bad input, 3 operational error."""
    with sigterm_unwinds():
        try:
            app(args=argv, prog_name="dlict")
        except Terminated:
            sys.stderr.write("dlict: stopped by SIGTERM\n")
            raise
        except DlictError as exc:
            from dlict.core.logging import redact

            for line in exc.lines():
                sys.stderr.write(f"dlict: {printable(redact(line))}\n")
            sys.exit(int(exc.exit_code))
        except Exception as exc:  # a bug (or the machine): one line, the traceback only in the log
            from loguru import logger

            from dlict.core.files import environment_failure
            from dlict.core.logging import redact

            logger.opt(exception=exc).debug("internal error")
            failure = environment_failure(exc)  # unless the disk or a path is to blame
            if failure is not None:
                sys.stderr.write(f"dlict: {printable(redact(str(failure)))}\n")
                sys.exit(int(failure.exit_code))
            sys.stderr.write(f"dlict: internal error: {redact(repr(exc))} (please report it)\n")
            sys.exit(int(ExitCode.OPERATIONAL))
