"""Runs the checks of a plan and keeps the state current.

ICMP sweeps run in a child process of their own: its only work is sending and reading echoes,
so neither a scrape nor the check pool nor a garbage collection here can hold it up between
taking a send time and sending (replies carry kernel receive times anyway). Service and DLTV
checks run in a bounded thread pool, each with its own timeout: a dead school costs one worker
for at most that long and never holds up the others.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from multiprocessing.connection import Connection
from typing import Any

from loguru import logger

from dlict.core.errors import OperationalError
from dlict.dltv import ReceiverStatus
from dlict.exporter.plan import MonitorPlan, ReceiverCheck, ServiceCheck
from dlict.exporter.service_registry import SERVICE_PROBES
from dlict.exporter.state import LinkSample, MonitorState, ServiceSample
from dlict.probes.icmp import Sweep, TargetResult

_Row = tuple[int, int, float | None, float | None, float | None, float | None]


def _ms(value: float | None) -> float | None:
    return None if value is None else value / 1000


def link_sample(result: TargetResult) -> LinkSample:
    return LinkSample(result.sent, result.received, _ms(result.avg_ms), _ms(result.min_ms),
                      _ms(result.max_ms), _ms(result.jitter_ms))


def sweep_for(targets: list[str], count: int, period_ms: float, timeout_ms: float) -> Sweep:
    """Sends spread evenly over each period, so 30,000 targets make no burst."""
    interval_ms = min(1.0, 0.8 * period_ms / max(1, len(targets)))
    return Sweep(targets, count=count, interval_ms=interval_ms, period_ms=period_ms,
                 timeout_ms=timeout_ms)


def _icmp_child(targets: list[str], count: int, period_ms: float, timeout_ms: float,
                conn: Connection) -> None:
    gc.disable()  # the loop allocates little; a collection mid-send would smear one RTT
    parent = os.getppid()
    while os.getppid() == parent:
        started = time.monotonic()
        try:
            results = sweep_for(targets, count, period_ms, timeout_ms).run()
        except OperationalError as exc:
            conn.send(("error", str(exc)))
            return
        rows: list[_Row] = [(r.sent, r.received, r.avg_ms, r.min_ms, r.max_ms, r.jitter_ms)
                            for r in results]
        try:
            conn.send(("cycle", time.monotonic() - started, rows))
        except (BrokenPipeError, OSError):
            return
        gc.collect()


class IcmpWorker:
    """The child process sweeping every target, cycle after cycle, and the thread reading it."""

    def __init__(self, plan: MonitorPlan, state: MonitorState) -> None:
        self.targets = plan.icmp_targets
        self.settings = plan.settings
        self.state = state
        self.error: str | None = None
        context = multiprocessing.get_context("spawn")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_icmp_child, name="dlict-icmp", daemon=True,
            args=(self.targets, self.settings.count, self.settings.period_ms,
                  self.settings.timeout_ms, send))
        self._send_end = send
        self._reader = threading.Thread(target=self._read, name="dlict-icmp-reader",
                                        daemon=True)

    def start(self) -> None:
        if not self.targets:
            return
        self._process.start()
        self._send_end.close()
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def _read(self) -> None:
        while True:
            try:
                message: tuple[Any, ...] = self._receive.recv()
            except (EOFError, OSError):
                if self.error is None:
                    self.error = "the ICMP probe process ended"
                return
            if message[0] == "error":
                self.error = str(message[1])
                logger.error("ICMP probing stopped: {}", self.error)
                return
            _kind, seconds, rows = message
            samples = {address: LinkSample(sent, received, _ms(avg), _ms(low), _ms(high),
                                           _ms(jitter))
                       for address, (sent, received, avg, low, high, jitter)
                       in zip(self.targets, rows, strict=True)}
            self.state.put_links(samples, seconds)

    def stop(self) -> None:
        if self._process.pid is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)


def service_sample(check: ServiceCheck, timeout_s: float) -> ServiceSample:
    return SERVICE_PROBES[check.kind].sample(check, timeout_s)


def receiver_status(check: ReceiverCheck, timeout_s: float) -> ReceiverStatus:
    try:
        return check.reader.read(timeout_s)
    except Exception as exc:  # one receiver's surprise must not stop the others
        return ReceiverStatus.unreadable(check.kind, f"{check.address}: "
                                         f"unexpected {type(exc).__name__}: {exc}")


class CheckRounds:
    """Every service and DLTV check once a round, at most ``workers`` at a time."""

    def __init__(self, plan: MonitorPlan, state: MonitorState) -> None:
        self.plan = plan
        self.state = state
        self.settings = plan.settings
        self._pool = ThreadPoolExecutor(max_workers=self.settings.workers,
                                        thread_name_prefix="dlict-check")
        self._running: set[tuple[str, str, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._forever, name="dlict-checks",
                                        daemon=True)

    def _jobs(self) -> list[tuple[tuple[str, str, str], Callable[[], None]]]:
        timeout = self.settings.check_timeout_s
        jobs: list[tuple[tuple[str, str, str], Callable[[], None]]] = []
        for check in self.plan.services:
            def run_service(c: ServiceCheck = check) -> None:
                self.state.put_service((c.site, c.kind, c.target), service_sample(c, timeout))
            jobs.append(((check.site, check.kind, check.target), run_service))
        for receiver in self.plan.receivers:
            def run_receiver(c: ReceiverCheck = receiver) -> None:
                self.state.put_receiver(c.site, receiver_status(c, timeout))
            jobs.append(((receiver.site, "dltv", receiver.address), run_receiver))
        return jobs

    def run_round(self, deadline_s: float) -> int:
        """Start every check not still running from the last round; wait until the deadline.
        Returns how many were still running then."""
        futures: list[Future[None]] = []
        for key, job in self._jobs():
            if key in self._running:
                continue
            self._running.add(key)
            future = self._pool.submit(job)
            future.add_done_callback(self._finished(key))
            futures.append(future)
        _done, pending = wait(futures, timeout=deadline_s)
        for future in _done:
            if future.exception() is not None:
                logger.error("a check failed unexpectedly: {}", future.exception())
        return len(pending)

    def _finished(self, key: tuple[str, str, str]) -> Callable[[Future[None]], None]:
        def done(_future: Future[None]) -> None:
            self._running.discard(key)
        return done

    def _forever(self) -> None:
        interval = self.settings.services_interval_s
        while not self._stop.is_set():
            started = time.monotonic()
            self.state.add_overruns(self.run_round(interval))
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def start(self) -> None:
        if self.plan.services or self.plan.receivers:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


def run_once(plan: MonitorPlan, state: MonitorState) -> None:
    """One ICMP cycle and one round of checks, side by side; returns when both are done."""
    rounds = CheckRounds(plan, state)
    settings = plan.settings
    checks = threading.Thread(target=rounds.run_round,
                              args=(settings.check_timeout_s * 2 + 1,), daemon=True)
    checks.start()
    if plan.icmp_targets:
        started = time.monotonic()
        results = sweep_for(plan.icmp_targets, settings.count, settings.period_ms,
                            settings.timeout_ms).run()
        state.put_links({r.address: link_sample(r) for r in results},
                        time.monotonic() - started)
    checks.join()
    rounds.stop()
