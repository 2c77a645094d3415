"""The command groups, each imported when it runs: ``dlict --version`` and ``dlict --help``
load none of them (nor Ansible, Jinja, prometheus_client, netmiko or scapy behind them)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command

if TYPE_CHECKING:  # Typer's Click (vendored in newer Typers): types only
    from typer._click import Context, HelpFormatter


@dataclass(frozen=True)
class Entry:
    module: str
    attribute: str  # a Typer app (a group) or a command function
    summary: str  # what ``dlict --help`` shows, without importing the module


# In the order ``dlict --help`` lists them. A summary is the command's own first sentence
# (tests/unit/test_cli_startup.py holds them equal).
COMMANDS: dict[str, Entry] = {
    "facts": Entry("dlict.cli.facts", "facts", "Reach every Linux host over SSH (host keys "
                   "verified) and record its facts."),
    "apply": Entry("dlict.cli.sop", "apply", "Make the SOP controls hold on the Linux hosts "
                   "(Ansible), then verify each one."),
    "audit": Entry("dlict.cli.sop", "audit", "Check the SOP controls (every area, or those "
                   "named) without changing anything; exit 1 if one does not hold."),
    "probe": Entry("dlict.cli.probe", "probe", "Ping many targets through one raw socket; "
                   "exit 0 when every target answered, 1 if not."),
    "inventory": Entry("dlict.cli.inventory", "app", "Check and show the district inventory; "
                       "import a school list."),
    "runs": Entry("dlict.cli.runs", "app", "Past runs and their results, from the evidence "
                  "store."),
    "controls": Entry("dlict.cli.controls", "app", "The SOP control catalog."),
    "logs": Entry("dlict.cli.logs", "app", "Log retention (Computer Crime Act s.26): seal and "
                  "check the log tree."),
    "monitor": Entry("dlict.cli.monitor", "app", "School links, services and DLTV receivers, "
                     "served to Prometheus."),
    "report": Entry("dlict.cli.report", "app", "Reports for the office: compliance, monthly "
                    "statistics, the DLTV equipment survey."),
    "netdev": Entry("dlict.cli.netdev", "app", "Network devices over SSH: configuration "
                    "backup, history, rule audit."),
    "intake": Entry("dlict.cli.intake", "app", "Receive the school agents' batches and serve "
                    "their state to Prometheus."),
    "netscan": Entry("dlict.cli.netscan", "app", "Packets from outside: which ports of each "
                     "host answer (FW-11), which devices are on each site's LAN (EP-07)."),
    "ca": Entry("dlict.cli.ca", "app", "The district's enrolment CA for school agents: init, "
                "tokens, revocation."),
    "agent": Entry("dlict.cli.agent", "app", "The school agent: checks from inside a school, "
                   "stored in a durable outbox and forwarded to the office."),
    "incident": Entry("dlict.cli.incident", "app", "Incidents: cases from alerts and findings, "
                      "evidence with a chain of custody, legal deadlines, the office's reports."),
    "access": Entry("dlict.cli.access", "app", "Access requests: the SOP's request form as a "
                    "workflow that feeds the approved-accounts register."),
}


def load_command(name: str) -> TyperCommand | TyperGroup:
    """The Click command of ``name``, built as ``app.add_typer``/``app.command`` on the root
    would (plain help, no Rich markup: a school's name may hold brackets)."""
    entry = COMMANDS[name]
    target = getattr(importlib.import_module(entry.module), entry.attribute)
    holder = typer.Typer(rich_markup_mode=None, add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
        return cast(TyperGroup, cast(TyperGroup, get_command(holder)).commands[name])
    holder.command(name)(target)
    return cast(TyperCommand, get_command(holder))


class LazyCommands(TyperGroup):
    """The root group: knows the commands by name and summary, imports one when it is used."""

    def list_commands(self, ctx: Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: Context, cmd_name: str) -> TyperCommand | None:
        if cmd_name in COMMANDS:
            if cmd_name not in self.commands:
                self.commands[cmd_name] = load_command(cmd_name)
            return self.commands[cmd_name]  # type: ignore[return-value]
        return super().get_command(ctx, cmd_name)  # type: ignore[return-value]

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, TyperCommand(name=name, help=entry.summary).get_short_help_str(limit))
                for name, entry in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
