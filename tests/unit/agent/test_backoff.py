"""Back-off between failed pushes: exponential ceiling, full jitter under it, capped, reset by
a success; and how an HTTP answer is classed."""

from __future__ import annotations

import random

import pytest

from dlict.agent.forward import Backoff
from dlict.agent.transport import Office, Outcome, outcome_of
from dlict.core.errors import InputError


def test_waits_grow_exponentially_with_full_jitter_up_to_the_cap() -> None:
    backoff = Backoff(max_s=60, base_s=2, rng=random.Random(7))
    ceilings, waits = [], []
    for _ in range(10):
        waits.append(backoff.failed())
        ceilings.append(backoff.ceiling())
    assert ceilings == [4, 8, 16, 32, 60, 60, 60, 60, 60, 60]
    assert all(0 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert len({round(w, 6) for w in waits}) == len(waits)  # jittered, not a fixed ladder


def test_jitter_spreads_over_the_whole_interval() -> None:
    waits = []
    for seed in range(400):
        backoff = Backoff(max_s=600, base_s=2, rng=random.Random(seed))
        for _ in range(5):
            wait = backoff.failed()
        waits.append(wait)
    assert min(waits) < 64 * 0.1 and max(waits) > 64 * 0.9


def test_success_resets_and_refusal_waits_the_longest() -> None:
    backoff = Backoff(max_s=600, base_s=2, rng=random.Random(1))
    for _ in range(6):
        backoff.failed()
    backoff.succeeded()
    assert backoff.ceiling() == 2
    assert backoff.refused() == 600


@pytest.mark.parametrize(("status", "outcome"), [
    (200, Outcome.DELIVERED), (204, Outcome.DELIVERED), (400, Outcome.REFUSED),
    (403, Outcome.REFUSED), (413, Outcome.REFUSED), (408, Outcome.RETRY),
    (429, Outcome.RETRY), (500, Outcome.RETRY), (503, Outcome.RETRY)])
def test_http_status_classes(status: int, outcome: Outcome) -> None:
    assert outcome_of(status) is outcome


@pytest.mark.parametrize("url", ["http://127.0.0.1:8443", "ftp://office", "https:///x"])
def test_the_office_is_reached_over_https_only(url: str) -> None:
    with pytest.raises(InputError, match="https"):
        Office.from_url(url)
