"""`dlict logs check` on a log server tree whose newest day holds real OpenSSH output.

The excerpt (loghub's OpenSSH_2k.log, an sshd older than 7.5) is appended, as the log server
stores it, to the open day of one source of a sealed 91-day tree.  Before the fix the check
reported "5 of 31 lines lack src_port" for this healthy server; the same lines with the port
taken out of every line must still be reported.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from dlict.logs import keys
from dlict.logs.policy import Policy
from lab.logtree import build_tree
from tests.conftest import CliRunner
from tests.logs_real import SOURCES, stored

OLD_SSHD = SOURCES[0]


def tree_with_real_sshd(base: Path, transform: str | None = None) -> tuple[Policy, Path]:
    policy = build_tree(base, sources=1, days=91)
    today = datetime.now(UTC).astimezone().date()
    (open_day,) = policy.root.glob(f"*/*/{today.isoformat()}.log")
    lines = stored(OLD_SSHD, day=today)
    if transform is not None:
        lines = [re.sub(transform, "", line) for line in lines]
    with open_day.open("a", encoding="utf-8") as day_file:
        day_file.writelines(lines)
    return policy, open_day


def check(cli: CliRunner, policy: Policy) -> tuple[int, dict, str]:
    args = ["--policy", str(policy.root.parent / "logging.json"), "--root", str(policy.root),
            "--state", str(policy.state_dir), "--key", str(keys.public_path(policy.signing_key))]
    result = cli("--json", "logs", "check", *args)
    assert result.code in (0, 1), result.stderr
    text = cli("logs", "check", *args)
    return result.code, json.loads(result.stdout), text.stdout


def test_real_old_sshd_output_passes_the_traffic_data_check(
        cli: CliRunner, tmp_path: Path) -> None:
    policy, _day = tree_with_real_sshd(tmp_path)
    code, data, text = check(cli, policy)
    (source,) = data["sources"]
    auth = next(f for f in source["fields"] if f["log_type"] == "auth")
    assert auth["ok"], auth
    assert auth["lines_sampled"] == 12 + OLD_SSHD.sampled  # the tree's own sshd lines + real
    assert code == 0, json.dumps(source, indent=1)[:3000]
    assert "lack src_port" not in text


def test_the_same_output_without_ports_still_fails(cli: CliRunner, tmp_path: Path) -> None:
    policy, day = tree_with_real_sshd(tmp_path, transform=r" port \d+")
    code, data, text = check(cli, policy)
    (source,) = data["sources"]
    auth = next(f for f in source["fields"] if f["log_type"] == "auth")
    assert code == 1
    assert auth["ok"] is False and auth["missing"] == ["src_port"]
    assert auth["lines_sampled"] - auth["lines_complete"] == OLD_SSHD.sampled
    assert f"auth ({day.name}): {OLD_SSHD.sampled} of " in text and "lack src_port" in text
