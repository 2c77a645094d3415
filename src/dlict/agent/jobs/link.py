"""Link probes from inside the school, with ``dlict monitor``'s engines.

ICMP goes through the monitor's sweep (one raw socket, paced, kernel timestamps) and the
service checks through the monitor's registry of probe kinds (tcp, dns, http), so a figure
means the same whichever side measured it. Samples carry the monitor's names and labels plus
``vantage="agent"``; each target also gives one result (pass when it answered).

The engines are imported in the run, that is in the job's forked child: the HTTP probe
brings ``cryptography`` (some 8 MB), which the long-running agent then never holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.recorder import Recorder
from dlict.agent.jobs.settings import LinkJobSettings
from dlict.agent.records import Record
from dlict.core.errors import DlictError
from dlict.core.metric_names import (
    LINK_UP,
    PROBE_JITTER,
    PROBE_LOSS,
    PROBE_MAX,
    PROBE_MIN,
    PROBE_RTT,
    PROBE_UP,
)
from dlict.core.results import Status

if TYPE_CHECKING:
    from dlict.exporter.service_probe import ServiceCheck
    from dlict.exporter.state import LinkSample, ServiceSample

NAME = "link"
_WORKERS = 8


def icmp_target(address: str) -> str:
    return f"icmp {address}"


def service_target(check: ServiceCheck) -> str:
    return f"{check.kind} {check.target}"


class LinkJob:
    """ICMP and service probes to the district's targets, from the school."""

    name = NAME

    def __init__(self, settings: LinkJobSettings) -> None:
        self.settings = settings
        self.interval_s = settings.interval_s
        self.deadline_s = settings.deadline_s

    def checks(self, site: str) -> list[ServiceCheck]:
        from dlict.exporter.service_registry import SERVICE_PROBES

        return [check for probe in SERVICE_PROBES.values()
                for check in probe.checks(site, self.settings.services)]

    def run(self, context: JobContext) -> Sequence[Record]:
        out = Recorder(context)
        checks = self.checks(context.site)
        timeout = self.settings.check_timeout_s
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            # the service checks run while the ICMP sweep paces its echoes
            pending = [pool.submit(_checked, check, timeout) for check in checks]
            self._icmp(out)
            samples = [future.result() for future in pending]
        for check, sample in zip(checks, samples, strict=True):
            self._service(out, check, sample)
        return out.records

    def _icmp(self, out: Recorder) -> None:
        from dlict.exporter.scheduler import link_sample, sweep_for

        settings = self.settings
        targets = list(dict.fromkeys(settings.icmp))
        if not targets:
            return
        try:
            results = sweep_for(targets, settings.count, settings.period_ms,
                                settings.timeout_ms).run()
        except DlictError as exc:  # no raw socket: each target is an error, not a crash
            for address in targets:
                out.result(Status.ERROR, str(exc), target=icmp_target(address))
            return
        links = {r.address: link_sample(r) for r in results}
        for address, link in links.items():
            _link_samples(out, address, link)
            evidence = f"received {link.received}/{link.sent}" + (
                f", rtt {link.rtt_s * 1000:.3f} ms" if link.rtt_s is not None else "")
            out.result(Status.PASS if link.received else Status.FAIL, evidence,
                       target=icmp_target(address))
        out.sample(LINK_UP, {}, float(any(link.received for link in links.values())))

    def _service(self, out: Recorder, check: ServiceCheck, sample: ServiceSample) -> None:
        from dlict.exporter.service_registry import SERVICE_PROBES

        for metric in SERVICE_PROBES[check.kind].metrics:
            out.sample(metric.family, {"target": check.target}, metric.value(sample))
        evidence = sample.detail or ""
        if sample.up and sample.seconds is not None:
            evidence = f"answered in {sample.seconds * 1000:.1f} ms" + (
                f" ({evidence})" if evidence else "")
        out.result(Status.PASS if sample.up else Status.FAIL, evidence,
                   target=service_target(check))


def _checked(check: ServiceCheck, timeout_s: float) -> ServiceSample:
    from dlict.exporter.scheduler import service_sample
    from dlict.exporter.state import ServiceSample

    try:
        return service_sample(check, timeout_s)
    except DlictError as exc:  # a target the probe refuses (bad URL): that target's failure
        return ServiceSample(False, None, detail=str(exc))


def _link_samples(out: Recorder, address: str, link: LinkSample) -> None:
    labels = {"target": address}
    out.sample(PROBE_UP, labels, float(link.received > 0))
    out.sample(PROBE_RTT, labels, link.rtt_s)
    out.sample(PROBE_MIN, labels, link.min_s)
    out.sample(PROBE_MAX, labels, link.max_s)
    out.sample(PROBE_JITTER, labels, link.jitter_s)
    out.sample(PROBE_LOSS, labels, link.loss_ratio)
