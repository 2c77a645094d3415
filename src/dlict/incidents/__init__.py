"""Incidents: cases from alerts and findings, evidence with a chain of custody, deadlines that
the law sets, and the documents the office sends (see docs/guide incidents section)."""
