"""The ``dlict`` program: ``dlict probe …`` goes straight to the sweep (see
dlict.probes.sweep_cli for why); everything else, and ``probe --help``, to the full CLI."""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["probe"] and not {"--help", "-h"} & set(args):
        from dlict.probes.sweep_cli import main as probe_main

        sys.exit(probe_main(args[1:]))
    from dlict.cli.app import main as full_main

    full_main()
