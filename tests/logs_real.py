"""Real log lines from public sources (tests/unit/fixtures/logs_real/README.md), fed as the
district log server stores them: rsyslog's ``RSYSLOG_FileFormat`` (the client's time stamp with
microseconds and zone, then host, syslog tag and message)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REAL = Path(__file__).parent / "unit" / "fixtures" / "logs_real"
MONTHS = {m: n for n, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
SYSLOG = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<hms>\d\d:\d\d:\d\d) (?P<rest>.*)")
LOGHUB_THUNDERBIRD = re.compile(r"- \d+ \S+ \S+ ")
PRI = re.compile(r"<\d{1,3}>")


@dataclass(frozen=True)
class Source:
    """How a published excerpt reaches the log server."""

    path: str
    log_type: str
    sampled: int  # traffic-data lines in the excerpt
    tag: str | None = None  # program tag for access logs shipped via syslog (no header)
    sender: str | None = None  # a device that sends bare messages (FortiGate)
    strip: re.Pattern[str] | None = None  # the data set's own prefix before the syslog line


SOURCES = [
    Source("openssh/loghub-openssh-2k.log", "auth", 19),
    Source("openssh/elastic-ubuntu1204-auth.log", "auth", 9),
    Source("openssh/cerulean-server-issue.log", "auth", 19),
    Source("isc-dhcpd/loghub-thunderbird-2k.log", "dhcp", 3, strip=LOGHUB_THUNDERBIRD),
    Source("nginx/elastic-nginx-access.log", "web", 14, tag="nginx:"),
    Source("apache/elastic-apache-access.log", "web", 12, tag="apache2:"),
    Source("squid/elastic-squid-access.log", "web", 26, tag="squid[1201]:"),
    Source("netfilter/elastic-iptables-raw.log", "firewall", 16),
    Source("fortigate/elastic-fortinet.log", "firewall", 6, sender="10.1.0.1"),
]


def as_stored(line: str, source: Source, index: int, day: date | None = None) -> str:
    """The line as the log server's RSYSLOG_FileFormat template writes it (on `day` if given,
    else on the day the source's own header names)."""
    micro = f"{index * 7919 % 1_000_000:06d}"
    stamp = f"{day or '2026-11-21'}T10:15:{index % 60:02d}.{micro}+07:00"
    if source.sender is not None:
        return f"{stamp} {source.sender} {PRI.sub('', line, count=1)}"
    if source.tag is not None:
        return f"{stamp} web01 {source.tag} {line}"
    if source.strip is not None:
        line = source.strip.sub("", line, count=1)
    m = SYSLOG.fullmatch(line)
    assert m is not None, line
    named = f"2026-{MONTHS[m['mon']]:02d}-{int(m['day']):02d}"
    return f"{day or named}T{m['hms']}.{micro}+07:00 {m['rest']}"


def stored(source: Source, day: date | None = None) -> list[str]:
    """The excerpt's lines as the log server stores them, each ending in a newline."""
    raw = (REAL / source.path).read_text(encoding="utf-8").splitlines()
    return [as_stored(line, source, i, day) + "\n" for i, line in enumerate(raw)]
