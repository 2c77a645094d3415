"""The agent's jobs, built once from its configuration.

A job is built when it is enabled and has something to observe (the link job needs a
target, the DLTV job a receiver, the LAN job a network); the host controls need nothing
configured (on a Windows PC they are the Windows controls). Every setting was checked when
the configuration was loaded (one line naming the file and the key), so building cannot fail.
"""

from __future__ import annotations

import sys

from dlict.agent.config import AgentConfig
from dlict.agent.jobs.base import Job
from dlict.agent.jobs.dltv import DltvJob
from dlict.agent.jobs.host import HostJob
from dlict.agent.jobs.lan import LanJob
from dlict.agent.jobs.link import LinkJob
from dlict.agent.jobs.windows_host import WindowsHostJob


def build_jobs(config: AgentConfig, *, windows: bool = sys.platform == "win32") -> list[Job]:
    """The enabled jobs of ``config`` with something to observe, in a fixed order."""
    jobs = config.jobs
    built: list[Job] = []
    if jobs.link.enabled and jobs.link.has_targets:
        built.append(LinkJob(jobs.link))
    if jobs.dltv.enabled and jobs.dltv.receivers:
        built.append(DltvJob(jobs.dltv))
    if jobs.lan.enabled and jobs.lan.networks:
        built.append(LanJob(jobs.lan, state_dir=config.state_dir))
    if jobs.host.enabled:
        built.append(WindowsHostJob(jobs.host) if windows else HostJob(jobs.host))
    return built
