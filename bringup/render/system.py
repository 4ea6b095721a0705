"""Plain system files: hostname, the cluster hosts file, sysctl, fstab's block, sshd drop-in."""

from __future__ import annotations

from pirack.spec import Cluster, Node

from .model import ManagedDir, ManagedFile


def hostname(node: Node) -> ManagedFile:
    return ManagedFile("/etc/hostname", f"{node.name}\n", after=("hostname", node.name),
                       why="the node's name")


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
                       why="the master forwards cluster traffic")


def fstab_block(spec: Cluster) -> tuple[ManagedFile, ManagedDir]:
    st = spec.storage
    assert st is not None
    source = f"UUID={st.uuid}" if st.uuid else f"LABEL={st.label}"
    # nofail + a short device timeout: a missing SSD must not stop the master from booting
    # (it still has to route, hand out leases and serve time).
    opts = "defaults,noatime,nofail,x-systemd.device-timeout=10s"
    body = f"{source}\t{st.mount_point}\t{st.filesystem}\t{opts}\t0\t2\n"
    return (ManagedFile("/etc/fstab", body, kind="block", check="fstab", why="the SSD mounts at boot"),
            ManagedDir(st.mount_point, why="the SSD's mount point"))


# sshd takes the FIRST value it reads for most settings, and reads its drop-ins in name order:
# ours sorts before cloud-init's 50-cloud-init.conf (which may turn passwords on).
SSHD_DROPIN = "/etc/ssh/sshd_config.d/00-pirack.conf"


def sshd_dropin(spec: Cluster) -> ManagedFile:
    from .common import header

    return ManagedFile(SSHD_DROPIN, header(spec) + "# Keys only: written because the admin user has an authorized key.\n"
                       "PasswordAuthentication no\nKbdInteractiveAuthentication no\n",
                       check="sshd", service="ssh", action="reload", why="SSH by key only")
