"""The agent's samples sent with remote_write to a real Prometheus (Debian's package, started
with its remote-write receiver on a free loopback port): the series are queryable with the
labels and values the agent recorded, a rule on them fires, and what Prometheus refuses for
good (a sample older than its head takes, one out of order) is reported once, not retried for
ever, while a closed port is a failure to retry.

Rule evaluation runs every second and the rule's ``for:`` is 0 s, so the test waits seconds.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dlict.agent.config import RemoteWriteSettings
from dlict.agent.records import Record, event_record, sample_record
from dlict.agent.remote_write import (
    MAX_SAMPLES_PER_REQUEST,
    RemoteWriteClient,
    RemoteWriteRejectedError,
    RetryableSendError,
)
from dlict.core.clock import utc_now
from dlict.core.metric_names import LINK_UP, PROBE_RTT, TCP_UP
from lab.monitoring import fetch, free_port
from tests.intake_support import count
from tests.integration.agent.office import SITE, office_with_agent

pytestmark = pytest.mark.integration

ALERT = "AgentSchoolLinkDown"
TCP_ALERT = "AgentSeesServiceDown"
RULES = f"""\
groups:
  - name: agent
    rules:
      - alert: {ALERT}
        expr: {LINK_UP.name}{{vantage="agent"}} == 0
        for: 0s
      - alert: {TCP_ALERT}
        expr: {TCP_UP.name}{{vantage="agent"}} == 0
        for: 0s
