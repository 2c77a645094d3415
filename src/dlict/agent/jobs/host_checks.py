"""The host's own SOP controls, judged from command output: pure functions, no I/O.

``dlict audit`` judges with these same functions (its area checks in
:mod:`dlict.controls.linux` call them on what one ``dlict_observe`` run saw), so the office
and the school's agent agree on a host. Only what can be judged from the host's own output is
here: a control that compares with what the inventory renders (FW-02, FW-04, the files of
LOG-04) is judged in :mod:`dlict.controls.linux` alone.

Inputs are the raw outputs of the commands named in each docstring (captured samples are in
``tests/unit/fixtures/agent_host/``).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dlict.core.results import Status

LOCAL_CLOCK_REFID = "7F7F0101"  # chronyd serving its own clock (reference LOCAL)
TRACKING_FIELDS = 14
SIGNATURE_GLOBS = ("*.cvd", "*.cld")
ROOT_LOGIN_OK = ("permitrootlogin no", "permitrootlogin prohibit-password",
                 "permitrootlogin without-password")


@dataclass(frozen=True, slots=True)
class Verdict:
    control: str
    status: Status
    evidence: str


def verdict_of(control: str, good: bool, success: str, failure: str) -> Verdict:
    return Verdict(control, Status.PASS if good else Status.FAIL, success if good else failure)


# ---- firewall: `nft --json list ruleset` -------------------------------------------------

def ruleset_objects(text: str) -> list[Mapping[str, Any]]:
    """The objects of ``nft --json list ruleset``; empty when the text is not that JSON (the
    playbook reads a failed probe as ``{}`` too)."""
    try:
        data = json.loads(text or "{}")
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return []
    items = data.get("nftables", []) if isinstance(data, dict) else []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _of(objects: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [o[kind] for o in objects if isinstance(o.get(kind), dict)]


def _keys(expr: object) -> list[str]:
    """The statement names of a rule's ``expr`` list (Jinja's ``map('list') | flatten``)."""
    if not isinstance(expr, list):
        return []
    return [key for statement in expr if isinstance(statement, dict) for key in statement]


def judge_fw01(objects: Sequence[Mapping[str, Any]]) -> Verdict:
    """FW-01: the chain ``input`` of table ``inet dlict`` hooks input with policy drop."""
    chain = next((c for c in _of(objects, "chain") if c.get("family") == "inet"
                  and c.get("table") == "dlict" and c.get("name") == "input"), None)
    if chain is None:
        return Verdict("FW-01", Status.FAIL, "no inet dlict input chain is loaded")
    hook, policy = chain.get("hook"), chain.get("policy")
    return verdict_of("FW-01", hook == "input" and policy == "drop",
                    "inet dlict input chain loaded, hook input, policy drop",
                    f"input chain hook {hook or 'none'}, policy {policy or 'none'}")


def judge_fw03(objects: Sequence[Mapping[str, Any]]) -> Verdict:
    """FW-03: the last rule of that chain is a rate-limited log with prefix ``dlict-drop``."""
    rules = [r for r in _of(objects, "rule") if r.get("family") == "inet"
             and r.get("table") == "dlict" and r.get("chain") == "input"]
    last = rules[-1].get("expr") if rules else None
    statements = [s for s in last if isinstance(s, dict)] if isinstance(last, list) else []
    limits = [s for s in statements if "limit" in s]
    logs = [s["log"] for s in statements if isinstance(s.get("log"), dict)
            and re.match("dlict-drop", str(s["log"].get("prefix", "")))]
    return verdict_of(
        "FW-03", len(limits) == 1 and len(logs) == 1,
        'input chain ends with a rate-limited log, prefix "dlict-drop"',
        'last rule of the inet dlict input chain is not a rate-limited "dlict-drop" log: '
        + (", ".join(_keys(last)) if statements else "no rule"))


def judge_fw05(objects: Sequence[Mapping[str, Any]]) -> Verdict:
    """FW-05: one ``inet dlict`` table, and no ip6 rule that only counts and accepts."""
    inet = [t for t in _of(objects, "table") if t.get("family") == "inet"
            and t.get("name") == "dlict"]
    open_chains: list[str] = []
    for rule in _of(objects, "rule"):
        keys = _keys(rule.get("expr"))
        if rule.get("family") == "ip6" and "accept" in keys and \
                set(keys) <= {"accept", "counter"}:
            chain = f"ip6 {rule.get('table')} {rule.get('chain')}"
            if chain not in open_chains:
                open_chains.append(chain)
    if open_chains:
        return Verdict("FW-05", Status.FAIL,
                       f"ip6 chains accepting everything: {', '.join(open_chains)}")
    return verdict_of("FW-05", len(inet) == 1,
                    "table inet dlict filters IPv4 and IPv6; no ip6 table accepts all",
                    "no table inet dlict is loaded: IPv6 is not filtered")


def judge_firewall(ruleset_json: str) -> list[Verdict]:
    objects = ruleset_objects(ruleset_json)
    return [judge_fw01(objects), judge_fw03(objects), judge_fw05(objects)]


# ---- identity: `sshd -T`, the empty passwords of /etc/shadow, /etc/passwd -------------------

def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def judge_id01(sshd_t: str, stderr: str = "") -> Verdict:
    """ID-01: ``sshd -T`` shows password and keyboard-interactive logins off."""
    lines = _lines(sshd_t)
    shown = [line for line in lines
             if re.match("(passwordauthentication|kbdinteractiveauthentication) ", line)]
    return verdict_of(
        "ID-01", "passwordauthentication no" in lines
        and "kbdinteractiveauthentication no" in lines,
        "sshd -T shows passwordauthentication no, kbdinteractiveauthentication no",
        f"sshd -T: {', '.join(shown) or stderr.strip()}")


def judge_id02(sshd_t: str, stderr: str = "") -> Verdict:
    """ID-02: ``sshd -T`` shows root login without a password only (or none)."""
    root_login = next((line for line in _lines(sshd_t) if line.startswith("permitrootlogin ")),
                      "")
    return verdict_of("ID-02", root_login in ROOT_LOGIN_OK, f"sshd -T: {root_login}",
                    f"sshd -T: {root_login or stderr.strip()}")


def judge_id03(empty_password_names: str, awk_ok: bool, sshd_t: str | None,
               awk_error: str = "") -> Verdict:
    """ID-03: ``awk -F: '$2 == "" { print $1 }' /etc/shadow`` names nobody, and ``sshd -T``
    shows ``permitemptypasswords no`` (``sshd_t`` None: no SSH server to ask)."""
    names = _lines(empty_password_names)
    if names:
        return Verdict("ID-03", Status.FAIL,
                       f"accounts with an empty password: {', '.join(names)}")
    if not awk_ok:
        return Verdict("ID-03", Status.FAIL, f"cannot read /etc/shadow: {awk_error.strip()}")
    if sshd_t is None:
        return Verdict("ID-03", Status.PASS, "no empty password in /etc/shadow; no SSH server")
    return verdict_of("ID-03", "permitemptypasswords no" in _lines(sshd_t),
                    "no empty password in /etc/shadow; sshd permitemptypasswords no",
                    "sshd -T does not show permitemptypasswords no")


def judge_id04(passwd_fields: str) -> Verdict:
    """ID-04: of ``awk -F: '{ print $1 ":" $3 ":" $7 }' /etc/passwd``, only root has UID 0."""
    uid0 = [line.split(":", 1)[0] for line in _lines(passwd_fields)
            if re.match("[^:]*:0:", line)]
    return verdict_of("ID-04", uid0 == ["root"], "only root has UID 0",
                    f"accounts with UID 0: {', '.join(uid0)}")


# ---- endpoint: `dpkg-query -W -f '${Package} ${db:Status-Status}\n' …`, `apt-config dump` ---

def installed_packages(dpkg_query: str) -> list[str]:
    """The packages ``dpkg-query -W -f '${Package} ${db:Status-Status}\n'`` shows installed."""
    return [line.removesuffix(" installed") for line in _lines(dpkg_query)
            if re.fullmatch(r"\S+ installed", line)]


def judge_ep01(dpkg_query: str, unattended_upgrade: str) -> Verdict:
    """EP-01: unattended-upgrades is installed and ``apt-config dump --format '%v%n'
    APT::Periodic::Unattended-Upgrade`` gives 1."""
    installed = "unattended-upgrades" in installed_packages(dpkg_query)
    value = unattended_upgrade.strip()
    return verdict_of("EP-01", installed and value == "1",
                    'unattended-upgrades installed, APT::Periodic::Unattended-Upgrade "1"',
                    f"unattended-upgrades {'installed' if installed else 'not installed'}, "
                    f'APT::Periodic::Unattended-Upgrade is "{value}"')


def judge_ep05(dpkg_query: str, risky: Sequence[str]) -> Verdict:
    """EP-05: none of the ``risky`` server packages is installed."""
    installed = installed_packages(dpkg_query)
    return verdict_of("EP-05", not installed, f"none of {', '.join(risky)} is installed",
                    f"installed: {', '.join(installed)}")


# ---- logging: `chronyc -c tracking`, `chronyc -c -n sources` ------------------------------

def tracking_fields(text: str) -> list[str]:
    """The 14 fields of ``chronyc -c tracking``'s line, or 14 empty ones when there is none."""
    line = next((line for line in _lines(text) if re.match("[0-9A-F]{8},", line)), "")
    fields = line.split(",")
    return fields if len(fields) == TRACKING_FIELDS else [""] * TRACKING_FIELDS


