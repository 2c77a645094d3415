"""The intake on a full disk: a batch is answered 503 with one line (the agent keeps it and
sends it again), nothing of it is stored, and once there is room the same batch goes in whole.
A real 8 MiB tmpfs filled to the brim (root)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.intake_pki import enrol, init_district
from tests.intake_support import SITE, batch, client_context, count, intake_serve, post, records_for
from tests.security.store_conditions import fill_to_the_brim


@contextmanager
def tmpfs_at(mountpoint: Path, size: str) -> Iterator[Path]:
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                    str(mountpoint)], check=True, capture_output=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True, capture_output=True)


def test_a_full_disk_is_503_then_the_resent_batch_goes_in_whole(tmp_path: Path) -> None:
    with tmpfs_at(tmp_path / "disk", "8m") as disk:
        data_dir = disk / "data"
        init_district(data_dir)
        creds = enrol(data_dir, SITE, "s1-srv", tmp_path / "agent")
        context = client_context(creds, creds.ca)
        body = batch(SITE, "s1-srv", records_for(SITE, "s1-srv", 3_000, 2_000, 100))
        with intake_serve(data_dir) as server:
            fill_to_the_brim(disk)
            full = post(server.port, body, context)
            assert full.status == 503, full
            assert full.body.decode() == ("the office cannot store batches just now; send it "
                                          "again later\n")
            (disk / "filler").unlink()
            assert count(server.store_path, "agent_record_keys") == 0
            assert count(server.store_path, "results") == 0
            again = post(server.port, body, context)
            assert (again.status, again.json()) == (200, {"accepted": 5_100, "duplicates": 0})
            assert server.process.poll() is None
        assert count(server.store_path, "results") == 3_000
        assert count(server.store_path, "agent_samples") == 2_000