"""


@dataclass
class Prometheus:
    url: str
    log: Path

    @property
    def write_url(self) -> str:
        return f"{self.url}/api/v1/write"

    def query(self, expr: str, at: float | None = None) -> list[dict[str, object]]:
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
        status, _h, body = fetch(f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}")
        assert status == 200, body
        result: list[dict[str, object]] = json.loads(body)["data"]["result"]
        return result

    def firing(self) -> list[dict[str, str]]:
        _s, _h, body = fetch(f"{self.url}/api/v1/alerts")
        return [a["labels"] for a in json.loads(body)["data"]["alerts"]
                if a["state"] == "firing"]


def _wait(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout} s")


@pytest.fixture
def start_prometheus(tmp_path: Path) -> Iterator[Callable[[str], Prometheus]]:
    """Starts Prometheus with the agent rule and ``extra`` configuration; each one started is
    stopped by its PID when the test ends."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: apt-get install prometheus "
                    "(bootstrap.sh installs it)")
    processes: list[subprocess.Popen[bytes]] = []

    def start(extra: str = "") -> Prometheus:
        (tmp_path / "rules.yml").write_text(RULES)
        config = tmp_path / "prometheus.yml"
        config.write_text("global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n"
                          f"scrape_configs: []\n{extra}")
        check = subprocess.run(["promtool", "check", "config", str(config)],
                               capture_output=True, text=True, check=False, timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
        port = free_port()
        log = tmp_path / "prometheus.log"
        with log.open("wb") as out:
            processes.append(subprocess.Popen(
                [str(binary), f"--config.file={config}",
                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver"],
                stdout=out, stderr=subprocess.STDOUT))
        server = Prometheus(f"http://127.0.0.1:{port}", log)
        _wait_ready(server, processes[-1])
        return server

    try:
        yield start
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def prometheus(start_prometheus: Callable[[str], Prometheus]) -> Prometheus:
    return start_prometheus("")


def _wait_ready(server: Prometheus, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, server.log.read_text()[-3000:]
        try:
            if fetch(f"{server.url}/-/ready", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"Prometheus not ready within 60 s:\n{server.log.read_text()[-3000:]}")


def _client(url: str, timeout_s: float = 10) -> RemoteWriteClient:
    return RemoteWriteClient(RemoteWriteSettings.model_validate(
        {"url": url, "timeout_s": timeout_s}))


def _link(site: str, value: float, at: datetime) -> Record:
    return sample_record(site, f"s{site}-srv", LINK_UP.name, {"vantage": "agent"}, value, at)


def _millis(moment: datetime) -> float:
    return int(moment.timestamp() * 1000) / 1000


def test_samples_arrive_with_their_labels_and_a_rule_on_them_fires(
        prometheus: Prometheus) -> None:
    now = utc_now().replace(microsecond=123_000)
    failing, healthy = "4401010001", "4401010002"
    records = [
        # handed over newest first: the client must put each series in time order
        _link(failing, 0, now - timedelta(seconds=5)),
        _link(failing, 1, now - timedelta(seconds=35)),
        _link(healthy, 1, now - timedelta(seconds=5)),
        sample_record(healthy, f"s{healthy}-srv", PROBE_RTT.name,
                      {"target": "dns", "site": "override-kept"}, 0.0421,
                      now - timedelta(seconds=5)),
    ]
    _client(prometheus.write_url).send(records)

    at = now.timestamp()
    series = prometheus.query(f"{LINK_UP.name}[1m]", at=at)
    got = {s["metric"]["site"]: (s["metric"], s["values"]) for s in series}  # type: ignore[index]
    assert got[failing][0] == {"__name__": LINK_UP.name, "site": failing,
                               "host": f"s{failing}-srv", "vantage": "agent"}
    assert got[failing][1] == [[_millis(now - timedelta(seconds=35)), "1"],
                               [_millis(now - timedelta(seconds=5)), "0"]]
    assert got[healthy][1] == [[_millis(now - timedelta(seconds=5)), "1"]]
    [rtt] = prometheus.query(PROBE_RTT.name, at=at)
    # a label the job set itself is kept; the record's host is added
    assert rtt["metric"] == {"__name__": PROBE_RTT.name, "site": "override-kept",
                             "host": f"s{healthy}-srv", "target": "dns"}
    assert rtt["value"] == [_millis(now), "0.0421"]

    _wait(f"{ALERT} firing for {failing}",
          lambda: any(a["alertname"] == ALERT and a["site"] == failing
                      for a in prometheus.firing()))
    assert {a["site"] for a in prometheus.firing() if a["alertname"] == ALERT} == {failing}


def test_a_send_larger_than_one_request_arrives_whole(prometheus: Prometheus) -> None:
    now = utc_now()
    sites = [f"44010100{n:02d}" for n in range(45)]
    records = [_link(site, n % 2, now - timedelta(seconds=100 - n))
               for n in range(100) for site in sites]
    assert len(records) > 2 * MAX_SAMPLES_PER_REQUEST
    _client(prometheus.write_url).send(records)
    [total] = prometheus.query(f"sum(count_over_time({LINK_UP.name}[5m]))",
                               at=now.timestamp())
    assert total["value"][1] == str(len(records))  # type: ignore[index]


def test_a_too_old_sample_is_refused_for_good_and_reported_once(
        prometheus: Prometheus) -> None:
    """Prometheus takes no sample older than its head block's window (an hour behind its
    newest sample); it answers 400, the client reports the samples as refused and returns at
    once, and the recent samples of the same send still arrive."""
    now = utc_now()
    client = _client(prometheus.write_url)
    client.send([_link("4401010001", 1, now - timedelta(seconds=1))])
    old = [_link("4401010009", 1, now - timedelta(hours=3, seconds=n))
           for n in range(MAX_SAMPLES_PER_REQUEST)]
    recent = [_link("4401010002", 1, now - timedelta(seconds=1))]
    started = time.monotonic()
    with pytest.raises(RemoteWriteRejectedError) as refused:
        client.send(old + recent)
    assert time.monotonic() - started < 10
    assert refused.value.rejected == len(old)
    assert str(refused.value).startswith(
        f"remote_write to {prometheus.write_url}: "
        f"{len(old)} of {len(old) + 1} samples refused for good, first: HTTP 400")
    assert "out of bounds" in str(refused.value)
    sites = {s["metric"]["site"]  # type: ignore[index]
             for s in prometheus.query(LINK_UP.name, at=now.timestamp())}
    assert sites == {"4401010001", "4401010002"}


def test_an_out_of_order_sample_is_refused_for_good(prometheus: Prometheus) -> None:
    now = utc_now()
    client = _client(prometheus.write_url)
    client.send([_link("4401010001", 1, now - timedelta(seconds=2))])
    with pytest.raises(RemoteWriteRejectedError) as refused:
        client.send([_link("4401010001", 0, now - timedelta(seconds=30))])
    assert refused.value.rejected == 1
    assert "out of order" in str(refused.value)


def test_a_closed_port_is_a_failure_to_retry() -> None:
    url = f"http://127.0.0.1:{free_port()}/api/v1/write"
    with pytest.raises(RetryableSendError) as failed:
        _client(url).send([_link("4401010001", 1, utc_now())])
    assert str(failed.value) == (f"remote_write to {url} cannot be reached: "
                                 "connection refused")


def test_only_samples_are_sent() -> None:
    """A result or an event handed over by mistake is refused before anything is sent: the
    caller would otherwise drop it as delivered."""
    client = _client(f"http://127.0.0.1:{free_port()}/api/v1/write")
    with pytest.raises(ValueError, match="sends samples only; got a event record"):
        client.send([event_record("4401010001", "srv", "unknown_device", "aa:bb")])


def test_with_an_out_of_order_window_prometheus_takes_a_backlog(
        start_prometheus: Callable[[str], Prometheus]) -> None:
    """What docs/decisions.md tells a province: the same three-hour-old samples are taken by a
    Prometheus whose TSDB has an out-of-order window (experimental since 2.39)."""
    prometheus = start_prometheus("storage:\n  tsdb:\n    out_of_order_time_window: 1d\n")
    now = utc_now()
    client = _client(prometheus.write_url)
    client.send([_link("4401010001", 1, now - timedelta(seconds=1))])
    client.send([_link("4401010009", 0, now - timedelta(hours=3, seconds=n))
                 for n in range(10)])
    [old] = prometheus.query(f"count_over_time({LINK_UP.name}{{site=\"4401010009\"}}[1m])",
                             at=(now - timedelta(hours=3)).timestamp())
    assert old["value"][1] == "10"  # type: ignore[index]


def test_the_agent_sends_its_real_jobs_samples_and_a_rule_on_them_fires(
        prometheus: Prometheus, tmp_path: Path) -> None:
    """`dlict agent once` with `remote_write:`: the link job's samples go to Prometheus, its
    results to the office's intake (a real `dlict intake serve` on 127.0.0.1)."""
    with socket.socket() as closed:  # a port nobody listens on: the TCP check fails
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
    settings = {"remote_write": {"url": prometheus.write_url},
                "jobs": {"link": {"icmp": ["127.0.0.1"],
                                  "services": {"tcp": [f"127.0.0.1:{closed_port}"]}},
                         "dltv": {"enabled": False}, "lan": {"enabled": False},
                         "host": {"enabled": False}}}
    with office_with_agent(tmp_path, "s4401000001-rw", **settings) as agent:
        done = agent.run(None, "once")
        assert done.returncode == 1, done.stdout + done.stderr  # the TCP check is a fail
        stored = count(agent.served.data_dir / "evidence.sqlite", "agent_samples")

    assert stored == 0  # samples went to Prometheus, not to the intake
    [link] = prometheus.query(f'{LINK_UP.name}{{vantage="agent"}}')
    assert link["metric"]["site"] == SITE and link["value"][1] == "1"  # type: ignore[index]
    _wait(f"{TCP_ALERT} firing", lambda: any(
        a["alertname"] == TCP_ALERT and a.get("site") == SITE for a in prometheus.firing()))
