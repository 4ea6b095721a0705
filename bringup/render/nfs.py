"""NFS exports on the master: a root per net-booting slave, and the shared data exports."""

from __future__ import annotations

from pirack.spec import Cluster

from . import netboot
from .common import drive_path, header
from .model import ManagedDir, ManagedFile

PATH = "/etc/exports.d/pirack.exports"


def exports(spec: Cluster) -> str:
    st = spec.storage
    assert st is not None
    out = [header(spec)]
    for n in spec.slaves:
        if n.boot == "net":
            # A slave's root and boot folder: only that slave, and its root user is root there.
            out += netboot.export_lines(spec, n)
    for e in st.exports:
        opts = ["ro" if e.read_only else "rw", "sync", "no_subtree_check",
                "root_squash" if e.root_squash else "no_root_squash"]
        out.append(f"{drive_path(spec, e.path)}\t{spec.network.subnet}({','.join(opts)})\n")
    return "".join(out)


def exports_file(spec: Cluster) -> ManagedFile:
    # needs_drive: exportfs fails on folders that are not there ("Failed to stat"): written
    # once the SSD is mounted.
    return ManagedFile(PATH, exports(spec), check="exportfs", after=("exportfs", "-ra"), revert=("exportfs", "-ra"),
                       service="nfs-kernel-server", action="reload", needs_drive=True, why="NFS exports on the SSD")


def export_dirs(spec: Cluster) -> list[ManagedDir]:
    st = spec.storage
    assert st is not None
    dirs = [ManagedDir(drive_path(spec, e.path), on_drive=True, why=f"export {e.name}") for e in st.exports]
    for n in spec.slaves:
        if n.boot == "net":
            dirs.append(ManagedDir(drive_path(spec, st.netboot_root, n.name), on_drive=True,
                                   why=f"{n.name}'s root filesystem"))
    return dirs
