"""A small HTTP/1.1 client for the receiver sources, standard library only.

One :class:`~dlict.probes.tcp.Deadline` bounds a whole receiver read: every connect, TLS
handshake, read and write arms its socket timeout to what is left of it, so a receiver that
accepts and never answers, or answers one byte at a time, gives the thread back on time.
Connections are kept alive per host within a read (an HLS check asks the same CDN many
times), redirects are followed, and a 401 is answered once with Basic or Digest credentials
(RFC 7616: MD5, SHA-256, SHA-512-256; Tvheadend offers Digest with one of those).

Credentials never appear in a message or a ``repr``; URLs are shown without user info.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import secrets
import ssl
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urljoin, urlsplit

from dlict import __version__
from dlict.core.logging import redact, register_secret
from dlict.probes.tcp import (
    Deadline,
    DeadlineHTTPConnection,
    DeadlineSocket,
    DeadlineSSLSocket,
    describe_error,
    open_connection,
)

USER_AGENT = f"dlict/{__version__}"
MAX_BODY = 4 << 20
MAX_REDIRECTS = 5
_CHUNK = 64 << 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_Origin = tuple[str, str, int]


@dataclass(frozen=True)
class Credentials:
    """A user name and password for HTTP authentication; the password is never shown."""

    user: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        # masked in every log line and output, also as the Basic token a server may echo
        register_secret(self.password)
        register_secret(basic_token(self))


def basic_token(credentials: Credentials) -> str:
    """The base64 ``user:password`` of HTTP Basic authentication."""
    return base64.b64encode(f"{credentials.user}:{credentials.password}".encode()).decode()


def credentials_from_env(user_var: str, password_var: str) -> Credentials | None:
    """Credentials from two environment variables, ``None`` when the user one is unset."""
    user = os.environ.get(user_var, "")
    if not user:
        return None
    return Credentials(user, os.environ.get(password_var, ""))


class FetchError(Exception):
    """A request that failed: ``status`` is the HTTP status when the server answered at all."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(redact(message))  # the server's words (reason, bad line) may echo one
        self.status = status

    @property
    def answered(self) -> bool:
        return self.status is not None


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes


def display_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


class _Connection(DeadlineHTTPConnection):
    """A keep-alive connection whose socket (TLS or not) keeps to the current deadline."""

    def use_deadline(self, deadline: Deadline) -> None:
        self.deadline = deadline
        if isinstance(self.sock, DeadlineSocket):
            self.sock.deadline = deadline

    def connect(self) -> None:
        self.sock = self.secure(open_connection(self.host, self.port, self.deadline))


@dataclass
class Challenge:
    """One ``WWW-Authenticate`` challenge; a Digest one counts the requests that used it."""

    scheme: str  # lower case: "basic" or "digest"
    params: dict[str, str]
    used: int = 0  # Digest nonce count


_DIGESTS = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
_DIGEST_PREFERENCE = ("SHA-512-256", "SHA-256", "MD5")
_HTTP_WORD = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"  # RFC 9110 token
_AUTH_ITEM = re.compile(
    rf'\s*,?\s*({_HTTP_WORD})(?:\s*=\s*("(?:[^"\\]|\\.)*"|{_HTTP_WORD}=*))?')


def _available(algorithm: str) -> bool:
    name = _DIGESTS.get(algorithm.upper())
    if name is None:
        return False
    try:
        hashlib.new(name)
    except ValueError:
        return False
    return True


def parse_challenges(values: list[str]) -> list[Challenge]:
    """Every challenge in some ``WWW-Authenticate`` header values (one or several a value)."""
    challenges: list[Challenge] = []
    for value in values:
        for match in _AUTH_ITEM.finditer(value):
            name, raw = match.group(1), match.group(2)
            if raw is None:
                challenges.append(Challenge(name.lower(), {}))
            elif challenges:
                if raw.startswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                challenges[-1].params[name.lower()] = raw
    return challenges


