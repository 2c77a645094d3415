"""``dlict incident``: cases, their intake, evidence and documents (one module each)."""

from __future__ import annotations

import typer

from dlict.cli import incident_cases, incident_docs, incident_evidence, incident_intake

app = typer.Typer(help="Incidents: cases from alerts and findings, evidence with a chain of "
                  "custody, legal deadlines, the office's reports.", no_args_is_help=True)

for _part in (incident_cases, incident_intake, incident_evidence, incident_docs):
    _part.register(app)
