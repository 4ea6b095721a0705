"""Facts: read-only questions about the node. Nothing here changes anything."""

from __future__ import annotations

import errno
import functools
import grp
import hashlib
import os
import posixpath
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pirack.fsutil import LinkRefused, NodeTree


@dataclass(frozen=True)
class FileState:
    exists: bool
    data: bytes | None = None
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else "absent"


def file_state(tree: NodeTree, path: str) -> FileState:
    """The file's bytes, mode and owner, read inside the node's tree. A link or a folder there
    raises (LinkRefused, IsADirectoryError): a file we manage is never read through a link."""
    got = tree.read(path)
    if got is None:
        return FileState(False)
    data, st = got
    return FileState(True, data, st.st_mode & 0o7777, st.st_uid, st.st_gid)


def dir_state(tree: NodeTree, path: str) -> FileState:
    st = tree.lstat(path)
    if st is None:
        return FileState(False)
    if stat.S_ISLNK(st.st_mode):
        raise LinkRefused(str(tree.host_path(path)), tree.readlink(path))
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "is a file, not a folder", str(tree.host_path(path)))
    return FileState(True, None, st.st_mode & 0o7777, st.st_uid, st.st_gid)


@functools.lru_cache(maxsize=None)
def uid_of(name: str) -> int:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return 0


@functools.lru_cache(maxsize=None)
def gid_of(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return 0


def has_systemd() -> bool:
    """systemd is PID 1 (the documented test: sd_booted() checks this folder)."""
    return os.path.isdir("/run/systemd/system")


def installed_packages(names: tuple[str, ...], admindir: Path | None = None) -> dict[str, bool] | None:
    """name -> installed, from dpkg-query; None when it cannot be known (no dpkg database)."""
    if not shutil.which("dpkg-query"):
        return None
    if admindir is not None and not (admindir / "status").exists():
        return None
    argv = ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n"]
    if admindir is not None:
        argv.insert(1, f"--admindir={admindir}")
    r = subprocess.run(argv + list(names), capture_output=True, text=True)
    seen = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            seen[parts[0]] = parts[1] == "installed"
    return {n: seen.get(n, False) for n in names}


def command_output(argv: tuple[str, ...]) -> str | None:
    """stdout of a read-only command, or None if it cannot run."""
    if not shutil.which(argv[0]):
        return None
    try:
        r = subprocess.run(list(argv), capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout if r.returncode == 0 else None


ADMIN_GROUPS = ("sudo", "wheel", "admin")  # who may become root: Debian's sudo, others' wheel/admin
AUTHORIZED_KEYS = (".ssh/authorized_keys", ".ssh/authorized_keys2")  # sshd's AuthorizedKeysFile default


def parse_admins(passwd: str, group: str) -> dict[str, str]:
    """user -> home of the node's admins: root, and the members of an admin group (listed in
    /etc/group, or with it as their primary group in /etc/passwd). Pure: the files' text in."""
    gids, members = set(), {"root"}
    for line in group.splitlines():
        f = line.split(":")
        if len(f) >= 4 and f[0] in ADMIN_GROUPS:
            gids.add(f[2])
            members.update(m for m in f[3].split(",") if m)
    homes = {"root": "/root"}
    for line in passwd.splitlines():
        f = line.split(":")
        if len(f) >= 7 and (f[0] in members or f[3] in gids):
            homes[f[0]] = f[5]
    return homes


def _text(tree: NodeTree, path: str) -> str:
    try:
        got = tree.read(path)
    except OSError:
        return ""
    return got[0].decode("utf-8", "replace") if got else ""


def key_fingerprints(authorized_keys: bytes) -> list[str]:
    """The fingerprints `ssh-keygen -l` gives for the keys in an authorized_keys file ([] if it
    accepts none, or is not installed): only a key sshd would take counts, not any line."""
    if not shutil.which("ssh-keygen"):
        return []
    r = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=authorized_keys, capture_output=True, timeout=20)
    if r.returncode != 0:
        return []
    return [ln.split()[1] for ln in r.stdout.decode("utf-8", "replace").splitlines() if len(ln.split()) >= 2]


def admin_key(tree: NodeTree) -> str | None:
    """Which admin has an authorized SSH key (`user (SHA256:...)`), or None: only then is it safe
    to turn password logins off."""
    for user, home in sorted(parse_admins(_text(tree, "/etc/passwd"), _text(tree, "/etc/group")).items()):
        home = posixpath.normpath(home)
        if not home.startswith("/"):
            continue
        for rel in AUTHORIZED_KEYS:
            try:
                got = tree.read(posixpath.join(home, rel))
            except OSError:  # a link, a folder: not a key file sshd would read as it is
                continue
            prints = key_fingerprints(got[0]) if got else []
            if prints:
                return f"{user} ({prints[0]})"
    return None


def process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot: with the PID it names one process for
    good (a PID reused later has another start time). None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat_line = fh.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # Field 22, counted after the ')' that closes the command name (which may hold spaces).
    return int(stat_line.rsplit(")", 1)[1].split()[19])


def is_mounted(path: Path) -> bool:
    return os.path.ismount(path)
