"""Plain-text lines for the terminal, shared by ``dlict logs`` and the server's zipapp."""

from __future__ import annotations

from dlict.logs.check import CheckReport
from dlict.logs.seal import SealOutcome
from dlict.logs.tree import format_ranges


def check_lines(report: CheckReport) -> list[str]:
    lines = []
    for problem in report.problems:
        lines.append(f"PROBLEM {problem.kind}: {problem.detail}")
    for source in report.sources:
        verdict = "ok" if source.ok else "PROBLEM"
        clock = f"{source.clock.offset_ms:.3f} ms" if source.clock else "not reported"
        heard = f"{source.silent_seconds / 60:.0f} min ago" \
            if source.silent_seconds is not None else "never"
        lines.append(f"{verdict:7} {source.source}: {source.days_covered}/"
                     f"{source.days_required} days covered, sealed to "
                     f"{source.last_sealed_day or '-'}, heard {heard}, clock {clock}")
        lines += [f"        {p.kind}{' ' + p.day.isoformat() if p.day else ''}: {p.detail}"
                  for p in source.problems]
    total = len(report.sources)
    bad = sum(1 for s in report.sources if not s.ok)
    lines.append(f"{total - bad} of {total} sources clean; {report.bytes / 1e6:.1f} MB in "
                 f"{sum(s.files for s in report.sources)} files checked over "
                 f"{report.days} days")
    return lines


def seal_lines(outcomes: list[SealOutcome]) -> list[str]:
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
            parts.append(f"sealed {format_ranges(outcome.sealed)}")
        if outcome.absent:
            parts.append(f"no logs on {format_ranges(outcome.absent)}")
        if outcome.pruned:
            parts.append(f"deleted {len(outcome.pruned)} file(s) past retention")
        lines.append(f"{outcome.source}: {'; '.join(parts)}")
    return lines
