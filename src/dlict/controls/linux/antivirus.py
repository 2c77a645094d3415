"""AV-01..AV-05 of a Linux host (SOP 5.5.2), from the antivirus role's observations:

- ``packages``: ``dpkg-query -W -f '${Package} ${db:Status-Status}\\n' clamav-daemon
  clamav-freshclam``;
- ``clamd_conf``, ``freshclam_conf``, ``script``, ``cron``: the text of clamd.conf,
  freshclam.conf, the scan script and ``/etc/cron.d/dlict-clamscan``;
- ``ping``: clamd's answer to ``zPING`` on the LocalSocket of clamd.conf;
- ``freshclam``: ``dlict-freshclam-state.py DB_DIR LOG`` (JSON: the databases clamd needs that
  are missing, whether freshclam gave up, what it said); skipped with the offline source;
- ``services``: the ``service --status-all`` line of freshclam's init script (its status
  run alone) and ``systemctl list-units … --plain 'clamav-freshclam*'`` (what
  ``service_facts`` reads for freshclam);
- ``freshclam_boot``: ``systemctl is-enabled clamav-freshclam.service`` or the sysvinit links;
- ``databases``: every file of the database folder (name, mtime);
- ``quarantine``: the stat of the quarantine folder.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dlict.agent.jobs.host_checks import Verdict, judge_av01, judge_av03
from dlict.controls.linux import (
    Inputs,
    Observed,
    Ran,
    content,
    entries,
    ran,
    register,
    stat_of,
    strings,
    verdict,
)
from dlict.core.results import Status

CONTROLS = ("AV-01", "AV-02", "AV-03", "AV-04", "AV-05")
FRESHCLAM_SERVICES = ("clamav-freshclam", "clamav-freshclam.service")
_SYSV_LINE = re.compile(r"^\s*\[ (?P<state>\+|\-) \]\s+(?P<name>.+)$", flags=re.M)
_SYSTEMD_BAD = ("not-found", "masked", "failed")




def _matching(names: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """The names Ansible's ``find`` (glob patterns, hidden files left out) would match."""
    return [name for name in names if not name.startswith(".")
            and any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]


def database_files(observed: Observed) -> dict[str, float]:
    """``databases``: file name to modification time."""
    files: dict[str, float] = {}
    for entry in entries(observed, "databases"):
        path, mtime = entry.get("path"), entry.get("mtime")
        if (isinstance(path, str) and isinstance(mtime, int | float)
                and not isinstance(mtime, bool)):
            files[path.rsplit("/", 1)[-1]] = float(mtime)
    return files


def services_running(services: Ran) -> set[str]:
    """``services``: the services ``service_facts`` would call running (sysvinit ``[ + ]``,
    systemd units whose SUB state is running)."""
    state: dict[str, str] = {}
    for match in _SYSV_LINE.finditer(services.stdout):
        state[match.group("name")] = "running" if match.group("state") == "+" else "stopped"
    for line in services.stdout.split("\n"):
        fields = line.split()
        if ".service" in line and len(fields) > 3:
            state[fields[0]] = "running" if fields[3] == "running" else "stopped"
    return {name for name, now in state.items() if now == "running"}


def freshclam_state(freshclam: Ran) -> Mapping[str, Any] | None:
    """``freshclam``: the script's JSON ({} when skipped or silent; None when unreadable)."""
    text = freshclam.stdout.strip()
    if freshclam.skipped or not text:
        return {}
    try:
        state = json.loads(text)
    except ValueError:
        return None
    return state if isinstance(state, Mapping) else None


