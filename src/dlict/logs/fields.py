"""Are the traffic-data fields the law asks for present in the district's kept logs?

The MDES notification on traffic-data retention (B.E. 2564) asks that kept logs identify who
used a service: source and destination address and port, date-time with its time zone, and
the user or device.  ``dlict logs check`` samples lines from the log server's files and feeds
them to a :class:`FieldSampler`; each sampled line goes through :func:`parse_line`.

This module uses the standard library only: it also runs on a bare Debian log server inside
a zipapp.

Line shape
    The log server writes rsyslog's ``RSYSLOG_FileFormat``:
    ``2026-11-21T10:15:30.123456+07:00 HOSTNAME TAG MSG``.  The timestamp gives the field
    ``time`` only when it carries a zone (a numeric offset or ``Z``).  A line with the
    traditional prefix (``Nov 21 10:15:30 HOSTNAME TAG MSG``), or an RFC 3339 stamp without
    an offset, is parsed all the same but lacks ``time`` unless the service writes its own
    zoned time: the ``[21/Nov/2026:10:15:30 +0700]`` of a web access log, squid's epoch
    (UTC by definition) or FortiGate's ``date=``/``time=``/``tz=``.  A line that starts with
    neither prefix is not a traffic-data line (``None``).

Which parser
    The syslog TAG decides, before any message regex runs (a dictionary look-up, so chatter
    of other programs costs one anchored regex and one look-up):

    ==========================================  ========  ==================================
    TAG program                                 type      formats
    ==========================================  ========  ==================================
    ``kernel``, ``ulogd``                       firewall  netfilter LOG (iptables, nftables,
                                                          any prefix; ARP and ebtables too)
    RouterOS topics ``firewall,...``            firewall  RouterOS firewall ``log=yes``
    any TAG, message with ``devid=``/``type=``  firewall  FortiGate ``type="traffic"``
    ``dhcpd``                                   dhcp      ISC dhcpd ``DHCPACK on``
    ``dnsmasq-dhcp``, ``dnsmasq``               dhcp      dnsmasq ``DHCPACK(iface)``
    ``kea-dhcp4``                               dhcp      Kea ``DHCP4_LEASE_ALLOC``/``REUSE``
    RouterOS topics ``dhcp,...``                dhcp      ``<server> assigned <ip> to|for``
    ``sshd``, ``sshd-session``, ``sshd-auth``   auth      OpenSSH Accepted/Failed/Invalid user
    ``radiusd``, ``freeradius``                 auth      FreeRADIUS Login OK/incorrect
    RouterOS topics ``system,...``              auth      ``user X logged in from A via S``,
                                                          ``login failure for user X from A``
    RouterOS topics ``hotspot,...``             auth      ``user (ip): logged in|login failed``
    ``nginx``, ``apache2``, ``apache``,         web       common/combined (optionally with
    ``httpd``                                             Apache's ``vhost:port`` prefix)
    ``squid``, ``(squid-N)``                    web       squid native; squid common/combined
    ==========================================  ========  ==================================

    RouterOS topics are recognised in the TAG (``firewall,info``) or, after a
    ``remote-log-prefix``, as the first word of the message.  rsyslog's ``message repeated
    N times: [ ... ]`` is unwrapped first.

Which lines count (everything else of those programs is chatter: ``None``, never flagged)
    firewall: every netfilter packet line (``IN=... OUT=...``), every RouterOS firewall line
    (``in:... out:...``), FortiGate logs with ``type="traffic"`` only.  dhcp: lease grants
    only (``DHCPACK on``, ``DHCPACK(...)``, ``DHCP4_LEASE_ALLOC``/``DHCP4_LEASE_REUSE``,
    ``assigned``); DISCOVER/OFFER/REQUEST/RELEASE/NAK/INFORM (``DHCPACK to``) and
    DHCPv6 are not sampled.  auth: logins and failed logins with a user.  web: access-log
    lines.

Required fields (field names as in the returned dictionary)
    every type: ``time``.
    firewall: ``src``, ``dst``; ``src_port``, ``dst_port`` unless the protocol has no ports
    (ICMP, GRE, ESP, ARP, ...) or the packet is a non-first fragment; ``nat_src`` when the
    line shows source NAT (RouterOS ``NAT (a->b)->c``, FortiGate ``trandisp`` containing
    ``snat``) or shows a NAT clause this module cannot read.
    dhcp: ``ip`` (the address leased), ``mac`` (the device; a hardware address of 6 to 20
    octets, else missing).
    auth: ``user``, ``src`` (OpenSSH and RouterOS: the client address; FreeRADIUS: the
    calling-station id ``cli`` or, without one, the client name); ``src_port`` for OpenSSH.
    web: ``src``, ``method``, ``uri``, ``status``; ``user`` for the proxy formats that carry
    an authenticated-user field (squid native, common, combined), where ``-`` (anonymous)
    counts as present.

    web lines answered 400 or 408 whose request is ``-`` or not an HTTP request line (the
    client sent nothing, or bytes that are not HTTP) have no method or URI to log: they need
    ``src`` and ``status`` only.  An access log may start with the virtual host (Apache
    ``%v:%p`` or ``%v``, nginx ``$host``) before the client address.

    A field is present when it is found with a non-empty value.  Values are kept as written
    in the line; nothing is guessed (a FreeRADIUS ``[user/password]`` keeps only the part
    before the ``/``, so no password is carried on).

Lines judged with their siblings
    An attempt is identified by its lines together, not by each alone.  OpenSSH before 7.5
    writes ``Invalid user X from A`` without the port; the ``Failed <method> for invalid user
    X from A port P`` line of the same attempt carries it.  Such a line (the only kind that
    may borrow, and only ``src_port``) counts as complete when a line of the same process
    (same host and ``TAG[PID]``) naming the same client address and user carries the port,
    later in the file, even after the type's sample is full.  If none comes, the line lacks
    ``src_port`` as before.  :func:`parse_line` judges one line alone and so still reports
    it missing.

Unknown formats (``log_type == "unknown"``)
    A line is "unknown" only when its TAG names one of the services above, no parser reads it,
    and its message has the unmistakable shape of that service's traffic data: a kernel line
    with ``SRC=`` and ``DST=`` words but no ``IN= OUT=`` header; a RouterOS firewall line with
    ``a->b`` but no ``in: out:``; a ``DHCPACK`` of dhcpd or dnsmasq, or a ``DHCP4_LEASE_ALLOC``
    of Kea, in another shape; sshd ``Accepted|Failed <method> for`` without ``from``;
    FreeRADIUS ``Login OK``/``Login incorrect`` in another shape; a RouterOS ``logged in`` or
    ``login failure`` naming ``from`` in another shape; an nginx/Apache line that is not an
    error-log line but names an HTTP method or ``HTTP/n`` outside common/combined; a squid line
    with a squid result code (``TCP_MISS``, ``HIER_DIRECT``, ...) or ``METHOD scheme://`` outside
    the native and common/combined formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, NamedTuple

LOG_TYPES: Final = ("firewall", "dhcp", "auth", "web")
UNKNOWN: Final = "unknown"

MAX_EXAMPLES: Final = 3
EXAMPLE_CHARS: Final = 200


@dataclass(frozen=True)
class ParsedLine:
    """One traffic-data line: its type, the format that read it and the fields found."""

    log_type: str  # one of LOG_TYPES, or UNKNOWN
    source_format: str  # e.g. "netfilter", "squid-native"; for UNKNOWN the service, e.g. "squid"
    fields: dict[str, str] = field(hash=False)
    required: tuple[str, ...] = ()
    # Required fields this kind of line leaves to another line of the same process
    # (see "Lines judged with their siblings" in the module docstring).
    from_sibling: tuple[str, ...] = ()

    @property
    def missing(self) -> tuple[str, ...]:
        """Required fields not found (or found empty), sorted."""
        return tuple(sorted(name for name in self.required if not self.fields.get(name)))

    @property
    def complete(self) -> bool:
        return not self.missing and self.log_type != UNKNOWN


@dataclass(frozen=True)
class FieldsVerdict:
    """The fields verdict for one log type seen in a sample."""

    log_type: str  # one of LOG_TYPES, or "unknown"
    lines_sampled: int
    lines_complete: int  # lines where every required field was found
    missing: tuple[str, ...]  # required fields missing in at least one sampled line, sorted
    unknown_formats: tuple[str, ...]  # up to 3 example lines (200 chars) in unknown formats
    ok: bool  # lines_complete == lines_sampled and no unknown_formats


# --------------------------------------------------------------------------- line header

_HEADER = re.compile(
    r"(?:(?P<iso>\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?)(?P<tz>[Zz]|[+-]\d\d:?\d\d)?"
    r"|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)"
    r" (?P<host>\S+) (?P<tag>\S+) ?(?P<msg>.*)"
)
_REPEATED = re.compile(r"message repeated \d+ times: \[ ?(?P<inner>.*)\]")
_TOPICS = re.compile(r"[a-z][a-z0-9-]*(?:,[a-z0-9-]+)+")

_HWADDR = re.compile(r"[0-9A-Fa-f]{1,2}(?:([:-])[0-9A-Fa-f]{1,2})(?:\1[0-9A-Fa-f]{1,2}){4,18}")
_PORT_PROTOS = frozenset(
    {"TCP", "UDP", "UDPLITE", "UDP-LITE", "SCTP", "DCCP", "6", "17", "33", "132", "136"}
)

Parser = Callable[[str, str | None], ParsedLine | None]


class _Route(NamedTuple):
    log_type: str
    parse: Parser


def _result(
    log_type: str,
    source_format: str,
    time: str | None,
    fields: dict[str, str | None],
    required: tuple[str, ...],
    from_sibling: tuple[str, ...] = (),
) -> ParsedLine:
    """A ParsedLine with ``time`` added; fields whose value is None are dropped."""
    kept = {name: value for name, value in fields.items() if value is not None}
    if time is not None and "time" not in kept:
        kept["time"] = time
    return ParsedLine(log_type, source_format, kept, ("time", *required), from_sibling)


def _unknown(service: str) -> ParsedLine:
    return ParsedLine(UNKNOWN, service, {}, ())


def _hwaddr(text: str | None) -> str | None:
    """The text if it is a hardware address (6 to 20 octets, ':' or '-'), else None."""
    if text and _HWADDR.fullmatch(text):
        return text
    return None


def _needs_ports(proto: str | None) -> bool:
    """Ports are required unless the protocol is known to have none."""
    return proto is None or proto.upper() in _PORT_PROTOS


def _port(text: str | None) -> str | None:
    """The text if it is a port number (ASCII digits), else None: bytes that are not a
    number (a NUL, a control character, other scripts' digits) do not make a port present."""
    if text and text.isascii() and text.isdigit():
        return text
    return None


def _endpoint(text: str) -> tuple[str, str | None]:
    """Split ``addr:port``, ``[v6]:port``, ``addr`` or a bare IPv6 address."""
    if text.startswith("["):
        addr, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return addr, _port(port)
    if text.count(":") == 1:
        addr, _, port = text.partition(":")
        return addr, _port(port)
    return text, None


# --------------------------------------------------------------------------- firewall

_NF_HEAD = re.compile(r"IN=(?P<in>\S*) OUT=(?P<out>\S*)")
_NF_KV = re.compile(r"(?<!\S)([A-Z]+)=([^\s,]*)")
_NF_EBT_PROTO = re.compile(r"\bIP proto=(\d+)")
_NF_KTIME = re.compile(r"\[\s*\d+\.\d+\]\s*")
_NF_LOOSE = re.compile(r"(?i)\bsrc=\S.*\bdst=\S")


def _netfilter(msg: str, time: str | None) -> ParsedLine | None:
    head = _NF_HEAD.search(msg)
    if head is None:
        return _unknown("netfilter") if _NF_LOOSE.search(msg) else None
    body = msg[head.end() :]
    cut = body.find(" [")  # an ICMP error quotes the offending packet in brackets
    if cut >= 0:
        body = body[:cut]
    kv: dict[str, str] = {}
    for key, value in _NF_KV.findall(body):
        kv.setdefault(key, value)
    prefix = _NF_KTIME.sub("", msg[: head.start()], count=1).strip() or None
    fields: dict[str, str | None] = {"prefix": prefix, "in_if": head["in"], "out_if": head["out"]}
    if "SRC" not in kv and "IPSRC" in kv:  # nf_log ARP
        fields.update(
            src=kv["IPSRC"] or None, dst=kv.get("IPDST") or None,
            src_mac=kv.get("MACSRC"), proto="ARP",
        )
        return _result("firewall", "netfilter", time, fields, ("src", "dst"))
    proto = kv.get("PROTO")
    if proto is None:
        ebt = _NF_EBT_PROTO.search(body)  # ebtables' "IP proto=6"
        proto = ebt[1] if ebt else None
    src_mac = kv.get("MACSRC")
    mac = kv.get("MAC", "")
    if src_mac is None and mac.count(":") == 13:  # dst(6) src(6) ethertype(2)
        src_mac = mac[18:35]
    fields.update(
        src=kv.get("SRC"), dst=kv.get("DST"), proto=proto,
        src_port=_port(kv.get("SPT")), dst_port=_port(kv.get("DPT")), src_mac=src_mac,
    )
    required: tuple[str, ...] = ("src", "dst")
    if _needs_ports(proto) and "FRAG" not in body:  # later fragments carry no ports
        required += ("src_port", "dst_port")
    return _result("firewall", "netfilter", time, fields, required)


_ROS_FW = re.compile(r"(?:^|\s)(?:(?P<chain>[\w.-]+): )?in:(?P<in>.*?) out:(?P<out>.*?),")
_ROS_PROTO = re.compile(
    r"\bproto (?P<proto>[^,(]+?)(?: \((?P<detail>[^)]*)\))?, (?P<pair>[^\s,]+->[^\s,]+)"
)
_ROS_MAC = re.compile(r"\bsrc-mac (?P<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})")
_ROS_NAT = re.compile(r", NAT (?P<nat>[^\s,]+)")
_ROS_NAT_SHAPE = re.compile(
    r"(?:\((?P<src>[^()]+?)->(?P<nsrc>[^()]+)\)|(?P<osrc>[^()]+?))"
    r"->(?:\((?P<odst>[^()]+?)->(?P<ndst>[^()]+)\)|(?P<dst>[^()]+))"
)


def _routeros_firewall(msg: str, time: str | None) -> ParsedLine | None:
    head = _ROS_FW.search(msg)
    if head is None:
        return _unknown("routeros-firewall") if "->" in msg else None
    fields: dict[str, str | None] = {
        "chain": head["chain"], "in_if": head["in"], "out_if": head["out"],
    }
    rest = msg[head.end() :]
    mac = _ROS_MAC.search(rest)
    fields["src_mac"] = mac["mac"] if mac else None
    proto_m = _ROS_PROTO.search(rest)
    proto = proto_m["proto"].strip() if proto_m else None
    fields["proto"] = proto
    if proto_m:
        src_text, _, dst_text = proto_m["pair"].partition("->")
        fields["src"], fields["src_port"] = _endpoint(src_text)
        fields["dst"], fields["dst_port"] = _endpoint(dst_text)
    required: tuple[str, ...] = ("src", "dst")
    if _needs_ports(proto):
        required += ("src_port", "dst_port")
    nat_m = _ROS_NAT.search(rest)
    if nat_m:
        shape = _ROS_NAT_SHAPE.fullmatch(nat_m["nat"])
        if shape is None or shape["nsrc"] is not None:
            required += ("nat_src",)
        if shape is not None and shape["nsrc"] is not None:
            fields["nat_src"], fields["nat_src_port"] = _endpoint(shape["nsrc"])
        if shape is not None and shape["ndst"] is not None:
            fields["nat_dst"], fields["nat_dst_port"] = _endpoint(shape["ndst"])
    return _result("firewall", "routeros-firewall", time, fields, required)


_FGT_KV = re.compile(r'(?<!\S)([A-Za-z_][\w-]*)=("(?:[^"\\]|\\.)*"|\S*)')
_FGT_TZ = re.compile(r"([+-]\d\d):?(\d\d)")


def _fortigate(msg: str, time: str | None) -> ParsedLine | None:
    kv: dict[str, str] = {}
    for key, value in _FGT_KV.findall(msg):
        if value.startswith('"'):
            value = value[1:-1]
        kv.setdefault(key, value)
    if kv.get("type") != "traffic":
        return None
    if time is None:
        tz = _FGT_TZ.fullmatch(kv.get("tz", ""))
        if tz and kv.get("date") and kv.get("time"):
            time = f"{kv['date']}T{kv['time']}{tz[1]}:{tz[2]}"
    proto = kv.get("proto")
    fields: dict[str, str | None] = {
        "src": kv.get("srcip"), "src_port": _port(kv.get("srcport")),
        "dst": kv.get("dstip"), "dst_port": _port(kv.get("dstport")),
        "proto": proto, "action": kv.get("action"), "user": kv.get("user"),
        "src_mac": kv.get("srcmac") or kv.get("mastersrcmac"),
        "nat_src": kv.get("transip"), "nat_src_port": _port(kv.get("transport")),
        "nat_dst": kv.get("tranip"), "nat_dst_port": _port(kv.get("tranport")),
    }
    required: tuple[str, ...] = ("src", "dst")
    if _needs_ports(proto):
        required += ("src_port", "dst_port")
    if "snat" in kv.get("trandisp", ""):
        required += ("nat_src",)
    return _result("firewall", "fortigate", time, fields, required)


# --------------------------------------------------------------------------- dhcp

_DHCPD_ACK = re.compile(
    r"DHCPACK on (?P<ip>\S+) to (?P<mac>\S*)(?: \((?P<host>[^)]*)\))?(?: via (?P<via>\S+))?"
)


def _isc_dhcpd(msg: str, time: str | None) -> ParsedLine | None:
    if not msg.startswith("DHCPACK"):
        return None
    m = _DHCPD_ACK.match(msg)
    if m is None:
        # "DHCPACK to <ip> (<mac>) via" acknowledges a DHCPINFORM: no lease is granted.
        return None if msg.startswith("DHCPACK to ") else _unknown("isc-dhcpd")
    fields: dict[str, str | None] = {
        "ip": m["ip"], "mac": _hwaddr(m["mac"]), "hostname": m["host"], "via": m["via"],
    }
    return _result("dhcp", "isc-dhcpd", time, fields, ("ip", "mac"))


_DNSMASQ_ACK = re.compile(
    r"(?:\d+ )?DHCPACK\((?P<iface>[^)]*)\) (?P<ip>\S+)(?: (?P<mac>\S+))?(?: (?P<host>.+))?"
)


def _dnsmasq(msg: str, time: str | None) -> ParsedLine | None:
    if "DHCPACK" not in msg:
        return None
    m = _DNSMASQ_ACK.match(msg)
    if m is None:
        return _unknown("dnsmasq")
    fields: dict[str, str | None] = {
        "ip": m["ip"], "mac": _hwaddr(m["mac"]), "hostname": m["host"], "iface": m["iface"],
    }
    return _result("dhcp", "dnsmasq", time, fields, ("ip", "mac"))


_KEA_LEASE = re.compile(
    r"DHCP4_LEASE_(?:ALLOC|REUSE) \[(?:hwtype=(?P<hwtype>\d+) (?P<mac>[0-9A-Fa-f:]*)|[^\]]*)\]"
    r"(?:, cid=\[(?P<cid>[^\]]*)\])?(?:, tid=(?P<tid>0x[0-9A-Fa-f]+))?"
    r": lease (?P<ip>\S+) has been (?:allocated|reused)"
)


def _kea(msg: str, time: str | None) -> ParsedLine | None:
    at = msg.find("DHCP4_LEASE_ALLOC")
    if at < 0:
        at = msg.find("DHCP4_LEASE_REUSE")
        if at < 0:
            return None
    m = _KEA_LEASE.match(msg, at)
    if m is None:
        return _unknown("kea")
    fields: dict[str, str | None] = {"ip": m["ip"], "mac": _hwaddr(m["mac"]), "tid": m["tid"]}
    return _result("dhcp", "kea", time, fields, ("ip", "mac"))


_ROS_DHCP = re.compile(
    r"(?P<server>\S+) assigned (?P<ip>\S+)(?: (?:to|for) (?P<mac>\S+))?(?: (?P<host>\S+))?"
)


def _routeros_dhcp(msg: str, time: str | None) -> ParsedLine | None:
    m = _ROS_DHCP.match(msg)
    if m is None:
        return None
    fields: dict[str, str | None] = {
        "ip": m["ip"], "mac": _hwaddr(m["mac"]), "hostname": m["host"], "server": m["server"],
    }
    return _result("dhcp", "routeros-dhcp", time, fields, ("ip", "mac"))


# --------------------------------------------------------------------------- auth

_SSH_SHAPE = re.compile(r"(?:Accepted|Failed) \S+ for ")
_SSH_AUTH = re.compile(
    r"(?P<outcome>Accepted|Failed) (?P<method>\S+) for (?P<invalid>invalid user )?(?P<user>.*?)"
    r" from (?P<src>\S+)(?: port (?P<port>[0-9]+))?"
)
_SSH_INVALID = re.compile(
    r"Invalid user (?P<user>.*?) from (?P<src>\S+)(?: port (?P<port>[0-9]+))?"
)


def _openssh(msg: str, time: str | None) -> ParsedLine | None:
    m = _SSH_AUTH.match(msg)
    if m is not None:
        outcome = m["outcome"].lower() if m["invalid"] is None else "failed-invalid-user"
        method: str | None = m["method"]
        from_sibling: tuple[str, ...] = ()
    else:
        m = _SSH_INVALID.match(msg)
        if m is None:
            return _unknown("openssh") if _SSH_SHAPE.match(msg) else None
        outcome, method = "invalid-user", None
        # OpenSSH before 7.5 writes this line without the port; the Failed line of the same
        # attempt (same process) names it.
        from_sibling = ("src_port",)
    fields: dict[str, str | None] = {
        "user": m["user"], "src": m["src"], "src_port": m["port"],
        "outcome": outcome, "auth_method": method,
    }
    return _result("auth", "openssh", time, fields, ("user", "src", "src_port"), from_sibling)


_RADIUS = re.compile(
    r"(?:Auth: )?(?:\((?P<req>\d+)\) )?(?P<outcome>Login OK|Login incorrect|Invalid user)"
    r"(?: \(.*?\))?: \[(?P<user>[^\]]*)\] \(from client (?P<client>\S+) port (?P<port>\d+)"
    r"(?: cli (?P<cli>[^\s)]+))?"
)


def _freeradius(msg: str, time: str | None) -> ParsedLine | None:
    m = _RADIUS.match(msg)
    if m is None:
        return _unknown("freeradius") if "Login OK" in msg or "Login incorrect" in msg else None
    user = m["user"].split("/", 1)[0]  # [user/password] when auth_goodpass/badpass is on
    fields: dict[str, str | None] = {
        "user": user, "src": m["cli"] or m["client"], "nas": m["client"],
        "nas_port": m["port"], "calling_station": m["cli"], "mac": _hwaddr(m["cli"]),
        "outcome": "accepted" if m["outcome"] == "Login OK" else "failed",
    }
    return _result("auth", "freeradius", time, fields, ("user", "src"))


_ROS_LOGIN = re.compile(
    r"(?:user (?P<user>\S+) logged in|login failure for user (?P<fuser>\S+))"
    r" from (?P<src>\S+) via (?P<via>\S+)"
)


def _routeros_account(msg: str, time: str | None) -> ParsedLine | None:
    m = _ROS_LOGIN.match(msg)
    if m is None:
        looks = ("logged in" in msg or "login failure" in msg) and " from " in msg
        return _unknown("routeros-auth") if looks else None
    fields: dict[str, str | None] = {
        "user": m["user"] or m["fuser"], "src": m["src"], "via": m["via"],
        "outcome": "accepted" if m["user"] else "failed",
    }
    return _result("auth", "routeros-auth", time, fields, ("user", "src"))


_ROS_HOTSPOT = re.compile(r"(?P<user>\S+) \((?P<src>[^)]*)\): (?P<what>logged in|login failed)")


def _routeros_hotspot(msg: str, time: str | None) -> ParsedLine | None:
    m = _ROS_HOTSPOT.match(msg)
    if m is None:
        return None
    fields: dict[str, str | None] = {
        "user": m["user"], "src": m["src"],
        "outcome": "accepted" if m["what"] == "logged in" else "failed",
    }
    return _result("auth", "routeros-hotspot", time, fields, ("user", "src"))


# --------------------------------------------------------------------------- web

_CLF = re.compile(
    r"(?:(?P<vhost>\S+) )?(?P<src>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<ts>[^\]]*)\] "
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\S+) (?P<size>\S+)'
)
_CLF_TIME = re.compile(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}")
_REQUEST = re.compile(r"(?P<method>[A-Z][A-Z0-9_-]*) (?P<uri>\S+)(?: HTTP/\d(?:\.\d)?)?")
_STATUS = re.compile(r"\d{3}")
# The server answered before any request line was read (400 Bad Request for bytes that are
# not HTTP, 408 Request Timeout for none at all): there is no method or URI to log.
_NO_REQUEST_STATUS = frozenset({"400", "408"})
_HTTP_SHAPE = re.compile(
    r'(?:^|[\s"])(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT|PROPFIND|TRACE) \S'
    r"|\bHTTP/\d"
)
_HTTPD_ERROR = re.compile(
    r"(?:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d )?\[(?:emerg|alert|crit|error|warn|notice|info|debug)\]"
    r"|\[[A-Z][a-z]{2} [A-Z][a-z]{2} "  # Apache error log: [Sat Nov 21 10:15:30.1 2026]
    r"|.*?\bAH\d{5}:"
    r"|.*?\b\d+#\d+: "  # nginx error log: pid#tid
)


