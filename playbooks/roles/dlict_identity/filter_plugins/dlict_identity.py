"""The register rule of ID-09 for the enforce tasks: the same functions the area check judges
with (dlict.controls.linux.identity), so apply locks exactly the accounts audit names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dlict.controls.linux.identity import login_accounts, unapproved


def dlict_identity_unapproved(passwd_fields: str | Sequence[Any], uid_min: Any,
                              non_login_shells: Sequence[Any], register: Any,
                              scope: Sequence[Any], today: str) -> list[str]:
    """``awk -F: '{ print $1 ":" $3 ":" $7 }' /etc/passwd`` (its output, or its lines) → the
    login accounts without a valid approval for this host (``scope``: "all", the host and its
    groups) on ``today``."""
    if not isinstance(passwd_fields, str):
        passwd_fields = "\n".join(str(line) for line in passwd_fields)
    accounts = login_accounts(passwd_fields, int(uid_min),
                              [str(shell) for shell in non_login_shells])
    return [name for name, _ in unapproved(accounts, register, [str(s) for s in scope],
                                           str(today))]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"dlict_identity_unapproved": dlict_identity_unapproved}
