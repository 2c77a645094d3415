"""Observables in one spelling each, so that a case holds each only once.

Domains, hashes and MACs lower-case (a MAC as ``aa:bb:cc:dd:ee:ff``), IP addresses compressed
(``2001:db8::1``), a URL's scheme and host lower-case. A value that is not what its kind says
is refused with a ``ValueError`` whose text says why.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from dlict.incidents.model import ObservableKind

MAX_VALUE = 2048
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_HASH_LENGTHS = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
_HEX = re.compile(r"^[0-9a-f]+$")
_MAC_DIGITS = re.compile(r"^[0-9a-f]{12}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalise(kind: ObservableKind, value: str) -> str:
    """The one spelling of ``value`` as an observable of ``kind``.

    Raises:
        ValueError: the value is empty, too long, has control characters or is not a ``kind``.
    """
    text = value.strip()
    if not text:
        raise ValueError("empty value")
    if len(text) > MAX_VALUE:
        raise ValueError(f"longer than {MAX_VALUE} characters")
    if _CONTROL.search(text):
        raise ValueError("contains control characters")
    return _NORMALISERS[kind](text)


def _ip(text: str) -> str:
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        raise ValueError(f"not an IP address: {text!r}") from None


def _domain(text: str) -> str:
    name = text.lower().rstrip(".")
    try:
        name = name.encode("idna").decode("ascii")  # Thai names (.ไทย) as the DNS spells them
    except UnicodeError:
        raise ValueError(f"not a domain name: {text!r}") from None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"not a domain name: {text!r}")
    return name


def _url(text: str) -> str:
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise ValueError(f"not a URL: {text!r}") from None
    if not parts.scheme or not host or " " in text:
        raise ValueError(f"not a URL (scheme://host/...): {text!r}")
    netloc = parts.netloc.rsplit("@", 1)
    netloc[-1] = netloc[-1].lower()
    return urlunsplit((parts.scheme.lower(), "@".join(netloc), parts.path, parts.query,
                       parts.fragment))


def _hash(text: str) -> str:
    digest = text.lower()
    if not _HEX.match(digest) or len(digest) not in _HASH_LENGTHS:
        raise ValueError(f"not an MD5/SHA-1/SHA-256/SHA-512 hex digest: {text!r}")
    return digest


def _account(text: str) -> str:
    return text


def _mac(text: str) -> str:
    digits = re.sub(r"[:.\-]", "", text.lower())
    if not _MAC_DIGITS.match(digits):
        raise ValueError(f"not a MAC address: {text!r}")
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


_NORMALISERS: dict[ObservableKind, Callable[[str], str]] = {
    ObservableKind.IP: _ip,
    ObservableKind.DOMAIN: _domain,
    ObservableKind.URL: _url,
    ObservableKind.HASH: _hash,
    ObservableKind.ACCOUNT: _account,
    ObservableKind.MAC: _mac,
}
