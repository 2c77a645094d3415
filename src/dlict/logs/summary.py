"""Plain-text lines for the terminal, shared by ``dlict logs`` and the server's zipapp.

English unless asked otherwise: the lines were English before they were translatable, and
the tests and scripts that read them still expect it.
"""

from __future__ import annotations

from dlict.i18n import text
from dlict.logs.check import CheckReport
from dlict.logs.seal import SealOutcome
from dlict.logs.tree import format_ranges


def check_lines(report: CheckReport, lang: str = "en") -> list[str]:
    lines = []
    for problem in report.problems:
        lines.append(f"PROBLEM {problem.kind}: {problem.detail}")
    for source in report.sources:
        verdict = "ok" if source.ok else "PROBLEM"
        clock = f"{source.clock.offset_ms:.3f} ms" if source.clock \
            else text("logs.not_reported", lang)
        heard = text("logs.line.heard", lang, minutes=source.silent_seconds / 60) \
            if source.silent_seconds is not None else text("logs.line.never", lang)
        lines.append(text("logs.line.source", lang, verdict=verdict, source=source.source,
                          covered=source.days_covered, required=source.days_required,
                          sealed=source.last_sealed_day or "-", heard=heard, clock=clock))
        lines += [f"        {p.kind}{' ' + p.day.isoformat() if p.day else ''}: {p.detail}"
                  for p in source.problems]
    total = len(report.sources)
    bad = sum(1 for s in report.sources if not s.ok)
    lines.append(text("logs.line.total", lang, clean=total - bad, total=total,
                      megabytes=report.bytes / 1e6,
                      files=sum(s.files for s in report.sources), days=report.days))
    return lines


def seal_lines(outcomes: list[SealOutcome], lang: str = "en") -> list[str]:
    lines = []
    for outcome in outcomes:
        if outcome.refused:
            lines.append(f"REFUSED {outcome.source}: {outcome.refused}")
            continue
        if outcome.stopped:
            lines.append(f"FINDING {outcome.source} {outcome.stopped}")
        lines += [f"FINDING {outcome.source} {finding}" for finding in outcome.findings]
        if not (outcome.sealed or outcome.absent or outcome.pruned):
            continue
        parts = []
        if outcome.sealed:
            parts.append(text("logs.line.sealed", lang, days=format_ranges(outcome.sealed)))
        if outcome.absent:
            parts.append(text("logs.line.absent", lang, days=format_ranges(outcome.absent)))
        if outcome.pruned:
            parts.append(text("logs.line.pruned", lang, count=len(outcome.pruned)))
        lines.append(f"{outcome.source}: {'; '.join(parts)}")
    return lines
