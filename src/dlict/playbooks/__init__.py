"""A thin typed adapter over ansible-runner: run a playbook, stream its events."""

from dlict.playbooks.runner import AnsibleEvent, PlaybookOutcome, run_playbook

__all__ = ["AnsibleEvent", "PlaybookOutcome", "run_playbook"]
