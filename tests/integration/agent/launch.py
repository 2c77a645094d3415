"""Run the real ``dlict`` CLI with test jobs and a test TLS identity.

    python -m tests.integration.agent.launch SPEC_JSON dlict-arguments...

The jobs (``dlict.agent.jobs``), their runner and the enrolment that makes the agent's TLS
context are written by other helpers in parallel; until they are merged, the agent's tests
give the service these through its ``Seams``: jobs that make the records SPEC asks for, a
runner that calls them in this process, and the context of the test CA in SPEC's ``pki``.
Everything else — configuration, outbox, forwarding, HTTPS, exit codes — is the real code.

SPEC: ``{"pki": DIR, "jobs": [{"name", "samples": n, "results": [status, ...],
"events": n, "pad": bytes of padding per sample, "interval_s": s}], "enrolled": bool}``;
with ``"enrolled": true`` the agent uses the identity ``dlict agent enroll`` gave it.
"""

from __future__ import annotations

import json
import ssl
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlict.agent import service
from dlict.agent.config import AgentConfig
from dlict.agent.jobs.base import Job, JobContext
from dlict.agent.records import Record, event_record, result_record, sample_record
from dlict.cli.app import main
from dlict.core.results import Result, Status


@dataclass
class SpecJob:
    name: str
    spec: dict[str, Any]
    interval_s: float = 60.0
    deadline_s: float = 30.0

    def run(self, context: JobContext) -> Sequence[Record]:
        pad = "x" * int(self.spec.get("pad", 0))
        records = [sample_record(context.site, context.host, f"dlict_test_{self.name}",
                                 {"n": str(i), "pad": pad}, float(i))
                   for i in range(int(self.spec.get("samples", 0)))]
        records += [result_record(Result(site=context.site, host=context.host,
                                         control=f"TEST-{i:02d}", status=Status(status),
                                         evidence=f"{self.name} {i}"))
                    for i, status in enumerate(self.spec.get("results", []))]
        records += [event_record(context.site, context.host, "test", f"{self.name} {i}")
                    for i in range(int(self.spec.get("events", 0)))]
        return records


@dataclass
class JobRun:
    name: str
    records: Sequence[Record]
    error: str | None
    cut: bool = False


def run_inline(job: Job, context: JobContext) -> JobRun:
    try:
        return JobRun(job.name, job.run(context), None)
    except Exception as exc:  # a test job's failure is the job's, as the real runner reports
        return JobRun(job.name, [], str(exc))


def launch(spec: dict[str, Any], argv: list[str]) -> None:
    jobs = [SpecJob(j["name"], j, float(j.get("interval_s", 60))) for j in spec.get("jobs", [])]
    pki = Path(spec["pki"]) if spec.get("pki") else None

    def tls_context(_config: AgentConfig) -> ssl.SSLContext:
        if pki is None:
            return ssl.create_default_context()
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(pki / "client.crt", pki / "client.key")
        return context

    service.seams = service.Seams(jobs=lambda _config: list(jobs), run_job=run_inline)
    if not spec.get("enrolled"):
        service.seams.tls_context = tls_context
    main(argv)


if __name__ == "__main__":
    launch(json.loads(sys.argv[1]), sys.argv[2:])
