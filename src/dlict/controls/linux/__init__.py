"""The Linux SOP controls judged on the controller, from the observations one
``dlict_observe`` run gathers on a host (``playbooks/library/dlict_observe.py``).

Each area registers one judge: ``judge(observed, inputs) -> [Verdict]``. ``observed`` maps a
probe id to what the module saw (:class:`Ran`, :func:`content`, :func:`stat_of`,
:func:`entries` read it defensively: a host's answer is data, never trusted to be well
formed); ``inputs`` are the inventory's settings the role passes. Judges are pure functions,
tested on observations captured from real hosts, and word their evidence as the asserts they
replace did.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dlict.agent.jobs.host_checks import Verdict
from dlict.core.results import Status

Observed = Mapping[str, Any]
Inputs = Mapping[str, Any]
Judge = Callable[[Observed, Inputs], list[Verdict]]


@dataclass(frozen=True)
class Area:
    controls: tuple[str, ...]
    judge: Judge


KNOWN_AREAS = ("firewall", "antivirus", "endpoint", "identity", "logging")
AREAS: dict[str, Area] = {}


def register(area: str, controls: Sequence[str]) -> Callable[[Judge], Judge]:
    def add(judge: Judge) -> Judge:
        AREAS[area] = Area(tuple(controls), judge)
        return judge
    return add


def judge_area(area: str, observed: Observed, inputs: Inputs) -> list[Verdict]:
    """Every verdict of ``area``; an observation the judge cannot read is an error of the
    area's controls, in one line, never an exception out of the playbook."""
    if area in KNOWN_AREAS:
        importlib.import_module(f"dlict.controls.linux.{area}")  # registers its judge
    entry = AREAS.get(area)
    if entry is None:
        raise ValueError(f"no judge for the area {area!r} (known: {', '.join(KNOWN_AREAS)})")
    if not isinstance(observed, Mapping):
        observed = {}
    try:
        return entry.judge(observed, inputs)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        why = f"the {area} observations could not be judged: {type(exc).__name__}: {exc}"
        return [Verdict(control, Status.ERROR, why) for control in entry.controls]


@dataclass(frozen=True, slots=True)
class Ran:
    """A command probe's answer; ``problem`` is one line when it did not run at all."""

    rc: int
    stdout: str
    stderr: str
    problem: str | None = None
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.skipped and self.rc == 0

    def why(self, what: str) -> str:
        """One line saying why the command did not answer well."""
        if self.problem:
            return f"{what}: {self.problem}"
        last = next((ln.strip() for ln in reversed((self.stderr or self.stdout).splitlines())
                     if ln.strip()), "")
        return f"{what}: {last or f'exit status {self.rc}'}"

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def error(self) -> str:
        """Why it did not run, else its stderr."""
        return self.problem or self.stderr

    @property
    def output(self) -> str:
        """stdout as Ansible's command module keeps it: the trailing newlines dropped."""
        return self.stdout.rstrip("\r\n")


def _probe(observed: Observed, probe_id: str) -> Mapping[str, Any]:
    value = observed.get(probe_id)
    return value if isinstance(value, Mapping) else {"problem": f"no observation {probe_id}"}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def ran(observed: Observed, probe_id: str) -> Ran:
    probe = _probe(observed, probe_id)
    rc = probe.get("rc")
    problem = probe.get("problem")
    return Ran(rc=rc if isinstance(rc, int) and not isinstance(rc, bool) else -1,
               stdout=_str(probe.get("stdout")), stderr=_str(probe.get("stderr")),
               problem=str(problem) if problem else None, skipped=bool(probe.get("skipped")))


def content(observed: Observed, probe_id: str) -> tuple[str | None, str]:
    """(the file's text, or None; why not)."""
    probe = _probe(observed, probe_id)
    text = probe.get("content")
    if isinstance(text, str):
        return text, ""
    return None, str(probe.get("problem") or "not read")


def text(observed: Observed, probe_id: str) -> str:
    """The file's text, or '' when it could not be read."""
    found, _ = content(observed, probe_id)
    return found or ""


def stat_of(observed: Observed, probe_id: str) -> Mapping[str, Any]:
    probe = _probe(observed, probe_id)
    return probe if probe.get("exists") is True else {"exists": False}


def entries(observed: Observed, probe_id: str) -> list[Mapping[str, Any]]:
    found = _probe(observed, probe_id).get("entries")
    return [e for e in found if isinstance(e, Mapping)] if isinstance(found, list) else []


def verdict(control: str, good: bool, success: str, failure: str) -> Verdict:
    return Verdict(control, Status.PASS if good else Status.FAIL, success if good else failure)


def strings(value: object) -> list[str]:
    """A list input as strings (a lone string is one item; anything else none)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return []


def as_int(value: object, default: int = 0) -> int:
    """Jinja's ``| int``: a number, or ``default`` for anything that is not one."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            return int(float(str(value).strip()))
        except (ValueError, OverflowError):
            return default
