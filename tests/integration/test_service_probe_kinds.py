"""Adding a service probe kind is one object and one registry line: a new kind registered
in ``SERVICE_PROBES`` (and nowhere else) gets its checks planned from the inventory, run by
the scheduler and served on /metrics. The new kind here really connects, over TCP to a
listener on 127.0.0.1, through the same probe library as ``tcp``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dlict.core.promtext import Family
from dlict.exporter.exposition import SiteExposition
from dlict.exporter.plan import build_plan
from dlict.exporter.scheduler import run_once
from dlict.exporter.service_probe import ServiceCheck, ServiceMetric
from dlict.exporter.service_registry import SERVICE_PROBES
from dlict.exporter.state import MonitorState, ServiceSample
from dlict.inventory.loader import load_inventory
from dlict.inventory.models import Services
from dlict.probes.tcp import tcp_connect
from lab.monitoring import School, write_district

REACHED = Family("dlict_example_reached", "1 when the example kind reached its target.")
CODE = "4401010001"


class ExampleProbe:
    """A kind that is not built in: a TCP connect to each ``tcp`` entry, its own family."""

    kind = "example"
    metrics = (ServiceMetric(REACHED, lambda sample: float(sample.up)),)

    def checks(self, site: str, services: Services) -> list[ServiceCheck]:
        return [ServiceCheck(site, self.kind, endpoint, host=endpoint.rpartition(":")[0],
                             port=int(endpoint.rpartition(":")[2]))
                for endpoint in services.tcp]

    def sample(self, check: ServiceCheck, timeout_s: float) -> ServiceSample:
        tcp = tcp_connect(check.host, check.port, timeout_s)
        return ServiceSample(tcp.up, tcp.seconds, detail=tcp.error)


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def test_a_registered_kind_is_planned_run_and_served(tmp_path: Path, listener: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SERVICE_PROBES, "example", ExampleProbe())
    endpoint = f"127.0.0.1:{listener}"
    inventory = load_inventory(write_district(tmp_path / "inv", [
        School(CODE, services={"tcp": [endpoint]})], {"check_timeout_s": 2}))
    plan = build_plan(inventory)
    assert [(c.kind, c.target) for c in plan.services] == [("tcp", endpoint),
                                                          ("example", endpoint)]
    state = MonitorState()
    run_once(plan, state)
    samples = {(s.name, s.labels["target"]): s.value
               for f in text_string_to_metric_families(SiteExposition(plan, state).render())
               for s in f.samples if "target" in s.labels}
    assert samples[("dlict_example_reached", endpoint)] == 1.0
    assert samples[("dlict_tcp_up", endpoint)] == 1.0  # the built-in kind beside it
