"""Basic auth of `dlict monitor` against guessing: repeated and new wrong passwords, unknown
user names, timed against a real monitor process on 127.0.0.1 and against what one bcrypt
costs on this machine, measured in the test (relative bounds, never absolute times)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import bcrypt

from dlict.exporter.basic_auth import CLIENT_BURST_S, CLIENT_RATE
from lab.monitoring import Monitor, fetch, running_monitor
from tests.security.exporter_support import (
    bcrypt_seconds,
    cpu_seconds,
    small_district,
    status_from,
)

USER, PASSWORD = "prometheus", "s3cret-scrape-7f2a"
OTHER_USER, OTHER_PASSWORD = "prometheus-b", "other-scraper-9c1e"


@contextmanager
def monitor_with_basic_auth(tmp: Path, rounds: int) -> Iterator[tuple[Monitor, bytes]]:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=rounds))
    other = bcrypt.hashpw(OTHER_PASSWORD.encode(), bcrypt.gensalt(rounds=rounds))
    web = tmp / "web.yml"
    web.write_text(f"basic_auth_users:\n  {USER}: '{hashed.decode()}'\n"
                   f"  {OTHER_USER}: '{other.decode()}'\n")
    with running_monitor(small_district(tmp / "inv"), tmp, "--web-config", str(web),
                         auth=(USER, PASSWORD)) as monitor:
        yield monitor, hashed


def _timed(url: str, user: str, password: str) -> tuple[int, float]:
    started = time.perf_counter()
    status, _h, _b = fetch(url, user, password, timeout=60)
    return status, time.perf_counter() - started


def test_the_same_wrong_password_50_times_costs_far_less_than_50_bcrypts(
        tmp_path: Path) -> None:
    with monitor_with_basic_auth(tmp_path, rounds=11) as (monitor, hashed):
        one = bcrypt_seconds(hashed)
        url = f"{monitor.url}/metrics"
        wrong = [_timed(url, USER, "guess-1") for _ in range(50)]
        right = [_timed(url, USER, PASSWORD) for _ in range(20)]
        log = monitor.output()
    assert {status for status, _t in wrong} == {401}
    assert {status for status, _t in right} == {200}
    spent = sum(t for _s, t in wrong)
    assert spent < 10 * one, f"50 wrong answers took {spent:.2f} s; one bcrypt {one:.3f} s"
    assert sum(t for _s, t in right) < 5 * one  # the scraper's own credentials: from memory
    assert PASSWORD not in log and "guess-1" not in log


def test_a_flood_of_new_wrong_passwords_is_held_to_the_bcrypt_budget(tmp_path: Path) -> None:
    """60 different wrong passwords from 6 clients at once: the server spends on bcrypt no more
    than one address's budget (a burst, then a quarter of a core), far from 60 bcrypts,
    answering 429 beyond it; the scraper whose credentials were verified before is still let
    in, and so is one never seen before that connects from another address."""
    with monitor_with_basic_auth(tmp_path, rounds=12) as (monitor, hashed):
        one = bcrypt_seconds(hashed)
        url = f"{monitor.url}/metrics"
        pid = monitor.process.pid
        before, started = cpu_seconds(pid), time.monotonic()
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(lambda n: _timed(url, USER, f"guess-{n}"), range(60)))
            during = fetch(url, USER, PASSWORD, timeout=10)[0]
            port = int(monitor.url.rsplit(":", 1)[1])
            elsewhere = status_from("127.0.0.2", port, OTHER_USER, OTHER_PASSWORD)
        spent, elapsed = cpu_seconds(pid) - before, time.monotonic() - started
    assert {status for status, _t in answers} <= {401, 429}
    assert 429 in {status for status, _t in answers}
    assert during == 200 and elsewhere == 200
    allowed = CLIENT_BURST_S + CLIENT_RATE * elapsed + 4 * one + 0.5
    assert spent < allowed < 60 * one / 2, (
        f"{spent:.2f} s of CPU for 60 wrong passwords in {elapsed:.1f} s; one bcrypt {one:.3f} s")


def test_unknown_and_known_users_fail_in_the_same_time(tmp_path: Path) -> None:
    """A wrong password costs the same whether the user exists or not, so timing does not tell
    which user names are real (medians of 9 interleaved tries, a generous factor of 2)."""
    with monitor_with_basic_auth(tmp_path, rounds=9) as (monitor, hashed):
        one = bcrypt_seconds(hashed)
        url = f"{monitor.url}/metrics"
        known, unknown = [], []
        for n in range(9):
            known.append(_timed(url, USER, f"known-{n}"))
            unknown.append(_timed(url, f"nobody{n}", f"unknown-{n}"))
    assert {status for status, _t in known + unknown} == {401}
    known_s = statistics.median(t for _s, t in known)
    unknown_s = statistics.median(t for _s, t in unknown)
    assert known_s > one / 2, f"a known user's failure took {known_s:.3f} s, bcrypt {one:.3f} s"
    assert known_s / 2 < unknown_s < known_s * 2, (
        f"median failure: known user {known_s:.3f} s, unknown user {unknown_s:.3f} s")
