"""dlict netdev backup / diff over real SSH: 54 devices at 8 at a time, a dead one, one with
the wrong host key, one unknown to known_hosts; history in git, a version only on change."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.devices.devicelab import FIXTURES, DeviceLab, FakeDevice, outputs_from_case
from lab.devices.district import write_device_district
from lab.devices.sshdevice import DEFAULT_PASSWORD, SESSIONS
from tests.conftest import CliRunner

PLATFORMS = ("routeros", "ios", "fortios")
PER_PLATFORM = 18
TIMEOUT_S = 4


@dataclass
class Backups:
    inventory: Path
    lab: DeviceLab
    data_dir: Path
    known_hosts: Path
    healthy: list[FakeDevice]


def base_outputs(platform: str, number: int) -> dict[str, str]:
    """The compliant fixture, made this device's own by its hostname line."""
    outputs = outputs_from_case(platform, FIXTURES / platform / "compliant")
    return {cmd: text.replace("school-gw", f"gw{number:02d}") for cmd, text in outputs.items()}


@pytest.fixture(scope="module")
def backups(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backups]:
    root = tmp_path_factory.mktemp("netdev-backup")
    with DeviceLab() as lab:
        healthy = []
        for platform in PLATFORMS:
            for n in range(PER_PLATFORM):
                # Two IOS devices through FakeNOS; the rest through the light paramiko device
                # so that 54 start in a second.
                healthy.append(lab.add(f"{platform}-{n:02d}", platform,
                                       base_outputs(platform, n),
                                       fakenos=platform == "ios" and n < 2,
                                       enable_secret="En-Secret-1" if platform == "ios"
                                       else None))
        lab.add("dead-gw", "routeros", dead=True)
        lab.add("swapped-gw", "routeros", base_outputs("routeros", 90), wrong_host_key=True)
        known_hosts = lab.write_known_hosts(root / "known_hosts")
        stranger = lab.add("stranger-gw", "fortios", base_outputs("fortios", 91))
        inventory = write_device_district(root / "inventory", lab.devices, known_hosts,
                                          timeout_s=TIMEOUT_S, workers=8)
        assert stranger.known_hosts_line() not in known_hosts.read_text()
        yield Backups(inventory, lab, root / "data", known_hosts, healthy)


@pytest.fixture(autouse=True)
def device_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLICT_NETDEV_PASSWORD", DEFAULT_PASSWORD)
    monkeypatch.setenv("DLICT_NETDEV_SECRET", "En-Secret-1")


def versions(history: Path, host: str) -> int:
    out = subprocess.run(["git", "-C", str(history), "log", "--format=%H", "--", f"{host}.cfg"],
                         capture_output=True, text=True, check=True).stdout
    return len(out.split())


