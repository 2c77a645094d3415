"""LOG-01..LOG-04 of a Linux host (SOP 5.5.5), from the logging role's observations:

- ``rsyslog_pid``: ``pidof rsyslogd``; ``rsyslog_check``: ``rsyslogd -N1``;
- ``dropin``: the role's rsyslog drop-in; ``rsyslog_conf``: ``/etc/rsyslog.conf``;
- clients only: ``connection`` (``ss -tnH state established ( dport = :PORT )``) and
  ``spool`` (the queue files ``dlict_forward.N`` in ``/var/spool/rsyslog``);
- log servers only: ``listen`` (``ss -ltnH``), ``root`` (stat of the log tree's root),
  ``tree`` (``find`` printing what in the tree has a wrong owner or mode), ``own_files``
  (this server's own day files), ``policy`` (the retention policy), ``key``, ``pub``,
  ``sealer`` (stats of the signing key, its public half and the sealer), ``seal_job`` (the
  systemd timer and service, or the cron file);
- ``chrony_conf``, ``clock_job`` (``/etc/cron.d/dlict-clock``) and ``clock``: ``chronyd PID``,
  then ``chronyc -c tracking`` and ``chronyc -c -n sources`` (after a bounded wait).

``inputs`` carry the inventory's settings and what the role's templates render (``dropin``,
``policy``, ``seal_cron``, ``chrony_conf``, ``clock_job``). On a host that is no log server,
LOG-02 and LOG-03 are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from dlict.agent.jobs.host_checks import Verdict, judge_log04
from dlict.controls.linux import (
    Inputs,
    Observed,
    Ran,
    as_int,
    entries,
    ran,
    register,
    stat_of,
    strings,
    text,
)
from dlict.core.results import Status

CONTROLS = ("LOG-01", "LOG-02", "LOG-03", "LOG-04")

RATE_LIMIT_OFF = re.compile(r'(?m)^\s*module\(load="imuxsock" SysSock\.RateLimit\.Interval="0"\)')
IMUXSOCK = re.compile(r'(?m)^\s*module\(load="imuxsock".*$')
SENDER = re.compile(r"(?m)^\s*if \$fromhost-ip == ")
# Only sources given as addresses can be compared with chronyc's numeric list.
ADDRESS = re.compile(r"^[0-9.]+$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*$")
RETENTION_MIN, RETENTION_MAX = 90, 730



def _s(inputs: Inputs, key: str, default: str = "") -> str:
    value = inputs.get(key, default)
    return default if value is None else str(value)




def _truthy(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


def _first_error(run: Ran) -> str:
    lines = run.stderr.splitlines()
    return next((ln for ln in lines if "error" in ln), lines[-1] if lines else run.problem or "")


def judge_log01(observed: Observed, inputs: Inputs, is_server: bool) -> Verdict:
    """LOG-01 from ``rsyslog_pid``, ``rsyslog_check``, ``dropin``, ``rsyslog_conf`` (and, on a
    client, ``connection`` and ``spool``)."""
    pid, check = ran(observed, "rsyslog_pid"), ran(observed, "rsyslog_check")
    dropin, conf = text(observed, "dropin"), text(observed, "rsyslog_conf")
    dropin_path, server = _s(inputs, "dropin_path"), _s(inputs, "server")
    if pid.rc != 0:
        return Verdict("LOG-01", Status.FAIL, "rsyslogd is not running")
    if check.rc != 0:
        return Verdict("LOG-01", Status.FAIL,
                       f"rsyslogd -N1 rejects the configuration: {_first_error(check)}")
    if dropin == "":
        return Verdict("LOG-01", Status.FAIL, f"{dropin_path} is missing")
    if dropin != _s(inputs, "dropin"):
        role = "log server" if is_server else f"forward to {server}"
        return Verdict("LOG-01", Status.FAIL,
                       f"{dropin_path} differs from the configuration the role writes ({role})")
    if not RATE_LIMIT_OFF.search(conf):
        # (The old assert's regex_search kept the newline ``^\s*`` can match: stripped here.)
        found = IMUXSOCK.search(conf)
        said = found.group(0).strip() if found else ""
        return Verdict("LOG-01", Status.FAIL, "the local log socket may be rate-limited: "
                       + (said or "imuxsock not loaded"))
    if is_server:
        where = (f"log server: its own messages go to {_s(inputs, 'root')}/"
                 f"{_s(inputs, 'own_source')}/")
    else:
        connected = ("connected" if ran(observed, "connection").stdout.splitlines()
                     else "not connected at the moment")
        where = (f"forwards every message to {server}:{_s(inputs, 'forward_port')} over "
                 f"{_s(inputs, 'transport').upper()} through the disk-assisted queue "
                 f"dlict_forward (up to {_s(inputs, 'queue_max_disk_space')} on disk, retried "
                 f"for ever; {connected}, {len(entries(observed, 'spool'))} queue file(s) "
                 "spooled)")
    return Verdict("LOG-01", Status.PASS,
                   f"{where}; local socket not rate-limited; rsyslogd {pid.stdout.strip()} "
                   "runs, rsyslogd -N1 clean")


def listen_ports(ss_ltn: str) -> list[int]:
    """The local ports of ``ss -ltnH``'s lines, once each, sorted."""
    ports: set[int] = set()
    for line in ss_ltn.splitlines():
        fields = line.split()
        if len(fields) > 3:
            ports.add(as_int(fields[3].rsplit(":", 1)[-1]))
    return sorted(ports)


