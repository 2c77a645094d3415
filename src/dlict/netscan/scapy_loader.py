"""The scapy packet engine, loaded only when a command sends packets: scapy is the netscan
extra, and ``dlict.netscan.packets`` (the one module that imports it) depends on the engine's
types, so the factory lives apart from them."""

from __future__ import annotations

from dlict.core.extras import require_extra
from dlict.netscan.engine import PacketEngine


def scapy_engine() -> PacketEngine:
    """The scapy engine.

    Raises:
        OperationalError: scapy is not installed.
    """
    require_extra("netscan", "scapy", "dlict.netscan.packets")
    from dlict.netscan.packets import ScapyEngine

    return ScapyEngine()
