"""Traffic-data fields (MDES B.E. 2564) found in district log lines, per service format."""

from __future__ import annotations

import itertools
import re
import tracemalloc
from pathlib import Path

import pytest

from dlict.logs.fields import LOG_TYPES, FieldSampler, FieldsVerdict, ParsedLine, parse_line

FIXTURES = Path(__file__).parent / "fixtures" / "logs" / "fields"

# fixture file -> (log type, number of lines)
COMPLETE_FILES = {
    "nftables.log": ("firewall", 7),
    "routeros-firewall.log": ("firewall", 6),
    "fortigate.log": ("firewall", 4),
    "isc-dhcpd.log": ("dhcp", 4),
    "dnsmasq.log": ("dhcp", 3),
    "kea.log": ("dhcp", 3),
    "routeros-dhcp.log": ("dhcp", 3),
    "sshd.log": ("auth", 7),
    "freeradius.log": ("auth", 4),
    "routeros-auth.log": ("auth", 5),
    "nginx.log": ("web", 5),
    "squid.log": ("web", 4),
}


def lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").splitlines()


def parse(line: str) -> ParsedLine:
    parsed = parse_line(line)
    assert parsed is not None, line
    return parsed


def sample(feed: list[str], per_type: int = 50) -> list[FieldsVerdict]:
    sampler = FieldSampler(per_type)
    for line in feed:
        sampler.feed(line)
    return sampler.verdicts()


# --------------------------------------------------------------------------- values per format


def test_nftables_and_iptables_lines_give_addresses_ports_and_zone() -> None:
    ssh, udp, fwd, icmp, v6, out, icmp_error = (parse(x) for x in lines("nftables.log"))
    assert ssh.log_type == "firewall" and ssh.source_format == "netfilter"
    assert ssh.fields["src"] == "10.1.2.3"
    assert ssh.fields["dst"] == "10.1.2.4"
    assert ssh.fields["src_port"] == "51234"
    assert ssh.fields["dst_port"] == "22"
    assert ssh.fields["proto"] == "TCP"
    assert ssh.fields["in_if"] == "eth0"
    assert ssh.fields["prefix"] == "dlict-drop"
    assert ssh.fields["src_mac"] == "52:54:00:ab:cd:ef"
    assert ssh.fields["time"] == "2026-11-21T10:15:30.123456+07:00"
    assert udp.fields["prefix"] == "[UFW BLOCK]"
    assert (udp.fields["src_port"], udp.fields["dst_port"]) == ("137", "137")
    assert fwd.fields["out_if"] == "eth0" and fwd.fields["src_mac"] == "70:85:c2:44:55:66"
    assert icmp.fields["proto"] == "ICMP" and "src_port" not in icmp.fields
    assert icmp.missing == ()  # ICMP has no ports to require
    assert v6.fields["src"] == "2001:db8:10::5" and v6.fields["dst_port"] == "3389"
    assert out.fields["prefix"] == "nft-out-reject"  # the kernel's [ 8812.345678] is not a prefix
    assert "src_mac" not in out.fields
    # An ICMP error quotes the offending packet: its SRC/DST must not replace the outer ones.
    assert (icmp_error.fields["src"], icmp_error.fields["dst"]) == ("10.1.2.4", "10.1.2.9")
    assert icmp_error.fields["time"] == "2026-11-21T03:15:36Z"


