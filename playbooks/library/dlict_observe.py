#!/usr/bin/python
"""Every observation of one SOP area on a Linux host, in one module run (one round trip).

The controller judges what comes back (action plugin ``dlict_check``, judges in
``dlict.controls.linux``); this module only looks. Each probe is one of:

- ``{id, argv: [...], stdin?, timeout?}`` or ``{id, shell: "...", executable?}``: rc, stdout,
  stderr (each bounded), or ``problem`` when the program cannot start or gives no answer;
- ``{id, read: PATH, max_bytes?}``: the text of a regular file, or ``problem``;
- ``{id, stat: PATH}``: exists, kind, mode, owner, group, size, mtime (not following a
  symlink at the last component);
- ``{id, find: DIR, patterns: [regex], file_type?: file|any, recurse?: bool}``: the entries
  whose name matches one regex, with mtime, size and mode (at most MAX_ENTRIES).

A probe with ``when: false`` is not run and comes back as ``{skipped: true}``. Commands run
under ``LC_ALL=C`` in a session of their own, killed at their timeout with all they started.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import signal
import stat
import subprocess
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: dlict_observe
short_description: Run the read-only probes of one dlict SOP area in one go
options:
  probes:
    description: The probes, each a dict with an id and one of argv, shell, read, stat, find.
    type: list
    elements: dict
    required: true
"""

MAX_OUTPUT = 1 << 20
MAX_ENTRIES = 10000
DEFAULT_TIMEOUT = 60
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _text(data):
    return data[:MAX_OUTPUT].decode("utf-8", errors="replace")


def run_command(probe):
    if "argv" in probe:
        argv = [str(a) for a in probe["argv"]]
    else:
        argv = [str(probe.get("executable") or "/bin/sh"), "-c", str(probe["shell"])]
    stdin = probe.get("stdin")
    timeout = float(probe.get("timeout") or DEFAULT_TIMEOUT)
    env = dict(os.environ, LC_ALL="C", PATH=os.environ.get("PATH", "") + ":" + _PATH)
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    except OSError as exc:
        return {"rc": -1, "stdout": "", "stderr": "",
                "problem": f"{argv[0]}: {exc.strerror or exc}"}
    try:
        out, err = process.communicate(
            input=None if stdin is None else str(stdin).encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"rc": -1, "stdout": "", "stderr": "",
                "problem": f"{argv[0]} gave no answer within {timeout:g} s"}
    return {"rc": process.returncode, "stdout": _text(out), "stderr": _text(err)}


def read_file(probe):
    path = str(probe["read"])
    limit = int(probe.get("max_bytes") or MAX_OUTPUT)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        return {"exists": os.path.lexists(path), "problem": f"{path}: {exc.strerror}"}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {"exists": True, "problem": f"{path} is not a regular file"}
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        return {"exists": True, "problem": f"{path} is larger than {limit} bytes"}
    return {"exists": True, "content": data.decode("utf-8", errors="replace")}


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def describe(path, info):
    mode = info.st_mode
    kind = ("file" if stat.S_ISREG(mode) else "directory" if stat.S_ISDIR(mode)
            else "link" if stat.S_ISLNK(mode) else "other")
    return {"path": path, "exists": True, "kind": kind, "mode": f"{stat.S_IMODE(mode):04o}",
            "uid": info.st_uid, "gid": info.st_gid, "owner": _name(pwd.getpwuid, info.st_uid),
            "group": _name(grp.getgrgid, info.st_gid), "size": info.st_size,
            "mtime": info.st_mtime}


def stat_path(probe):
    path = str(probe["stat"])
    try:
        return describe(path, os.lstat(path))
    except FileNotFoundError:
        return {"path": path, "exists": False}
    except OSError as exc:
        return {"path": path, "exists": False, "problem": f"{path}: {exc.strerror}"}


def find(probe):
    top = str(probe["find"])
    patterns = [re.compile(p) for p in probe.get("patterns") or [".*"]]
    files_only = (probe.get("file_type") or "file") == "file"
    recurse = bool(probe.get("recurse"))
    entries, truncated = [], False
    if not Path(top).is_dir():
        return {"exists": os.path.lexists(top), "entries": [],
                "problem": None if not os.path.lexists(top) else f"{top} is not a folder"}
    for folder, dirs, names in os.walk(top):
        if not recurse:
            dirs[:] = []
        for name in sorted(names + (dirs if not files_only else [])):
            if not any(p.match(name) for p in patterns):
                continue
            path = str(Path(folder) / name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if files_only and not stat.S_ISREG(info.st_mode):
                continue
            if len(entries) >= MAX_ENTRIES:
                truncated = True
                break
            entries.append(describe(path, info))
    return {"exists": True, "entries": entries, "truncated": truncated}


def observe(probe):
    if probe.get("when", True) in (False, "false", "False"):
        return {"skipped": True}
    if "argv" in probe or "shell" in probe:
        return run_command(probe)
    if "read" in probe:
        return read_file(probe)
    if "stat" in probe:
        return stat_path(probe)
    if "find" in probe:
        return find(probe)
    return {"problem": "probe {} names no argv, shell, read, stat or find".format(probe.get("id"))}


def main():
    module = AnsibleModule(argument_spec={"probes": {"type": "list", "elements": "dict",
                                                     "required": True}},
                           supports_check_mode=True)
    observed = {}
    for probe in module.params["probes"]:
        observed[str(probe.get("id"))] = observe(probe)
    module.exit_json(changed=False, observed=observed)


if __name__ == "__main__":
    main()
