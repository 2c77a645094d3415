"""Service probes (TCP connect, DNS, HTTP(S)) against real servers on 127.0.0.1.

Every server here is a real socket on an ephemeral loopback port, run in a thread and closed
in teardown. What loopback cannot do (a SYN that is never answered, a route to nowhere, a
resolver that never replies) happens in a network namespace of the test's own, where
192.0.2.0/24 is routed to ``lo`` and silently dropped because it is not a local address.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dlict.core.errors import InputError
from dlict.probes.dns import dns_lookup
from dlict.probes.http import http_get
from dlict.probes.tcp import parse_tcp_target, tcp_connect
from tests.dnswire import POINTER_TO_QUESTION, a_record, question_of, record, wire_name

LOOPBACK = "127.0.0.1"
# Wall-clock slack over a probe's timeout: thread wake-up and scheduling, never a second try.
SLACK = 0.3


def closed_port() -> int:
    """A loopback TCP/UDP port number nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def in_own_namespace(script: str, mount: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a fresh network namespace where 192.0.2.0/24 goes nowhere."""
    setup = "ip link set lo up && ip route add 192.0.2.0/24 dev lo && " \
            "ip route add unreachable 198.51.100.0/24"
    command = ["unshare", "--net", *(["--mount"] if mount else []), "sh", "-c",
               f"{setup} && {script}"]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)


def run_probe_in_namespace(code: str, mount_setup: str = "") -> list[dict[str, object]]:
    """Run Python ``code`` (which prints a JSON list) in the test's own namespace."""
    script = f"{mount_setup}exec {sys.executable} -c '{code}'"
    run = in_own_namespace(script, mount=bool(mount_setup))
    assert run.returncode == 0, run.stderr
    result: list[dict[str, object]] = json.loads(run.stdout)
    return result


# --- TCP --------------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def test_tcp_up_on_a_listening_port(listener: int) -> None:
    result = tcp_connect(LOOPBACK, listener, 2.0)
    assert result.up and result.error is None
    assert result.target == f"127.0.0.1:{listener}"
    assert 0 <= result.seconds < 1
    assert result.as_dict() == {"target": result.target, "up": True,
                                "seconds": result.seconds, "error": None}


def test_tcp_resolves_a_host_name(listener: int) -> None:
    result = tcp_connect("localhost", listener, 2.0)
    assert result.up, result.error
    assert result.target == f"localhost:{listener}"


def test_tcp_refused_on_a_closed_port() -> None:
    port = closed_port()
    result = tcp_connect(LOOPBACK, port, 2.0)
    assert not result.up
    assert result.error == "connection refused"
    assert result.seconds < 1


def test_tcp_unanswered_times_out_and_no_route_fails_at_once() -> None:
    code = ("import json; from dlict.probes.tcp import tcp_connect; "
            "print(json.dumps([tcp_connect(h, 80, 0.5).as_dict() "
            "for h in (\"192.0.2.1\", \"198.51.100.1\")]))")
    started = time.monotonic()
    silent, unreachable = run_probe_in_namespace(code)
    assert time.monotonic() - started < 10
    assert silent["up"] is False and silent["error"] == "timed out after 0.5 s"
    assert 0.5 <= float(str(silent["seconds"])) < 0.5 + SLACK
    assert unreachable["up"] is False and unreachable["error"] == "no route to host"
    assert float(str(unreachable["seconds"])) < 0.25


def test_a_resolver_that_never_answers_cannot_stretch_the_timeout(tmp_path: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 192.0.2.53\noptions timeout:5 attempts:2\n")
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    code = ("import json; from dlict.probes.tcp import tcp_connect; "
            "print(json.dumps([tcp_connect(\"office.school.invalid\", 80, 0.5).as_dict()]))")
    (result,) = run_probe_in_namespace(
        code, mount_setup=f"mount --bind {resolv} /etc/resolv.conf && "
                          f"mount --bind {hosts} /etc/hosts && ")
    assert result["up"] is False and result["error"] == "timed out after 0.5 s"
    assert float(str(result["seconds"])) < 0.5 + SLACK


def test_tcp_port_out_of_range_is_bad_input() -> None:
    with pytest.raises(InputError, match=r"^127\.0\.0\.1:0: port must be from 1 to 65535$"):
        tcp_connect(LOOPBACK, 0, 1.0)


@pytest.mark.parametrize(("spec", "expected"), [
    ("127.0.0.1:80", ("127.0.0.1", 80)),
    ("gw.school-1001.example:8443", ("gw.school-1001.example", 8443)),
    ("[2001:db8::1]:53", ("2001:db8::1", 53)),
    (" 10.1.2.3:65535 ", ("10.1.2.3", 65535)),
])
def test_tcp_targets_parse(spec: str, expected: tuple[str, int]) -> None:
    assert parse_tcp_target(spec) == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("127.0.0.1", "'127.0.0.1': expected host:port or [IPv6]:port"),
    (":80", "':80': expected host:port or [IPv6]:port"),
    ("host:http", "'host:http': port must be a number from 1 to 65535"),
    ("host:0", "'host:0': port must be a number from 1 to 65535"),
    ("host:70000", "'host:70000': port must be a number from 1 to 65535"),
    ("2001:db8::1:53", "'2001:db8::1:53': put an IPv6 address in brackets, [2001:db8::1]:53"),
    ("[127.0.0.1]:80", "'[127.0.0.1]:80': '127.0.0.1' in brackets is not an IPv6 address"),
    ("[::1]80", "'[::1]80': expected host:port or [IPv6]:port"),
    ("my host:80", "'my host:80': 'my host' is not a host name or address"),
])
def test_bad_tcp_targets_are_one_line(spec: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_tcp_target(spec)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


# --- DNS --------------------------------------------------------------------------------------

def response(query: bytes, *answers: bytes, rcode: int = 0, truncated: bool = False,
             id_xor: int = 0, question: bytes | None = None) -> bytes:
    (query_id,) = struct.unpack_from("!H", query)
    flags = 0x8180 | rcode | (0x0200 if truncated else 0)
    header = struct.pack("!HHHHHH", query_id ^ id_xor, flags, 1, len(answers), 0, 0)
    return header + (question if question is not None else question_of(query)) \
        + b"".join(answers)


UdpHandler = Callable[["DnsServer", bytes, tuple[str, int]], None]


@dataclass
class DnsServer:
    """A resolver on 127.0.0.1 (UDP and TCP on one port) whose answers the test writes."""

    on_udp: UdpHandler
    on_tcp: Callable[[bytes], bytes] | None = None
    queries: list[tuple[str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((LOOPBACK, 0))
        self.port = int(self.udp.getsockname()[1])
        self.tcp = socket.socket()
        self.tcp.bind((LOOPBACK, self.port))
        self.tcp.listen(4)
        self.spoofer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.spoofer.bind(("127.0.0.2", 0))
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for thread in self.threads:
            thread.start()

    def _serve_udp(self) -> None:
        self.udp.settimeout(0.05)
        while not self.stop.is_set():
            try:
                query, client = self.udp.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            self.queries.append(("udp", query))
            self.on_udp(self, query, client)

    def _serve_tcp(self) -> None:
        self.tcp.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _client = self.tcp.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                (length,) = struct.unpack("!H", conn.recv(2, socket.MSG_WAITALL))
                query = conn.recv(length, socket.MSG_WAITALL)
                self.queries.append(("tcp", query))
                if self.on_tcp is not None:
                    answer = self.on_tcp(query)
                    conn.sendall(struct.pack("!H", len(answer)) + answer)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(2)
        for sock in (self.udp, self.tcp, self.spoofer):
            sock.close()


@pytest.fixture
def dns_server() -> Iterator[Callable[..., DnsServer]]:
    servers: list[DnsServer] = []

    def start(on_udp: UdpHandler, on_tcp: Callable[[bytes], bytes] | None = None) -> DnsServer:
        servers.append(DnsServer(on_udp, on_tcp))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_dns_a_records_and_the_query_on_the_wire(dns_server: Callable[..., DnsServer]) -> None:
    server = dns_server(lambda s, q, c: s.udp.sendto(
        response(q, a_record("192.0.2.10"), a_record("192.0.2.11")), c))
    result = dns_lookup(LOOPBACK, "www.school-1001.example", 2.0, port=server.port)
    assert result.up and result.error is None
    assert result.rcode == "NOERROR"
    assert result.addresses == ["192.0.2.10", "192.0.2.11"]
    assert result.target == "127.0.0.1/www.school-1001.example"
    assert 0 < result.seconds < 1
    (transport, query), = server.queries
    _id, flags, qdcount, ancount, nscount, arcount = struct.unpack_from("!HHHHHH", query)
    assert transport == "udp"
    assert (flags, qdcount, ancount, nscount, arcount) == (0x0100, 1, 0, 0, 1)
    question = wire_name("www.school-1001.example") + struct.pack("!HH", 1, 1)
    assert query[12:12 + len(question)] == question
    # EDNS0 (RFC 6891): one OPT record for the root name, a 1,232-byte UDP payload, version 0,
    # no DO bit, no options.
    assert query[12 + len(question):] == b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)


def test_dns_follows_a_compressed_cname_chain(dns_server: Callable[..., DnsServer]) -> None:
    def answer(server: DnsServer, query: bytes, client: tuple[str, int]) -> None:
        # www.school.example CNAME web.<pointer to "school.example" in the question>
        question_end = 12 + len(question_of(query))
        cname_data = b"\x03web\xc0\x10"
        cname = record(POINTER_TO_QUESTION, 5, cname_data)
        target_offset = question_end + 12  # the CNAME's data, after its owner and fixed part
        owner = struct.pack("!H", 0xC000 | target_offset)
        unrelated = a_record("192.0.2.99", owner=wire_name("other.example"))
        server.udp.sendto(response(query, cname, unrelated, a_record("192.0.2.20", owner)),
                          client)

    server = dns_server(answer)
    result = dns_lookup(LOOPBACK, "WWW.School.example.", 2.0, port=server.port)
    assert result.up, result.error
    assert result.addresses == ["192.0.2.20"]


def test_dns_aaaa(dns_server: Callable[..., DnsServer]) -> None:
    server = dns_server(lambda s, q, c: s.udp.sendto(response(q, record(
        POINTER_TO_QUESTION, 28, ipaddress.ip_address("2001:db8::53").packed)), c))
    result = dns_lookup(LOOPBACK, "ns.school.example", 2.0, port=server.port, rtype="AAAA")
    assert result.up and result.addresses == ["2001:db8::53"]
    assert question_of(server.queries[0][1]).endswith(struct.pack("!HH", 28, 1))


@pytest.mark.parametrize(("rcode", "name"), [(3, "NXDOMAIN"), (2, "SERVFAIL"), (5, "REFUSED")])
def test_dns_error_rcodes(dns_server: Callable[..., DnsServer], rcode: int, name: str) -> None:
    server = dns_server(lambda s, q, c: s.udp.sendto(response(q, rcode=rcode), c))
    result = dns_lookup(LOOPBACK, "nowhere.school.example", 2.0, port=server.port)
    assert not result.up
    assert result.rcode == name and result.error == name
    assert result.addresses == []


def test_dns_noerror_without_an_address_is_down(dns_server: Callable[..., DnsServer]) -> None:
    server = dns_server(lambda s, q, c: s.udp.sendto(response(q), c))
    result = dns_lookup(LOOPBACK, "school.example", 2.0, port=server.port)
    assert not result.up
    assert (result.rcode, result.error) == ("NOERROR", "no A record")


def test_dns_silent_server_times_out_on_time(dns_server: Callable[..., DnsServer]) -> None:
    server = dns_server(lambda s, q, c: None)
    started = time.monotonic()
    result = dns_lookup(LOOPBACK, "school.example", 0.5, port=server.port)
    elapsed = time.monotonic() - started
    assert not result.up
    assert result.error == "timed out after 0.5 s" and result.rcode is None
    assert 0.5 <= elapsed < 0.5 + SLACK
    assert len(server.queries) == 1


def test_dns_closed_port_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        port = int(sock.getsockname()[1])
    result = dns_lookup(LOOPBACK, "school.example", 2.0, port=port)
    assert not result.up
    assert result.error == "connection refused"
    assert result.seconds < 1


def test_dns_ignores_spoofed_and_stale_answers(dns_server: Callable[..., DnsServer]) -> None:
    def answer(server: DnsServer, query: bytes, client: tuple[str, int]) -> None:
        # From another address, with the right id:
        server.spoofer.sendto(response(query, a_record("192.0.2.66")), client)
        # From the server, with a wrong id:
        server.udp.sendto(response(query, a_record("192.0.2.67"), id_xor=0x0101), client)
        # From the server, right id, another question:
        other = wire_name("evil.example") + struct.pack("!HH", 1, 1)
        server.udp.sendto(response(query, a_record("192.0.2.68"), question=other), client)
        # Not a response at all (QR clear): the query itself, echoed back.
        server.udp.sendto(query, client)
        time.sleep(0.1)
        server.udp.sendto(response(query, a_record("192.0.2.10")), client)

    server = dns_server(answer)
    result = dns_lookup(LOOPBACK, "school.example", 2.0, port=server.port)
    assert result.up, result.error
    assert result.addresses == ["192.0.2.10"]
    assert 0.1 <= result.seconds < 1


def test_dns_wrong_id_alone_ends_in_a_timeout(dns_server: Callable[..., DnsServer]) -> None:
    server = dns_server(lambda s, q, c: s.udp.sendto(
        response(q, a_record("192.0.2.67"), id_xor=0x8000), c))
    result = dns_lookup(LOOPBACK, "school.example", 0.4, port=server.port)
    assert not result.up and result.error == "timed out after 0.4 s"
    assert result.seconds < 0.4 + SLACK


def test_dns_truncated_answer_is_asked_again_over_tcp(
        dns_server: Callable[..., DnsServer]) -> None:
    server = dns_server(lambda s, q, c: s.udp.sendto(response(q, truncated=True), c),
                        on_tcp=lambda q: response(q, *(a_record(f"192.0.2.{n}")
                                                       for n in range(1, 41))))
    result = dns_lookup(LOOPBACK, "many.school.example", 2.0, port=server.port)
    assert result.up, result.error
    assert result.addresses == [f"192.0.2.{n}" for n in range(1, 41)]
    assert [transport for transport, _query in server.queries] == ["udp", "tcp"]
    # The same question with a fresh id (dnspython draws one per try).
    assert server.queries[0][1][2:] == server.queries[1][1][2:]


def test_dns_malformed_answer_to_our_question(dns_server: Callable[..., DnsServer]) -> None:
    server = dns_server(lambda s, q, c: s.udp.sendto(
        response(q, a_record("192.0.2.1"))[:-3], c))
    result = dns_lookup(LOOPBACK, "school.example", 0.5, port=server.port)
    assert not result.up
    # An unreadable datagram cannot be told from a spoofed one, so it does not end the probe;
    # when nothing better comes by the deadline, the result says why it was unreadable.
    assert result.error == "malformed answer: DNS message is malformed."
    assert 0.5 <= result.seconds < 0.5 + SLACK


@pytest.mark.parametrize(("server", "name", "message"), [
    ("dns.school.example", "school.example", "DNS server 'dns.school.example' is not an IP"),
    ("127.0.0.1", "x" * 64 + ".example", "DNS labels are 1 to 63 characters"),
    ("127.0.0.1", "a..example", "DNS labels are 1 to 63 characters"),
    ("127.0.0.1", ".".join(["a" * 60] * 5), "a DNS name is at most 255 octets"),
])
def test_dns_bad_input_raises(server: str, name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        dns_lookup(server, name, 1.0)


def test_dns_bad_port_raises() -> None:
    with pytest.raises(InputError, match="DNS server port 0: must be from 1 to 65535"):
        dns_lookup(LOOPBACK, "school.example", 1.0, port=0)


# --- HTTP -------------------------------------------------------------------------------------


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str | None]]  # path, User-Agent; set per server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("User-Agent")))
        if self.path == "/slow":
            time.sleep(0.2)
        if self.path == "/endless":
            self._endless()
            return
        status = {"/fail": 500, "/moved": 302}.get(self.path, 200)
        body = b"hello\n"
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x" * 65536)
        except OSError:
            self.close_connection = True


@dataclass
class WebServer:
    server: http.server.ThreadingHTTPServer
    seen: list[tuple[str, str | None]]
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


def start_web_server(context: ssl.SSLContext | None = None) -> WebServer:
    seen: list[tuple[str, str | None]] = []
    handler = type("RecordingHandler", (Handler,), {"seen": seen})
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return WebServer(server, seen, thread)


def stop_web_server(web: WebServer) -> None:
    web.server.shutdown()
    web.server.server_close()
    web.thread.join(2)


@pytest.fixture
def web() -> Iterator[WebServer]:
    server = start_web_server()
    yield server
    stop_web_server(server)


def test_http_200(web: WebServer) -> None:
    url = f"http://127.0.0.1:{web.port}/ok"
    result = http_get(url, 2.0)
    assert result.up and result.error is None
    assert result.status == 200 and result.target == url
    assert result.ttfb_seconds is not None
    assert 0 < result.ttfb_seconds <= result.total_seconds < 1
    assert result.cert_expiry_days is None
    assert web.seen == [("/ok", "dlict-monitor")]
    assert set(result.as_dict()) == {"target", "up", "status", "ttfb_seconds",
                                     "total_seconds", "cert_expiry_days", "cert_not_after",
                                     "error"}


def test_http_500_is_down(web: WebServer) -> None:
    result = http_get(f"http://127.0.0.1:{web.port}/fail", 2.0)
    assert not result.up
    assert result.status == 500
    assert result.error == "HTTP 500 Internal Server Error"


def test_http_redirect_is_up_and_not_followed(web: WebServer) -> None:
    result = http_get(f"http://localhost:{web.port}/moved", 2.0)
    assert result.up and result.status == 302
    assert [path for path, _agent in web.seen] == ["/moved"]


def test_http_ttfb_counts_the_servers_delay(web: WebServer) -> None:
    result = http_get(f"http://127.0.0.1:{web.port}/slow", 2.0)
    assert result.up
    assert result.ttfb_seconds is not None
    assert 0.2 <= result.ttfb_seconds < 1


def test_http_endless_body_is_cut_at_a_mebibyte(web: WebServer) -> None:
    result = http_get(f"http://127.0.0.1:{web.port}/endless", 5.0)
    assert result.up and result.status == 200
    assert result.total_seconds < 2


def test_http_refused() -> None:
    result = http_get(f"http://127.0.0.1:{closed_port()}/", 2.0)
    assert not result.up and result.status == 0
    assert result.error == "connection refused"


@pytest.fixture
def silent_server() -> Iterator[Callable[[bytes], int]]:
    """A server that accepts, sends ``prefix`` and then one byte every 50 ms, forever."""
    stop = threading.Event()
    threads: list[threading.Thread] = []
    sockets: list[socket.socket] = []

    def start(prefix: bytes) -> int:
        listener = socket.socket()
        listener.bind((LOOPBACK, 0))
        listener.listen(4)
        listener.settimeout(0.05)
        sockets.append(listener)

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _client = listener.accept()
                except (TimeoutError, OSError):
                    continue
                sockets.append(conn)
                try:
                    conn.sendall(prefix)
                    while prefix and not stop.wait(0.05):
                        conn.sendall(b"X")
                except OSError:
                    pass

        threads.append(threading.Thread(target=serve, daemon=True))
        threads[-1].start()
        return int(listener.getsockname()[1])

    yield start
    stop.set()
    for thread in threads:
        thread.join(2)
    for sock in sockets:
        sock.close()


@pytest.mark.parametrize("prefix", [b"", b"HTTP/1.1 200 OK\r\nX-Slow: "],
                         ids=["never-answers", "trickles-headers"])
def test_http_timeout_is_one_overall_deadline(silent_server: Callable[[bytes], int],
                                              prefix: bytes) -> None:
    port = silent_server(prefix)
    started = time.monotonic()
    result = http_get(f"http://127.0.0.1:{port}/", 0.5)
    elapsed = time.monotonic() - started
    assert not result.up and result.status == 0
    assert result.error == "timed out after 0.5 s"
    assert 0.5 <= elapsed < 0.5 + SLACK
    assert result.total_seconds < 0.5 + SLACK


def test_http_non_ascii_path_is_percent_encoded(web: WebServer) -> None:
    result = http_get(f"http://127.0.0.1:{web.port}/ข่าว?q=ดี", 2.0)
    assert result.up, result.error
    assert web.seen == [("/%E0%B8%82%E0%B9%88%E0%B8%B2%E0%B8%A7?q=%E0%B8%94%E0%B8%B5",
                         "dlict-monitor")]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:80", "http:///path",
                                 "http://127.0.0.1:99999/", "http://127.0.0.1:0/"])
