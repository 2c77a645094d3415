"""The fleet's pure parts (no root needed): apt source parsing, cache key, inventory, sites,
and what an image build shows on the terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from lab.fleet import rootfs, sites
from lab.fleet.fleet import Host, inventory_document, subnet_for
from lab.fleet.sysutil import FleetError, Progress

REPO_ROOT = Path(__file__).resolve().parents[2]

DEB822 = """\
Types: deb
URIs: http://mirror.example.test/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example.test/debian-security
Suites: bookworm-security
Components: main
"""


def apt_dir(tmp_path: Path, sources: str = "", sources_list: str = "") -> Path:
    """Make an /etc/apt look-alike with the given deb822 and one-line sources."""
    (tmp_path / "sources.list.d").mkdir()
    if sources:
        (tmp_path / "sources.list.d" / "debian.sources").write_text(sources)
    if sources_list:
        (tmp_path / "sources.list").write_text(sources_list)
    return tmp_path


def test_mirror_comes_from_the_deb822_stanza_for_the_suite(tmp_path: Path) -> None:
    found = rootfs.debian_mirror("bookworm", apt_dir(tmp_path, sources=DEB822))
    assert found == "http://mirror.example.test/debian"


def test_disabled_and_source_stanzas_are_ignored(tmp_path: Path) -> None:
    sources = (
        "Types: deb-src\nURIs: http://src.example.test/debian\nSuites: bookworm\n\n"
        "Enabled: no\nTypes: deb\nURIs: http://off.example.test/debian\nSuites: bookworm\n\n"
        + DEB822
    )
    found = rootfs.debian_mirror("bookworm", apt_dir(tmp_path, sources=sources))
    assert found == "http://mirror.example.test/debian"


def test_mirror_comes_from_a_one_line_sources_list(tmp_path: Path) -> None:
    sources_list = (
        "# deb http://commented.example.test/debian bookworm main\n"
        "deb-src http://src.example.test/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.example.test/debian bookworm main\n"
    )
    found = rootfs.debian_mirror("bookworm", apt_dir(tmp_path, sources_list=sources_list))
    assert found == "http://one.example.test/debian"


def test_no_source_for_the_suite_leaves_the_choice_to_debootstrap(tmp_path: Path) -> None:
    assert rootfs.debian_mirror("trixie", apt_dir(tmp_path, sources=DEB822)) is None


def test_the_cache_key_follows_the_package_list() -> None:
    assert rootfs.cache_key() == rootfs.cache_key(packages=tuple(reversed(rootfs.PACKAGES)))
    assert rootfs.cache_key() != rootfs.cache_key(packages=(*rootfs.PACKAGES, "aide"))
    assert rootfs.cache_key() != rootfs.cache_key(suite="trixie")


def test_school_codes_are_ten_digits_and_round_trip() -> None:
    for school in sites.schools(15):
        assert len(school.code) == 10
        assert school.code.isdigit()
        assert sites.school_by_code(school.code) == school
    assert sites.school(14).amphoe == sites.AMPHOES[0]
    with pytest.raises(ValueError, match="not a simulated school code"):
        sites.school_by_code("1234")


def test_inventory_document_has_the_project_schema(tmp_path: Path) -> None:
    hosts = [
        Host("office-log", "10.213.5.10", "dlf-x-office-log", None, "ssh-ed25519 AAAA"),
        Host("s4401000001-srv", "10.213.5.11", "dlf-x-s1", "4401000001", "ssh-ed25519 BBBB"),
    ]

    document = inventory_document(hosts, tmp_path / "id_ed25519", tmp_path / "known_hosts")

    variables = document["all"]["vars"]
    assert variables["ansible_user"] == "dlict"
    assert variables["ansible_become"] is True
    assert "StrictHostKeyChecking=yes" in variables["ansible_ssh_common_args"]
    assert f"UserKnownHostsFile={tmp_path / 'known_hosts'}" in variables["ansible_ssh_common_args"]
    groups = document["all"]["children"]
    assert groups["office"]["hosts"] == {"office-log": {"ansible_host": "10.213.5.10"}}
    school = groups["schools"]["children"]["school_4401000001"]
    assert school["vars"]["dlict_site"]["school_code"] == "4401000001"
    assert school["hosts"] == {"s4401000001-srv": {"ansible_host": "10.213.5.11"}}
    assert groups["linux_servers"]["hosts"] == {"office-log": {}, "s4401000001-srv": {}}
    assert groups["log_servers"]["hosts"] == {"office-log": {}}
    # The office serves time from its own clock; every host asks it and nothing else.
    assert groups["time_servers"]["hosts"] == {"office-log": {}}
    assert variables["dlict_ntp_servers"] == ["10.213.5.10"]
    assert variables["dlict_ntp_pools"] == []
    assert groups["office"]["vars"]["dlict_ntp_local_stratum"] == 10


def test_each_fleet_index_has_its_own_private_subnet() -> None:
    assert str(subnet_for(0)) == "10.213.0.0/24"
    assert str(subnet_for(63)) == "10.213.63.0/24"
    assert subnet_for(63).is_private


def test_a_missing_program_fails_a_fleet_test_loudly(tmp_path: Path) -> None:
    """Without `ip` and friends on PATH the fleet fixture errors; it never skips."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    test_file = tmp_path / "test_needs_fleet.py"
    test_file.write_text("def test_needs_fleet(fleet):\n    pass\n")
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()

    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "tests.lab.plugin",
         "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
         "--rootdir", str(tmp_path), str(test_file)],
        cwd=REPO_ROOT, env={**os.environ, "PATH": str(empty_bin)},
        capture_output=True, text=True, timeout=120, check=False,
    )

    assert child.returncode == 1, child.stdout + child.stderr
    assert "the test fleet cannot run here" in child.stdout
    assert "programs missing from PATH: ip" in child.stdout
    assert "skipped" not in child.stdout


