"""HTTP(S) probe: one GET, no redirects followed, within one overall deadline.

Time to first byte runs from the start of the TCP connect (after the name lookup, which the DNS
probe measures) to the first byte of the response, so the TLS handshake is inside it. At most
1 MiB of the body is read and thrown away. For HTTPS the certificate's days to expiry are read
from the peer certificate whether or not it verified; when verification fails the handshake is
done once more without verifying, time permitting, only to read those days.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ssl
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from cryptography import x509

from dlict.core.errors import InputError
from dlict.core.logging import redact
from dlict.probes.tcp import (
    Deadline,
    DeadlineHTTPConnection,
    DeadlineSocket,
    connect_any,
    describe_error,
    open_connection,
    resolve,
    wrap_tls,
)

USER_AGENT = "dlict-monitor"
BODY_LIMIT = 1 << 20
_CHUNK = 64 << 10
_PATH_SAFE = "/%:@!$&'()*+,;=?~"  # RFC 3986 reserved characters and escapes are left alone


@dataclass
class HttpResult:
    target: str
    up: bool
    status: int = 0
    ttfb_seconds: float | None = None
    total_seconds: float = 0.0
    cert_expiry_days: float | None = None
    cert_not_after: float | None = None  # the certificate's notAfter, Unix time
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "up": self.up, "status": self.status,
                "ttfb_seconds": self.ttfb_seconds, "total_seconds": self.total_seconds,
                "cert_expiry_days": self.cert_expiry_days,
                "cert_not_after": self.cert_not_after, "error": self.error}

    def note_certificate(self, der: bytes | None) -> None:
        self.cert_expiry_days = days_until_expiry(der)
        self.cert_not_after = not_after_timestamp(der)


class _Connection(DeadlineHTTPConnection):
    """An HTTPConnection whose socket (TLS or not) keeps to the probe's deadline."""

    def __init__(self, host: str, port: int, deadline: Deadline,
                 context: ssl.SSLContext | None) -> None:
        super().__init__(host, port, deadline, context)
        self.connect_started: float | None = None
        self.peer_certificate: bytes | None = None

    def connect(self) -> None:
        addresses = resolve(self.host, self.port, self.deadline)
        self.connect_started = time.monotonic()
        self.sock = self.secure(connect_any(addresses, self.deadline))
        if isinstance(self.sock, ssl.SSLSocket):
            self.peer_certificate = self.sock.getpeercert(binary_form=True)

    def first_byte_at(self) -> float | None:
        return self.sock.first_byte_at if isinstance(self.sock, DeadlineSocket) else None


def tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """A client context: system CAs (or only ``ca_file``) when verifying, none otherwise.

    Raises:
        InputError: ``ca_file`` cannot be read as PEM certificates.
    """
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"{ca_file}: cannot read CA certificates ({exc})") from exc


def not_after_timestamp(der: bytes | None) -> float | None:
    """The certificate's notAfter, Unix time."""
    if not der:
        return None
    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()
    except ValueError:
        return None


def days_until_expiry(der: bytes | None, now: dt.datetime | None = None) -> float | None:
    """Days from ``now`` to the certificate's notAfter, negative once expired."""
    if not der:
        return None
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    moment = now or dt.datetime.now(dt.UTC)
    return (certificate.not_valid_after_utc - moment).total_seconds() / 86400


def _unverified_certificate(host: str, port: int, deadline: Deadline) -> bytes | None:
    try:
        sock = open_connection(host, port, deadline)
        with wrap_tls(sock, tls_context(False, None), host, deadline) as tls:
            return tls.getpeercert(binary_form=True)
    except OSError:
        return None


def http_get(url: str, timeout_s: float, verify: bool = True,
             ca_file: str | None = None) -> HttpResult:
    """GET ``url`` once and measure it.

    Arguments:
        url: ``http://`` or ``https://`` URL; an IPv6 host in brackets.
        timeout_s: the most the whole probe may take: lookup, connect, TLS, headers and body.
        verify: check the server's certificate chain and host name (HTTPS).
        ca_file: PEM file of the only CAs to trust instead of the system's (when verifying).

    Returns:
        ``up`` when a status below 400 came (a redirect counts, it is not followed) and the
        body was read in time; ``status`` 0 when none came; ``cert_expiry_days`` for HTTPS
        when the certificate could be read, also when it did not verify.

    Raises:
        InputError: the URL is not an absolute http(s) URL, or ``ca_file`` is unusable.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r}: expected an http:// or https:// URL with a host")
    hostname = parts.hostname
    try:
        port = parts.port if parts.port is not None else 443 if parts.scheme == "https" else 80
        host = hostname if hostname.isascii() else hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise InputError(f"{url!r}: bad port or host name") from exc
    if not 1 <= port <= 65535:
        raise InputError(f"{url!r}: port must be from 1 to 65535")
    path = quote(parts.path or "/", safe=_PATH_SAFE) \
        + (f"?{quote(parts.query, safe=_PATH_SAFE)}" if parts.query else "")
    context = tls_context(verify, ca_file) if parts.scheme == "https" else None
    deadline = Deadline(timeout_s)
    result = HttpResult(url, False)
    connection = _Connection(host, port, deadline, context)
    try:
        connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "*/*",
                                                 "Connection": "close"})
        response = connection.getresponse()
        result.status = response.status
        first_byte = connection.first_byte_at()
        if first_byte is not None and connection.connect_started is not None:
            result.ttfb_seconds = first_byte - connection.connect_started
        result.note_certificate(connection.peer_certificate)
        read = 0
        while read < BODY_LIMIT and (chunk := response.read(min(_CHUNK, BODY_LIMIT - read))):
            read += len(chunk)
    except (OSError, http.client.HTTPException) as exc:
        result.error = redact(describe_error(exc, timeout_s))  # may quote what the server sent
        if isinstance(exc, ssl.SSLCertVerificationError):
            result.note_certificate(_unverified_certificate(host, port, deadline))
        else:
            result.note_certificate(connection.peer_certificate)
    else:
        result.up = result.status < 400
        if not result.up:
            result.error = redact(f"HTTP {result.status} {response.reason}".strip())
    finally:
        connection.close()
        result.total_seconds = deadline.elapsed()
    return result
