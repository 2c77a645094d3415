"""Serve a few fake network devices for the demo until stopped (SIGTERM or SIGINT):

    python -m lab devices serve --state DIR

writes DIR/inventory (a district whose network devices are these), DIR/known_hosts and, once
every device listens, DIR/ready; DIR/password holds the devices' login password (0600).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

from lab.devices.devicelab import FIXTURES, DeviceLab, outputs_from_case
from lab.devices.district import write_device_district
from lab.devices.sshdevice import DEFAULT_PASSWORD

# (name, platform, fixture case): one compliant device of each platform, and one gateway left
# with Winbox open to the internet so that the audit has something to find.
DEMO_DEVICES = (
    ("s4401000001-gw", "routeros", "compliant"),
    ("s4401000002-gw", "routeros", "breaks-FW-06"),
    ("s4401000003-gw", "ios", "compliant"),
    ("s4401000004-fw", "fortios", "compliant"),
)
ENABLE_SECRET = "Demo-Enable-1"


def serve(state: Path) -> int:
    """Serve ``DEMO_DEVICES`` until SIGTERM or SIGINT; return the exit code."""
    # FakeNOS narrates every session it closes; the demo's reader wants dlict's output.
    logging.disable(logging.WARNING)
    state.mkdir(parents=True, exist_ok=True, mode=0o750)
    (state / "ready").unlink(missing_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with DeviceLab() as lab:
        for name, platform, case in DEMO_DEVICES:
            lab.add(name, platform, outputs_from_case(platform, FIXTURES / platform / case),
                    fakenos=platform == "ios",
                    enable_secret=ENABLE_SECRET if platform == "ios" else None)
        known_hosts = lab.write_known_hosts(state / "known_hosts")
        write_device_district(state / "inventory", lab.devices, known_hosts, per_school=1)
        fd = os.open(state / "password", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(DEFAULT_PASSWORD + "\n")
        (state / "ready").write_text(f"{os.getpid()}\n")
        stop.wait()
    (state / "ready").unlink(missing_ok=True)
    return 0
