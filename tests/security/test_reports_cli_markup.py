"""What dlict prints in the terminal is the value as written: never Rich markup, never a
control character.

A school's name, a host name, a device's answer or a log source's name is not ours: a
``[/bold]`` in it used to crash ``inventory show`` ("internal error"), a ``[red]`` to colour
what follows, and an ESC or a newline in it went to the terminal as is (an escape sequence
can rewrite the screen; a newline can fake a line of output). Each test runs the real CLI on
real files and reads what the user would see.
"""

from __future__ import annotations

import grp
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from lab.devices.devicelab import FIXTURES, DeviceLab, outputs_from_case
from lab.devices.district import write_device_district
from lab.devices.sshdevice import DEFAULT_PASSWORD
from lab.logtree import build_tree
from tests.conftest import EXAMPLE_INVENTORY, CliRunner

pytestmark = pytest.mark.integration

MARKUP = ("[/bold]", "[red]", "[link=http://127.0.0.1/]x[/link]", ":thumbs_up:", "\\[b]")
MARKUP_NAME = " ".join(MARKUP)
# ESC starting a "clear screen" sequence, a fake output line, a carriage return, DEL, a C1
# control (CSI) and a right-to-left override.
CONTROL_NAME = "A\x1b[2J\nPROBLEM fake line\rB\x7fC\x9bD\u202eE"
CONTROL_SHOWN = "A\\x1b[2J\\nPROBLEM fake line\\rB\\x7fC\\x9bD\\u202eE"
# Every control character but the line breaks dlict writes itself.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide enough that Rich never folds a value over two lines of a table."""
    monkeypatch.setenv("COLUMNS", "400")


def _inventory_with_school_name(target: Path, name_th: str, name_en: str) -> Path:
    shutil.copytree(EXAMPLE_INVENTORY, target)
    path = target / "group_vars" / "school_4401010001.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["dlict_site"]["name_th"] = name_th
    data["dlict_site"]["name_en"] = name_en
    data["dlict_site"]["amphoe"] = name_en
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def _words(text: str) -> str:
    """The text with every run of white space as one space: Rich wraps a long table title."""
    return " ".join(text.split())


def _assert_no_raw_control(text: str) -> None:
    found = sorted({f"{ord(c):#x}" for c in RAW_CONTROL.findall(text)})
    assert not found, f"control characters reached the output: {found}"


@pytest.mark.parametrize("lang", ["th", "en"])
def test_inventory_show_prints_markup_literally(cli: CliRunner, tmp_path: Path,
                                                lang: str) -> None:
    inventory = _inventory_with_school_name(tmp_path / "inventory", f"โรงเรียน {MARKUP_NAME}",
                                            f"School {MARKUP_NAME}")
    result = cli("--lang", lang, "-i", str(inventory), "inventory", "show")
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    name = f"โรงเรียน {MARKUP_NAME}" if lang == "th" else f"School {MARKUP_NAME}"
    assert _words(f"4401010001 {name}") in _words(result.stdout)
    assert "👍" not in result.stdout


def test_inventory_show_escapes_control_characters(cli: CliRunner, tmp_path: Path) -> None:
    inventory = _inventory_with_school_name(tmp_path / "inventory", CONTROL_NAME, CONTROL_NAME)
    result = cli("-i", str(inventory), "inventory", "show")
    assert result.code == 0, result.stderr
    _assert_no_raw_control(result.stdout)
    assert _words(f"4401010001 {CONTROL_SHOWN}") in _words(result.stdout)
    assert not any(line.startswith("PROBLEM") for line in result.stdout.splitlines())


def test_inventory_show_json_keeps_the_original_values(cli: CliRunner, tmp_path: Path) -> None:
    inventory = _inventory_with_school_name(tmp_path / "inventory", CONTROL_NAME, MARKUP_NAME)
    result = cli("--json", "-i", str(inventory), "inventory", "show")
    assert result.code == 0, result.stderr
    sites = {s["id"]: s for s in json.loads(result.stdout)["sites"]}
    assert sites["4401010001"]["name_th"] == CONTROL_NAME
    assert sites["4401010001"]["name_en"] == MARKUP_NAME
    # Still JSON (the value above is the original), but no control character of any kind is
    # sent raw to a terminal that shows it: JSON writes them as \\u escapes.
    _assert_no_raw_control(result.stdout)
    assert "\\u001b[2J\\nPROBLEM fake line\\rB\\u007fC\\u009bD\\u202eE" in result.stdout


def test_error_line_shows_a_hostile_path_escaped(cli: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / f"inv{CONTROL_NAME}"
    result = cli("-i", str(missing), "inventory", "validate")
    assert result.code == 2, result.stderr
    _assert_no_raw_control(result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and CONTROL_SHOWN in lines[0], result.stderr


def test_device_answer_in_results_table(cli: CliRunner, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A user name in a RouterOS configuration reaches the evidence that ``runs show`` prints."""
    case = FIXTURES / "routeros" / "compliant"
    outputs = outputs_from_case("routeros", case)
    command = next(c for c, text in outputs.items() if 'name="it-school1"' in text)
    hostile = "it[/bold][red]:thumbs_up:"  # netmiko strips escape sequences from answers
    outputs[command] = outputs[command].replace('name="it-school1"', f'name="{hostile}"')
    monkeypatch.setenv("DLICT_NETDEV_PASSWORD", DEFAULT_PASSWORD)
    data_dir = tmp_path / "data"
    with DeviceLab() as lab:
        lab.add("gw-1", "routeros", outputs)
        known_hosts = lab.write_known_hosts(tmp_path / "known_hosts")
        inventory = write_device_district(tmp_path / "inventory", lab.devices, known_hosts)
        audit = cli("-i", str(inventory), "netdev", "audit", data_dir=data_dir)
    assert audit.code in (0, 1), audit.stderr
    run_id = re.search(r"stored as run (\d+)", audit.stdout)
    assert run_id is not None, audit.stdout
    shown = cli("--lang", "en", "runs", "show", run_id.group(1), data_dir=data_dir)
    assert shown.code == 0, shown.stderr
    _assert_no_raw_control(shown.stdout)
    assert "users: it[/bold][red]:thumbs_up:, dlict-audit" in shown.stdout


def test_logs_check_prints_a_hostile_source_name_escaped(cli: CliRunner,
                                                         tmp_path: Path) -> None:
    """A log source's directory is named after the sender's host name: any byte but "/"."""
    policy = build_tree(tmp_path / "base", sources=1, days=3)
    source = policy.root / "4401099999" / CONTROL_NAME
    source.mkdir(parents=True, mode=0o750)
    (policy.root / "4401099999").chmod(0o750)
    day = source / f"{datetime.now(UTC).astimezone().date().isoformat()}.log"
    day.write_text("", encoding="utf-8")
    os.chown(day, 0, grp.getgrnam("adm").gr_gid)
    day.chmod(0o640)
    result = cli("logs", "check", "--policy", str(policy.root.parent / "logging.json"),
                 "--root", str(policy.root), "--state", str(policy.state_dir))
    assert result.code in (0, 1), result.stderr
    _assert_no_raw_control(result.stdout)
    assert f"4401099999/{CONTROL_SHOWN}" in result.stdout
    assert not any(line.startswith("PROBLEM fake") for line in result.stdout.splitlines())
