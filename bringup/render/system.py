"""Plain system files: hostname, the cluster hosts file, sysctl, fstab's block, sshd drop-in."""

from __future__ import annotations

from pirack.spec import Cluster, Node

from .model import Command, ManagedDir, ManagedFile


def hostname(node: Node) -> ManagedFile:
    return ManagedFile("/etc/hostname", f"{node.name}\n", after=("hostname", node.name),
                       revert=("hostname", "-F", "/etc/hostname"), why="the node's name")


def loopback_hosts_block(spec: Cluster, node: Node) -> ManagedFile:
    # Raspberry Pi OS maps its old name to 127.0.1.1; sudo stalls if the new name does not resolve.
    return ManagedFile("/etc/hosts", f"127.0.1.1\t{spec.fqdn(node)} {node.name}\n", kind="block",
                       why="the node's own name resolves locally")


def cluster_hosts(spec: Cluster, path: str) -> ManagedFile:
    """Every node by name and FQDN: dnsmasq serves it (addn-hosts), /etc/hosts stays the OS's."""
    from .common import header

    lines = [header(spec)]
    for n in spec.nodes:
        lines.append(f"{n.address}\t{spec.fqdn(n)} {n.name}\n")
    return ManagedFile(path, "".join(lines), service="dnsmasq", action="reload",
                       why="names of every node, served by dnsmasq")


def ip_forward(spec: Cluster) -> ManagedFile:
    from .common import header

    path = "/etc/sysctl.d/90-pirack.conf"
    return ManagedFile(path, header(spec) + "# The master routes the cluster to the uplink (SNAT).\n"
                       "net.ipv4.ip_forward = 1\n", after=("sysctl", "-p", path),
                       live_fact=("sysctl", "-n", "net.ipv4.ip_forward"),
                       revert=("sysctl", "-w", "net.ipv4.ip_forward={before}"),
                       why="the master forwards cluster traffic")


def ip_forward_live() -> Command:
    return Command(name="forward IPv4", argv=("sysctl", "-w", "net.ipv4.ip_forward=1"),
                   fact=("sysctl", "-n", "net.ipv4.ip_forward"), parse="first_line", done_if="1",
                   why="the kernel forwards now, not only after the next boot")


def fstab_block(spec: Cluster) -> tuple[ManagedFile, ManagedDir]:
    st = spec.storage
    assert st is not None
    source = f"UUID={st.uuid}" if st.uuid else f"LABEL={st.label}"
    # nofail: a missing SSD must not stop the master from booting (it still has to route, hand
    # out leases and serve time). The device timeout is systemd's default, written out: 10 s
    # expired in the VM lab while the disk was still being probed, and nfs-server (which
    # requires the exported folders' mount) failed with it.
    opts = "defaults,noatime,nofail,x-systemd.device-timeout=90s"
    body = f"{source}\t{st.mount_point}\t{st.filesystem}\t{opts}\t0\t2\n"
    return (ManagedFile("/etc/fstab", body, kind="block", check="fstab", revert=("systemctl", "daemon-reload"),
                        why="the SSD mounts at boot"),
            ManagedDir(st.mount_point, why="the SSD's mount point"))


def mount_drive(spec: Cluster) -> Command:
    """Mount the SSD now (what fstab does at the next boot), so its folders and exports are
    made in this run. Optional: an SSD that is not plugged in is noted, not a failed run."""
    mp = spec.storage.mount_point
    return Command(name=f"mount the SSD at {mp}", argv=("sh", "-c", f"systemctl daemon-reload 2>/dev/null; mount {mp}"),
                   fact=("findmnt", "-n", "-o", "TARGET", "--mountpoint", mp), parse="first_line", done_if=mp,
                   optional=True, why="the exports and boot folders live on it")


# sshd takes the FIRST value it reads for most settings, and reads its drop-ins in name order:
# ours sorts before cloud-init's 50-cloud-init.conf (which may turn passwords on).
SSHD_DROPIN = "/etc/ssh/sshd_config.d/00-pirack.conf"


def sshd_dropin(spec: Cluster) -> ManagedFile:
    from .common import header

    return ManagedFile(SSHD_DROPIN, header(spec) + "# Keys only: written because the admin user has an authorized key.\n"
                       "PasswordAuthentication no\nKbdInteractiveAuthentication no\n",
                       check="sshd", service="ssh", action="reload", why="SSH by key only")
