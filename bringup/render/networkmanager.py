"""NetworkManager keyfiles (mode 0600, root-owned, or NM ignores them) and the uplink command."""

from __future__ import annotations

import uuid

from pirack.spec import Cluster, Node

from .model import Command, ManagedFile

NM_DIR = "/etc/NetworkManager/system-connections"


def _uuid(spec: Cluster, node: Node, ifname: str) -> str:
    # Stable across runs, so a rerun renders the same bytes.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pirack:{spec.cluster.name}:{node.name}:{ifname}"))


def cluster_keyfile(spec: Cluster, node: Node) -> ManagedFile:
    """eth0 as connection "eth0" (not "Wired connection 1"): static on the master, DHCP on slaves.

    NetworkManager makes "Wired connection 1" only for a device with no profile; once this
    keyfile (bound to the interface name) exists, it is used instead, and the auto one is
    not created again.
    """
    net = spec.network
    ifname = net.cluster_interface if node.role == "master" else "eth0"
    head = (f"[connection]\nid={ifname}\nuuid={_uuid(spec, node, ifname)}\ntype=ethernet\n"
            f"interface-name={ifname}\nautoconnect=true\nautoconnect-priority=100\n\n[ethernet]\n\n")
    if node.role == "master":
        # The cluster side: a fixed address, no gateway, never the default route (the uplink is).
        ipv4 = (f"[ipv4]\nmethod=manual\naddress1={node.address}/{net.subnet.prefixlen}\n"
                f"never-default=true\n\n")
    else:
        ipv4 = f"[ipv4]\nmethod=auto\ndns-search={net.domain};\n\n"
    body = head + ipv4 + "[ipv6]\nmethod=disabled\n"
    return ManagedFile(f"{NM_DIR}/{ifname}.nmconnection", body, mode=0o600, check="keyfile",
                       after=("nmcli", "connection", "reload"), revert=("nmcli", "connection", "reload"),
                       why=f"{ifname}: {'static cluster address' if node.role == 'master' else 'DHCP from the master'}")


def activate_cluster_profile(spec: Cluster, node: Node) -> Command:
    """Bring the cluster interface up on our profile. `nmcli connection reload` only loads a
    profile: the device stays on "Wired connection 1" (and a master without its static address
    has snmpd fail to bind it) until the profile is activated. The fact is the device itself:
    the master's address on it, the slave's active connection."""
    net = spec.network
    ifname = net.cluster_interface if node.role == "master" else "eth0"
    if node.role == "master":
        fact, parse, done = ("ip", "-j", "addr", "show", "dev", ifname), "ip_addresses", f"{node.address}/{net.subnet.prefixlen}"
    else:
        fact, parse, done = ("nmcli", "-g", "GENERAL.CONNECTION", "device", "show", ifname), "first_line", ifname
    return Command(name=f"activate the {ifname} profile", argv=("nmcli", "connection", "up", ifname),
                   fact=fact, parse=parse, done_if=done,
                   why=f"{ifname} runs on pirack's profile ({'static ' + str(node.address) if node.role == 'master' else 'DHCP from the master'})")


def uplink_snat_address(spec: Cluster) -> Command:
    """The SNAT address as a second address on the uplink's own connection.

    We do not know the Wi-Fi secrets, so we never write that keyfile: nmcli adds one address to
    whatever connection the uplink uses now. `nmcli device reapply` says success on a DHCP
    uplink yet NetworkManager drops the address (seen in the VM lab), so the connection is
    activated again (the uplink blinks once), and the fact is the device's addresses, not the
    profile's.
    """
    net = spec.network
    up, snat = net.uplink_interface, str(net.uplink_snat_address)
    conn = f'C="$(nmcli -g GENERAL.CONNECTION device show {up})" && [ -n "$C" ] && '
    return Command(
        name=f"add {snat} to the {up} connection",
        argv=("sh", "-c", conn + f'nmcli connection modify "$C" +ipv4.addresses {snat} && nmcli connection up "$C"'),
        fact=("ip", "-j", "addr", "show", "dev", up), parse="ip_addresses", done_if=snat,
        undo=("sh", "-c", conn + f'nmcli connection modify "$C" -ipv4.addresses {snat} && nmcli connection up "$C"'),
        why="cluster traffic leaves the uplink from this address (SNAT)",
    )


def wifi_off() -> Command:
    return Command(name="turn the Wi-Fi radio off", argv=("nmcli", "radio", "wifi", "off"),
                   fact=("nmcli", "radio", "wifi"), done_if="disabled",
                   why="slaves reach the world only through the master")
