"""The Prometheus text format (version 0.0.4), standard library only.

The one writer of dlict's own samples: the exporter's per-site families and the
``logs check --metrics`` textfile both go through it, and the log server's zipapp carries it.
A family is written only when it has a sample, with its HELP and TYPE lines; a counter's name
ends in ``_total`` (``promtool check metrics`` holds both writers to the same rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TYPES = ("gauge", "counter")


def escape(value: str) -> str:
    """A label value as the format quotes it."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def labels(pairs: Mapping[str, str]) -> str:
    """``{k="v",...}`` in the given order; empty for no labels."""
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in pairs.items()) + "}"


def number(value: float) -> str:
    # floats as Python writes them (shortest round-trip form, which the format accepts)
    return repr(value) if type(value) is float else repr(float(value))


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    type: str = "gauge"

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"{self.name}: unknown metric type {self.type}")
        if (self.type == "counter") != self.name.endswith("_total"):
            raise ValueError(f"{self.name}: a counter's name, and only a counter's, ends "
                             "in _total")

    def header(self) -> str:
        text = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        return f"# HELP {self.name} {text}\n# TYPE {self.name} {self.type}\n"


class Writer:
    """Families appended one after the other; ``text()`` is the exposition."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def family(self, family: Family, samples: Iterable[tuple[str, float | None]]) -> None:
        """``samples``: (formatted label set, value); a ``None`` value is left out."""
        name = family.name
        lines = [f"{name}{label_set} {value!r}\n" if type(value) is float
                 else f"{name}{label_set} {number(value)}\n"
                 for label_set, value in samples if value is not None]
        if lines:
            self.parts.append(family.header())
            self.parts.extend(lines)

    def text(self) -> str:
        return "".join(self.parts)
