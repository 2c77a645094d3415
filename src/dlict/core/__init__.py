"""Configuration, errors, logging, the result model and the evidence store."""