def _clf(m: re.Match[str], time: str | None, source_format: str, proxy: bool) -> ParsedLine:
    ts = m["ts"]
    zoned = ts if _CLF_TIME.fullmatch(ts) else None
    request = _REQUEST.fullmatch(m["request"])
    status = m["status"]
    fields: dict[str, str | None] = {
        "src": m["src"], "user": m["user"], "event_time": zoned,
        "method": request["method"] if request else None,
        "uri": request["uri"] if request else None,
        "status": status if _STATUS.fullmatch(status) else None,
        "bytes": m["size"], "vhost": m["vhost"],
    }
    required: tuple[str, ...] = ("src", "method", "uri", "status")
    if request is None and status in _NO_REQUEST_STATUS:
        required = ("src", "status")
    if proxy:
        required += ("user",)
    return _result("web", source_format, time or zoned, fields, required)


def _httpd(msg: str, time: str | None) -> ParsedLine | None:
    m = _CLF.match(msg)
    if m is not None:
        return _clf(m, time, "clf", proxy=False)
    if _HTTPD_ERROR.match(msg) or not _HTTP_SHAPE.search(msg):
        return None
    return _unknown("httpd")


_SQUID = re.compile(
    r"(?P<ts>\d+\.\d{3}) +(?P<elapsed>-?\d+) (?P<src>\S+) (?P<code>[A-Z][A-Z_]*)/(?P<status>\d{3})"
    r" (?P<size>\d+) (?P<method>\S+) (?P<uri>\S+)"
    r"(?: (?![A-Z][A-Z_]*/)(?P<user>\S+))?(?: (?P<hier>[A-Z][A-Z_]*/\S*))?(?: (?P<mtype>\S+))?"
)
_SQUID_SHAPE = re.compile(
    r"\b(?:TCP|UDP|NONE|TAG)_[A-Z_]+|\bHIER_[A-Z]+"
    r"|\b(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT) (?:https?://|ftp://|[\w.-]+:\d+\b)"
)


