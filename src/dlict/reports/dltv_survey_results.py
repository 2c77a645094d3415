"""A DLTV survey as the evidence store keeps it: one result per school with a receiver."""

from __future__ import annotations

from dlict.core.results import Result, Status
from dlict.reports.dltv_survey import Entry, Survey
from dlict.reports.dltv_survey_render import unchecked_reason

TARGET = "dltv-survey"


def survey_results(survey: Survey) -> list[Result]:
    """Fail (a finding) for a school whose equipment needs work; pass for a healthy one; a
    school that could not be judged or sent no data is neither (``skipped``, saying why), as
    the survey's exit code has always treated it."""
    def result(entry: Entry, status: Status, evidence: str) -> Result:
        code = entry.school.code
        return Result(site=code, host=code, target=TARGET, status=status, evidence=evidence,
                      observed_at=survey.end)

    return ([result(e, Status.FAIL, _need(e)) for e in survey.findings]
            + [result(e, Status.SKIPPED, unchecked_reason(e, "en"))
               for e in survey.unchecked + survey.no_data]
            + [result(e, Status.PASS, "equipment healthy") for e in survey.healthy])


def _need(entry: Entry) -> str:
    problem = entry.problem
    return (f"{problem.value}: {problem.need.value} "
            f"{', '.join(e.value for e in problem.equipment)}")