def test_netfilter_arp_fragments_and_ebtables() -> None:
    arp = parse(
        "2026-11-21T10:15:36+07:00 gw01 kernel: arp-drop IN=eth0 OUT= ARP HTYPE=1 PTYPE=0x0800"
        " OPCODE=1 MACSRC=52:54:00:0a:0b:0c IPSRC=10.1.2.9 MACDST=00:00:00:00:00:00 IPDST=10.1.2.1"
    )
    assert (arp.fields["src"], arp.fields["dst"], arp.fields["proto"]) == (
        "10.1.2.9", "10.1.2.1", "ARP",
    )
    assert arp.fields["src_mac"] == "52:54:00:0a:0b:0c"
    assert arp.missing == ()
    fragment = parse(
        "2026-11-21T10:15:37+07:00 gw01 kernel: dlict-drop IN=eth0 OUT= SRC=10.1.2.3 DST=10.1.2.4"
        " LEN=572 TOS=0x00 PREC=0x00 TTL=64 ID=12345 FRAG:185 PROTO=UDP "
    )
    assert fragment.fields["proto"] == "UDP" and fragment.missing == ()
    ebtables = parse(
        "2026-11-21T10:15:38+07:00 br01 kernel: ebt-log IN=eth0 OUT=eth1 MAC source = "
        "aa:bb:cc:dd:ee:ff MAC dest = 11:22:33:44:55:66 proto = 0x0800 IP SRC=10.1.2.3 "
        "IP DST=10.1.2.4, IP tos=0x00, IP proto=6 SPT=51234 DPT=22"
    )
    assert (ebtables.fields["dst"], ebtables.fields["proto"]) == ("10.1.2.4", "6")
    assert ebtables.fields["dst_port"] == "22" and ebtables.missing == ()


def test_routeros_firewall_lines_with_and_without_nat() -> None:
    parsed = [parse(x) for x in lines("routeros-firewall.log")]
    snat, udp, icmp, prefixed, dstnat, logprefix = parsed
    assert snat.source_format == "routeros-firewall"
    assert snat.fields["src"] == "192.168.88.10"
    assert snat.fields["src_port"] == "51234"
    assert snat.fields["dst"] == "93.184.216.34"
    assert snat.fields["dst_port"] == "443"
    assert snat.fields["nat_src"] == "203.0.113.2"
    assert snat.fields["nat_src_port"] == "51234"
    assert snat.fields["src_mac"] == "aa:bb:cc:dd:ee:ff"
    assert snat.fields["chain"] == "srcnat"
    assert "nat_src" in snat.required
    assert udp.fields["proto"] == "UDP" and "nat_src" not in udp.required
    assert (icmp.fields["src"], icmp.fields["dst"]) == ("10.0.0.1", "10.0.0.2")
    assert "src_port" not in icmp.fields and icmp.missing == ()
    assert prefixed.fields["chain"] == "input" and prefixed.fields["out_if"] == "(unknown 0)"
    assert dstnat.fields["nat_dst"] == "192.168.88.20" and "nat_src" not in dstnat.required
    assert logprefix.fields["chain"] == "forward"
    assert logprefix.fields["nat_src"] == "125.25.69.110"


def test_fortigate_traffic_log_fields() -> None:
    snat, local, icmp, dns = (parse(x) for x in lines("fortigate.log"))
    assert snat.source_format == "fortigate"
    assert snat.fields["src"] == "10.1.2.3"
    assert snat.fields["src_port"] == "51234"
    assert snat.fields["dst"] == "93.184.216.34"
    assert snat.fields["dst_port"] == "443"
    assert snat.fields["nat_src"] == "203.0.113.2"
    assert snat.fields["nat_src_port"] == "51234"
    assert snat.fields["user"] == "alice"
    assert snat.fields["time"] == "2026-11-21T10:15:30+07:00"
    assert "nat_src" in snat.required and "nat_src" not in local.required  # trandisp="noop"
    assert icmp.fields["proto"] == "1" and icmp.missing == ()
    assert dns.fields["dst_port"] == "53" and dns.missing == ()


