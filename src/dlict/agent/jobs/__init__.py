"""The agent's jobs: each makes ``Record``s (results, events, samples) from inside a school."""
