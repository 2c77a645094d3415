"""Build ``dlict-logs.pyz``: the sealer and checker as one file for the log server.

The server needs only Python 3.11 and Debian's python3-cryptography. The archive is
byte-reproducible (fixed member times, sorted members), so copying it again with Ansible
reports no change when nothing changed.

    python -m dlict.logs.bundle OUT.pyz
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import dlict

# The modules the standalone command imports; all of them use only the standard library
# and cryptography (dlict.i18n included: its words are the zipapp's words).
MEMBERS = (
    "__init__.py",
    "core/__init__.py",
    "core/chain.py",
    "core/errors.py",
    "core/files.py",
    "core/inputs.py",
    "core/metric_names.py",
    "core/printable.py",
    "core/promtext.py",
    "i18n.py",
    "logs/__init__.py",
    "logs/chrony.py",
    "logs/check.py",
    "logs/fields.py",
    "logs/keys.py",
    "logs/manifest.py",
    "logs/metrics.py",
    "logs/policy.py",
    "logs/seal.py",
    "logs/standalone.py",
    "logs/streams.py",
    "logs/summary.py",
    "logs/tree.py",
)
MAIN = "from dlict.logs.standalone import main\nmain()\n"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def build() -> bytes:
    package = Path(dlict.__file__).parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in [("__main__.py", MAIN.encode())] + [
            (f"dlict/{member}", (package / member).read_bytes()) for member in MEMBERS
        ]:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    return b"#!/usr/bin/python3\n" + buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m dlict.logs.bundle OUT.pyz\n")
        return 2
    out = Path(args[0])
    data = build()
    if not out.exists() or out.read_bytes() != data:
        out.write_bytes(data)
    out.chmod(0o755)
    return 0


if __name__ == "__main__":
    sys.exit(main())
