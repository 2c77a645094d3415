"""The newest result of every check, as the exporter serves it.

Writers (the ICMP reader, the check pool) replace whole entries; the exposition reads them at
scrape time. A generation counter per part moves on with every change, so a scrape can reuse
the text rendered for the previous one when nothing has changed since.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from dlict.dltv import ReceiverStatus


@dataclass(frozen=True)
class LinkSample:
    """One ICMP target over one cycle; times in seconds, None when nothing came back."""

    sent: int
    received: int
    rtt_s: float | None
    min_s: float | None
    max_s: float | None
    jitter_s: float | None

    @property
    def loss_ratio(self) -> float:
        return (self.sent - self.received) / self.sent if self.sent else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "received": self.received, "loss_ratio": self.loss_ratio,
                "rtt_s": self.rtt_s, "min_s": self.min_s, "max_s": self.max_s,
                "jitter_s": self.jitter_s}


@dataclass(frozen=True)
class ServiceSample:
    up: bool
    seconds: float | None  # tcp: connect, dns: answer, http: time to first byte
    status: int | None = None  # http
    cert_not_after: float | None = None  # https: the certificate's notAfter, Unix time
    detail: str | None = None  # the error, or the DNS answer code

    def as_dict(self) -> dict[str, Any]:
        return {"up": self.up, "seconds": self.seconds, "status": self.status,
                "cert_not_after": self.cert_not_after, "detail": self.detail}


@dataclass
class MonitorState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    # each moves on when its part changes, so the exposition re-renders only that part
    link_generation: int = 0
    service_generation: int = 0
    receiver_generation: int = 0
    links: dict[str, LinkSample] = field(default_factory=dict)
    link_success: dict[str, float] = field(default_factory=dict)
    cycle_seconds: float | None = None
    last_cycle: float | None = None
    services: dict[tuple[str, str, str], ServiceSample] = field(default_factory=dict)
    service_success: dict[tuple[str, str, str], float] = field(default_factory=dict)
    receivers: dict[str, ReceiverStatus] = field(default_factory=dict)
    receiver_success: dict[str, float] = field(default_factory=dict)
    overruns: int = 0

    def put_links(self, samples: dict[str, LinkSample], cycle_seconds: float) -> None:
        now = time.time()
        with self.lock:
            self.links = samples
            for address, sample in samples.items():
                if sample.received:
                    self.link_success[address] = now
            self.cycle_seconds = cycle_seconds
            self.last_cycle = now
            self.link_generation += 1

    def put_service(self, key: tuple[str, str, str], sample: ServiceSample) -> None:
        with self.lock:
            self.services[key] = sample
            if sample.up:
                self.service_success[key] = time.time()
            self.service_generation += 1

    def put_receiver(self, site: str, status: ReceiverStatus) -> None:
        with self.lock:
            self.receivers[site] = status
            if status.reachable:
                self.receiver_success[site] = time.time()
            self.receiver_generation += 1

    def add_overruns(self, count: int) -> None:
        with self.lock:
            self.overruns = count
