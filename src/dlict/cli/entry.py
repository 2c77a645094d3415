"""The ``dlict`` program: ``dlict probe …`` goes straight to the sweep (see
dlict.probes.sweep_cli for why); everything else, and ``probe --help``, to the full CLI."""

from __future__ import annotations

import os
import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["probe"] and not {"--help", "-h"} & set(args):
        from dlict.probes.sweep_cli import main as probe_main

        code = probe_main(args[1:])
        sys.stdout.flush()
        sys.stderr.flush()
        # nothing is left to clean up; tearing down 30,000 result objects one by one is not
        os._exit(code)
    from dlict.cli.app import main as full_main

    full_main()
