"""pytest plugin: the ``fleet`` and ``make_fleet`` fixtures and the ``fleet`` marker.

Loaded from tests/conftest.py (``pytest_plugins``). A missing prerequisite fails the test that
asked for a fleet with a message saying what is missing; it never skips.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lab.fleet.fleet import Fleet, cleanup_stale, missing_prerequisites
from lab.fleet.rootfs import ensure_rootfs
from lab.fleet.sysutil import FleetError

#: The session fleet: the office log server and two schools.
SESSION_SCHOOLS = 2

MakeFleet = Callable[..., Fleet]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fleet`` marker."""
    config.addinivalue_line(
        "markers",
        "fleet: needs the test fleet (root, debootstrap, network namespaces; "
        "see lab/README.md)",
    )


def _prepare(config: pytest.Config) -> None:
    missing = missing_prerequisites()
    if missing:
        pytest.fail("the test fleet cannot run here: " + "; ".join(missing), pytrace=False)
    with _output_shown(config):
        cleanup_stale()
        ensure_rootfs()


@contextlib.contextmanager
def _output_shown(config: pytest.Config) -> Iterator[None]:
    # A cold image build takes about a minute: let its progress reach the terminal.
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        yield
        return
    with capture.global_and_fixture_disabled():
        yield


def _start(config: pytest.Config, schools: int, state_dir: Path | None = None,
           workers: int = 0) -> Fleet:
    _prepare(config)
    try:
        with _output_shown(config):
            return Fleet.start(schools=schools, workers=workers, state_dir=state_dir)
    except FleetError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def fleet(request: pytest.FixtureRequest) -> Iterator[Fleet]:
    """A fleet shared by the whole session: office-log plus two school servers."""
    running = _start(request.config, SESSION_SCHOOLS)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def make_fleet(request: pytest.FixtureRequest) -> Iterator[MakeFleet]:
    """Factory for a test's own fleets: ``make_fleet(schools=0)``; all stopped after the test."""
    started: list[Fleet] = []

    def make(schools: int = 0, state_dir: Path | None = None) -> Fleet:
        new = _start(request.config, schools, state_dir)
        started.append(new)
        return new

    try:
        yield make
    finally:
        for each in started:
            each.stop()
