"""EP-01..EP-06 of a Linux host (SOP 5.5.3), from the endpoint role's observations:

- ``packages``: ``dpkg-query -W -f '${Package} ${db:Status-Status}\\n' unattended-upgrades
  auditd aide``;
- ``unattended``: ``apt-config dump --format '%v%n' APT::Periodic::Unattended-Upgrade``;
- ``rules_file``: the text of ``/etc/audit/rules.d/dlict.rules``;
- ``audit_status``: ``auditctl -s`` (its stderr says when the kernel refuses audit here);
- ``loaded_rules``: ``auditctl -l``;
- ``auditd_boot``: ``systemctl is-enabled auditd.service``, or the sysvinit start links;
- ``aide``: ``aide --check --config CONFIG``;
- ``risky``: ``dpkg-query -W -f ...`` of the risky server packages;
- ``usb_file``: the text of ``/etc/modprobe.d/dlict-usb-storage.conf``;
- ``usb_effective``: ``modprobe --showconfig`` filtered to usb-storage's rules (exit 3: no
  modprobe on the host).

EP-07 (devices on the LAN) is judged by ``dlict netscan discover`` and the agent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dlict.agent.jobs.host_checks import Verdict, installed_packages, judge_ep01, judge_ep05
from dlict.controls.linux import (
    Inputs,
    Observed,
    Ran,
    content,
    ran,
    register,
    strings,
    verdict,
)
from dlict.core.results import Status

CONTROLS = ("EP-01", "EP-02", "EP-03", "EP-04", "EP-05", "EP-06")

# What auditctl -s says where the kernel refuses audit to the host (outside the initial PID
# namespace, or without CAP_AUDIT_CONTROL): auditd cannot run and no rules can be loaded.
KERNEL_REFUSES = re.compile("Operation not permitted|Connection refused|Protocol not supported")
# auditctl -l prints rules in its own form: compare watches by path and permissions, syscall
# rules by list, architecture and key (it may order the syscalls differently).
RULE_SHAPE = re.compile(
    r"^-(?:w (\S+?)/? -p (\S+)|a (\S+) -F arch=(\S+) -S \S+) -(?:k |F key=)(\S+)$")
AIDE_CHANGE = re.compile(r"(?m)^[a-zA-Z!][^:\n]*: (/.*)$")
AIDE_ENTRIES = re.compile(r"Number of entries:\s+(\d+)")
AUDITD_PID = re.compile(r"(?m)^pid (\d+)")
MAX_CHANGES_SHOWN = 10



def _file_lines(observed: Observed, probe_id: str) -> list[str]:
    """The stripped lines of a file probe; none when it could not be read."""
    text, _ = content(observed, probe_id)
    return [line.strip() for line in (text or "").splitlines()]


def kernel_audit(status: Ran) -> bool:
    """``audit_status``: False where the kernel refuses audit to this host."""
    return KERNEL_REFUSES.search(status.stderr) is None


def _rule_key(rule: str) -> str:
    return RULE_SHAPE.sub(r"\1 \2 \3 \4 \5", rule)


def judge_ep02(rules: Sequence[str], file_lines: Sequence[str], audit: bool,
               loaded: Ran) -> Verdict:
    """EP-02 from ``rules_file`` and, where the kernel allows audit, ``loaded_rules``: every
    rule the role writes is in dlict.rules and loaded in the kernel."""
    if not rules:  # the role always renders the SOP's rules: none means no inputs
        return Verdict("EP-02", Status.ERROR, "no audit rules to compare with (input audit_rules)")
    missing = [rule for rule in rules if rule not in file_lines]
    not_loaded: list[str] = []
    if audit:
        in_kernel = [_rule_key(line) for line in loaded.lines]
        not_loaded = [key for key in map(_rule_key, rules) if key not in in_kernel]
    failure = "; ".join(part for part in (
        f"dlict.rules lacks: {' | '.join(missing)}" if missing else "",
        f"not loaded in the kernel: {' | '.join(not_loaded)}" if not_loaded else "") if part)
    kernel = ("all loaded in the kernel" if audit
              else "loaded rules not checked: the kernel refuses audit to this host")
    return verdict("EP-02", not missing and not not_loaded,
                   f"dlict.rules holds all {len(rules)} rules; {kernel}", failure)


def judge_ep03(packages: Sequence[str], boot: Ran, status: Ran) -> Verdict:
    """EP-03 from ``packages``, ``auditd_boot`` and ``audit_status``: auditd is installed,
    enabled at boot and running; where the kernel refuses audit, running is not checked
    (skipped, saying whether it is installed and enabled)."""
    installed = "auditd" in packages
    enabled = boot.rc == 0
    if not kernel_audit(status):
        return Verdict(
            "EP-03", Status.SKIPPED,
            "auditd running not checked: the kernel refuses audit to this host "
            f"(auditctl -s: {status.stderr.strip()}; not the initial PID namespace or no "
            f"CAP_AUDIT_CONTROL); auditd {'installed' if installed else 'NOT installed'}, "
            f"{'enabled' if enabled else 'NOT enabled'} at boot")
    found = AUDITD_PID.search(status.stdout)
    pid = int(found.group(1)) if found else 0
    return verdict(
        "EP-03", installed and enabled and pid > 0,
        f"auditd installed, enabled at boot, running as pid {pid}",
        f"auditd {'installed' if installed else 'not installed'}, "
        f"{'enabled' if enabled else 'not enabled'} at boot, "
        f"{f'running as pid {pid}' if pid > 0 else 'not running'}")


def aide_changes(report: str) -> list[str]:
    """The changed paths ``aide --check`` lists, once each (case-insensitively, as the
    playbook's ``unique`` filter), in order."""
    seen: set[str] = set()
    changes = []
    for path in AIDE_CHANGE.findall(report):
        if path.lower() not in seen:
            seen.add(path.lower())
            changes.append(path)
    return changes


def judge_ep04(packages: Sequence[str], check: Ran, paths: Sequence[str]) -> Verdict:
    """EP-04 from ``aide`` (and ``packages``): the integrity check finds no change."""
    if check.ok:
        entries = AIDE_ENTRIES.search(check.stdout)
        return Verdict("EP-04", Status.PASS,
                       f"aide --check finds no change in {' '.join(paths)} "
                       f"({entries.group(1) if entries else '?'} entries)")
    if "aide" not in packages:
        return Verdict("EP-04", Status.FAIL, "aide is not installed")
    changes = aide_changes(check.stdout)
    if changes:
        return Verdict("EP-04", Status.FAIL,
                       f"aide --check (rc {check.rc}) found {len(changes)} change(s): "
                       f"{', '.join(changes[:MAX_CHANGES_SHOWN])}")
    last = next((line for line in reversed(check.stderr.splitlines()) if line), "")
    why = last or check.problem or ("skipped" if check.skipped else "non-zero return code")
    return Verdict("EP-04", Status.FAIL, f"aide --check failed (rc {check.rc}): {why.strip()}")


def judge_risky(risky: Ran, packages: Sequence[str]) -> Verdict:
    """EP-05 from ``risky`` (dpkg-query exits 1 when a package is unknown: that is an
    answer); a query that did not run at all is an error, not a pass."""
    if risky.problem or risky.skipped:
        return Verdict("EP-05", Status.ERROR, risky.why("dpkg-query of the risky packages"))
    return judge_ep05(risky.stdout, packages)


def judge_ep06(policy: str, file_lines: Sequence[str], effective: Ran) -> Verdict:
    """EP-06 from ``usb_file`` and ``usb_effective``: with policy block, dlict's file blocks
    usb-storage and modprobe (where installed) sees it; with allow, dlict's file does not."""
    if policy not in ("block", "allow"):
        return Verdict("EP-06", Status.ERROR,
                       f"unknown USB mass-storage policy {policy!r} (block or allow)")
    no_modprobe = effective.rc == 3
    modprobe_blocks = no_modprobe or (
        re.search(r"(?m)^install usb[-_]storage /bin/false", effective.stdout) is not None
        and re.search(r"(?m)^blacklist usb[-_]storage", effective.stdout) is not None)
    file_blocks = ("install usb-storage /bin/false" in file_lines
                   and "blacklist usb-storage" in file_lines)
    file_touches = any(re.match("^(install|blacklist) usb-storage", line) for line in file_lines)
    good = ((policy != "block" or (file_blocks and modprobe_blocks))
            and (policy != "allow" or not file_touches))
    state = ("usb-storage blacklisted, install /bin/false" if policy == "block"
             else "usb-storage not blocked by dlict")
    note = "(modprobe not installed on this host)" if no_modprobe else ""
    rules = [line for line in file_lines if re.match("^(install|blacklist) ", line)]
    sees = "not installed" if no_modprobe else f"sees {' | '.join(effective.lines) or 'no rule'}"
    return verdict("EP-06", good, f"policy {policy}: {state} {note}".strip(),
                   f"policy {policy} but dlict-usb-storage.conf has "
                   f"{' | '.join(rules or ['no rule'])}; modprobe {sees}")


@register("endpoint", CONTROLS)
def judge(observed: Observed, inputs: Inputs) -> list[Verdict]:
    package_probe = ran(observed, "packages")
    packages = installed_packages(package_probe.stdout)
    status = ran(observed, "audit_status")
    return [judge_ep01(package_probe.stdout, ran(observed, "unattended").stdout),
            judge_ep02(strings(inputs.get("audit_rules")), _file_lines(observed, "rules_file"),
                       kernel_audit(status), ran(observed, "loaded_rules")),
            judge_ep03(packages, ran(observed, "auditd_boot"), status),
            judge_ep04(packages, ran(observed, "aide"), strings(inputs.get("aide_paths"))),
            judge_risky(ran(observed, "risky"), strings(inputs.get("risky_packages"))),
            judge_ep06(str(inputs.get("usb_storage", "block")), _file_lines(observed, "usb_file"),
                       ran(observed, "usb_effective"))]