def pick_challenge(challenges: list[Challenge]) -> Challenge | None:
    """The strongest challenge dlict can answer: Digest by algorithm preference, then Basic."""
    digests = [c for c in challenges if c.scheme == "digest" and "nonce" in c.params
               and _available(c.params.get("algorithm", "MD5"))
               and (not c.params.get("qop")
                    or "auth" in [q.strip() for q in c.params["qop"].split(",")])]
    for algorithm in _DIGEST_PREFERENCE:
        for challenge in digests:
            if challenge.params.get("algorithm", "MD5").upper() == algorithm:
                return challenge
    return next((c for c in challenges if c.scheme == "basic"), None)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def authorization(challenge: Challenge, credentials: Credentials, method: str,
                  target: str) -> str:
    """The ``Authorization`` header value answering ``challenge`` for one request."""
    if challenge.scheme == "basic":
        return "Basic " + basic_token(credentials)
    params = challenge.params
    name = _DIGESTS[params.get("algorithm", "MD5").upper()]

    def digest(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    realm, nonce = params.get("realm", ""), params["nonce"]
    ha1 = digest(f"{credentials.user}:{realm}:{credentials.password}")
    ha2 = digest(f"{method}:{target}")
    fields = [f"username={_quoted(credentials.user)}", f"realm={_quoted(realm)}",
              f"nonce={_quoted(nonce)}", f"uri={_quoted(target)}"]
    if params.get("qop"):
        challenge.used += 1
        count = f"{challenge.used:08x}"
        cnonce = secrets.token_hex(8)
        response = digest(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")
        fields += [f"response={_quoted(response)}", "qop=auth", f"nc={count}",
                   f"cnonce={_quoted(cnonce)}"]
    else:
        fields.append(f"response={_quoted(digest(f'{ha1}:{nonce}:{ha2}'))}")
    if "algorithm" in params:
        fields.append(f"algorithm={params['algorithm']}")
    if "opaque" in params:
        fields.append(f"opaque={_quoted(params['opaque'])}")
    return "Digest " + ", ".join(fields)


class HttpClient:
    """GET and HEAD within one deadline; use as a context manager so connections close.

    Arguments:
        deadline: when the whole read must be done; a single request may be given a nearer one.
        credentials: answered to a 401 challenge (Digest preferred over Basic), else none.
        max_body: the most bytes of one answer that are read; more is an error.
    """

    def __init__(self, deadline: Deadline, credentials: Credentials | None = None,
                 max_body: int = MAX_BODY) -> None:
        self.deadline = deadline
        self.credentials = credentials
        self.max_body = max_body
        self._connections: dict[_Origin, _Connection] = {}
        self._challenges: dict[_Origin, Challenge] = {}
        self._tls: ssl.SSLContext | None = None

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def get(self, url: str, deadline: Deadline | None = None) -> Response:
        """GET ``url``, following redirects.

        Raises:
            FetchError: one line; ``status`` set when the server answered 4xx/5xx.
        """
        return self._fetch("GET", url, deadline or self.deadline)

    def head(self, url: str, deadline: Deadline | None = None) -> Response:
        """HEAD ``url``, following redirects.

        Raises:
            FetchError: one line; ``status`` set when the server answered 4xx/5xx.
        """
        return self._fetch("HEAD", url, deadline or self.deadline)

    def _fetch(self, method: str, url: str, deadline: Deadline) -> Response:
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._exchange(method, url, deadline)
            location = response.headers.get("Location")
            if response.status in _REDIRECTS and location:
                url = urljoin(response.url, location.strip())
                method = "GET" if response.status == 303 and method != "HEAD" else method
                continue
            if response.status >= 400:
                raise FetchError(f"HTTP {response.status} {response.reason}".strip(),
                                 response.status)
            return response
        raise FetchError(f"more than {MAX_REDIRECTS} redirects", response.status)

    def _exchange(self, method: str, url: str, deadline: Deadline) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{display_url(url)}: not an http:// or https:// URL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"{display_url(url)}: bad port") from None
        origin = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        challenge = self._challenges.get(origin)
        response = self._send(origin, method, target, url, deadline, challenge)
        if response.status == 401 and self.credentials is not None:
            fresh = pick_challenge(parse_challenges(response.headers.get_all(
                "WWW-Authenticate") or []))
            if fresh is not None:
                self._challenges[origin] = fresh
                response = self._send(origin, method, target, url, deadline, fresh)
        return response

    def _send(self, origin: _Origin, method: str, target: str, url: str, deadline: Deadline,
              challenge: Challenge | None) -> Response:
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        if challenge is not None and self.credentials is not None:
            headers["Authorization"] = authorization(challenge, self.credentials, method,
                                                     target)
        for attempt in range(2):
            connection = self._connection(origin, deadline)
            reused = connection.sock is not None
            try:
                connection.request(method, target, headers=headers)
                answer = connection.getresponse()
                body = self._body(answer)
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as exc:
                self._drop(origin)
                if reused and attempt == 0:
                    continue  # the server closed an idle keep-alive connection; try afresh
                raise FetchError(describe_error(exc, deadline.timeout_s)) from exc
            except UnicodeError as exc:
                self._drop(origin)
                raise FetchError("credentials must be ASCII for this server") from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop(origin)
                raise FetchError(describe_error(exc, deadline.timeout_s)) from exc
            return Response(url, answer.status, answer.reason, answer.headers, body)
        raise AssertionError("unreachable")  # pragma: no cover

    def _body(self, answer: http.client.HTTPResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while chunk := answer.read(_CHUNK):
            size += len(chunk)
            if size > self.max_body:
                raise http.client.HTTPException(f"answer longer than {self.max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _connection(self, origin: _Origin, deadline: Deadline) -> _Connection:
        connection = self._connections.get(origin)
        if connection is None:
            scheme, host, port = origin
            context = self._tls_context() if scheme == "https" else None
            connection = _Connection(host, port, deadline, context)
            self._connections[origin] = connection
        connection.use_deadline(deadline)
        return connection

    def _drop(self, origin: _Origin) -> None:
        connection = self._connections.pop(origin, None)
        if connection is not None:
            connection.close()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
            self._tls.sslsocket_class = DeadlineSSLSocket
        return self._tls