def judge_av01_area(packages: Ran, ping: Ran, freshclam: Ran, inputs: Inputs) -> Verdict:
    """AV-01 from ``packages``, ``ping`` and ``freshclam``: when clamd does not answer and the
    main or daily database is missing, the missing databases and freshclam's words are the
    cause."""
    stderr_lines = (ping.problem or ping.stderr).splitlines()
    plain = judge_av01(packages.stdout, ping.output, stderr_lines[-1] if stderr_lines else "")
    if plain.status is Status.PASS:
        return plain
    state = freshclam_state(freshclam)
    if state is None:
        return Verdict("AV-01", Status.ERROR,
                       f"{plain.evidence}; dlict-freshclam-state.py gave no JSON: "
                       f"{freshclam.why('freshclam state')}")
    missing = strings(state.get("missing"))
    if not missing:
        return plain
    source = str(inputs.get("update_source", ""))
    messages = strings(state.get("messages"))
    log = str(inputs.get("freshclam_log", ""))
    where = ("the official source (database.clamav.net)" if source == "official"
             else f"the mirror {inputs.get('mirror_url', '')}")
    advice = ("set a mirror (dlict_antivirus_update_source: mirror and dlict_antivirus_mirror_url)"
              " or the offline source" if source == "official"
              else "check the mirror or set the offline source")
    return Verdict(
        "AV-01", Status.FAIL,
        f"no ClamAV signature database ({', '.join(missing)} .cvd/.cld) in "
        f"{inputs.get('db_dir', '')}, so clamd cannot start: freshclam "
        f"{'could not download' if state.get('gave_up') else 'has not downloaded them'} "
        f"from {where}\n({'; '.join(messages) if messages else 'nothing about it in ' + log});"
        f"\n{advice}\n(dlict_antivirus_update_source: offline)")


def judge_av02(packages: Ran, freshclam_conf: str, running: set[str], boot: Ran,
               databases: Mapping[str, float], inputs: Inputs) -> Verdict:
    """AV-02 from ``packages``, ``freshclam_conf``, ``services``, ``freshclam_boot`` and
    ``databases``: online, freshclam is installed, runs, starts at boot and names exactly the
    configured source; offline, every custom signature file is there and freshclam is off."""
    source = str(inputs.get("update_source", ""))
    custom = strings(inputs.get("custom_signatures"))
    mirrors = re.findall(r"(?m)^(?:DatabaseMirror|PrivateMirror)\s+\S+", freshclam_conf)
    example = re.search(r"(?m)^Example(\s|$)", freshclam_conf) is not None
    installed = "clamav-freshclam installed" in packages.lines
    is_running = any(name in running for name in FRESHCLAM_SERVICES)
    at_boot = boot.rc == 0 and boot.problem is None and not boot.skipped
    found = _matching(list(databases), custom)
    online = installed and is_running and at_boot
    good = {
        "official": online and mirrors == ["DatabaseMirror database.clamav.net"],
        "mirror": online and mirrors == [f"PrivateMirror {inputs.get('mirror_url', '')}"],
        "offline": len(found) == len(custom) and example and not is_running and not at_boot,
    }.get(source)
    if good is None:  # the role's argument spec allows only these three
        return Verdict("AV-02", Status.ERROR, f"unknown update source {source!r} "
                                              "(official, mirror or offline)")
    success = (f"source '{source}': freshclam off, custom files {', '.join(custom)} deployed"
               if source == "offline" else
               f"source '{source}': freshclam runs with {', '.join(mirrors)}")
    failure = (f"source '{source}' not in force: freshclam "
               f"{'runs' if is_running else 'does not run'} and "
               f"{'starts' if at_boot else 'does not start'} at boot, freshclam.conf mirrors "
               f"{mirrors} {'with' if example else 'without'} Example, custom files {found} "
               f"of {custom}")
    return verdict("AV-02", good, success, failure)