def test_dhcp_lease_grants_give_ip_and_mac() -> None:
    isc = parse(lines("isc-dhcpd.log")[0])
    assert (isc.log_type, isc.source_format) == ("dhcp", "isc-dhcpd")
    assert (isc.fields["ip"], isc.fields["mac"], isc.fields["hostname"]) == (
        "10.1.2.50", "aa:bb:cc:dd:ee:ff", "pc01",
    )
    relayed = parse(lines("isc-dhcpd.log")[2])
    assert relayed.fields["via"] == "10.20.5.1" and relayed.fields["mac"] == "70:85:c2:44:55:66"
    dnsmasq = [parse(x) for x in lines("dnsmasq.log")]
    assert (dnsmasq[0].fields["ip"], dnsmasq[0].fields["mac"]) == ("10.1.2.50", "aa:bb:cc:dd:ee:ff")
    assert "hostname" not in dnsmasq[1].fields
    assert dnsmasq[2].fields["iface"] == "br-lan"  # log-dhcp's transaction id is skipped
    assert dnsmasq[2].fields["hostname"] == "raspberrypi"
    kea = [parse(x) for x in lines("kea.log")]
    assert (kea[0].fields["ip"], kea[0].fields["mac"]) == ("10.1.2.50", "aa:bb:cc:dd:ee:ff")
    assert kea[2].fields["ip"] == "10.1.2.129"  # DHCP4_LEASE_REUSE is a grant too
    ros = [parse(x) for x in lines("routeros-dhcp.log")]
    assert (ros[0].fields["ip"], ros[0].fields["mac"]) == ("192.168.88.254", "AA:BB:CC:DD:EE:FF")
    assert ros[0].fields["server"] == "dhcp1" and ros[0].fields["hostname"] == "pc01"
    assert ros[1].fields["mac"] == "4C:D5:77:7D:94:47"  # RouterOS 6 says "to"


def test_openssh_logins_give_user_address_and_port() -> None:
    key, password, invalid, failed, invalid_user, session, repeated = (
        parse(x) for x in lines("sshd.log")
    )
    assert (key.log_type, key.source_format) == ("auth", "openssh")
    assert key.fields["user"] == "alice"
    assert key.fields["src"] == "10.1.2.3"
    assert key.fields["src_port"] == "51234"
    assert (key.fields["outcome"], key.fields["auth_method"]) == ("accepted", "publickey")
    assert password.fields["auth_method"] == "password"
    assert (invalid.fields["user"], invalid.fields["src_port"]) == ("bob", "4444")
    assert invalid.fields["outcome"] == "failed-invalid-user"
    assert failed.fields["user"] == "root" and failed.fields["outcome"] == "failed"
    assert invalid_user.fields["user"] == "admin" and invalid_user.fields["src_port"] == "60130"
    assert session.fields["src"] == "2001:db8:10::5"  # OpenSSH 9.8+ logs as sshd-session
    assert repeated.fields["user"] == "root"  # rsyslog's "message repeated" is unwrapped


def test_freeradius_uses_calling_station_or_client_and_drops_passwords() -> None:
    ok, eap, incorrect, tunnel = (parse(x) for x in lines("freeradius.log"))
    assert (ok.log_type, ok.source_format) == ("auth", "freeradius")
    assert ok.fields["user"] == "alice"
    assert ok.fields["src"] == "aa-bb-cc-dd-ee-ff"
    assert ok.fields["nas"] == "school-ap"
    assert eap.fields["user"] == "somchai"  # "[somchai/<via Auth-Type = eap>]"
    assert incorrect.fields["outcome"] == "failed" and incorrect.fields["user"] == "bob"
    assert tunnel.fields["src"] == "office-ap"  # no cli: the client name
    assert tunnel.missing == ()
    secret = parse(
        "2026-11-21T08:00:09+07:00 radius01 radiusd[3206]: Auth: (16) Login OK: [dave/s3cret] "
        "(from client school-ap port 0 cli aa-bb-cc-dd-ee-01)"
    )
    assert secret.fields["user"] == "dave"
    assert "s3cret" not in secret.fields.values()


def test_routeros_account_and_hotspot_logins() -> None:
    winbox, failure, ssh, hotspot, hotspot_failed = (parse(x) for x in lines("routeros-auth.log"))
    assert (winbox.log_type, winbox.source_format) == ("auth", "routeros-auth")
    assert (winbox.fields["user"], winbox.fields["src"]) == ("admin", "192.168.88.10")
    assert winbox.fields["via"] == "winbox"
    assert failure.fields["outcome"] == "failed" and failure.fields["src"] == "198.51.100.23"
    assert ssh.fields["user"] == "netops"
    assert hotspot.source_format == "routeros-hotspot"
    assert (hotspot.fields["user"], hotspot.fields["src"]) == ("std6401", "10.5.50.12")
    assert hotspot_failed.fields["outcome"] == "failed"