def _squid(msg: str, time: str | None) -> ParsedLine | None:
    m = _SQUID.match(msg)
    if m is not None:
        epoch = m["ts"]  # seconds since the epoch: UTC by definition
        fields: dict[str, str | None] = {
            "src": m["src"], "user": m["user"], "event_time": epoch,
            "method": m["method"], "uri": m["uri"], "status": m["status"],
            "result": m["code"], "bytes": m["size"], "hierarchy": m["hier"],
        }
        required = ("src", "method", "uri", "status", "user")
        return _result("web", "squid-native", time or epoch, fields, required)
    clf = _CLF.match(msg)
    if clf is not None:
        return _clf(clf, time, "squid-clf", proxy=True)
    return _unknown("squid") if _SQUID_SHAPE.search(msg) else None


# --------------------------------------------------------------------------- routing

_R_NETFILTER = _Route("firewall", _netfilter)
_R_ROS_FIREWALL = _Route("firewall", _routeros_firewall)
_R_FORTIGATE = _Route("firewall", _fortigate)
_R_ISC = _Route("dhcp", _isc_dhcpd)
_R_DNSMASQ = _Route("dhcp", _dnsmasq)
_R_KEA = _Route("dhcp", _kea)
_R_ROS_DHCP = _Route("dhcp", _routeros_dhcp)
_R_SSH = _Route("auth", _openssh)
_R_RADIUS = _Route("auth", _freeradius)
_R_ROS_ACCOUNT = _Route("auth", _routeros_account)
_R_ROS_HOTSPOT = _Route("auth", _routeros_hotspot)
_R_HTTPD = _Route("web", _httpd)
_R_SQUID = _Route("web", _squid)

