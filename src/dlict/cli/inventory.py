"""``dlict inventory``: validate, show, import a school list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dlict.cli.context import app_context
from dlict.cli.options import JsonOption
from dlict.cli.text import shown, word
from dlict.i18n import name_of
from dlict.inventory import Inventory, Site, SiteKind
from dlict.inventory.csv_import import import_schools

app = typer.Typer(help="Check and show the district inventory; import a school list.",
                  no_args_is_help=True)


@app.command()
def validate(ctx: typer.Context, _json: JsonOption = False) -> None:
    """Check the inventory; exit 2 with one line per problem."""
    actx = app_context(ctx)
    inv = actx.inventory()
    counts = inv.kind_counts
    if actx.json_output:
        actx.print_json({"valid": True, "source": inv.source, **counts})
    else:
        actx.console.print(f"{shown(inv.source)}: valid — "
                           + word("sites_hosts", "en").format(**counts))


def _site_name(site: Site, lang: str) -> str:
    return name_of(site.meta, lang)


def site_as_dict(inv: Inventory, site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "kind": site.kind.value,
        "group": site.group,
        **site.meta.model_dump(mode="json", exclude_none=True),
        "hosts": [
            {"name": h, "address": inv.hosts[h].address,
             "roles": sorted(r.value for r in inv.hosts[h].roles),
             **({"device_type": inv.hosts[h].device_type} if inv.hosts[h].device_type else {})}
            for h in site.hosts if h in inv.hosts
        ],
    }


@app.command()
def show(ctx: typer.Context, _json: JsonOption = False) -> None:
    """Sites with their hosts and roles."""
    actx = app_context(ctx)
    inv = actx.inventory()
    if actx.json_output:
        actx.print_json({"source": inv.source, "sites": [site_as_dict(inv, s) for s in inv.sites]})
        return
    lang = actx.lang
    actx.console.print(word("sites_hosts", lang).format(**inv.kind_counts))
    for site in inv.sites:
        code = word("office", lang) if site.kind is SiteKind.OFFICE else site.id
        details = [shown(site.meta.amphoe)]
        details += [f"{word('isp', lang)} {shown(link.isp)}" for link in site.meta.links]
        if site.meta.dltv:
            details.append(f"DLTV {shown(site.meta.dltv.source)}")
        table = Table(title=f"{shown(code)}  {shown(_site_name(site, lang))}\n"
                      + " · ".join(details),
                      title_justify="left", expand=False)
        for key in ("host", "address", "roles"):
            table.add_column(word(key, lang), no_wrap=True)
        for name in site.hosts:
            host = inv.hosts[name]
            roles = ", ".join(sorted(r.value for r in host.roles))
            if host.device_type:
                roles += f" ({host.device_type})"
            table.add_row(shown(host.name), shown(host.address), shown(roles))
        actx.console.print(table)


@app.command("import-schools")
def import_schools_command(
    ctx: typer.Context,
    csv_file: Annotated[Path, typer.Argument(help="School list, CSV in UTF-8 (BOM allowed).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="New inventory directory.")],
    _json: JsonOption = False,
) -> None:
    """Build an inventory from a school list; invalid rows are named and nothing is written."""
    actx = app_context(ctx)
    count = import_schools(csv_file, output)
    if actx.json_output:
        actx.print_json({"schools": count, "inventory": str(output)})
    else:
        actx.console.print(f"wrote an inventory of {count} schools to {shown(output)}")
