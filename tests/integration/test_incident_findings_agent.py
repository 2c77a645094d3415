"""An agent's finding raises a case through the real ``dlict intake serve``: a school server
whose agent reports a second UID 0 account (ID-04) gets one incident case, however often the
agent sends it again; findings the settings do not choose raise none."""

from __future__ import annotations

from pathlib import Path

from dlict.agent.records import result_record
from dlict.core.clock import utc_now
from dlict.core.results import Result, Status
from dlict.incidents.model import CaseSource, Category
from lab.intake_pki import enrol, init_district
from tests.incident_intake_support import read_book
from tests.intake_support import SITE, batch, client_context, intake_serve, post


def test_an_agents_uid_0_finding_opens_one_case(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    init_district(data_dir)
    creds = enrol(data_dir, SITE, "s1-srv", tmp_path / "agent")
    context = client_context(creds, creds.ca)
    seen = utc_now()
    uid0 = Result(SITE, "s1-srv", Status.FAIL, control="ID-04",
                  evidence="/etc/passwd: toor:x:0:0::/root:/bin/bash", observed_at=seen)
    medium = Result(SITE, "s1-srv", Status.FAIL, control="ID-05", evidence="no pwquality",
                    observed_at=seen)
    with intake_serve(data_dir) as server:
        record = result_record(uid0)
        first = post(server.port, batch(SITE, "s1-srv", [record, result_record(medium)]),
                     context)
        again = post(server.port, batch(SITE, "s1-srv", [record]), context)  # a lost answer
        later = Result(SITE, "s1-srv", Status.FAIL, control="ID-04", evidence=uid0.evidence,
                       observed_at=utc_now())  # the next day's check: same evidence
        third = post(server.port, batch(SITE, "s1-srv", [result_record(later)]), context)
    assert (first.status, again.status, third.status) == (200, 200, 200)
    assert again.json()["duplicates"] == 1
    book = read_book(data_dir)
    [case] = book.cases
    assert (case.group_key, case.source, case.category) == (
        "agent:s1-srv:ID-04", CaseSource.AGENT, Category.INTRUSIONS)
    assert case.sites == (SITE,)
    [entry] = [e for e in book.timelines[case.id] if e.kind == "finding"]
    assert "toor:x:0:0" in entry.text and "agent run" in entry.text
