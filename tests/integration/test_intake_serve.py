"""``dlict intake serve`` as an operator runs it: batches from an enrolled agent over mutual
TLS land in ``dlict runs`` as runs of kind agent and the agent shows on /metrics."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from dlict.agent.wire import CA_PATH
from lab.intake_pki import enrol, init_district
from tests.intake_support import (
    BIN,
    SITE,
    batch,
    client_context,
    get,
    intake_serve,
    post,
    records_for,
)
from tests.integration.test_promtool_metrics import promtool_check


def dlict(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "dlict"), "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_an_agents_batches_become_agent_runs_and_metrics(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    files = init_district(data_dir)
    creds = enrol(data_dir, SITE, "s1-srv", tmp_path / "agent")
    context = client_context(creds, creds.ca)
    with intake_serve(data_dir) as server:
        ca_answer = get(f"https://127.0.0.1:{server.port}{CA_PATH}",
                        client_context(None, creds.ca))
        assert ca_answer.status == 200 and ca_answer.body == files.ca_cert.read_bytes()
        first = post(server.port, batch(SITE, "s1-srv", records_for(SITE, "s1-srv", 3, 2, 1),
                                        outbox=42, dropped={"sample": 7}), context)
        second = post(server.port, batch(SITE, "s1-srv", records_for(SITE, "s1-srv", 2, 0, 0)),
                      context)
        assert (first.status, first.json()) == (200, {"accepted": 6, "duplicates": 0})
        assert second.json() == {"accepted": 2, "duplicates": 0}
        text = server.metrics()
    assert server.process.returncode == 0, "SIGTERM did not stop the intake cleanly"
    checked = promtool_check(text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    families = {f.name: f for f in text_string_to_metric_families(text)}
    who = {"site": SITE, "host": "s1-srv"}
    (up,) = families["dlict_agent_up"].samples
    assert (up.labels, up.value) == (who, 1.0)
    (outbox,) = families["dlict_agent_outbox_records"].samples
    assert outbox.value == 0  # the second batch's header is the agent's state now
    dropped = {s.labels["kind"]: s.value for s in families["dlict_agent_dropped"].samples}
    assert dropped == {"result": 0, "event": 0, "sample": 0}
    rtt = families["dlict_agent_probe_rtt_seconds"].samples
    assert {s.labels["target"] for s in rtt} == {"10.0.0.1", "10.0.0.2"}

    listed = dlict(data_dir, "--json", "runs", "list", "--kind", "agent")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert [run["kind"] for run in runs] == ["agent", "agent"]
    assert all(f"{SITE}/s1-srv" in run["command"] for run in runs)
    shown = dlict(data_dir, "--json", "runs", "show", str(runs[-1]["id"]))
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["results"]) == 3


def test_serve_without_a_district_ca_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = dlict(tmp_path / "data", "intake", "serve", "--listen", "127.0.0.1:0")
    assert done.returncode == 2, done.stderr
    assert "dlict ca init" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_metrics_are_never_served_beyond_loopback(tmp_path: Path) -> None:
    init_district(tmp_path / "data")
    done = dlict(tmp_path / "data", "intake", "serve", "--metrics-listen", "0.0.0.0:9479")
    assert done.returncode == 2
    assert "--metrics-listen 0.0.0.0:9479: /metrics is plain HTTP" in done.stderr
