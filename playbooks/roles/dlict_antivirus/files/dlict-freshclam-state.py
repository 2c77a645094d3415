"""Print, as JSON, which of the databases clamd needs are missing and what freshclam said in its
latest update attempt (dlict_antivirus, AV-01: the cause when clamd cannot start).

usage: dlict-freshclam-state.py DB_DIR LOG_FILE [WAIT_SECONDS]

With WAIT_SECONDS, wait up to that long for the databases to arrive or for freshclam to give
up. Always exits 0: it is a probe, the verification judges its output.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

NEEDED = ("main", "daily")
SESSION_START = "ClamAV update process started"
GAVE_UP = ("Update failed", "Giving up", "Database update process failed")
# freshclam prefixes each message with ctime and "->"; one line can hold two messages.
STAMP = re.compile(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} -> ")
TAIL_BYTES = 65536
MESSAGES_KEPT = 8
# An earlier failed attempt counts only after this long without a new one starting.
GRACE_SECONDS = 30


def missing(db_dir: str) -> list[str]:
    def present(name: str) -> bool:
        return (os.path.isfile(os.path.join(db_dir, name + ".cvd"))
                or os.path.isfile(os.path.join(db_dir, name + ".cld"))
                or os.path.isdir(os.path.join(db_dir, name + ".inc")))
    return [name for name in NEEDED if not present(name)]


def file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def log_text(path: str, since: int = 0) -> str:
    """The log from byte ``since`` on (at most its last TAIL_BYTES)."""
    try:
        with open(path, "rb") as log:
            log.seek(max(since, file_size(path) - TAIL_BYTES))
            return log.read().decode("utf-8", "replace")
    except OSError:
        return ""


def gave_up_in(text: str) -> bool:
    return any(marker in text for marker in GAVE_UP)


def last_attempt(text: str) -> tuple[list[str], str]:
    """(messages worth showing, the attempt's text) of the latest update attempt."""
    if SESSION_START not in text:
        return [], ""
    session = text.rsplit(SESSION_START, 1)[1]
    shown: list[str] = []
    for line in session.splitlines():
        for message in STAMP.split(line):
            level, _, body = " ".join(message.split()).partition(": ")
            if level in ("ERROR", "WARNING") and body and body not in shown:
                shown.append(body)
    return shown[-MESSAGES_KEPT:], session


def main(argv: list[str]) -> None:
    db_dir, log_path = argv[1], argv[2]
    wait = float(argv[3]) if len(argv) > 3 else 0.0
    started, size_at_start = time.monotonic(), file_size(log_path)
    while True:
        messages, session = last_attempt(log_text(log_path))
        gave_up = gave_up_in(session)
        # A log smaller than at the start was rotated: all of it is new.
        since = size_at_start if file_size(log_path) >= size_at_start else 0
        gave_up_since = gave_up and gave_up_in(log_text(log_path, since))
        absent = missing(db_dir)
        elapsed = time.monotonic() - started
        if (not absent or elapsed >= wait
                or gave_up_since or (gave_up and elapsed >= GRACE_SECONDS)):
            break
        time.sleep(1)
    print(json.dumps({"missing": absent, "gave_up": gave_up, "messages": messages,
                      "log": log_path, "waited": round(elapsed)}))


if __name__ == "__main__":
    main(sys.argv)
