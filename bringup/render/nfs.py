"""NFS exports on the master: a root per net-booting slave, and the shared data exports."""

from __future__ import annotations

from pirack.spec import Cluster

from . import netboot
from .common import drive_path, header
from .model import ManagedDir, ManagedFile

PATH = "/etc/exports.d/pirack.exports"
# mountd's fixed port (NFSv3: a net-booted slave's initramfs mounts its root with v3), opened to
# the cluster by the firewall (nftables.py) and given to mountd by the NFS server's config.
MOUNTD_PORT = 20048


def exports(spec: Cluster) -> str:
    """One line per export. The data exports go to each slave by its address (the nodes that
    exist), never to the whole subnet: a stranger on the switch with a DHCP lease gets none."""
    st = spec.storage
    assert st is not None
    out = [header(spec)]
    for n in spec.slaves:
        if n.boot == "net":
            # A slave's root and boot folder: only that slave, and its root user is root there.
            out += netboot.export_lines(spec, n)
    if not spec.slaves and st.exports:
        # exports(5): a line without clients is exported to everyone. No slaves, no data export.
        out.append("# No slaves: the data exports have no client yet.\n")
        return "".join(out)
    for e in st.exports:
        opts = ",".join(["ro" if e.read_only else "rw", "sync", "no_subtree_check",
                         "root_squash" if e.root_squash else "no_root_squash"])
        clients = " ".join(f"{n.address}({opts})" for n in spec.slaves)
        out.append(f"{drive_path(spec, e.path)}\t{clients}\n")
    return "".join(out)


def exports_file(spec: Cluster) -> ManagedFile:
    # needs_drive: exportfs fails on folders that are not there ("Failed to stat"): written
    # once the SSD is mounted.
    return ManagedFile(PATH, exports(spec), check="exportfs", after=("exportfs", "-ra"), revert=("exportfs", "-ra"),
                       service="nfs-kernel-server", action="reload", needs_drive=True, why="NFS exports on the SSD")


NFS_CONF_PATH = "/etc/nfs.conf.d/pirack.conf"


def nfs_conf() -> ManagedFile:
    """mountd on its fixed port: NFSv3 clients (a net-booted slave's initramfs) ask rpcbind for
    it, and the firewall opens that port to the cluster only."""
    return ManagedFile(NFS_CONF_PATH, "# Managed by pirack: NFSv3 net boot; the firewall opens this port to the cluster only.\n"
                       f"[mountd]\nport={MOUNTD_PORT}\n", service="nfs-server", action="restart",
                       why=f"mountd on port {MOUNTD_PORT} (NFSv3 net boot)")


def export_dirs(spec: Cluster) -> list[ManagedDir]:
    st = spec.storage
    assert st is not None
    dirs = [ManagedDir(drive_path(spec, e.path), on_drive=True, why=f"export {e.name}") for e in st.exports]
    for n in spec.slaves:
        if n.boot == "net":
            dirs.append(ManagedDir(drive_path(spec, st.netboot_root, n.name), on_drive=True,
                                   why=f"{n.name}'s root filesystem"))
    return dirs
