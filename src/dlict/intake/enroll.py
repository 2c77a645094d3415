"""STAND-IN for the ca helper's ``dlict.intake.enroll`` (branch wt-ca), written on branch
wt-intake only so that the intake server can mount the route before the merge. The lead
REPLACES this whole file with the ca helper's at merge."""

from __future__ import annotations

import json

from dlict.core.store import EvidenceStore
from dlict.intake.ca import CaFiles


def handle_enroll(store: EvidenceStore, files: CaFiles, body: bytes) -> tuple[int, bytes]:
    return 501, json.dumps({"error": "enrolment is not built on this branch"}).encode()
