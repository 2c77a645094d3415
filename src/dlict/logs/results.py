"""A log-tree check as the evidence store keeps it: one result per source (site/host), one
for problems of the tree itself."""

from __future__ import annotations

from dlict.core.results import Result, Status
from dlict.logs.check import CheckReport, Problem

#: What a log check's results name (the store wants a control or a target).
TARGET = "log-retention"
#: The site and host of a problem of the tree itself (not of one source).
TREE_SITE = "*"
TREE_HOST = "log-tree"


def _evidence(problems: list[Problem]) -> str:
    return "\n".join(f"{p.kind}{' ' + p.day.isoformat() if p.day else ''}: {p.detail}"
                     for p in problems)


def check_results(report: CheckReport) -> list[Result]:
    """Pass for a clean source, fail (a finding) with its problems for any other."""
    results = []
    if report.problems:
        results.append(Result(site=TREE_SITE, host=TREE_HOST, target=TARGET, status=Status.FAIL,
                              evidence=_evidence(report.problems), observed_at=report.checked_at))
    for source in report.sources:
        site, _, host = source.source.partition("/")
        evidence = (_evidence(source.problems) if source.problems else
                    f"{source.days_covered}/{source.days_required} days covered, sealed to "
                    f"{source.last_sealed_day or '-'}")
        results.append(Result(site=site, host=host or site, target=TARGET,
                              status=Status.PASS if source.ok else Status.FAIL,
                              evidence=evidence, observed_at=report.checked_at))
    return results