def test_http_bad_url_raises(url: str) -> None:
    with pytest.raises(InputError):
        http_get(url, 1.0)


def make_certificate(directory: Path, name: str, not_before: dt.datetime,
                     not_after: dt.datetime) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1; returns (cert, key) PEM paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class TlsSite:
    port: int
    cert: Path


def start_tls_site(tmp_path: Path, name: str, valid_from_days: float,
                   valid_to_days: float) -> tuple[TlsSite, WebServer]:
    now = dt.datetime.now(dt.UTC)
    cert, key = make_certificate(tmp_path, name, now + dt.timedelta(days=valid_from_days),
                                 now + dt.timedelta(days=valid_to_days))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    web = start_web_server(context)
    return TlsSite(web.port, cert), web


@pytest.fixture
def tls_site(tmp_path: Path) -> Iterator[TlsSite]:
    site, web = start_tls_site(tmp_path, "valid", -1, 30)
    yield site
    stop_web_server(web)


@pytest.fixture
def expired_site(tmp_path: Path) -> Iterator[TlsSite]:
    site, web = start_tls_site(tmp_path, "expired", -40, -10)
    yield site
    stop_web_server(web)


def test_https_unverified_reads_the_days_left(tls_site: TlsSite) -> None:
    result = http_get(f"https://127.0.0.1:{tls_site.port}/ok", 2.0, verify=False)
    assert result.up and result.status == 200 and result.error is None
    assert result.cert_expiry_days == pytest.approx(30, abs=0.01)
    assert result.ttfb_seconds is not None and result.ttfb_seconds <= result.total_seconds


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_https_verified_against_its_ca_file(tls_site: TlsSite, host: str) -> None:
    result = http_get(f"https://{host}:{tls_site.port}/ok", 2.0, ca_file=str(tls_site.cert))
    assert result.up, result.error
    assert result.cert_expiry_days == pytest.approx(30, abs=0.01)


def test_https_untrusted_is_down_with_the_days_still_read(tls_site: TlsSite) -> None:
    result = http_get(f"https://127.0.0.1:{tls_site.port}/ok", 2.0)
    assert not result.up and result.status == 0
    assert result.error is not None
    assert result.error.startswith("certificate verify failed: self")
    assert "\n" not in result.error
    assert result.cert_expiry_days == pytest.approx(30, abs=0.01)


def test_https_expired_certificate_has_negative_days(expired_site: TlsSite) -> None:
    unverified = http_get(f"https://127.0.0.1:{expired_site.port}/ok", 2.0, verify=False)
    assert unverified.up
    assert unverified.cert_expiry_days == pytest.approx(-10, abs=0.01)
    verified = http_get(f"https://127.0.0.1:{expired_site.port}/ok", 2.0,
                        ca_file=str(expired_site.cert))
    assert not verified.up
    assert verified.error == "certificate verify failed: certificate has expired"
    assert verified.cert_expiry_days == pytest.approx(-10, abs=0.01)


def test_https_unreadable_ca_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read CA certificates"):
        http_get("https://127.0.0.1:1/", 1.0, ca_file=str(tmp_path / "missing.pem"))