FAKE_DEBOOTSTRAP = """#!/bin/sh
echo "I: Retrieving InRelease"
for n in $(seq 100); do
  echo "I: Retrieving chatter-package-$n 1.0"
  echo "I: Validating chatter-package-$n 1.0"
done
for n in $(seq 100); do echo "I: Extracting chatter-package-$n 1.0"; done
echo "W: Failure trying to run: chroot /target dpkg --force-depends --install base-files"
exit 1
"""


def test_a_failed_image_build_shows_progress_then_the_log_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """debootstrap's 300 lines go to the log; the terminal gets a few progress lines, and
    the log's last lines and path only because the build failed."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "debootstrap").write_text(FAKE_DEBOOTSTRAP)
    (fake_bin / "debootstrap").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    log = tmp_path / "demo-state" / "fleet-build.log"
    cache = tmp_path / "cache"

    with pytest.raises(FleetError) as failure:
        rootfs.ensure_rootfs(cache, log=log)

    shown = capsys.readouterr().err.splitlines()
    assert len(shown) <= 6, shown
    progress = [line for line in shown if line.startswith("[fleet] debootstrap: ")]
    assert progress == ["[fleet] debootstrap: downloading packages…",
                        "[fleet] debootstrap: extracting packages…"]
    assert not any("chatter-package" in line for line in shown)
    message = str(failure.value)
    assert "debootstrap exited 1" in message
    assert "W: Failure trying to run: chroot /target dpkg" in message
    assert "I: Extracting chatter-package-100 1.0" in message
    assert "chatter-package-50 " not in message
    assert str(log) in message
    kept = log.read_text().splitlines()
    assert len(kept) == 302 and kept[1] == "I: Retrieving chatter-package-1 1.0"
    assert list(cache.iterdir()) == [cache / ".build.lock"]  # no half-built image is left


def _read_all(controller: int) -> str:
    """Everything the closed terminal side wrote: a pty may hand it over in several reads."""
    chunks = []
    try:
        while chunk := os.read(controller, 4096):
            chunks.append(chunk)
    except OSError:  # EIO: the terminal side is closed and everything was read
        pass
    finally:
        os.close(controller)
    return b"".join(chunks).decode()


def test_progress_on_a_terminal_is_one_updating_line() -> None:
    controller, terminal = pty.openpty()
    with os.fdopen(terminal, "w") as stream:
        progress = Progress("debootstrap", stream)
        for phase in ["downloading packages"] * 3 + [None, "unpacking packages"]:
            progress.step(phase)
        progress.done()
    written = _read_all(controller)
    assert written.count("\n") == 1  # pty turns "\n" into "\r\n"; one line in the end
    assert "\r\x1b[K[fleet] debootstrap: downloading packages (3)" in written
    assert written.rstrip().endswith("[fleet] debootstrap: unpacking packages (1)")