def judge_av03_area(databases: Mapping[str, float], inputs: Inputs) -> Verdict:
    """AV-03 from ``databases``: the newest file the host gets from its source (the age
    patterns) is no older than the limit, aged from the host's fact ``date_time.epoch``."""
    patterns = strings(inputs.get("age_patterns"))
    limit = inputs.get("max_signature_age_days")
    try:
        now = float(int(str(inputs.get("now"))))
        limit_days = float(str(limit))
    except ValueError:
        return Verdict("AV-03", Status.ERROR,
                       f"no clock or limit to age the signatures by (now {inputs.get('now')!r},"
                       f" limit {limit!r})")
    files = {name: mtime for name, mtime in databases.items() if not name.startswith(".")}
    return judge_av03(files, now, str(inputs.get("db_dir", "")), limit_days, patterns)


def judge_av04(cron_text: str, script_text: str | None, quarantine: Mapping[str, Any],
               inputs: Inputs) -> Verdict:
    """AV-04 from ``cron``, ``script`` and ``quarantine``: the cron line runs the scan script
    at the schedule, the script is the rendered one and the quarantine is a 0700 folder."""
    script = str(inputs.get("scan_script", ""))
    cron_line = f"{inputs.get('scan_schedule', '')} root {script} >/dev/null 2>&1"
    as_configured = (script_text or "") == str(inputs.get("scan_script_wanted", ""))
    is_dir = quarantine.get("kind") == "directory"
    mode = quarantine.get("mode", "")
    good = cron_line in cron_text.splitlines() and as_configured and is_dir and mode == "0700"
    try:
        pattern = re.compile(script)
        runs = [line for line in cron_text.splitlines() if pattern.search(line)]
    except re.error:
        runs = [line for line in cron_text.splitlines() if script in line]
    quarantine_dir = inputs.get("quarantine_dir", "")
    failure = (f"scan job: {runs[0] if runs else 'no cron line runs ' + script}; scan script "
               f"{'as configured' if as_configured else 'missing or not the configured paths and quarantine'}; "  # noqa: E501
               f"quarantine {quarantine_dir} {f'mode {mode}' if is_dir else 'missing'}")
    success = (f"'{cron_line}' scans {' '.join(strings(inputs.get('scan_paths')))} "
               f"into {quarantine_dir} (0700)")
    return verdict("AV-04", good, success, failure)


def judge_av05(clamd_conf: str, script_text: str, inputs: Inputs) -> Verdict:
    """AV-05 from ``clamd_conf`` and ``script``: clamd logs to syslog and the scan script
    reports each detection with ``logger -t "$tag" -p "$priority"``."""
    syslog = re.search(r"(?m)^LogSyslog\s+(true|yes|1)\s*$", clamd_conf) is not None
    reports = 'logger -t "$tag" -p "$priority"' in script_text
    line = re.search(r"(?m)^LogSyslog.*$", clamd_conf)
    return verdict(
        "AV-05", syslog and reports,
        f"clamd LogSyslog true; scan script reports detections as {inputs.get('syslog_tag', '')}"
        f" ({inputs.get('syslog_priority', '')})",
        f"clamd.conf {line.group(0) if line and line.group(0) else 'has no LogSyslog'}; scan "
        f"script {'reports' if 'logger -t' in script_text else 'does not report'} detections "
        "with logger")


@register("antivirus", CONTROLS)
def judge(observed: Observed, inputs: Inputs) -> list[Verdict]:
    packages = ran(observed, "packages")
    clamd_conf = content(observed, "clamd_conf")[0] or ""
    freshclam_conf = content(observed, "freshclam_conf")[0] or ""
    script_text = content(observed, "script")[0]
    cron_text = content(observed, "cron")[0] or ""
    databases = database_files(observed)
    return [
        judge_av01_area(packages, ran(observed, "ping"), ran(observed, "freshclam"), inputs),
        judge_av02(packages, freshclam_conf, services_running(ran(observed, "services")),
                   ran(observed, "freshclam_boot"), databases, inputs),
        judge_av03_area(databases, inputs),
        judge_av04(cron_text, script_text, stat_of(observed, "quarantine"), inputs),
        judge_av05(clamd_conf, script_text or "", inputs),
    ]