_PROGRAMS: Final[dict[str, _Route]] = {
    "kernel": _R_NETFILTER,
    "ulogd": _R_NETFILTER,
    "dhcpd": _R_ISC,
    "dnsmasq-dhcp": _R_DNSMASQ,
    "dnsmasq": _R_DNSMASQ,
    "kea-dhcp4": _R_KEA,
    "sshd": _R_SSH,
    "sshd-session": _R_SSH,
    "sshd-auth": _R_SSH,
    "radiusd": _R_RADIUS,
    "freeradius": _R_RADIUS,
    "nginx": _R_HTTPD,
    "apache2": _R_HTTPD,
    "apache": _R_HTTPD,
    "httpd": _R_HTTPD,
    "squid": _R_SQUID,
}

_ROUTEROS_TOPICS: Final[dict[str, _Route]] = {
    "firewall": _R_ROS_FIREWALL,
    "dhcp": _R_ROS_DHCP,
    "system": _R_ROS_ACCOUNT,
    "hotspot": _R_ROS_HOTSPOT,
}


def _routeros(topics: str) -> _Route | None:
    if _TOPICS.fullmatch(topics) is None:
        return None
    return _ROUTEROS_TOPICS.get(topics.partition(",")[0])


# (parser, message, the header's time stamp when it carries a zone, the header): a plain
# tuple, as this runs for every line of a known program.
_Routed = tuple[_Route, str, str | None, re.Match[str]]