def test_backup_history_diff_and_refusals(backups: Backups, cli: CliRunner) -> None:
    SESSIONS.reset()
    started = time.monotonic()
    first = cli("--json", "-i", str(backups.inventory), "netdev", "backup",
                data_dir=backups.data_dir)
    elapsed = time.monotonic() - started
    assert first.code == 3, first.stderr  # three devices could not be backed up
    report = json.loads(first.stdout)
    states = {d["host"]: d["state"] for d in report["devices"]}
    errors = {d["host"]: d["error"] for d in report["devices"]}
    assert len(states) == 3 * PER_PLATFORM + 3
    assert {h for h, s in states.items() if s == "new"} == {d.name for d in backups.healthy}
    assert "does not match" in errors["swapped-gw"]
    assert str(backups.known_hosts) in errors["swapped-gw"]
    assert "not in" in errors["stranger-gw"] and "ssh-keyscan" in errors["stranger-gw"]
    assert "no answer" in errors["dead-gw"]
    # The dead device held one of 8 workers for its timeouts; the other 56 did not wait.
    assert elapsed < 60, f"backup of 57 devices took {elapsed:.1f} s"
    # Bounded by the 8 workers (unbounded, ~55 would be open at once). The devices count a
    # session until they have seen it close, a moment after dlict has moved on to the next
    # device, so a closing session may overlap a new one: hence the small allowance.
    assert 4 <= SESSIONS.peak <= 10, SESSIONS.peak
    history = Path(report["history"])
    assert not (history / "swapped-gw.cfg").exists()  # nothing kept from a refused device
    cfg = history / "routeros-03.cfg"
    assert cfg.stat().st_mode & 0o777 == 0o640
    assert "by RouterOS" not in cfg.read_text()  # the export's date line is volatile

    # Only volatile lines differ on the next read (the export date): no new version.
    ros = backups.lab["routeros-03"]
    redated = {c: t.replace("# 20", "# 19", 1) for c, t in base_outputs("routeros", 3).items()}
    ros.set_outputs(redated)
    # A real change on one IOS device.
    ios = backups.lab["ios-05"]
    changed = {c: t.replace("ntp server 198.51.100.1", "ntp server 198.51.100.2")
               for c, t in base_outputs("ios", 5).items()}
    assert changed != base_outputs("ios", 5)
    ios.set_outputs(changed)
    second = cli("--json", "-i", str(backups.inventory), "netdev", "backup", "--limit",
                 "ios-*,routeros-*", data_dir=backups.data_dir)
    assert second.code == 0, second.stderr
    report2 = json.loads(second.stdout)
    states2 = {d["host"]: d["state"] for d in report2["devices"]}
    assert len(states2) == 2 * PER_PLATFORM
    assert {h for h, s in states2.items() if s != "unchanged"} == {"ios-05"}
    diff = next(d["diff"] for d in report2["devices"] if d["host"] == "ios-05")
    assert "-ntp server 198.51.100.1" in diff and "+ntp server 198.51.100.2" in diff
    assert versions(history, "ios-05") == 2
    assert versions(history, "routeros-03") == 1
    assert versions(history, "fortios-00") == 1

    # The text output shows the diff too; dlict netdev diff tells the same story.
    text = cli("-i", str(backups.inventory), "--lang", "en", "netdev", "diff", "ios-05",
               data_dir=backups.data_dir)
    assert text.code == 0
    assert "+ntp server 198.51.100.2" in text.stdout
    since = cli("--json", "-i", str(backups.inventory), "netdev", "diff", "ios-05", "--since",
                "2000-01-01", data_dir=backups.data_dir)
    whole = json.loads(since.stdout)
    assert len(whole["versions"]) == 2
    assert "+ntp server 198.51.100.2" in whole["diff"]
    assert "\n-" not in whole["diff"].split("@@", 1)[1]  # from nothing to now: only additions
    future = cli("--json", "-i", str(backups.inventory), "netdev", "diff", "ios-05", "--since",
                 "2999-01-01", data_dir=backups.data_dir)
    assert json.loads(future.stdout)["versions"] == []
    unknown = cli("-i", str(backups.inventory), "netdev", "diff", "dead-gw",
                  data_dir=backups.data_dir)
    assert unknown.code == 2 and "no configuration stored yet" in unknown.stderr


def test_bad_since_is_refused(backups: Backups, cli: CliRunner) -> None:
    result = cli("-i", str(backups.inventory), "netdev", "diff", "ios-05", "--since",
                 "last tuesday", data_dir=backups.data_dir)
    assert result.code == 2
    assert "--since last tuesday: not a date" in result.stderr


def test_a_device_that_refuses_the_command_stores_nothing(
        tmp_path: Path, cli: CliRunner) -> None:
    with DeviceLab() as lab:
        lab.add("mute-gw", "routeros", {})  # answers every command with its error line
        lab.add("talky-gw", "fortios", base_outputs("fortios", 1))
        known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")
        inventory = write_device_district(tmp_path / "inventory", lab.devices, known_hosts)
        result = cli("--json", "-i", str(inventory), "netdev", "backup",
                     data_dir=tmp_path / "data")
    assert result.code == 3
    devices = {d["host"]: d for d in json.loads(result.stdout)["devices"]}
    assert devices["talky-gw"]["state"] == "new"
    assert devices["mute-gw"]["state"] == "failed"
    assert "'/export terse' was refused: bad command name" in devices["mute-gw"]["error"]
    assert not (tmp_path / "data" / "netdev" / "configs" / "mute-gw.cfg").exists()