def test_routeros_topics_after_a_prefix_or_a_program_tag() -> None:
    prefixed = parse(
        "2026-11-21T07:58:02+07:00 192.168.88.1 school042: dhcp,info dhcp1 assigned "
        "192.168.88.20 for AA:BB:CC:DD:EE:01 pc02"
    )
    tagged = parse(
        "2026-11-21T07:58:03+07:00 router dhcp: dhcp,info dhcp1 assigned 172.20.100.7 "
        "to AA:BB:CC:11:22:33"
    )
    assert (prefixed.fields["ip"], prefixed.fields["mac"]) == ("192.168.88.20", "AA:BB:CC:DD:EE:01")
    assert (tagged.fields["ip"], tagged.fields["mac"]) == ("172.20.100.7", "AA:BB:CC:11:22:33")


def test_web_access_logs_give_source_method_uri_status() -> None:
    nginx, post, v6, common, vhost = (parse(x) for x in lines("nginx.log"))
    assert (nginx.log_type, nginx.source_format) == ("web", "clf")
    assert nginx.fields["src"] == "10.1.2.3"
    assert nginx.fields["user"] == "alice"
    assert nginx.fields["method"] == "GET"
    assert nginx.fields["uri"] == "/index.html"
    assert nginx.fields["status"] == "200"
    assert nginx.fields["event_time"] == "21/Nov/2026:10:15:30 +0700"
    assert "user" not in nginx.required  # a web server's %u is not required
    assert (post.fields["method"], post.fields["status"]) == ("POST", "302")
    assert v6.fields["src"] == "2001:db8:10::5"
    assert common.fields["uri"] == "/moodle/" and common.missing == ()
    assert vhost.fields["vhost"] == "www.school.example.ac.th:443"
    assert vhost.fields["src"] == "10.1.2.9"
    assert vhost.fields["uri"] == "/moodle/login/index.php?lang=th"


def test_squid_native_and_combined_require_the_user_field() -> None:
    miss, tunnel, denied, _hit = (parse(x) for x in lines("squid.log"))
    assert (miss.log_type, miss.source_format) == ("web", "squid-native")
    assert miss.fields["src"] == "10.1.2.3"
    assert miss.fields["method"] == "GET"
    assert miss.fields["uri"] == "http://example.org/"
    assert miss.fields["status"] == "200"
    assert miss.fields["user"] == "alice"
    assert miss.fields["event_time"] == "1795230930.123"
    assert "user" in miss.required
    assert (tunnel.fields["method"], tunnel.fields["uri"]) == ("CONNECT", "www.google.com:443")
    assert tunnel.fields["user"] == "-" and tunnel.missing == ()  # anonymous, field present
    assert denied.fields["status"] == "407"
    combined = parse(
        "2026-11-21T10:15:34+07:00 proxy01 squid[2345]: 10.1.2.3 - alice [21/Nov/2026:10:15:34"
        ' +0700] "GET http://example.org/about HTTP/1.1" 200 2311 "-" "Mozilla/5.0"'
        " TCP_MISS:HIER_DIRECT"
    )
    assert combined.source_format == "squid-clf"
    assert combined.fields["user"] == "alice" and "user" in combined.required
    worker = parse(
        "2026-11-21T10:15:35+07:00 proxy01 (squid-1)[2346]: 1795230935.000      5 10.1.2.4 "
        "TCP_MISS/200 99 GET http://example.org/x - HIER_DIRECT/93.184.216.34 text/plain"
    )
    assert worker.fields["src"] == "10.1.2.4"


# --------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize("name", sorted(COMPLETE_FILES))
def test_complete_fixture_file_gives_one_ok_verdict(name: str) -> None:
    log_type, count = COMPLETE_FILES[name]
    content = lines(name)
    assert len(content) == count
    (verdict,) = sample([line + "\n" for line in content])
    assert verdict == FieldsVerdict(
        log_type=log_type, lines_sampled=count, lines_complete=count,
        missing=(), unknown_formats=(), ok=True,
    )