def source_addresses(sources_csv: str) -> list[str]:
    """The server addresses of ``chronyc -c -n sources`` (lines of mode ``^``)."""
    return [line.split(",")[2] for line in _lines(sources_csv)
            if line.startswith("^,") and len(line.split(",")) > 2]


def judge_log04(tracking_csv: str, sources_csv: str, *, max_offset_ms: float,
                local_clock_ok: bool = False, error: str = "", chronyd: str = "",
                waited_s: str = "", upstream: Sequence[str] = ()) -> Verdict:
    """LOG-04, the clock's part: chronyd answers, its leap status is Normal, it follows a
    time source (not its own clock, unless ``local_clock_ok``: a time server with none
    above it) and its offset is within ``max_offset_ms``. Whether chrony.conf names the
    district's sources is the playbook's part (it renders the file). The playbook's judge
    (``dlict.controls.linux.logging``) also names chronyd's PID (``chronyd``), how long it
    waited for the clock (``waited_s``) and the sources it should follow (``upstream``)."""
    tracking = tracking_fields(tracking_csv)
    reference, name, stratum, offset, leap = (tracking[0], tracking[1], tracking[2],
                                              tracking[4], tracking[13])
    if leap == "":
        said = next(iter(_lines(tracking_csv)), "") or error.strip()
        return Verdict("LOG-04", Status.FAIL, f"chronyc -c tracking gave no state: {said}")
    if leap != "Normal":
        after = f" after {waited_s} s" if waited_s else ""
        return Verdict("LOG-04", Status.FAIL, f"clock not synchronised{after} (leap status "
                                              f"{leap}, reference {name or reference})")
    if reference == LOCAL_CLOCK_REFID and not local_clock_ok:
        instead = f" instead of {', '.join(upstream)}" if upstream else ""
        return Verdict("LOG-04", Status.FAIL, "no time source answers: chronyd serves its own "
                                              f"clock (local stratum {stratum}){instead}")
    try:
        offset_ms = abs(float(offset)) * 1000
    except ValueError:
        offset_ms = float("inf")
    if not offset_ms <= max_offset_ms:
        return Verdict("LOG-04", Status.FAIL, f"clock is off by {offset_ms:.3f} ms "
                                              f"(limit {max_offset_ms:g} ms)")
    sources = source_addresses(sources_csv)
    followed = name or ("its own clock (local stratum; no source above it is configured)"
                        if reference == LOCAL_CLOCK_REFID else reference)
    daemon = f"chronyd {chronyd}" if chronyd else "chronyd"
    return Verdict("LOG-04", Status.PASS,
                   f"{daemon} synchronised to {followed} (stratum {stratum}), offset "
                   f"{offset_ms:.3f} ms (limit {max_offset_ms:g} ms), leap status Normal; "
                   f"sources {', '.join(sources) or 'none (local clock)'}")


