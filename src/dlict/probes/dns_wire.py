"""The DNS probe's work on the wire, through dnspython's stub resolver (``dlict[monitor]``).

Kept apart from :mod:`dlict.probes.dns` so that importing the probe (the monitor's scheduler
does at start) needs no dnspython: a core-only install then reaches ``require_extra``'s one
line instead of an import error. See :mod:`dlict.probes.dns` for what is asked and how.
"""

from __future__ import annotations

import socket
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.query
import dns.resolver

from dlict.core.errors import InputError
from dlict.probes.tcp import describe_error

EDNS_PAYLOAD = 1232  # the DNS Flag Day 2020 size: no IP fragmentation on common paths
_KEPT_DATAGRAMS = 4  # unreadable datagrams with our id kept to explain a timeout

# up, rcode (None when no answer came), addresses, error (None when up)
Outcome = tuple[bool, str | None, list[str], str | None]


class _NotingSocket(socket.socket):
    """A UDP socket that keeps the first few datagrams carrying ``query_id`` (bytes 0–1)."""

    query_id = b""

    def __init__(self, family: socket.AddressFamily) -> None:
        super().__init__(family, socket.SOCK_DGRAM)
        self.kept: list[bytes] = []

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        data, address = super().recvfrom(bufsize, flags)
        if data[:2] == self.query_id and len(self.kept) < _KEPT_DATAGRAMS:
            self.kept.append(data)
        return data, address


class _TimedOutWithUnreadableAnswerError(TimeoutError):
    """The deadline passed; meanwhile a datagram with our id came that could not be read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _ConnectedDo53(dns.nameserver.Do53Nameserver):
    """Do53 with a connected UDP socket, ending the lookup when its one try runs out.

    A timeout is raised as :class:`TimeoutError` (an ``OSError``): the resolver then drops the
    server at once instead of sleeping a back-off past the deadline before giving up.
    """

    def query(self, request: dns.message.QueryMessage, timeout: float, source: str | None,
              source_port: int, max_size: bool, one_rr_per_rrset: bool = False,
              ignore_trailing: bool = False) -> dns.message.Message:
        if max_size:
            try:
                return super().query(request, timeout, source, source_port, max_size,
                                     one_rr_per_rrset, ignore_trailing)
            except dns.exception.Timeout as exc:
                raise TimeoutError("deadline passed") from exc
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        with _NotingSocket(family) as sock:
            sock.query_id = request.id.to_bytes(2, "big")
            sock.setblocking(False)
            sock.connect((self.address, self.port))
            try:
                return dns.query.udp(request, self.address, timeout=timeout, port=self.port,
                                     raise_on_truncation=True, ignore_errors=True,
                                     ignore_unexpected=True, sock=sock)
            except dns.exception.Timeout as exc:
                reason = _unreadable_reason(sock.kept)
                if reason is not None:
                    raise _TimedOutWithUnreadableAnswerError(reason) from exc
                raise TimeoutError("deadline passed") from exc


def _unreadable_reason(datagrams: list[bytes]) -> str | None:
    """Why the first unreadable one of ``datagrams`` cannot be read, if one cannot."""
    for data in datagrams:
        try:
            dns.message.from_wire(data)
        except dns.message.Truncated:
            continue
        except Exception as exc:  # dnspython raises many kinds for a bad message
            return _one_line(exc)
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _query_name(name: str) -> dns.name.Name:
    """``school.example`` as an absolute name; raises :class:`InputError` for a name DNS cannot
    carry."""
    text = name.strip().rstrip(".")
    try:
        return dns.name.from_text(text or ".", origin=dns.name.root)
    except (dns.name.LabelTooLong, dns.name.EmptyLabel) as exc:
        raise InputError(f"{name!r}: DNS labels are 1 to 63 characters") from exc
    except dns.name.NameTooLong as exc:
        raise InputError(f"{name!r}: a DNS name is at most 255 octets") from exc
    except (dns.exception.DNSException, UnicodeError) as exc:
        raise InputError(f"{name!r} is not a valid DNS name") from exc


def _resolver(server: str, port: int, timeout_s: float) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [_ConnectedDo53(server, port)]
    resolver.timeout = timeout_s  # one try per transport; the lifetime bounds them together
    resolver.lifetime = timeout_s
    resolver.use_edns(0, 0, EDNS_PAYLOAD)
    return resolver


def _server_failure(exc: dns.resolver.NoNameservers, timeout_s: float
                    ) -> tuple[str | None, str]:
    """(rcode, error) from the resolver's note of why the server failed."""
    errors = exc.kwargs.get("errors") or []
    if not errors:
        return None, "no answer"
    problem = errors[-1][3]
    if isinstance(problem, str):  # an answer with an rcode other than NOERROR/NXDOMAIN
        return problem, problem
    if isinstance(problem, _TimedOutWithUnreadableAnswerError):
        return None, f"malformed answer: {problem.reason}"
    if isinstance(problem, OSError):
        return None, describe_error(problem, timeout_s)
    return None, f"malformed answer: {_one_line(problem)}"


def lookup(server: str, port: int, name: str, rtype: str, timeout_s: float) -> Outcome:
    """Ask ``server`` (an IP address) for the ``rtype`` records of ``name``.

    Raises:
        InputError: the name cannot be asked.
    """
    qname = _query_name(name)
    resolver = _resolver(server, port, timeout_s)
    try:
        answer = resolver.resolve(qname, rtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return False, "NXDOMAIN", [], "NXDOMAIN"
    except dns.resolver.YXDOMAIN:
        return False, "YXDOMAIN", [], "YXDOMAIN"
    except dns.resolver.NoNameservers as exc:
        rcode, error = _server_failure(exc, timeout_s)
        return False, rcode, [], error
    except dns.resolver.LifetimeTimeout:
        return False, None, [], describe_error(TimeoutError(), timeout_s)
    addresses = [rdata.to_text() for rdata in answer.rrset] if answer.rrset is not None else []
    if not addresses:
        return False, "NOERROR", [], f"no {rtype} record"
    return True, "NOERROR", addresses, None
