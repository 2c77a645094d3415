"""Network device figures for /metrics, from what the last ``dlict netdev`` runs recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dlict.core.metric_names import (
    NETDEV_AUDITED,
    NETDEV_CHANGE,
    NETDEV_CONTACT,
    NETDEV_FAILURES,
    NETDEV_UP,
)
from dlict.netdev.status import STATUS_FILE, DeviceStatus, netdev_dir, read_status


class NetdevCollector(Collector):
    """Reads the status file at scrape time, again only when it changed."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._path = netdev_dir(data_dir) / STATUS_FILE
        self._seen: tuple[int, int] | None = None
        self._devices: dict[str, DeviceStatus] = {}

    def _status(self) -> dict[str, DeviceStatus]:
        try:
            stat = self._path.stat()
        except OSError:
            return {}
        key = (stat.st_mtime_ns, stat.st_size)
        if key != self._seen:
            self._devices, self._seen = read_status(self.data_dir), key
        return self._devices

    def collect(self) -> Iterator[GaugeMetricFamily]:
        devices = self._status()
        families = {family: GaugeMetricFamily(family.name, family.help, labels=["site", "host"])
                    for family in (NETDEV_UP, NETDEV_CONTACT, NETDEV_CHANGE, NETDEV_FAILURES,
                                   NETDEV_AUDITED)}
        for name in sorted(devices):
            d = devices[name]
            labels = [d.site, name]
            if d.reachable is not None:
                families[NETDEV_UP].add_metric(labels, 1.0 if d.reachable else 0.0)
            if d.checked_at is not None:
                families[NETDEV_CONTACT].add_metric(labels, d.checked_at)
            if d.config_changed_at is not None:
                families[NETDEV_CHANGE].add_metric(labels, d.config_changed_at)
            if d.audit_failures is not None:
                families[NETDEV_FAILURES].add_metric(labels, float(d.audit_failures))
            if d.audited_at is not None:
                families[NETDEV_AUDITED].add_metric(labels, d.audited_at)
        yield from families.values()
