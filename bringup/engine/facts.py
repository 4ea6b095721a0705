"""Facts: read-only questions about the node. Nothing here changes anything."""

from __future__ import annotations

import functools
import grp
import hashlib
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


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


def file_state(path: Path) -> FileState:
    try:
        st = os.lstat(path)
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return FileState(False)
    return FileState(True, data, st.st_mode & 0o7777, st.st_uid, st.st_gid)


def dir_state(path: Path) -> FileState:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return FileState(False)
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


def admin_has_key(root: Path) -> bool:
    """Some user (root or under /home) has an authorized SSH key: safe to turn passwords off."""
    cands = [root / "root/.ssh/authorized_keys", *sorted((root / "home").glob("*/.ssh/authorized_keys"))]
    for p in cands:
        try:
            text = p.read_text(errors="replace")
        except OSError:
            continue
        if any(ln.strip() and not ln.lstrip().startswith("#") for ln in text.splitlines()):
            return True
    return False


def is_mounted(path: Path) -> bool:
    return os.path.ismount(path)
