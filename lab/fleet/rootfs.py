"""The cached Debian root filesystem every fleet host boots from (the overlay's lower layer).

The image is built once with debootstrap and kept under ``/var/cache/dlict/fleet/rootfs-<key>``.
The key hashes the suite, the package list and ``FORMAT_VERSION``, so changing either builds a
new image. A build happens in a ``.build-*`` directory next to the cache entry and is renamed into
place only when finished, under an exclusive file lock: a half-built image is never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from lab.fleet.sysutil import (
    FleetError,
    Progress,
    exclusive_lock,
    remove_tree,
    require_programs,
    run,
    say,
)

SUITE = "bookworm"

#: Everything the fleet's hosts have besides debootstrap's minbase. Add packages here; the cache
#: key changes with this list, so the next fleet start rebuilds the image.
PACKAGES: tuple[str, ...] = (
    "aide",
    "auditd",
    "chrony",
    "clamav",
    "clamav-daemon",
    "clamav-freshclam",
    "cron",
    "iproute2",
    "iputils-ping",
    "libpam-pwquality",
    "netcat-openbsd",
    "nftables",
    "openssh-server",
    "orphan-sysvinit-scripts",
    "procps",
    "python3",
    "python3-apt",
    "rsyslog",
    "rsyslog-relp",
    "sudo",
    "sysvinit-core",
    "unattended-upgrades",
)

#: Installed with apt inside the image after debootstrap: debootstrap's own configure pass
#: fails on these (python3-cryptography's byte-compiling needs a fully configured python3).
LATE_PACKAGES: tuple[str, ...] = ("python3-cryptography",)

#: Bump when the way the image is prepared changes (not needed for package list changes).
FORMAT_VERSION = 2

CACHE_DIR = Path("/var/cache/dlict/fleet")
ADMIN_USER = "dlict"

SSHD_DROP_IN = """\
# Written by the dlict test fleet (tests/fleet/rootfs.py).
UseDNS no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers {user}
HostKey /etc/ssh/ssh_host_ed25519_key
"""


def cache_key(suite: str = SUITE, packages: tuple[str, ...] = PACKAGES) -> str:
    """Return the short hash naming the cache entry for this suite and package list."""
    material = json.dumps(
        {"suite": suite, "packages": sorted(packages), "late": sorted(LATE_PACKAGES),
         "format": FORMAT_VERSION}
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def rootfs_path(cache_dir: Path = CACHE_DIR) -> Path:
    """Return where the current image lives (it may not be built yet)."""
    return cache_dir / f"rootfs-{cache_key()}"


def ensure_rootfs(cache_dir: Path = CACHE_DIR, log: Path | None = None) -> Path:
    """Return the path of a complete image, building it first if it is not cached.

    Arguments:
        cache_dir: where images are kept.
        log: where a build writes debootstrap's and apt's output (default
            ``cache_dir/build.log``); the terminal gets progress lines, and the log's last
            lines only when the build fails.

    Raises:
        FleetError: debootstrap or the image preparation failed.
    """
    target = rootfs_path(cache_dir)
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(cache_dir / ".build.lock"):
        if target.is_dir():
            return target
        _remove_abandoned_builds(cache_dir)
        _build(target, log or cache_dir / "build.log")
    return target


def _build(target: Path, log: Path) -> None:
    require_programs(["debootstrap", "chroot"])
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    started = time.monotonic()
    try:
        staging.chmod(0o755)
        say(f"building the fleet root filesystem {target.name} (debootstrap {SUITE}); "
            f"its output goes to {log}")
        _debootstrap(staging, log)
        _install_late_packages(staging, log)
        say("preparing the image")
        prepare_image(staging)
        staging.rename(target)
    except BaseException:
        remove_tree(staging)
        raise
    say(f"root filesystem ready in {time.monotonic() - started:.0f} s: {target}")


def _remove_abandoned_builds(cache_dir: Path) -> None:
    # Called with the build lock held, so any staging directory belongs to a dead builder.
    for leftover in cache_dir.glob(".build-*"):
        say(f"removing an abandoned build {leftover}")
        remove_tree(leftover)


def _debootstrap(staging: Path, log: Path) -> None:
    args = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(staging),
    ]
    mirror = debian_mirror()
    if mirror is not None:
        args.append(mirror)
    # Its own process group, so an interrupted build can stop debootstrap and its dpkg children.
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    progress = Progress("debootstrap")
    try:
        assert process.stdout is not None
        with log.open("a", encoding="utf-8") as out:
            for line in process.stdout:
                out.write(line)
                out.flush()
                progress.step(debootstrap_phase(line))
        returncode = process.wait()
    finally:
        progress.done()
        if process.poll() is None:
            _stop_process_group(process)
    if returncode != 0:
        raise FleetError(f"debootstrap exited {returncode}; {_log_tail(log)}")


#: debootstrap's per-package verbs, and what the progress line says while it repeats them
#: ("Validating" follows each "Retrieving" and counts as no step of its own).
DEBOOTSTRAP_PHASES = {
    "retrieving": "downloading packages",
    "extracting": "extracting packages",
    "installing": "installing core packages",
    "unpacking": "unpacking packages",
    "configuring": "configuring packages",
}


def debootstrap_phase(line: str) -> str | None:
    """Return the progress phase an ``I: <Verb> ...`` line of debootstrap belongs to, if any."""
    if not line.startswith("I: "):
        return None
    verb = line[3:].split(" ", 1)[0].lower()
    return DEBOOTSTRAP_PHASES.get(verb)


def _log_tail(log: Path, lines: int = 25) -> str:
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "its last lines:\n" + "\n".join(f"  {line}" for line in tail) + f"\nwhole log: {log}"


def _install_late_packages(root: Path, log: Path) -> None:
    say(f"installing {' '.join(LATE_PACKAGES)} in the image")
    # The host's resolver, for apt only; prepare_image replaces it with a dead end.
    resolv = root / "etc/resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    resolv.write_text(Path("/etc/resolv.conf").read_text())
    no_daemons = root / "usr/sbin/policy-rc.d"
    no_daemons.write_text("#!/bin/sh\nexit 101\n")
    no_daemons.chmod(0o755)
    try:
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        for command in (["apt-get", "update", "-qq"],
                        ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                         *LATE_PACKAGES]):
            with log.open("a", encoding="utf-8") as out:
                out.write(f"$ chroot {root} {' '.join(command)}\n")
                out.flush()
                done = subprocess.run(["chroot", str(root), *command], env=env, stdout=out,
                                      stderr=subprocess.STDOUT, check=False)
            if done.returncode != 0:
                raise FleetError(f"{' '.join(command)} in the image exited {done.returncode}; "
                                 f"{_log_tail(log)}")
    finally:
        no_daemons.unlink()
        for lists in (root / "var/lib/apt/lists").glob("*_*"):
            lists.unlink()


def _stop_process_group(process: subprocess.Popen[str]) -> None:
    # SIGTERM first: debootstrap's exit trap unmounts what it mounted in the target.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def debian_mirror(suite: str = SUITE, apt_dir: Path = Path("/etc/apt")) -> str | None:
    """Return the Debian archive URI this machine's apt uses for ``suite``, if any.

    Reads deb822 ``*.sources`` files and one-line ``sources.list`` files; None means
    debootstrap should use its own default.
    """
    for uri, suites in _apt_sources(apt_dir):
        if suite in suites:
            return uri
    return None


def _apt_sources(apt_dir: Path) -> Iterator[tuple[str, list[str]]]:
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        yield from _deb822_sources(path.read_text())
    listed = sorted((apt_dir / "sources.list.d").glob("*.list"))
    for path in [apt_dir / "sources.list", *listed]:
        if path.is_file():
            yield from _one_line_sources(path.read_text())


def _deb822_sources(text: str) -> Iterator[tuple[str, list[str]]]:
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled") == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split()


def _one_line_sources(text: str) -> Iterator[tuple[str, list[str]]]:
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 2:
            yield words[0], [words[1]]


def prepare_image(root: Path) -> None:
    """Turn a fresh debootstrap tree into a bootable, SSH-reachable fleet host image."""
    _remove_gettys(root)
    _add_admin_user(root)
    _configure_sshd(root)
    _configure_services_for_a_shared_kernel(root)
    _clean_package_cache(root)


def _remove_gettys(root: Path) -> None:
    inittab = root / "etc/inittab"
    lines = inittab.read_text().splitlines(keepends=True)
    inittab.write_text("".join(line for line in lines if "getty" not in line))


def _add_admin_user(root: Path) -> None:
    run(["chroot", str(root), "useradd", "--create-home", "--user-group",
         "--shell", "/bin/bash", ADMIN_USER])
    # '*' (no usable password) rather than '!' (locked): sshd refuses locked accounts.
    run(["chroot", str(root), "usermod", "--password", "*", ADMIN_USER])
    sudoers = root / "etc/sudoers.d" / ADMIN_USER
    sudoers.write_text(f"{ADMIN_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
    run(["chroot", str(root), "visudo", "--check", "--file", f"/etc/sudoers.d/{ADMIN_USER}"])


def _configure_sshd(root: Path) -> None:
    drop_in = root / "etc/ssh/sshd_config.d/dlict-fleet.conf"
    drop_in.write_text(SSHD_DROP_IN.format(user=ADMIN_USER))
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()


def _configure_services_for_a_shared_kernel(root: Path) -> None:
    # The hosts share this machine's kernel and clock: chronyd must not steer the clock, and
    # the kernel log belongs to the controller.
    default_chrony = root / "etc/default/chrony"
    default_chrony.write_text('DAEMON_OPTS="-F 1 -x"\n')
    rsyslog = root / "etc/rsyslog.conf"
    rsyslog.write_text(
        rsyslog.read_text().replace('module(load="imklog")', '#module(load="imklog")')
    )
    # No resolver inside the fleet: a query fails at once instead of leaving the namespace.
    resolv = root / "etc/resolv.conf"
    if resolv.is_symlink():
        resolv.unlink()
    resolv.write_text("nameserver 127.0.0.1\n")
    for name in ("etc/hostname", "etc/machine-id"):
        path = root / name
        if path.exists():
            path.unlink()
    # freshclam's daemon would try the official mirror at boot; the fleet has no way out and
    # must not even try. The antivirus role decides whether it runs (offline on the fleet).
    run(["chroot", str(root), "update-rc.d", "clamav-freshclam", "disable"])


def _clean_package_cache(root: Path) -> None:
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()


def image_uid_gid(root: Path, user: str) -> tuple[int, int]:
    """Return the uid and gid of ``user`` as the image's /etc/passwd defines them."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise FleetError(f"user {user} is not in {root}/etc/passwd")


def owner_of(path: Path) -> tuple[int, int, int]:
    """Return (uid, gid, mode bits) of a path, without following a final symlink."""
    info = os.lstat(path)
    return info.st_uid, info.st_gid, info.st_mode & 0o7777