def _process(head: re.Match[str]) -> str | None:
    """The ``HOST TAG[PID]:`` of a line whose tag names a process id, else None."""
    tag: str = head["tag"]
    return f"{head['host']} {tag}" if tag.endswith("]:") else None


def _route(line: str) -> _Routed | None:
    """The parser for a line, its message, zoned time and header; None for other programs."""
    head = _HEADER.match(line)
    if head is None:
        return None
    tz = head["tz"]
    time = head["iso"] + tz if tz is not None else None
    tag: str = head["tag"]
    msg: str = head["msg"]
    route = _PROGRAMS.get(tag.partition("[")[0].rstrip(":"))
    if route is None:
        if "," in tag:
            route = _routeros(tag)
        elif tag.startswith("(squid-"):
            route = _R_SQUID
        elif "devid=" in msg and "type=" in msg:
            return _R_FORTIGATE, f"{tag} {msg}", time, head
        else:
            first, _, rest = msg.partition(" ")  # RouterOS after a remote-log-prefix
            if "," in first and (route := _routeros(first)) is not None:
                msg = rest
        if route is None:
            return None
    if msg.startswith("message repeated "):
        repeated = _REPEATED.fullmatch(msg)
        if repeated is not None:
            msg = repeated["inner"]
    return route, msg, time, head


