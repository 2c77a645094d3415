"""The agent's host judges take whatever a program prints — a tampered binary, a wrong
locale, a truncated pipe — and always give a verdict: never an exception (which would cost
the whole host job its run), never a pass that the output does not support."""

from __future__ import annotations

import json

from dlict.agent.jobs.host_checks import (
    judge_firewall,
    judge_id01,
    judge_id02,
    judge_id04,
    judge_log04,
)
from dlict.core.results import Status

HOSTILE_RULESETS = [
    "[" * 100_000 + "]" * 100_000,  # nested past the JSON parser's depth
    '{"nftables": {"chain": 1}}',
    '{"nftables": [1, "x", null, []]}',
    json.dumps({"nftables": [{"chain": "input"}, {"rule": {"expr": "accept"}},
                             {"table": None}]}),
    json.dumps({"nftables": [
        {"chain": {"family": "inet", "table": "dlict", "name": "input", "hook": "input",
                   "policy": "drop"}},
        # the last rule's statements are not objects, and the log prefix is not a string
        {"rule": {"family": "inet", "table": "dlict", "chain": "input",
                  "expr": [["limit"], {"log": {"prefix": ["dlict-drop"]}}, 7]}},
        {"rule": {"family": "ip6", "table": "t", "chain": "c", "expr": {"accept": None}}}]}),
    "\x00\xff" * 1000,
]


def test_hostile_rule_sets_give_verdicts_and_no_false_pass() -> None:
    for text in HOSTILE_RULESETS:
        verdicts = {v.control: v for v in judge_firewall(text)}
        assert set(verdicts) == {"FW-01", "FW-03", "FW-05"}
        assert verdicts["FW-03"].status is Status.FAIL, text[:80]
        assert verdicts["FW-05"].status is Status.FAIL, text[:80]


def test_hostile_sshd_and_passwd_output_never_pass_or_raise() -> None:
    for text in ("", "\x00" * 10_000, "passwordauthentication no\x00", "PasswordAuthentication no",
                 "permitrootlogin yes\npermitrootlogin no", " " * 100_000):
        assert judge_id01(text).status is Status.FAIL
        assert judge_id02(text).status is Status.FAIL
    # a UID-0 line hidden among garbage still counts
    assert judge_id04("root:0:/bin/bash\n\x00\x01\ntoor:0:/bin/sh\n:::::\n").status is \
        Status.FAIL


def test_hostile_chronyc_output_never_passes() -> None:
    cases = [
        "7F000001,127.0.0.1,3,1,nan,0,0,0,0,0,0,0,0,Normal",  # offset not a number
        "7F000001,127.0.0.1,3,1,inf,0,0,0,0,0,0,0,0,Normal",
        "7F000001,127.0.0.1,3,1,0.0,0,0,0,0,0,0,0,0,Normal,extra",
        "7f000001,127.0.0.1,3,1,0.0,0,0,0,0,0,0,0,0,Normal",  # not chronyc's hex
        "," * 13,
    ]
    for text in cases:
        assert judge_log04(text, "", max_offset_ms=10).status is Status.FAIL, text
