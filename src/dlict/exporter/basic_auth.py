"""HTTP basic auth against bcrypt hashes, at a cost an attacker cannot turn into a weapon.

bcrypt is slow on purpose, which makes it a lever: every wrong password would cost the
exporter a bcrypt, and an unknown user answered at once tells an attacker which names exist.
So every check that reaches bcrypt costs one bcrypt, known user or not (an unknown user is
checked against a dummy hash of the same cost); the outcome is remembered under a keyed hash
of user and password (HMAC-SHA256 with a key made at start and never stored), so Prometheus'
scrape every 15 s and an attacker repeating a guess are both answered from memory; and the
bcrypt work that guesses can cause is bounded by budgets of CPU seconds: one for each client
address, so one guessing client does not lock a scraper at another address out, and one for
all together. When guesses from many addresses have spent that shared one, an address that
has never sent a wrong password and has no check running may still draw on a small reserve
of its own kind: a scraper that starts (or whose cache was lost in a restart) while others
guess is checked, not told to wait. The ceiling on CPU is the two shared budgets together.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum

from dlict.core.extras import require_extra

BCRYPT_MAX_PASSWORD = 72  # bcrypt refuses longer passwords (and never reads past 72 bytes)
VERIFIED_CACHE = 256
REFUSED_CACHE = 4096
# bcrypt seconds one client address may cause at once, and on average (a quarter of a core)
CLIENT_BURST_S, CLIENT_RATE = 2.0, 0.25
# and all clients together (half a core), however many guesses arrive
TOTAL_BURST_S, TOTAL_RATE = 4.0, 0.5
# then, kept for addresses that never sent a wrong password (a tenth of a core more at most)
RESERVE_BURST_S, RESERVE_RATE = 2.0, 0.1
CLIENTS_TRACKED = 1024
CONCURRENT_BCRYPT = 2


class Verdict(Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    THROTTLED = "throttled"  # not checked: the bcrypt budget is spent for now


def bcrypt_cost(hashed: bytes) -> int:
    """The cost factor of a ``$2b$12$...`` hash (12)."""
    return int(hashed.split(b"$")[2])


class _Outcomes:
    """A bounded least-recently-used map of credential keys to what checking them gave."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[bytes, bool] = OrderedDict()

    def get(self, key: bytes) -> bool | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: bytes, allowed: bool) -> None:
        self.items[key] = allowed
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


class _Budget:
    """A token bucket of bcrypt seconds, refilled at ``rate`` seconds per second. A check
    takes what a bcrypt is expected to cost before it starts, so that many at once cannot
    overdraw the bucket, and the difference once it is known."""

    def __init__(self, burst_s: float, rate: float, clock: Callable[[], float]) -> None:
        self.burst_s = burst_s
        self.rate = rate
        self.clock = clock
        self.tokens = burst_s
        self.updated = clock()

    def has_time(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst_s, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return self.tokens > 0

    def spend(self, seconds: float) -> None:
        self.tokens -= seconds


class _Client:
    """What is known of one client address: its budget, whether it ever sent a wrong password
    and how many of its checks are running."""

    def __init__(self, budget: _Budget) -> None:
        self.budget = budget
        self.refused = False
        self.checking = 0

    def may_use_reserve(self) -> bool:
        return not self.refused and not self.checking


class BasicAuth:
    """The users of a web configuration file and their bcrypt hashes."""

    def __init__(self, users: dict[str, bytes], clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.users = dict(users)
        require_extra("monitor", "bcrypt")  # only needed with basic auth
        import bcrypt

        cost = max(bcrypt_cost(h) for h in self.users.values())
        # unknown users are checked against this, so they cost what the dearest known one does
        started = time.perf_counter()
        self._dummy = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost))
        self._expected_s = time.perf_counter() - started  # what one check costs, measured
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._verified = _Outcomes(VERIFIED_CACHE)
        self._refused = _Outcomes(REFUSED_CACHE)
        self._clock = clock
        self._total = _Budget(TOTAL_BURST_S, TOTAL_RATE, clock)
        self._reserve = _Budget(RESERVE_BURST_S, RESERVE_RATE, clock)
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._running = threading.BoundedSemaphore(CONCURRENT_BCRYPT)

    def check(self, header: str | None, client: str) -> Verdict:
        """What an ``Authorization`` header sent from address ``client`` is worth."""
        credentials = _decode(header)
        if credentials is None:
            return Verdict.DENIED
        user, password = credentials
        key = self._keyed(user, password)
        with self._lock:
            known = self._verified.get(key)
            if known is None:
                known = self._refused.get(key)
        if known is not None:
            return Verdict.ALLOWED if known else Verdict.DENIED
        seen = self._client(client)
        budgets, budgets_taken = self._take_budgets(seen)
        if not budgets:
            return Verdict.THROTTLED
        try:
            allowed, spent = self._bcrypt(user, password)
        finally:
            with self._lock:
                seen.checking -= 1
        with self._lock:
            for budget in budgets:
                budget.spend(spent - budgets_taken)
            seen.refused = seen.refused or not allowed
            self._expected_s = spent
            (self._verified if allowed else self._refused).put(key, allowed)
        return Verdict.ALLOWED if allowed else Verdict.DENIED

    def _client(self, address: str) -> _Client:
        """The record of one address; the least recently seen are forgotten past a bound."""
        with self._lock:
            seen = self._clients.get(address)
            if seen is None:
                seen = self._clients[address] = _Client(_Budget(CLIENT_BURST_S, CLIENT_RATE,
                                                                self._clock))
                while len(self._clients) > CLIENTS_TRACKED:
                    self._clients.popitem(last=False)
            self._clients.move_to_end(address)
            return seen

    def _take_budgets(self, seen: _Client) -> tuple[tuple[_Budget, ...], float]:
        """The client's budget and a shared one (the total, else the reserve if the client may
        use it), each charged what a bcrypt is expected to cost, and that charge; none, if the
        client's or every shared budget it may use has no time left."""
        with self._lock:
            if not seen.budget.has_time():
                return (), 0.0
            if self._total.has_time():
                shared = self._total
            elif seen.may_use_reserve() and self._reserve.has_time():
                shared = self._reserve
            else:
                return (), 0.0
            budgets = (seen.budget, shared)
            for taken in budgets:
                taken.spend(self._expected_s)
            seen.checking += 1
            return budgets, self._expected_s

    def _keyed(self, user: bytes, password: bytes) -> bytes:
        message = len(user).to_bytes(4, "big") + user + password
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _bcrypt(self, user: bytes, password: bytes) -> tuple[bool, float]:
        """Whether the password is the user's, and the seconds that took."""
        import bcrypt

        stored = self.users.get(user.decode())
        with self._running:
            started = time.perf_counter()
            matches = bcrypt.checkpw(password, stored if stored is not None else self._dummy)
            spent = time.perf_counter() - started
        return matches and stored is not None, spent


def _decode(header: str | None) -> tuple[bytes, bytes] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True)
        decoded.decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(b":")
    if not colon or len(password) > BCRYPT_MAX_PASSWORD:
        return None
    return user, password
