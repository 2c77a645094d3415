"""The enrolment token, read the same way by the office that makes it and the agent that uses it.

Text: ``dlict1.<token id>.<secret>.<sha256 hex of the office CA certificate's DER>``. The id
finds the token's record at the office, which keeps only the secret's SHA-256 (the secret is
256 random bits, so a plain hash cannot be reversed by guessing); the pin lets the agent trust
the office's CA on first contact without any other channel.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

from dlict.core.errors import InputError

PREFIX = "dlict1"
MAX_TOKEN_CHARS = 256
# The agent configuration's site and host names (dlict.agent.config.Name): no "/" or ":", so a
# certificate's "<site>/<host>" and "dlict:agent:<site>:<host>" read back unambiguously.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_TOKEN = re.compile(rf"{PREFIX}\.([0-9a-f]{{16}})\.([A-Za-z0-9_-]{{43}})\.([0-9a-f]{{64}})")


@dataclass(frozen=True, slots=True)
class EnrolmentToken:
    token_id: str
    secret: str = field(repr=False)
    ca_pin: str  # sha256 hex of the office CA certificate (DER)

    @property
    def text(self) -> str:
        return f"{PREFIX}.{self.token_id}.{self.secret}.{self.ca_pin}"

    @property
    def secret_digest(self) -> str:
        return secret_digest(self.secret)


def new_token(ca_pin: str) -> EnrolmentToken:
    """A fresh token for the CA whose certificate hashes to ``ca_pin``."""
    return EnrolmentToken(secrets.token_hex(8), secrets.token_urlsafe(32), ca_pin)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(text: str) -> EnrolmentToken:
    """The token in ``text`` (surrounding blanks ignored).

    Raises:
        InputError: not a dlict enrolment token; the line never repeats the text (a mistyped
            token is still mostly a secret).
    """
    candidate = text.strip() if len(text) <= MAX_TOKEN_CHARS else ""
    match = _TOKEN.fullmatch(candidate)
    if match is None:
        raise InputError("the enrolment token is malformed: expected "
                         f"{PREFIX}.<16 hex>.<43 characters>.<64 hex> as printed by "
                         "dlict ca issue-token")
    token_id, secret, pin = match.groups()
    return EnrolmentToken(token_id, secret, pin)


def check_name(value: str, what: str) -> str:
    """``value`` if it is a valid site or host name.

    Raises:
        InputError: one line naming ``what`` and the rule.
    """
    if not NAME.fullmatch(value):
        raise InputError(f"{what} {value[:80]!r} is not a valid name: letters, digits, '.', "
                         "'_' and '-', starting with a letter or digit, at most 63 characters")
    return value
