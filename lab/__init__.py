"""The simulated district: what the README demo, bench/ and tests/ run dlict against.

Namespace hosts (``lab.fleet``), fake network devices (``lab.devices``), the link emulator
(``lab.netemu``), log-tree and monitoring-district generators (``lab.logtree``,
``lab.monitoring``, ``lab.world``). Never part of the wheel; see lab/README.md.
Command line: ``python -m lab --help``.
"""