# ---- antivirus: clamd.conf and clamd's answer, the signature databases' times ---------------

DEFAULT_CLAMD_SOCKET = "/run/clamav/clamd.ctl"


def clamd_socket(clamd_conf: str) -> str:
    """The ``LocalSocket`` of clamd.conf, or clamd's default when it names none."""
    match = re.search(r"(?m)^LocalSocket\s+(\S+)", clamd_conf)
    return match.group(1) if match else DEFAULT_CLAMD_SOCKET


def judge_av01(dpkg_query: str, ping_answer: str, ping_error: str = "") -> Verdict:
    """AV-01: clamav-daemon is installed (``dpkg-query -W -f '${Package} ${db:Status-Status}\n'
    clamav-daemon``) and clamd answered ``zPING`` on its socket with PONG."""
    installed = "clamav-daemon" in installed_packages(dpkg_query)
    line = next((line for line in _lines(dpkg_query) if line.startswith("clamav-daemon ")),
                "clamav-daemon not installed")
    return verdict_of("AV-01", installed and ping_answer == "PONG",
                    "clamav-daemon installed, clamd answers PONG",
                    f"clamd does not answer: {line}; PING gave '{ping_answer}{ping_error}'")



def judge_av03(databases: Mapping[str, float], now: float, db_dir: str,
               limit_days: float, patterns: Sequence[str] = SIGNATURE_GLOBS) -> Verdict:
    """AV-03: the newest file of ``db_dir`` (name to modification time, Unix) whose name
    matches one of the glob ``patterns`` (``*.cvd``/``*.cld`` unless told) is no older than
    ``limit_days``."""
    found = [mtime for name, mtime in databases.items()
             if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]
    if not found:
        return Verdict("AV-03", Status.FAIL,
                       f"no signature database ({', '.join(patterns)}) in {db_dir}")
    age_days = (now - max(found)) / 86400
    text = f"newest signature database is {age_days:.1f} days old (limit {limit_days:g})"
    return verdict_of("AV-03", age_days <= limit_days, text, text)
