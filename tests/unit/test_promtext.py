"""The one Prometheus text writer (dlict.core.promtext): what it writes parses back, and it
refuses the family names `promtool check metrics` would reject for their type."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dlict.core.promtext import Family, Writer, labels


def test_written_text_parses_back_with_escaped_labels_and_help() -> None:
    out = Writer()
    out.family(Family("dlict_x_total", "Line one\\two\nthree.", "counter"),
               [(labels({"site": 'a"b\\c\nd'}), 3), (labels({"site": "e"}), None)])
    out.family(Family("dlict_empty", "Nothing to say."), [])
    out.family(Family("dlict_y", "Plain."), [("", 0.5)])
    [counter, gauge] = text_string_to_metric_families(out.text())
    assert (counter.type, counter.documentation) == ("counter", "Line one\\two\nthree.")
    assert [(s.name, s.labels, s.value) for s in counter.samples] == [
        ("dlict_x_total", {"site": 'a"b\\c\nd'}, 3.0)]
    assert (gauge.name, gauge.type, gauge.samples[0].value) == ("dlict_y", "gauge", 0.5)
    assert "dlict_empty" not in out.text()  # no HELP/TYPE for a family without samples


@pytest.mark.parametrize(("name", "kind"), [("dlict_blocks", "counter"),
                                            ("dlict_blocks_total", "gauge"),
                                            ("dlict_blocks", "histogram")])
def test_a_counter_and_only_a_counter_ends_in_total(name: str, kind: str) -> None:
    with pytest.raises(ValueError, match=name):
        Family(name, "help", kind)
