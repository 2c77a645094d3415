"""ID-01..ID-09 of a Linux host (SOP 5.5.4), from the identity role's observations:

- ``sshd``: ``/usr/sbin/sshd -T`` (ID-01, ID-02, ID-03);
- ``empty_passwords``: ``awk -F: '$2 == "" { print $1 }' /etc/shadow`` (ID-03);
- ``passwd``: ``awk -F: '{ print $1 ":" $3 ":" $7 }' /etc/passwd`` (ID-04, ID-09);
- ``pam_lines``: ``grep -HE`` of the pam_pwquality / pam_faillock lines of common-password,
  common-auth and common-account (ID-05, ID-06);
- ``pam_settings``: ``grep -HE`` of minlen, minclass, deny, unlock_time in pwquality.conf
  and faillock.conf (ID-05, ID-06);
- ``sudo``: ``visudo -c`` and then the logging lines of ``sudo -V`` (ID-07);
- ``tmout``: ``readonly -p | grep -w TMOUT`` in a clean login shell (ID-08).

The inputs are the role's settings (``pwquality_minlen`` ... ``tmout``, ``uid_min``,
``non_login_shells``), and for ID-09 the approved-accounts register ``accounts``
(``dlict_accounts``), the host's name and groups, the account Ansible logs in with, and
``today`` (an ISO date on the controller's calendar): the judge never reads a clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dlict.agent.jobs.host_checks import (
    Verdict,
    judge_id01,
    judge_id02,
    judge_id03,
    judge_id04,
)
from dlict.controls.linux import Inputs, Observed, Ran, as_int, ran, register, verdict
from dlict.core.results import Status

CONTROLS = ("ID-01", "ID-02", "ID-03", "ID-04", "ID-05", "ID-06", "ID-07", "ID-08", "ID-09")
NOBODY_UID = 65534
DEFAULT_NON_LOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")





def _first_group(pattern: str, text: str) -> str:
    """``regex_search(pattern, '\\1') | default([''], true) | last``: the first match's group."""
    found = re.search(pattern, text)
    return found.group(1) if found else ""