def judge_log02(observed: Observed, inputs: Inputs) -> Verdict:
    """LOG-02 (log servers) from ``listen``, ``root``, ``tree``, ``own_files``, ``dropin``."""
    root, owner, group = _s(inputs, "root"), _s(inputs, "file_owner"), _s(inputs, "file_group")
    relp, tcp = as_int(inputs.get("relp_port")), as_int(inputs.get("tcp_port"))
    ports = listen_ports(ran(observed, "listen").stdout)
    missing = [p for p in dict.fromkeys((relp, tcp)) if p not in ports]
    top = stat_of(observed, "root")
    tree = ran(observed, "tree")
    wrong = tree.stdout.splitlines()
    own = sorted(str(e.get("path", "")).rsplit("/", 1)[-1] for e in entries(observed, "own_files"))
    dropin = text(observed, "dropin")
    if missing:
        return Verdict("LOG-02", Status.FAIL,
                       f"nothing listens on TCP {', '.join(map(str, missing))} "
                       f"(RELP {inputs.get('relp_port')}, TCP {inputs.get('tcp_port')})")
    if top.get("kind") != "directory":
        return Verdict("LOG-02", Status.FAIL, f"{root} is missing")
    if (top.get("mode"), top.get("owner"), top.get("group")) != ("0750", owner, group):
        return Verdict("LOG-02", Status.FAIL,
                       f"{root} is {top.get('mode')} {top.get('owner')}:{top.get('group')}, "
                       f"not 0750 {owner}:{group}")
    if tree.rc != 0:
        said = next(iter(tree.stderr.splitlines()), "") or tree.problem or ""
        return Verdict("LOG-02", Status.FAIL, f"cannot read the log tree: {said}")
    if wrong:
        return Verdict("LOG-02", Status.FAIL,
                       f"{len(wrong)} file(s) or folder(s) with a wrong owner or mode (files at "
                       f"most 0640 {owner}:{group}, folders closed to others): "
                       f"{'; '.join(wrong[:5])}")
    if not own:
        return Verdict("LOG-02", Status.FAIL,
                       f"no day file in {root}/{_s(inputs, 'own_source')}: the server does not "
                       "write its own messages into the tree")
    if dropin != _s(inputs, "dropin"):
        return Verdict("LOG-02", Status.FAIL, f"{_s(inputs, 'dropin_path')} differs from the "
                       "inputs, tree and senders the role writes")
    return Verdict("LOG-02", Status.PASS,
                   f"listens on TCP {', '.join(map(str, ports))}; {root} 0750 {owner}:{group}, "
                   "every file at most 0640 and no folder open to others; "
                   f"{len(own)} day file(s) for this server itself, newest {own[-1]}; "
                   f"{len(SENDER.findall(dropin))} sender addresses named from the inventory")


def _retention_days(policy: str) -> object:
    """``retention_days`` of the policy's JSON (0 when it names none); ValueError when the
    text is no JSON."""
    data = json.loads(policy or "{}")
    return data.get("retention_days", 0) if isinstance(data, dict) else 0


def _seal_job_ok(job: Ran, inputs: Inputs, systemd: bool) -> bool:
    if job.rc != 0:
        return False
    if systemd:
        return (_s(inputs, "seal_command") in job.stdout
                and re.search(r"(?m)^enabled$", job.stdout) is not None)
    return job.stdout.strip() == _s(inputs, "seal_cron").strip()


