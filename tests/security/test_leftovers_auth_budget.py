"""The exporter's bcrypt budget is per client address with a ceiling for all together: guessing
from other loopback addresses never makes a scraper at its own address wait (429) for its
first, not yet cached, check, and the CPU spent stays bounded. Real HTTP requests to a real
``dlict monitor``, from source addresses bound on the loopback (guessers 127.0.0.2, .4, .5
and .6; the scraper 127.0.0.3)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bcrypt

from dlict.exporter.basic_auth import (
    CLIENT_BURST_S,
    CLIENT_RATE,
    RESERVE_BURST_S,
    RESERVE_RATE,
    TOTAL_BURST_S,
    TOTAL_RATE,
)
from lab.monitoring import Monitor, running_monitor
from tests.security.exporter_support import (
    bcrypt_seconds,
    cpu_seconds,
    small_district,
    status_from,
)

USER, PASSWORD = "prometheus", "s3cret-scrape-7f2a"
SCRAPER, SCRAPER_PASSWORD = "prometheus-b", "other-scraper-9c1e"
SCRAPER_ADDRESS = "127.0.0.3"
GUESSERS = ["127.0.0.2", "127.0.0.4", "127.0.0.5", "127.0.0.6"]
THREADS_EACH = 3


@contextmanager
def guarded_monitor(tmp: Path) -> Iterator[tuple[Monitor, int, bytes]]:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=12))
    other = bcrypt.hashpw(SCRAPER_PASSWORD.encode(), bcrypt.gensalt(rounds=12))
    web = tmp / "web.yml"
    web.write_text(f"basic_auth_users:\n  {USER}: '{hashed.decode()}'\n"
                   f"  {SCRAPER}: '{other.decode()}'\n")
    with running_monitor(small_district(tmp / "inv"), tmp, "--web-config", str(web),
                         auth=(USER, PASSWORD)) as monitor:
        yield monitor, int(monitor.url.rsplit(":", 1)[1]), hashed


class Guessing:
    """Threads sending ever new wrong passwords from each guessing address until stopped."""

    def __init__(self, port: int, addresses: list[str]) -> None:
        self.port = port
        self.stop = threading.Event()
        self.answers: dict[str, list[int]] = {address: [] for address in addresses}
        self.threads = [threading.Thread(target=self._guess, args=(address, n), daemon=True)
                        for address in addresses for n in range(THREADS_EACH)]

    def _guess(self, address: str, n: int) -> None:
        count = 0
        while not self.stop.is_set():
            count += 1
            status = status_from(address, self.port, SCRAPER, f"guess-{address}-{n}-{count}")
            self.answers[address].append(status)

    def __enter__(self) -> Guessing:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def all_throttled(self) -> bool:
        return all(429 in answers for answers in self.answers.values())


def test_guessing_from_other_addresses_does_not_lock_out_a_new_scraper(tmp_path: Path) -> None:
    with guarded_monitor(tmp_path) as (monitor, port, hashed):
        one = bcrypt_seconds(hashed)
        before, started = cpu_seconds(monitor.process.pid), time.monotonic()
        with Guessing(port, GUESSERS) as guessing:
            deadline = time.monotonic() + 60
            while not guessing.all_throttled():  # every guesser is being held back now
                assert time.monotonic() < deadline, "the guessers were never throttled"
                time.sleep(0.1)
            time.sleep(1.0)
            scraper = status_from(SCRAPER_ADDRESS, port, SCRAPER, SCRAPER_PASSWORD)
            guessed_during = sum(len(a) for a in guessing.answers.values())
        spent = cpu_seconds(monitor.process.pid) - before
        elapsed = time.monotonic() - started
    answers = {status for answers in guessing.answers.values() for status in answers}
    assert answers <= {401, 429}, answers
    assert scraper == 200, f"the scraper at {SCRAPER_ADDRESS} got {scraper}"
    # The ceiling for all together still holds: the shared budgets' burst and rate (checks
    # already running when one runs dry, and the rest of the server, as slack).
    shared = TOTAL_BURST_S + RESERVE_BURST_S + (TOTAL_RATE + RESERVE_RATE) * elapsed
    ceiling = min(len(GUESSERS) * (CLIENT_BURST_S + CLIENT_RATE * elapsed), shared) \
        + 4 * one + 1.0
    assert spent < ceiling, (f"{spent:.1f} s of CPU in {elapsed:.1f} s for {guessed_during} "
                             f"guesses; one bcrypt {one:.3f} s")
