"""Generate a district log tree as the log server keeps it, sealed, for tests and benchmarks.

Sources are ``<school code>/<host>``; each closed day holds realistic traffic-data lines
(nftables drops, sshd logins, DHCP leases, nginx) and the host's clock reports; today's file
is open and fresh. Files are 0640 root:adm with each day's end as their time, as rsyslog
leaves them.
"""

from __future__ import annotations

import grp
import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from dlict.logs import keys
from dlict.logs.policy import Policy
from dlict.logs.seal import seal_tree

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "unit" / "fixtures" / "logs"
SYNCED = (FIXTURES / "chrony" / "tracking-synced.csv").read_text().strip()


def source_names(count: int) -> list[tuple[str, str]]:
    names = []
    for number in range(1, count + 1):
        school = f"44010{number:05d}"
        names.append((school, f"s{school}-{'srv' if number % 2 else 'gw'}"))
    return names


def day_lines(host: str, day: date, count: int, zone_offset: str, salt: int = 0) -> bytes:
    """``count`` lines spread over the day, in rsyslog's RSYSLOG_FileFormat."""
    out = []
    for n in range(count):
        seconds = (n * 86_000) // max(count, 1)
        stamp = f"{day.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:" \
                f"{seconds % 60:02d}.{(n * 7919 + salt) % 1_000_000:06d}{zone_offset}"
        kind = n % 5
        a, b = 10 + n % 200, 1 + (n * 31 + salt) % 250
        if kind == 0:
            msg = (f"kernel: dlict-drop IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 "
                   f"SRC=10.44.{a}.{b} DST=10.44.0.10 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID={n} DF "
                   f"PROTO=TCP SPT={1024 + n % 60000} DPT=23 WINDOW=64240 RES=0x00 SYN URGP=0")
        elif kind == 1:
            msg = (f"sshd[{1000 + n % 9000}]: Accepted publickey for teacher{n % 40} from "
                   f"10.44.{a}.{b} port {1024 + n % 60000} ssh2: ED25519 SHA256:abc{n % 97}")
        elif kind == 2:
            msg = (f"dhcpd[812]: DHCPACK on 10.44.{a}.{b} to 52:54:00:{a % 256:02x}:"
                   f"{b:02x}:{n % 256:02x} (pc{n % 300}) via eth1")
        elif kind == 3:
            msg = (f'nginx: 10.44.{a}.{b} - - [{day.strftime("%d/%b/%Y")}:'
                   f'{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d} '
                   f'{zone_offset.replace(":", "")}] "GET /dltv/ch{n % 15}.m3u8 HTTP/1.1" 200 '
                   f'{512 + n % 4096} "-" "Mozilla/5.0"')
        else:
            msg = f"dlict-chrony: {SYNCED}"
        out.append(f"{stamp} {host} {msg}\n")
    return "".join(out).encode()


def build_tree(base: Path, *, sources: int = 20, days: int = 120, lines_per_day: int = 60,
               now: datetime | None = None, retention_days: int | None = None,
               compress: bool = True, padding: bytes = b"") -> Policy:
    """Write and seal a tree under ``base``; returns the policy to check it with.

    ``padding`` (a block of lines) is appended to every closed day: benchmarks use it to
    reach gigabytes quickly.
    """
    moment = now or datetime.now(UTC)
    local = moment.astimezone()
    zone = local.tzinfo
    assert zone is not None
    offset = local.strftime("%z")
    zone_offset = f"{offset[:3]}:{offset[3:]}"
    root = base / "tree"
    policy = Policy(root=root, retention_days=retention_days or max(days, 90),
                    signing_key=base / "keys" / "logseal.key", state_dir=base / "state",
                    compress=compress)
    keys.generate(policy.signing_key)
    (base / "logging.json").write_text(json.dumps({
        "root": str(root), "retention_days": policy.retention_days,
        "signing_key": str(policy.signing_key), "state_dir": str(policy.state_dir),
        "compress": compress}))
    adm = grp.getgrnam("adm").gr_gid
    root.mkdir(mode=0o750)
    today = local.date()
    for index, (site, host) in enumerate(source_names(sources)):
        directory = root / site / host
        directory.mkdir(parents=True, mode=0o750)
        (root / site).chmod(0o750)
        for back in range(days, -1, -1):
            day = today - timedelta(days=back)
            path = directory / f"{day.isoformat()}.log"
            text = day_lines(host, day, lines_per_day, zone_offset, salt=index)
            path.write_bytes(text + (padding if back else b""))
            os.chown(path, 0, adm)
            path.chmod(0o640)
            if back:
                end = datetime.combine(day, time(23, 59), tzinfo=zone).timestamp()
                os.utime(path, (end, end))
    seal_tree(replace(policy), now=moment)
    return policy
