"""Evidence larger than the memory dlict may use is streamed, never held: a 1.5 GiB file
(sparse, so the test writes nothing large) is added and verified by a dlict limited to 1 GiB of
address space, and its hash is the one sha256sum computes."""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

from tests.security.evidence_support import dlict, open_case

SIZE = 3 << 29  # 1.5 GiB
MEMORY_LIMIT = 1 << 30


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def test_a_file_larger_than_memory_is_hashed_as_it_streams(tmp_path: Path) -> None:
    data = tmp_path / "data"
    case_id = open_case(data)
    image = tmp_path / "disk.img"
    with image.open("wb") as out:
        out.truncate(SIZE)
        out.seek(SIZE // 2)
        out.write(b"the one byte that is not zero")
    added = dlict(data, "--json", "incident", "evidence", "add", case_id, str(image),
                  "--reference", preexec=limit_memory, timeout=120)
    assert added.code == 0, added.output
    item = json.loads(added.stdout)[0]
    expected = subprocess.run(["sha256sum", str(image)], capture_output=True, text=True,
                              check=True, timeout=120).stdout.split()[0]
    assert (item["sha256"], item["size"]) == (expected, SIZE)
    verified = dlict(data, "incident", "evidence", "verify", case_id, preexec=limit_memory,
                     timeout=120)
    assert verified.code == 0, verified.output
