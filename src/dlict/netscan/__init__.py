"""Packets from outside: firewall verification (FW-11) and LAN discovery (EP-07).

``verify`` and ``discover`` are pure planning and judging around a ``PacketEngine``
(``engine``); the scapy engine (``packets``) is the only module that imports scapy, and is
loaded only when a scan runs.
"""