def parse_line(line: str) -> ParsedLine | None:
    """The traffic-data type and fields of one log line; None if not a traffic-data line."""
    line = line.rstrip("\r\n")
    routed = _route(line)
    if routed is None:
        return None
    route, msg, time, _head = routed
    return route.parse(msg, time)


# --------------------------------------------------------------------------- sampling


@dataclass
class _Tally:
    sampled: int = 0
    complete: int = 0
    missing: set[str] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)


class _Awaiting(NamedTuple):
    """A sampled line that lacks only fields a sibling line of its process may supply."""

    log_type: str
    src: str
    user: str
    missing: tuple[str, ...]

    def supplied_by(self, sibling: ParsedLine) -> bool:
        """Does the sibling name the same client and user, and carry what this line lacks?"""
        fields = sibling.fields
        return (fields.get("src") == self.src and fields.get("user") == self.user
                and all(fields.get(name) for name in self.missing))


class FieldSampler:
    """Feed lines one by one (str, without or with trailing newline); keeps at most `per_type`
    sampled lines per log type, memory bounded; call verdicts() at the end.

    The first `per_type` traffic-data lines of each type are sampled; later lines of a type
    that is full are skipped after the TAG look-up, without running the message parsers,
    unless a sampled line of the same process still awaits its sibling.  Only counts, the
    names of missing fields, three example lines and the awaiting lines' identities (at most
    `per_type` per type) are kept.
    """

    def __init__(self, per_type: int = 50) -> None:
        if per_type < 1:
            raise ValueError("per_type must be at least 1")
        self.per_type = per_type
        self._tallies: dict[str, _Tally] = {}
        self._awaiting: dict[str, list[_Awaiting]] = {}  # by process

    def _full(self, log_type: str) -> bool:
        tally = self._tallies.get(log_type)
        return tally is not None and tally.sampled >= self.per_type

    def feed(self, line: str) -> None:
        line = line.rstrip("\r\n")
        routed = _route(line)
        if routed is None:
            return
        route, msg, time, head = routed
        process = _process(head) if self._awaiting else None
        if (self._full(route.log_type) and self._full(UNKNOWN)
                and (process is None or process not in self._awaiting)):
            return
        parsed = route.parse(msg, time)
        if parsed is None:
            return
        if process is not None and process in self._awaiting:
            self._settle(process, parsed)
        tally = self._tallies.get(parsed.log_type)
        if tally is None:
            tally = self._tallies[parsed.log_type] = _Tally()
        elif tally.sampled >= self.per_type:
            return
        tally.sampled += 1
        if parsed.log_type == UNKNOWN:
            example = line[:EXAMPLE_CHARS]
            if len(tally.examples) < MAX_EXAMPLES and example not in tally.examples:
                tally.examples.append(example)
            return
        missing = parsed.missing
        if not missing:
            tally.complete += 1
        elif not self._await_sibling(parsed, missing, process or _process(head)):
            tally.missing.update(missing)

    def _await_sibling(self, parsed: ParsedLine, missing: tuple[str, ...],
                       process: str | None) -> bool:
        """Keep the line to be completed by a later line of its process, if it may be."""
        if process is None or not set(missing) <= set(parsed.from_sibling):
            return False
        self._awaiting.setdefault(process, []).append(_Awaiting(
            parsed.log_type, parsed.fields.get("src", ""), parsed.fields.get("user", ""),
            missing))
        return True

    def _settle(self, process: str, sibling: ParsedLine) -> None:
        """Count as complete the awaiting lines of `process` that `sibling` completes."""
        still = []
        for line in self._awaiting[process]:
            if line.supplied_by(sibling):
                self._tallies[line.log_type].complete += 1
            else:
                still.append(line)
        if still:
            self._awaiting[process] = still
        else:
            del self._awaiting[process]

    def _unsettled(self) -> dict[str, set[str]]:
        """Fields still missing, by log type, from lines whose sibling never came."""
        missing: dict[str, set[str]] = {}
        for lines in self._awaiting.values():
            for line in lines:
                missing.setdefault(line.log_type, set()).update(line.missing)
        return missing

    def verdicts(self) -> list[FieldsVerdict]:
        """One verdict per log type seen, sorted by log type."""
        unsettled = self._unsettled()
        return [
            FieldsVerdict(
                log_type=log_type,
                lines_sampled=tally.sampled,
                lines_complete=tally.complete,
                missing=tuple(sorted(tally.missing | unsettled.get(log_type, set()))),
                unknown_formats=tuple(tally.examples),
                ok=tally.complete == tally.sampled and not tally.examples,
            )
            for log_type, tally in sorted(self._tallies.items())
        ]