def judge_log03(observed: Observed, inputs: Inputs) -> Verdict:
    """LOG-03 (log servers) from ``policy``, ``key``, ``pub``, ``sealer``, ``seal_job``."""
    policy_file, key_path = _s(inputs, "policy_file"), _s(inputs, "signing_key")
    sealer_path, root = _s(inputs, "sealer"), _s(inputs, "root")
    policy = text(observed, "policy")
    try:
        days = _retention_days(policy)
    except ValueError as exc:
        return Verdict("LOG-03", Status.ERROR, f"{policy_file} is no JSON: {exc}")
    key, pub = stat_of(observed, "key"), stat_of(observed, "pub")
    sealer = stat_of(observed, "sealer")
    job = ran(observed, "seal_job")
    systemd = _s(inputs, "service_mgr") == "systemd"
    if policy == "":
        return Verdict("LOG-03", Status.FAIL, f"{policy_file} is missing")
    if not RETENTION_MIN <= as_int(days) <= RETENTION_MAX:
        return Verdict("LOG-03", Status.FAIL, f"{policy_file} keeps logs {days} days: the law "
                       f"asks for {RETENTION_MIN} to {RETENTION_MAX}")
    if policy != _s(inputs, "policy"):
        return Verdict("LOG-03", Status.FAIL, f"{policy_file} differs from the policy in the "
                       "inventory")
    if not key.get("exists"):
        return Verdict("LOG-03", Status.FAIL, f"no signing key {key_path}")
    if key.get("mode") != "0600" or key.get("owner") != "root":
        return Verdict("LOG-03", Status.FAIL, f"signing key {key_path} is {key.get('mode')} "
                       f"{key.get('owner')}, not 0600 root")
    # (A symlinked key is 0777 and fails above: the key's own path is the one to place.)
    if (key_path + "/").startswith(root.rstrip("/") + "/"):
        return Verdict("LOG-03", Status.FAIL, f"the signing key {key_path} lies inside the log "
                       f"tree {root}")
    if not pub.get("exists"):
        return Verdict("LOG-03", Status.FAIL, f"no public key {key_path}.pub")
    if not sealer.get("exists"):
        return Verdict("LOG-03", Status.FAIL, f"the sealer {sealer_path} is missing")
    if sealer.get("mode") != "0755":
        return Verdict("LOG-03", Status.FAIL,
                       f"the sealer {sealer_path} is {sealer.get('mode')}, not 0755")
    if not _seal_job_ok(job, inputs, systemd):
        said = ([ln for ln in job.stdout.splitlines() if ln][-1:] or [job.stderr.strip()])[0]
        return Verdict("LOG-03", Status.FAIL,
                       f"no daily seal job: {said or job.problem or 'nothing scheduled'}")
    at = f"{as_int(inputs.get('seal_hour')):02d}:{as_int(inputs.get('seal_minute')):02d}"
    by = "the systemd timer dlict-logseal.timer" if systemd else "/etc/cron.d/dlict-logseal"
    return Verdict("LOG-03", Status.PASS,
                   f"keeps {days} days ({policy_file}); seal daily at {at} by {by}; signing key "
                   f"{key_path} 0600 root, outside the log tree")


def _max_offset_ms(inputs: Inputs) -> float:
    try:
        return float(str(inputs.get("max_clock_offset_ms", 10)))
    except ValueError:
        return 0.0


def judge_log04_area(observed: Observed, inputs: Inputs) -> Verdict:
    """LOG-04 from ``clock`` (``chronyd PID``, chronyc's tracking and sources), ``chrony_conf``
    and ``clock_job``; the clock itself is judged by host_checks' ``judge_log04``."""
    clock = ran(observed, "clock")
    lines = clock.stdout.splitlines()
    chronyd = next((ln[len("chronyd "):] for ln in lines if ln.startswith("chronyd ")), "")
    servers, pools = strings(inputs.get("chrony_servers")), strings(inputs.get("chrony_pools"))
    upstream = servers + pools
    if not chronyd:
        return Verdict("LOG-04", Status.FAIL, "chronyd is not running")
    if text(observed, "chrony_conf") != _s(inputs, "chrony_conf"):
        return Verdict("LOG-04", Status.FAIL, "/etc/chrony/chrony.conf differs from the "
                       f"district's time sources ({', '.join(upstream) or 'local clock'})")
    after = "\n".join(lines[1:])
    found = judge_log04(after, after, max_offset_ms=_max_offset_ms(inputs),
                        local_clock_ok=not upstream, error=clock.stderr or clock.problem or "",
                        chronyd=chronyd, waited_s=_s(inputs, "sync_wait_seconds"),
                        upstream=upstream)
    if found.status is not Status.PASS:
        return found
    used = [ln.split(",")[2] for ln in lines if ln.startswith("^,") and len(ln.split(",")) > 2]
    missing = [s for s in dict.fromkeys(servers) if ADDRESS.match(s) and s not in used]
    if missing:
        return Verdict("LOG-04", Status.FAIL, f"chronyd does not use {', '.join(missing)} "
                       f"(it uses {', '.join(used) or 'nothing'})")
    if text(observed, "clock_job") != _s(inputs, "clock_job"):
        return Verdict("LOG-04", Status.FAIL, "/etc/cron.d/dlict-clock does not log the "
                       "clock's state as the role writes it")
    return Verdict("LOG-04", Status.PASS,
                   f"{found.evidence}; clock state logged ({_s(inputs, 'clock_schedule')})")


def _not_a_server(control: str, why: str) -> Verdict:
    return Verdict(control, Status.SKIPPED, f"not a log server (group log_servers): {why}")


@register("logging", CONTROLS)
def judge(observed: Observed, inputs: Inputs) -> list[Verdict]:
    is_server = _truthy(inputs.get("is_server"))
    server = _s(inputs, "server")
    if is_server:
        server_side: Sequence[Verdict] = (judge_log02(observed, inputs),
                                          judge_log03(observed, inputs))
    else:
        server_side = (
            _not_a_server("LOG-02", "this host keeps no district log tree; it forwards to "
                                    f"{server} (LOG-01)"),
            _not_a_server("LOG-03", f"retention and sealing happen on {server}"))
    return [judge_log01(observed, inputs, is_server), *server_side,
            judge_log04_area(observed, inputs)]

