"""What dlict keeps of an IOS configuration in the backup history."""

from __future__ import annotations

import re

REDACTED = "<redacted>"

VOLATILE = re.compile(
    r"^(?:! Last configuration change at .*|! NVRAM config last updated at .*"
    r"|! No configuration change since last restart.*|Building configuration\.\.\."
    r"|Current configuration : \d+ bytes|ntp clock-period \d+)\n?",
    re.MULTILINE,
)
# Each keeps the keyword and the type number, so the rules judge a normalised config alike.
SECRETS = [
    re.compile(p, re.MULTILINE) for p in (
        r"^(username \S+(?: \S+)*? (?:password|secret)(?: \d+)?) \S+$",
        r"^(enable (?:password|secret)(?: level \d+)?(?: \d+)?) \S+$",
        r"^(\s+password(?: \d+)?) \S+$",
        r"^(\s+key-string(?: \d+)?) \S+$",
        r"^((?:tacacs-server|radius-server) .*?key(?: \d+)?) \S+$",
        r"^(\s+key [07]) \S+$",
        r"^(crypto isakmp key(?: \d+)?) \S+",
        r"^(\s+neighbor \S+ password(?: \d+)?) \S+$",
        r"^(ntp authentication-key \d+ md5) \S+",
    )
]
COMMUNITY = re.compile(r"^(snmp-server community|snmp-server host \S+(?: vrf \S+)?"
                       r"(?: informs| traps)?(?: version (?:1|2c))?) (\S+)", re.MULTILINE)


def _community(match: re.Match[str]) -> str:
    # public and private are no secret, and ID-11 must still see them in a backup.
    name = match.group(2)
    keep = name.lower() in ("public", "private", REDACTED) or name.startswith("version")
    return f"{match.group(1)} {name if keep else REDACTED}"


def normalize_config(text: str) -> str:
    """The configuration as kept in the backup history: without the lines IOS rewrites on every
    read and with passwords, secrets, keys and SNMP communities replaced by a marker."""
    text = VOLATILE.sub("", text.replace("\r\n", "\n"))
    for pattern in SECRETS:
        text = pattern.sub(rf"\1 {REDACTED}", text)
    return COMMUNITY.sub(_community, text)
