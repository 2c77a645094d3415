"""Probes of school links and services: ICMP echo through one raw socket for every target,
TCP connect, DNS and HTTP(S), each bound by its own deadline."""