# (file, line index, text removed, text put instead, fields then missing)
REMOVED = [
    ("nftables.log", 0, "SPT=51234 ", "", ("src_port",)),
    ("nftables.log", 0, "DST=10.1.2.4 ", "", ("dst",)),
    ("routeros-firewall.log", 0, "(192.168.88.10:51234->203.0.113.2:51234)->", "?", ("nat_src",)),
    ("routeros-firewall.log", 1, ":53211->8.8.8.8:53", "->8.8.8.8", ("dst_port", "src_port")),
    ("fortigate.log", 0, "transip=203.0.113.2 ", "", ("nat_src",)),
    ("fortigate.log", 0, "dstport=443 ", "", ("dst_port",)),
    ("isc-dhcpd.log", 0, "aa:bb:cc:dd:ee:ff ", "", ("mac",)),
    ("dnsmasq.log", 0, " aa:bb:cc:dd:ee:ff pc01", "", ("mac",)),
    ("kea.log", 0, "hwtype=1 aa:bb:cc:dd:ee:ff", "no hwaddr info", ("mac",)),
    ("routeros-dhcp.log", 0, " for AA:BB:CC:DD:EE:FF", "", ("mac",)),
    ("sshd.log", 0, " port 51234", "", ("src_port",)),
    ("sshd.log", 2, "invalid user bob", "invalid user ", ("user",)),
    ("freeradius.log", 0, "[alice]", "[]", ("user",)),
    ("routeros-auth.log", 3, "(10.5.50.12)", "()", ("src",)),
    ("nginx.log", 0, '"GET /index.html HTTP/1.1"', '"-"', ("method", "uri")),
    ("nginx.log", 3, "200 10342", "- 10342", ("status",)),
    ("squid.log", 0, " alice", "", ("user",)),
]


@pytest.mark.parametrize(("name", "index", "old", "new", "missing"), REMOVED)
def test_removed_field_is_reported_missing(
    name: str, index: int, old: str, new: str, missing: tuple[str, ...]
) -> None:
    content = lines(name)
    assert old in content[index]
    broken = content[index].replace(old, new, 1)
    assert parse(broken).missing == missing
    (verdict,) = sample([*content, broken])
    assert verdict.missing == missing
    assert (verdict.lines_sampled, verdict.lines_complete) == (len(content) + 1, len(content))
    assert verdict.ok is False


def test_chatter_gives_no_verdict_at_all() -> None:
    chatter = lines("chatter.log")
    assert len(chatter) > 40
    assert [line for line in chatter if parse_line(line) is not None] == []
    assert sample(chatter) == []


UNKNOWN_SERVICES = [
    "squid", "httpd", "httpd", "openssh", "isc-dhcpd", "dnsmasq", "kea", "freeradius",
    "netfilter", "routeros-firewall", "routeros-auth",
]


def test_unknown_formats_are_reported_and_spoil_the_verdict() -> None:
    unknown = lines("unknown.log")
    parsed = [parse(line) for line in unknown]
    assert [p.log_type for p in parsed] == ["unknown"] * len(unknown)
    assert [p.source_format for p in parsed] == UNKNOWN_SERVICES
    (verdict,) = sample(unknown)
    assert verdict.log_type == "unknown"
    assert verdict.lines_sampled == len(unknown)
    assert verdict.unknown_formats == tuple(unknown[:3])
    assert verdict.ok is False


def test_unknown_lines_beside_good_ones_keep_their_own_verdict() -> None:
    feed = [*lines("nginx.log"), *lines("unknown.log")[1:3], "x" * 10]
    unknown, web = sample(feed)
    assert (web.log_type, web.ok, web.lines_sampled) == ("web", True, 5)
    assert (unknown.log_type, unknown.ok, unknown.lines_sampled) == ("unknown", False, 2)
    assert "nginx: {" in unknown.unknown_formats[1]


def test_unknown_examples_are_truncated_distinct_and_at_most_three() -> None:
    long_line = lines("unknown.log")[0] + " " + "x" * 500
    feed = [long_line, long_line, *lines("unknown.log")]
    (verdict,) = sample(feed)
    assert len(verdict.unknown_formats) == 3
    assert verdict.unknown_formats[0] == long_line[:200]
    assert len(set(verdict.unknown_formats)) == 3


