"""Summaries and report files (HTML, JSON) built from the result model."""
