"""``dlict ca``: the district's enrolment CA for school agents (init, tokens, revocation)."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from dlict.cli.context import app_context
from dlict.cli.options import JsonOption
from dlict.cli.text import shown
from dlict.core.clock import format_local, utc_now
from dlict.core.errors import InputError
from dlict.core.store import AgentCertRecord, EnrolTokenRecord

app = typer.Typer(help="The district's enrolment CA for school agents: init, tokens, "
                  "revocation.", no_args_is_help=True)

MIN_TTL = timedelta(minutes=5)
MAX_TTL = timedelta(days=30)
_TTL = re.compile(r"(\d{1,6})([smhd])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_ttl(text: str) -> timedelta:
    """``90m``, ``24h``, ``7d`` as a time span between 5 minutes and 30 days.

    Raises:
        InputError: one line naming --ttl.
    """
    match = _TTL.fullmatch(text.strip())
    ttl = timedelta(**{_UNIT[match[2]]: int(match[1])}) if match else None
    if ttl is None or not MIN_TTL <= ttl <= MAX_TTL:
        raise InputError(f"--ttl {text[:40]!r}: give a number and s, m, h or d, between 5m "
                         "and 30d (for example 24h)")
    return ttl


@app.command()
def init(
    ctx: typer.Context,
    name: Annotated[list[str] | None, typer.Option(
        "--name", help="A DNS name or IP address agents reach the intake by (repeatable); "
        "localhost and 127.0.0.1 are always included.")] = None,
    _json: JsonOption = False,
) -> None:
    """Make the enrolment CA and the intake's certificate in DATA_DIR/ca (once)."""
    from dlict.intake.ca import ca_pin, init_ca

    actx = app_context(ctx)
    files = init_ca(actx.settings.data_dir, names=name or [])
    pin = ca_pin(files)
    if actx.json_output:
        actx.print_json({"directory": str(files.directory), "ca_sha256": pin})
        return
    actx.console.print(f"enrolment CA made in {shown(files.directory)}", soft_wrap=True)
    actx.console.print(f"CA sha256 {pin} (every token pins it)", soft_wrap=True)


@app.command("issue-token")
def issue_token(
    ctx: typer.Context,
    site: Annotated[str, typer.Option("--site", help="The school code the agent reports for.")],
    host: Annotated[str, typer.Option("--host", help="The agent's host name.")],
    ttl: Annotated[timedelta, typer.Option("--ttl", parser=parse_ttl, metavar="SPAN",
                                           help="How long the token may be used: 5m to 30d.")
                   ] = "24h",  # type: ignore[assignment]
    _json: JsonOption = False,
) -> None:
    """Print a one-time enrolment token for one site and host; it is shown only this once."""
    from dlict.intake.ca import ca_files, ca_pin
    from dlict.intake.ca import issue_token as issue

    actx = app_context(ctx)
    files = ca_files(actx.settings.data_dir)
    ca_pin(files)  # no CA: say so before the store is created
    with actx.open_store() as store:
        token = issue(store, files, site, host, ttl)
    until = utc_now() + ttl
    if actx.json_output:
        actx.print_json({"token": token, "site": site, "host": host,
                         "expires_at": until.isoformat(timespec="seconds")})
        return
    sys.stdout.write(token + "\n")
    sys.stderr.write(f"one-time token for {site}/{host}, valid until "
                     f"{format_local(until, actx.lang)}; it is not kept anywhere: give it to "
                     "the agent now (dlict agent enroll --config FILE --token TOKEN)\n")


@app.command()
def revoke(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="School code.")],
    host: Annotated[str, typer.Argument(help="Host name.")],
    _json: JsonOption = False,
) -> None:
    """Revoke every certificate of an agent and void its unused tokens."""
    from dlict.intake.ca import revoke_agent

    actx = app_context(ctx)
    with actx.open_store() as store:
        revoked = revoke_agent(store, site, host)
    if revoked.certificates == revoked.tokens == 0:
        raise InputError(f"nothing to revoke for {site}/{host}: it has no live certificate "
                         "and no unused enrolment token")
    if actx.json_output:
        actx.print_json({"site": site, "host": host, "certificates": revoked.certificates,
                         "tokens": revoked.tokens})
        return
    actx.console.print(f"{shown(site)}/{shown(host)}: {revoked.certificates} certificate(s) "
                       f"revoked, {revoked.tokens} unused token(s) voided")


@app.command("list")
def list_agents(ctx: typer.Context, _json: JsonOption = False) -> None:
    """Enrolled agents' certificates and outstanding tokens (never a secret)."""
    actx = app_context(ctx)
    with actx.open_store() as store:
        certs, tokens = store.agent_certs(), store.enrol_tokens()
    if actx.json_output:
        actx.print_json({"certificates": [_cert_row(c) for c in certs],
                         "tokens": [_token_row(t) for t in tokens]})
        return
    table = Table(title="agent certificates")
    for column in ("site", "host", "serial", "state", "valid until"):
        table.add_column(column)
    for cert in certs:
        row = _cert_row(cert)
        table.add_row(shown(cert.site), shown(cert.host), cert.serial[:16], row["state"],
                      format_local(cert.not_after, actx.lang))
    actx.console.print(table)
    table = Table(title="enrolment tokens")
    for column in ("id", "site", "host", "state", "valid until"):
        table.add_column(column)
    for token in tokens:
        table.add_row(token.id, shown(token.site), shown(token.host), _token_row(token)["state"],
                      format_local(token.expires_at, actx.lang))
    actx.console.print(table)


def _cert_row(cert: AgentCertRecord) -> dict[str, Any]:
    state = (cert.revoke_reason or "revoked" if cert.revoked_at is not None
             else "expired" if utc_now() >= cert.not_after else "valid")
    return {"site": cert.site, "host": cert.host, "serial": cert.serial, "state": state,
            "fingerprint_sha256": cert.fingerprint, "not_after": cert.not_after.isoformat(),
            "issued_at": cert.issued_at.isoformat(),
            "revoked_at": cert.revoked_at.isoformat() if cert.revoked_at else None}


def _token_row(token: EnrolTokenRecord) -> dict[str, Any]:
    state = ("used" if token.used_at is not None
             else "expired" if utc_now() >= token.expires_at else "unused")
    return {"id": token.id, "site": token.site, "host": token.host, "state": state,
            "created_by": token.created_by, "created_at": token.created_at.isoformat(),
            "expires_at": token.expires_at.isoformat(),
            "used_at": token.used_at.isoformat() if token.used_at else None}