TRADITIONAL = re.compile(r"^\S+ ")


@pytest.mark.parametrize(
    "name",
    [n for n in sorted(COMPLETE_FILES) if n not in ("nginx.log", "squid.log", "fortigate.log")],
)
def test_traditional_timestamp_without_zone_leaves_time_missing(name: str) -> None:
    old_style = [TRADITIONAL.sub("Nov 21 10:15:30 ", line, count=1) for line in lines(name)]
    first = parse(old_style[0])
    assert "time" not in first.fields
    assert first.missing == ("time",)
    (verdict,) = sample(old_style)
    assert verdict.missing == ("time",) and verdict.lines_complete == 0 and not verdict.ok


def test_rfc3339_without_offset_leaves_time_missing() -> None:
    line = lines("sshd.log")[0].replace("+07:00", "", 1)
    assert parse(line).missing == ("time",)
    single_digit_day = "Nov  1 10:15:30 " + lines("sshd.log")[1].split(" ", 1)[1]
    assert parse(single_digit_day).missing == ("time",)


def test_services_with_their_own_zoned_time_keep_time_under_a_traditional_prefix() -> None:
    nginx = parse(TRADITIONAL.sub("Nov 21 10:15:30 ", lines("nginx.log")[0], count=1))
    assert nginx.fields["time"] == "21/Nov/2026:10:15:30 +0700" and nginx.missing == ()
    squid = parse(TRADITIONAL.sub("Nov 21 10:15:30 ", lines("squid.log")[0], count=1))
    assert squid.fields["time"] == "1795230930.123" and squid.missing == ()  # epoch is UTC
    fortigate = [TRADITIONAL.sub("Nov 21 10:15:30 ", x, count=1) for x in lines("fortigate.log")]
    assert parse(fortigate[0]).fields["time"] == "2026-11-21T10:15:30+07:00"  # tz="+0700"
    assert parse(fortigate[3]).missing == ("time",)  # no tz field


# --------------------------------------------------------------------------- the sampler


def test_sampler_keeps_at_most_per_type_lines_over_100k_lines() -> None:
    every = [line for name in sorted(FIXTURES.glob("*.log")) for line in lines(name.name)]
    sampler = FieldSampler(per_type=20)
    for line in itertools.islice(itertools.cycle(every), 100_000):
        sampler.feed(line)
    verdicts = sampler.verdicts()
    assert [v.log_type for v in verdicts] == sorted([*LOG_TYPES, "unknown"])
    assert all(v.lines_sampled == 20 for v in verdicts)
    assert all(len(v.unknown_formats) <= 3 for v in verdicts)


def test_sampler_memory_does_not_grow_with_the_lines_fed() -> None:
    every = [line for name in sorted(FIXTURES.glob("*.log")) for line in lines(name.name)]
    fed = itertools.islice(itertools.cycle(every), 20_000)
    distinct = [f"{line} #{i}" for i, line in enumerate(fed)]
    sampler = FieldSampler(per_type=50)
    tracemalloc.start()
    try:
        for line in distinct:
            sampler.feed(line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000  # bytes: the sample's counts and examples, not the 20,000 lines


def test_sampler_takes_the_first_lines_of_each_type() -> None:
    broken = lines("sshd.log")[0].replace(" port 51234", "")
    (verdict,) = sample([*lines("sshd.log"), broken], per_type=7)
    assert verdict.ok and verdict.lines_sampled == 7  # the eighth line was not sampled
    (verdict,) = sample([broken, *lines("sshd.log")], per_type=7)
    assert verdict.missing == ("src_port",) and verdict.lines_complete == 6


def test_sampler_verdicts_are_sorted_and_accept_crlf() -> None:
    feed = [lines("squid.log")[0] + "\r\n", lines("kea.log")[0] + "\n", lines("sshd.log")[0]]
    assert [v.log_type for v in sample(feed)] == ["auth", "dhcp", "web"]


def test_sampler_refuses_a_zero_sample() -> None:
    with pytest.raises(ValueError, match="per_type"):
        FieldSampler(per_type=0)
