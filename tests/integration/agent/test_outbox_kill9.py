"""Power cuts, as near as a test gets: a child process killed with SIGKILL while it writes to
the outbox, or between sending a batch and acking it. After each, the outbox holds every
record that was committed exactly once and no part of any other; a batch that was sent but
not acked is sent again, with the same keys."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from dlict.agent.forward import push_once
from dlict.agent.outbox import Outbox
from dlict.agent.records import sample_record
from dlict.agent.transport import HttpsSender, Office
from dlict.agent.wire import BatchHeader
from dlict.core.clock import utc_now
from tests.conftest import REPO
from tests.integration.agent.support import HOST, SITE, Pki, make_pki, receiving

PUT_SIZE = 300

_WRITER = f"""
import sys
from pathlib import Path
from dlict.agent.outbox import Outbox
from dlict.agent.records import sample_record
path, run = Path(sys.argv[1]), sys.argv[2]
with Outbox.open(path, 10**10) as outbox:
    for put in range(10**6):
        group = f"{{run}}-{{put}}"
        outbox.put([sample_record({SITE!r}, {HOST!r}, "dlict_test", {{"group": group,
                    "i": str(i)}}, float(i)) for i in range({PUT_SIZE})])
        sys.stdout.write(group + "\\n")
        sys.stdout.flush()
"""

_PUSHER = f"""
import ssl, sys
from pathlib import Path
from dlict.agent.forward import push_once
from dlict.agent.outbox import Outbox
from dlict.agent.transport import HttpsSender, Office
from dlict.agent.wire import BatchHeader
from dlict.core.clock import utc_now
path, url, pki = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
context.load_cert_chain(pki / "client.crt", pki / "client.key")
sender = HttpsSender(Office.from_url(url), context, 30)
with Outbox.open(path, 10**10) as outbox:
    push_once(outbox, lambda: BatchHeader({SITE!r}, {HOST!r}, utc_now()), sender.send_batch,
              batch_records=100)
"""


def _kill_writer_after(path: Path, run: int, delay_s: float) -> list[str]:
    """Start a writer, let it commit at least one put, kill -9 it ``delay_s`` later; the
    groups it reported committed."""
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(run)],
                             stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert child.stdout is not None
        committed = [child.stdout.readline().strip()]
        assert committed[0], "the writer committed nothing"
        time.sleep(delay_s)
        child.send_signal(signal.SIGKILL)
        committed += [line.strip() for line in child.stdout if line.strip()]
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return committed


def test_kill9_mid_put_at_many_points_keeps_every_committed_record_once(
        tmp_path: Path) -> None:
    path = tmp_path / "state" / "outbox.sqlite"
    rng = random.Random(14)
    committed: list[str] = []
    for run in range(16):
        committed += _kill_writer_after(path, run, rng.uniform(0.0, 0.25))

    with Outbox.open(path, 10**10) as outbox:
        records = outbox.next_batch(10**7, max_bytes=10**12)
        stats = outbox.stats()
    groups = Counter(str(r.body["labels"]["group"]) for r in records)
    assert len({r.key for r in records}) == len(records) == stats.records
    # every put reported committed is there whole, exactly once
    assert all(groups[group] == PUT_SIZE for group in committed), committed
    # a put not yet reported is whole or absent (the kill came after its commit, before the
    # print); never a part of one
    assert set(groups.values()) == {PUT_SIZE}
    assert len(groups) - len(committed) <= 16
    assert all(sorted(int(r.body["labels"]["i"]) for r in records
                      if r.body["labels"]["group"] == g) == list(range(PUT_SIZE))
               for g in list(groups)[:5])
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def _put_samples(path: Path, count: int) -> list[str]:
    records = [sample_record(SITE, HOST, "dlict_test", {"i": str(i)}, float(i))
               for i in range(count)]
    with Outbox.open(path, 10**10) as outbox:
        outbox.put(records)
    return [r.key for r in records]


def _push_in_process(path: Path, pki: Pki, url: str) -> None:
    sender = HttpsSender(Office.from_url(url), pki.client_context(), 30)
    with Outbox.open(path, 10**10) as outbox:
        outcome = push_once(outbox, lambda: BatchHeader(SITE, HOST, utc_now()),
                            sender.send_batch, batch_records=100)
        assert outcome.ok, outcome.detail
        assert outbox.stats().records == 0


def test_kill9_between_send_and_ack_sends_the_same_keys_again(tmp_path: Path) -> None:
    """The receiver (a stand-in for the intake, decoding with the contract's decode_batch)
    has read the whole first batch; the agent is killed before the answer reaches it."""
    path = tmp_path / "state" / "outbox.sqlite"
    pki = make_pki(tmp_path / "pki")
    put = _put_samples(path, 250)
    with receiving(pki) as receiver:
        receiver.hold = threading.Event()
        child = subprocess.Popen([sys.executable, "-c", _PUSHER, str(path), receiver.url,
                                  str(pki.ca.parent)], cwd=REPO)
        try:
            assert receiver.got_batch.wait(60), "the agent sent nothing"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            child.kill()
            receiver.hold.set()
        killed_batch = receiver.keys()
        assert killed_batch == put[:100]

        with Outbox.open(path, 10**10) as outbox:
            assert [r.key for r in outbox.next_batch(1000)] == put  # nothing was acked

        receiver.hold = None
        receiver.batches.clear()
        _push_in_process(path, pki, receiver.url)
    resent = receiver.keys()
    assert resent[:100] == killed_batch  # the same records, with the same keys
    assert resent == put  # and every record once more, in order
