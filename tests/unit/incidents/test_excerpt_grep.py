"""--grep of ``dlict incident logs``: the patterns an admin types for traffic data are taken;
the shapes that backtrack without bound are refused before a line is read."""

from __future__ import annotations

import pytest

from dlict.core.errors import InputError
from dlict.incidents.excerpt import compile_grep

TAKEN = [r"sshd\[\d+\]", r"SRC=10\.44\.\d+\.\d+", r"(Accepted|Failed) password",
         r"(\d{1,3}\.){3}\d{1,3}", r"DPT=(22|23|3389)\b", r"teacher\d+ from", r"GET /\S+",
         r"(?i)dhcpack on 10\.44\.", r"(ab){2,5}c"]
REFUSED = [(r"(a+)+$", "a repeat inside a repeat"), (r"(a*)*b", "a repeat inside a repeat"),
           (r"(\w+\s?)*$", "a repeat inside a repeat"),
           (r"(a|aa)+b", "an alternation under a repeat"),
           (r"(?:xy|x)*z", "an alternation under a repeat"),
           (r"(\d)\1", "a back-reference"), (r"(?P<a>x)(?P=a)", "a back-reference"),
           (r"((a{1,3}){2,})", "a repeat inside a repeat")]


@pytest.mark.parametrize("pattern", TAKEN)
def test_the_patterns_admins_type_are_taken(pattern: str) -> None:
    assert compile_grep(pattern).pattern == pattern


@pytest.mark.parametrize(("pattern", "why"), REFUSED)
def test_patterns_that_can_backtrack_without_bound_are_refused(pattern: str, why: str) -> None:
    with pytest.raises(InputError) as refused:
        compile_grep(pattern)
    assert str(refused.value) == (f"--grep {pattern!r}: {why}; refused (its matching time "
                                  f"can grow without bound)")
