"""``dlict access``: the SOP's access-request form as a workflow (dlict.access)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Access requests: the SOP's request form as a workflow that feeds the "
                  "approved-accounts register.", no_args_is_help=True)