def _search(pattern: str, text: str) -> bool:
    """Jinja's ``is search``; a setting that is no valid regex is looked for literally."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return pattern in text


def judge_id05(pam_lines: Ran, pam_settings: Ran, want_minlen: object,
               want_minclass: object) -> Verdict:
    """ID-05: probes ``pam_lines`` (pam_pwquality in common-password) and ``pam_settings``
    (minlen, minclass of pwquality.conf at least the configured ones)."""
    lines, settings = pam_lines.output, pam_settings.output
    in_stack = re.search(r"common-password:.*pam_pwquality\.so", lines) is not None
    minlen = _first_group(r"pwquality\.conf:\s*minlen\s*=\s*(\d+)", settings)
    minclass = _first_group(r"pwquality\.conf:\s*minclass\s*=\s*(\d+)", settings)
    good = (in_stack and as_int(minlen) >= as_int(want_minlen)
            and as_int(minclass) >= as_int(want_minclass))
    return verdict(
        "ID-05", good,
        f"pam_pwquality in common-password; minlen {minlen}, minclass {minclass}",
        # "password: False" would read as a secret to the evidence redaction: say it in words
        ("pam_pwquality in the common-password stack" if in_stack
         else "pam_pwquality missing from the common-password stack") + "; "
        f"minlen {minlen or 'unset'} (want >= {want_minlen}), "
        f"minclass {minclass or 'unset'} (want >= {want_minclass})")


def judge_id06(pam_lines: Ran, pam_settings: Ran, want_deny: object,
               want_unlock_time: object) -> Verdict:
    """ID-06: probes ``pam_lines`` (pam_faillock preauth and authfail in common-auth, and in
    common-account) and ``pam_settings`` (deny, unlock_time of faillock.conf as configured)."""
    lines, settings = pam_lines.output, pam_settings.output
    deny = _first_group(r"faillock\.conf:\s*deny\s*=\s*(\d+)", settings)
    unlock_time = _first_group(r"faillock\.conf:\s*unlock_time\s*=\s*(\d+)", settings)
    good = (re.search(r"common-auth:.*pam_faillock\.so\s+preauth", lines) is not None
            and re.search(r"common-auth:.*pam_faillock\.so\s+authfail", lines) is not None
            and re.search(r"common-account:.*pam_faillock\.so", lines) is not None
            and as_int(deny) == as_int(want_deny)
            and as_int(unlock_time) == as_int(want_unlock_time))
    faillock = "; ".join(line for line in lines.splitlines() if "pam_faillock" in line)
    return verdict(
        "ID-06", good,
        f"pam_faillock preauth/authfail in common-auth and in common-account; deny {deny}, "
        f"unlock_time {unlock_time}",
        f"pam_faillock lines: {faillock or 'none'}; "
        f"deny {deny or 'unset'} (want {want_deny}), "
        f"unlock_time {unlock_time or 'unset'} (want {want_unlock_time})")


def judge_id07(sudo: Ran, facility: object, logfile: object) -> Verdict:
    """ID-07: probe ``sudo`` (``visudo -c`` passes, and ``sudo -V`` logs to the configured
    syslog facility and log file)."""
    if not sudo.ok:
        return Verdict("ID-07", Status.FAIL,
                       "sudoers does not pass visudo -c, or sudo -V shows no logging")
    out = sudo.output
    shown = "; ".join(out.splitlines())
    good = (_search(f"Syslog facility if syslog is being used for logging: {facility}", out)
            and _search(f"Path to log file: {logfile}", out))
    return verdict("ID-07", good, f"sudoers valid; sudo -V: {shown}", f"sudo -V: {shown}")


def judge_id08(tmout: Ran, limit: object) -> Verdict:
    """ID-08: probe ``tmout`` (a login shell gets a read-only TMOUT, 0 < TMOUT <= the limit)."""
    out = tmout.output
    value = as_int(_first_group(r'declare -[a-z]*r[a-z]* TMOUT="(\d+)"', out) or "0")
    return verdict("ID-08", 0 < value <= as_int(limit), f"login shell: {out}",
                   f"login shell: {out or 'no read-only TMOUT'} (want <= {limit})")


def login_accounts(passwd_fields: str, uid_min: int, non_login_shells: Sequence[str]) -> list[str]:
    """The accounts of ``name:uid:shell`` lines that are people's logins: UID >= ``uid_min``,
    not nobody, and a shell that allows a login."""
    names = []
    for line in passwd_fields.splitlines():
        fields = line.split(":")
        if len(fields) < 3:
            continue
        uid = as_int(fields[1])
        if uid >= uid_min and uid != NOBODY_UID and fields[2] not in non_login_shells:
            names.append(fields[0])
    return names


def _hosts_of(approval: Mapping[str, Any]) -> list[str]:
    hosts = approval.get("hosts")
    if isinstance(hosts, str):
        return [hosts]
    if isinstance(hosts, Sequence):
        return [str(h) for h in hosts]
    return []


def unapproved(accounts: Sequence[str], register_entries: object, scope: Sequence[str],
               today: str) -> list[tuple[str, str]]:
    """(name, reason) of each login account without a valid approval: an entry of the
    register names it and this host, one of its groups or "all", and its ``expires`` (an ISO
    date) is not before ``today``. The reason names the expiry of the last entry that lists it."""
    entries = [e for e in register_entries if isinstance(e, Mapping)] \
        if isinstance(register_entries, Sequence) and not isinstance(register_entries, str) \
        else []
    found = []
    for name in accounts:
        listed, valid, expires = False, False, ""
        for approval in entries:
            if approval.get("name") != name or not set(_hosts_of(approval)) & set(scope):
                continue
            listed = True
            raw = approval.get("expires")
            expires = "" if raw is None else str(raw)
            valid = valid or expires >= today
        if not valid:
            found.append((name, f"approval expired {expires}" if listed
                          else "not in the register for this host"))
    return found


def judge_id09(passwd: Ran, inputs: Inputs) -> Verdict:
    """ID-09: probe ``passwd`` (the login accounts), each approved in the register ``accounts``
    for this host (``hostname``, ``groups`` or "all") and not expired on ``today``."""
    if not passwd.ok or not passwd.stdout.strip():
        why = passwd.why("cannot read /etc/passwd") if not passwd.ok \
            else "no account in /etc/passwd"
        return Verdict("ID-09", Status.FAIL,
                       f"login accounts without a valid approval: unknown, {why}")
    shells = inputs.get("non_login_shells")
    non_login = [str(s) for s in shells] if isinstance(shells, Sequence) \
        and not isinstance(shells, str) else list(DEFAULT_NON_LOGIN_SHELLS)
    accounts = login_accounts(passwd.output, as_int(inputs.get("uid_min", 1000), 1000), non_login)
    groups = inputs.get("groups")
    scope = ["all", str(inputs.get("hostname", ""))] + (
        [str(g) for g in groups] if isinstance(groups, Sequence) and not isinstance(groups, str)
        else [])
    today = str(inputs.get("today", ""))
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", today):
        return Verdict("ID-09", Status.ERROR, f"no date to judge the approvals by: {today!r}")
    missing = unapproved(accounts, inputs.get("accounts"), scope, today)
    user = str(inputs.get("ansible_user") or "")
    own = (f" ({user} is the account Ansible logs in with and is not locked automatically)"
           if user and user in [name for name, _ in missing] else "")
    return verdict(
        "ID-09", not missing,
        f"login accounts, all approved and not expired: {', '.join(accounts)}",
        "login accounts without a valid approval: "
        f"{', '.join(f'{name}: {reason}' for name, reason in missing)}{own}")


@register("identity", CONTROLS)
def judge(observed: Observed, inputs: Inputs) -> list[Verdict]:
    sshd = ran(observed, "sshd")
    sshd_err = sshd.error
    shadow = ran(observed, "empty_passwords")
    passwd = ran(observed, "passwd")
    pam_lines, pam_settings = ran(observed, "pam_lines"), ran(observed, "pam_settings")
    id04 = judge_id04(passwd.stdout)
    if not passwd.ok and id04.status is Status.FAIL:
        id04 = Verdict("ID-04", Status.FAIL,
                       f"accounts with UID 0: unknown, {passwd.why('cannot read /etc/passwd')}")
    return [
        judge_id01(sshd.stdout, sshd_err),
        judge_id02(sshd.stdout, sshd_err),
        judge_id03(shadow.stdout, shadow.ok, sshd.stdout, shadow.error),
        id04,
        judge_id05(pam_lines, pam_settings, inputs.get("pwquality_minlen", 12),
                   inputs.get("pwquality_minclass", 3)),
        judge_id06(pam_lines, pam_settings, inputs.get("faillock_deny", 5),
                   inputs.get("faillock_unlock_time", 900)),
        judge_id07(ran(observed, "sudo"), inputs.get("sudo_syslog_facility", "authpriv"),
                   inputs.get("sudo_logfile", "/var/log/sudo.log")),
        judge_id08(ran(observed, "tmout"), inputs.get("tmout", 900)),
        judge_id09(passwd, inputs),
    ]
