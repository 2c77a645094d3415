"""The ``jobs:`` section of the agent's configuration: a mistake is one line naming the file
and the key (exit 2 through ``ConfigError``); a DLTV address its source cannot use is caught
when the jobs are built, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dlict.agent.config import load_agent_config
from dlict.agent.jobs.registry import build_jobs
from dlict.core.errors import ConfigError, ExitCode

BASE = {"site": "4401010001", "host": "school-srv", "office": "https://127.0.0.1:8443"}


def write(tmp_path: Path, jobs: dict[str, object]) -> Path:
    path = tmp_path / "agent.yml"
    path.write_text(yaml.safe_dump({**BASE, "jobs": jobs}))
    return path


@pytest.mark.parametrize(("jobs", "message"), [
    ({"link": {"icmp": ["school.example"]}},
     "jobs.link.icmp: Value error, 'school.example' must be an IPv4 address (the probe sends "
     "raw ICMP, names are not resolved)"),
    ({"link": {"interval_s": 1}}, "jobs.link.interval_s: Input should be greater than or "
                                  "equal to 5"),
    ({"dltv": {"receivers": [{"source": "satellite", "address": "adapter0"}]}},
     "jobs.dltv.receivers.0.source: Value error, unknown receiver source 'satellite' (expected "
     "one of tvheadend, dvb_femon, hls)"),
    ({"lan": {"networks": ["10.0.0.0/16"]}},
     "jobs.lan.networks: Value error, 10.0.0.0/16 has 65536 addresses; the agent sweeps at "
     "most 4096 (a /20) at once"),
    ({"lan": {"known": [{"name": "pc", "address": "192.168.1.9", "mac": "zz:00"}]}},
     "jobs.lan.known.0.mac: Value error, 'zz:00' is not a MAC address (aa:bb:cc:dd:ee:ff)"),
    ({"host": {"shell": "rm -rf /"}}, "jobs.host.shell: Extra inputs are not permitted"),
    ({"link": {"icmp": ["192.0.2.1"], "count": 100, "period_ms": 1000}},
     "jobs.link: Value error, the ICMP sweep or a check: up to 100 s, not below deadline_s 30: "
     "every run would be cut"),
    ({"dltv": {"deadline_s": 10}},
     "jobs.dltv: Value error, the receiver reads (read_timeout_s): up to 20 s, not below "
     "deadline_s 10: every run would be cut"),
])
def test_a_bad_jobs_setting_is_one_line_naming_the_key(
        tmp_path: Path, jobs: dict[str, object], message: str) -> None:
    path = write(tmp_path, jobs)
    with pytest.raises(ConfigError) as caught:
        load_agent_config(path)
    assert caught.value.exit_code is ExitCode.BAD_INPUT
    assert caught.value.lines() == [f"{path}: {message}"]


def test_a_dltv_address_the_source_cannot_use_is_refused_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, {"dltv": {"receivers": [
        {"source": "hls", "address": "ftp://192.0.2.5/dltv", "channels": [1]}]}})
    with pytest.raises(ConfigError) as caught:
        load_agent_config(path)
    assert caught.value.lines() == [
        f"{path}: jobs.dltv.receivers.0: Value error, HLS address 'ftp://192.0.2.5/dltv': "
        "expected an http:// or https:// URL"]


def test_every_enabled_job_with_something_to_observe_is_built(tmp_path: Path) -> None:
    config = load_agent_config(write(tmp_path, {"dltv": {"receivers": [
        {"source": "tvheadend", "address": "http://192.168.1.20:9981", "channels": [1]}]}}))
    assert [job.name for job in build_jobs(config)] == ["dltv", "host"]
