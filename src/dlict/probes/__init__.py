"""Probes of school links: ICMP echo through one raw socket for every target (more to come)."""
