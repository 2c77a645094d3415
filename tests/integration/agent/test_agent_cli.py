"""``dlict agent once|run|status`` as a school's admin runs them: the real program, a real
outbox, real HTTPS on 127.0.0.1 to a receiver that decodes with the contract's
``decode_batch`` (a stand-in for the intake until it lands). The jobs and the TLS identity are
the test's (tests/integration/agent/launch.py) until the jobs and enrolment are merged."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dlict.agent.records import Kind
from tests.conftest import REPO
from tests.integration.agent.support import (
    Pki,
    agent_with_jobs,
    closed_port,
    dlict,
    launch_command,
    make_pki,
    receiving,
    write_config,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def spec(pki: Pki, **job: Any) -> dict[str, Any]:
    return {"pki": str(pki.ca.parent), "jobs": [{"name": "link", **job}]}


def status_of(config: Path) -> dict[str, Any]:
    done = dlict("agent", "status", "--config", str(config), "--json")
    assert done.code == 0, done.stderr
    state = done.json()
    assert isinstance(state, dict)
    return state


def test_once_with_the_office_unreachable_exits_3_and_keeps_the_records(
        tmp_path: Path, pki: Pki) -> None:
    port = closed_port()
    config = write_config(tmp_path / "agent.yml", tmp_path / "state",
                          f"https://127.0.0.1:{port}")
    done = agent_with_jobs(spec(pki, samples=40, results=["pass"] * 5, events=2),
                           "agent", "once", "--config", str(config))
    assert done.code == 3
    line = done.one_line()
    assert f"office https://127.0.0.1:{port}/v1/batch: unreachable" in line
    assert "47 records stay queued" in line
    state = status_of(config)
    assert state["outbox"]["by_kind"] == {"sample": 40, "result": 5, "event": 2}
    assert state["consecutive_failures"] == 1
    assert state["last_push"]["outcome"] == "retry"


def test_once_delivers_everything_exit_0_or_1_when_a_result_fails(tmp_path: Path,
                                                                  pki: Pki) -> None:
    with receiving(pki) as receiver:
        config = write_config(tmp_path / "agent.yml", tmp_path / "state", receiver.url)
        ok = agent_with_jobs(spec(pki, samples=3000, results=["pass", "pass"]),
                             "agent", "once", "--config", str(config), "--json")
        assert ok.code == 0, ok.stderr
        report = ok.json()
        assert isinstance(report, dict)
        offset = report["push"].pop("office_clock_offset_s")
        assert abs(offset) < 5  # the office's Date header against this machine's clock
        assert report["push"] == {"outcome": "delivered", "delivered": 3002,
                                  "unsendable": 0, "more": False, "error": None}
        assert report["queued"]["records"] == 0

        failing = agent_with_jobs(spec(pki, results=["pass", "fail"]),
                                  "agent", "once", "--config", str(config))
        assert failing.code == 1, failing.stderr
        assert "2 records, 1 fail" in failing.stdout
    received = [r for b in receiver.batches for r in b.records]
    assert len(received) == len({r.key for r in received}) == 3004
    assert sum(r.kind is Kind.SAMPLE for r in received) == 3000
    assert status_of(config)["outbox"]["records"] == 0


def test_the_cap_drops_samples_and_status_and_batches_report_it(tmp_path: Path,
                                                                pki: Pki) -> None:
    with receiving(pki) as receiver:
        config = write_config(tmp_path / "agent.yml", tmp_path / "state", receiver.url,
                              outbox={"cap_mb": 0.05})
        receiver.answers = [503]
        first = agent_with_jobs(spec(pki, samples=2000, results=["pass"] * 10),
                                "agent", "once", "--config", str(config))
        assert first.code == 3
        state = status_of(config)
        dropped = state["outbox"]["dropped"]
        assert dropped["sample"] > 1000 and dropped["result"] == 0
        assert state["outbox"]["by_kind"]["result"] == 10
        assert state["outbox"]["file_bytes"] < 200_000

        second = agent_with_jobs(spec(pki), "agent", "once", "--config", str(config))
        assert second.code == 0, second.stderr
    assert dict(receiver.batches[-1].header.dropped) == dropped
    delivered = [r for r in receiver.batches[-1].records]
    assert sum(r.kind is Kind.RESULT for r in delivered) == 10


@pytest.mark.parametrize(("text", "key"), [
    ("site: '4401010001'\nhost: srv\n", "office"),
    ("site: '4401010001'\nhost: srv\noffice: https://127.0.0.1:1\npush: {interval_s: 0}\n",
     "push.interval_s"),
    ("site: '../etc'\nhost: srv\noffice: https://127.0.0.1:1\n", "site"),
])
def test_a_bad_configuration_is_one_line_naming_file_and_key(tmp_path: Path, text: str,
                                                             key: str) -> None:
    config = tmp_path / "agent.yml"
    config.write_text(text + f"state_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    for command in ("once", "status", "run"):
        done = dlict("agent", command, "--config", str(config))
        assert done.code == 2, done.stderr
        line = done.one_line()
        assert str(config) in line and key in line
    assert not (tmp_path / "state").exists()


def _run_until_sigterm(job_spec: dict[str, Any], config: Path, reached: Callable[[], bool],
                       what: str) -> tuple[int, str]:
    """``dlict agent run`` until ``reached()`` (at most 60 s), then SIGTERM; its exit code
    and standard error."""
    child = subprocess.Popen(launch_command(job_spec, "agent", "run", "--config", str(config)),
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 60
        while not reached():
            assert time.monotonic() < deadline, f"not within 60 s: {what}"
            assert child.poll() is None, child.communicate()
            time.sleep(0.1)
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait(timeout=30)
    return child.returncode, err


def test_run_pushes_until_sigterm_then_stops_cleanly(tmp_path: Path, pki: Pki) -> None:
    with receiving(pki) as receiver:
        config = write_config(tmp_path / "agent.yml", tmp_path / "state", receiver.url,
                              push={"interval_s": 1, "timeout_s": 5})
        code, err = _run_until_sigterm(
            spec(pki, samples=5, results=["pass"], interval_s=1), config,
            lambda: len([b for b in receiver.batches if b.records]) >= 3,
            "the agent pushed 3 batches")
    assert code == 0, err
    assert "Traceback" not in err
    keys = receiver.keys()
    assert len(keys) == len(set(keys)) >= 18
    state = status_of(config)
    assert state["last_push"]["outcome"] == "delivered"
    assert state["consecutive_failures"] == 0


def test_run_backs_off_while_the_office_fails_then_delivers_the_same_keys(
        tmp_path: Path, pki: Pki) -> None:
    with receiving(pki) as receiver:
        receiver.answers = [503, 503, 503]
        config = write_config(tmp_path / "agent.yml", tmp_path / "state", receiver.url,
                              push={"interval_s": 30, "timeout_s": 5, "backoff_max_s": 1})
        code, err = _run_until_sigterm(
            spec(pki, samples=5, results=["pass"]), config,
            lambda: any(b.status == 200 for b in receiver.batches), "a batch was delivered")
    assert code == 0, err
    attempts = [[r.key for r in b.records] for b in receiver.batches]
    # three refusals were retried well before the 30 s push interval, each the same batch
    assert attempts[0] == attempts[1] == attempts[2] == attempts[3]
    assert [b.status for b in receiver.batches[:4]] == [503, 503, 503, 200]
    assert err.count("push failed") == 3
    assert status_of(config)["consecutive_failures"] == 0
