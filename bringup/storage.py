"""`bringup storage format`: the only place that ever formats the SSD. Asks for the device name
typed back; without a terminal it refuses unless --yes-i-am-sure repeats the device."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pirack.errors import InputError, WorkFailed
from pirack.load import load_cluster

if TYPE_CHECKING:
    from pirack.spec import Storage

# The Debian package that brings each mkfs (a missing one is named, not a traceback).
MKFS_PACKAGES = {"ext4": "e2fsprogs", "xfs": "xfsprogs", "btrfs": "btrfs-progs"}


def _mounted(device: str) -> str | None:
    real = os.path.realpath(device)
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    for ln in mounts:
        src, mp = ln.split()[:2]
        if src == real or (src.startswith(real) and src[len(real):].lstrip("p").isdigit()):
            return mp
    return None


def mkfs_argv(st: Storage, device: str) -> list[str]:
    """mkfs for the filesystem the cluster file names, with its label and UUID."""
    argv = [f"mkfs.{st.filesystem}"]
    if st.filesystem == "ext4":
        argv += ["-F", "-q"]
    elif st.filesystem in ("xfs", "btrfs"):
        argv += ["-f"]
    if st.label:
        argv += ["-L", st.label]
    if st.uuid:
        argv += (["-U", st.uuid] if st.filesystem != "xfs" else ["-m", f"uuid={st.uuid}"])
    return argv + [device]


def format_drive(file: Path | None, device: str, yes: str | None) -> list[str]:
    from .target import cluster_file

    lc = load_cluster(cluster_file(file, None, has_root=False))  # formatting is always live: never the default
    st = lc.spec.storage
    if st is None:
        raise InputError(lc.display, "storage", "no [storage] section: nothing to format")
    argv = mkfs_argv(st, device)
    if shutil.which(argv[0]) is None:
        raise WorkFailed(f"{argv[0]} is not installed: apt-get install {MKFS_PACKAGES.get(st.filesystem, argv[0])} "
                         f"(storage.filesystem = {st.filesystem!r}); nothing was changed")
    try:
        mode = os.stat(device).st_mode
    except FileNotFoundError:
        raise InputError(None, "--device", f"{device} does not exist (list disks with `lsblk`)") from None
    if not stat.S_ISBLK(mode):
        raise InputError(None, "--device", f"{device} is not a block device")
    mp = _mounted(device)
    if mp:
        raise InputError(None, "--device", f"{device} is mounted at {mp}: unmount it first")
    if yes is not None:
        if yes != device:
            raise InputError(None, "--yes-i-am-sure", f"must repeat the device exactly ({device}), not {yes!r}")
    elif not sys.stdin.isatty():
        raise InputError(None, "--device", f"no terminal to confirm on: to format {device}, add --yes-i-am-sure {device}")
    else:
        print(f"Everything on {device} will be lost. Type the device name to go on: ", end="", flush=True)
        if sys.stdin.readline().strip() != device:
            raise InputError(None, "--device", "not confirmed: nothing was changed")
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise WorkFailed(f"{' '.join(argv)} failed", details=(r.stderr or r.stdout).strip().splitlines()[-10:])
    return [f"formatted {device} as {st.filesystem}" + (f" (LABEL={st.label})" if st.label else "")
            + (f" (UUID={st.uuid})" if st.uuid else ""),
            f"next: bringup run (mounts it at {st.mount_point} through /etc/fstab)"]
