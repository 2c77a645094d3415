"""The agent's jobs, built once from its configuration.

A job is built when it is enabled and has something to observe (the link job needs a
target, the DLTV job a receiver, the LAN job a network); the host controls need nothing
configured. Building checks what the settings could not (a DLTV address its source cannot
use) and raises one line for it.
"""

from __future__ import annotations

from dlict.agent.config import AgentConfig
from dlict.agent.jobs.base import Job
from dlict.agent.jobs.dltv import DltvJob
from dlict.agent.jobs.host import HostJob
from dlict.agent.jobs.lan import LanJob
from dlict.agent.jobs.link import LinkJob
from dlict.core.errors import ConfigError, InputError


def build_jobs(config: AgentConfig) -> list[Job]:
    """The enabled jobs of ``config`` with something to observe, in a fixed order.

    Raises:
        ConfigError: a setting the job cannot use, one line naming its key.
    """
    jobs = config.jobs
    built: list[Job] = []
    if jobs.link.enabled and jobs.link.has_targets:
        built.append(LinkJob(jobs.link))
    if jobs.dltv.enabled and jobs.dltv.receivers:
        try:
            built.append(DltvJob(jobs.dltv))
        except InputError as exc:
            raise ConfigError(f"jobs.dltv.receivers: {exc}") from exc
    if jobs.lan.enabled and jobs.lan.networks:
        built.append(LanJob(jobs.lan))
    if jobs.host.enabled:
        built.append(HostJob(jobs.host))
    return built
