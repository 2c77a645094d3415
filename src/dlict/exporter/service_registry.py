"""The service probe kinds ``dlict monitor`` runs besides ICMP, and their one registry.

Adding a kind is one object here, its line in :data:`SERVICE_PROBES`, and its list in the
inventory's ``dlict_site.services`` (``inventory.models.Services``, the input schema); a test
holds the three and docs/metrics.md together.
"""

from __future__ import annotations

from dlict.core.metric_names import (
    DNS_LOOKUP,
    DNS_UP,
    HTTP_CERT,
    HTTP_STATUS,
    HTTP_TTFB,
    HTTP_UP,
    TCP_CONNECT,
    TCP_UP,
)
from dlict.exporter.service_probe import ServiceCheck, ServiceMetric, ServiceProbe
from dlict.exporter.state import ServiceSample
from dlict.inventory.models import Services
from dlict.probes.dns import dns_lookup
from dlict.probes.http import http_get
from dlict.probes.tcp import tcp_connect


def _up(sample: ServiceSample) -> float:
    return float(sample.up)


def _seconds(sample: ServiceSample) -> float | None:
    return sample.seconds


def _split_host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


class TcpProbe:
    """A TCP connection to ``host:port``."""

    kind = "tcp"
    metrics = (ServiceMetric(TCP_UP, _up), ServiceMetric(TCP_CONNECT, _seconds))

    def checks(self, site: str, services: Services) -> list[ServiceCheck]:
        checks = []
        for endpoint in services.tcp:
            host, port = _split_host_port(endpoint)
            checks.append(ServiceCheck(site, self.kind, endpoint, host=host, port=port))
        return checks

    def sample(self, check: ServiceCheck, timeout_s: float) -> ServiceSample:
        tcp = tcp_connect(check.host, check.port, timeout_s)
        return ServiceSample(tcp.up, tcp.seconds, detail=tcp.error)


class DnsProbe:
    """One name asked of one resolver."""

    kind = "dns"
    metrics = (ServiceMetric(DNS_UP, _up), ServiceMetric(DNS_LOOKUP, _seconds))

    def checks(self, site: str, services: Services) -> list[ServiceCheck]:
        return [ServiceCheck(site, self.kind, f"{dns.server}/{dns.name}", host=dns.server,
                             name=dns.name) for dns in services.dns]

    def sample(self, check: ServiceCheck, timeout_s: float) -> ServiceSample:
        dns = dns_lookup(check.host, check.name, timeout_s)
        return ServiceSample(dns.up, dns.seconds, detail=dns.error or dns.rcode)


def _status_code(sample: ServiceSample) -> float:
    return float(sample.status or 0)


def _cert_not_after(sample: ServiceSample) -> float | None:
    return sample.cert_not_after


class HttpProbe:
    """A GET of a URL: up below status 400, time to first byte, the TLS certificate's expiry."""

    kind = "http"
    metrics = (ServiceMetric(HTTP_UP, _up), ServiceMetric(HTTP_TTFB, _seconds),
               ServiceMetric(HTTP_STATUS, _status_code),
               ServiceMetric(HTTP_CERT, _cert_not_after))

    def checks(self, site: str, services: Services) -> list[ServiceCheck]:
        return [ServiceCheck(site, self.kind, url, url=url) for url in services.http]

    def sample(self, check: ServiceCheck, timeout_s: float) -> ServiceSample:
        http = http_get(check.url, timeout_s)
        return ServiceSample(http.up, http.ttfb_seconds, status=http.status,
                             cert_not_after=http.cert_not_after, detail=http.error)


_KINDS: tuple[ServiceProbe, ...] = (
    TcpProbe(),
    DnsProbe(),
    HttpProbe(),
)
SERVICE_PROBES: dict[str, ServiceProbe] = {probe.kind: probe for probe in _KINDS}
