"""The VM lab's wiring (pure data): the same uplink namespace as the namespace lab, and one
"switch" namespace that holds the cluster bridge, the home network's bridge, every VM's taps
and the QEMU processes themselves.

  uplink ns  (pirl-ID-up)   up0: the home router (fake upstream DNS + DHCP for the master's
                             uplink, NTP, echo); its only link is to the home bridge
  switch ns  (pirl-ID-sw)   bridge poe:  the cluster network (every node's eth0 tap) and the
                                          lab bench's address (TFTP loader, SSH to net-booted)
                             bridge home: the master's uplink tap + the veth to the uplink ns
                             QEMU runs here: its user-network SSH forwards bind 127.0.0.1 of
                             this namespace, so nothing of the lab listens on the host's.

No namespace has a route out of the lab; the guests' control NICs are QEMU user networking with
restrict=on (no outbound connection at all, only the forwarded SSH port).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

from pirack.spec import Cluster

from ..topology import Topology
from .qemu import Nic

HOME_BRIDGE = "home"
HOME_VETH = "home0"  # its peer in the uplink namespace is the topology's uplink_if (up0)
SSH_PORT_BASE = 2200


@dataclass(frozen=True)
class VmNode:
    name: str
    role: str
    boot: str  # sd | net
    nics: tuple[Nic, ...]
    ssh_port: int | None  # None: reached over the cluster network (a net-booted slave)
    address: IPv4Address  # cluster address

    @property
    def ifnames(self) -> dict[str, str]:
        return {n.ifname: n.mac for n in self.nics}


def lab_mac(lab_id: str, what: str) -> str:
    """A stable, locally administered MAC for a NIC the cluster file does not name."""
    h = hashlib.sha256(f"{lab_id}:{what}".encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in h[:5])


def bench_address(spec: Cluster) -> IPv4Interface:
    """The lab bench's address on the cluster bridge: the subnet's last host that is neither a
    node's nor in the DHCP range (the bench is not a node; it fetches boot files like a Pi's
    boot ROM would and reaches net-booted slaves by SSH)."""
    net = spec.network
    taken = {n.address for n in spec.nodes}
    lo, hi = (IPv4Address(str(a)) for a in net.dhcp_range)
    for h in reversed(list(net.subnet.hosts())):
        if h not in taken and not lo <= h <= hi:
            return IPv4Interface(f"{h}/{net.subnet.prefixlen}")
    raise ValueError(f"no free address for the lab bench in {net.subnet}")


def vm_nodes(spec: Cluster, t: Topology) -> list[VmNode]:
    out = []
    for i, n in enumerate(t.nodes):
        nics = [Nic(n.interface, n.mac, tap=f"tap{i}c")]
        if n.role == "master":
            nics.append(Nic(t.master_uplink_if, lab_mac(t.lab_id, f"{n.name}:uplink"), tap=f"tap{i}u"))
        port = None
        if n.boot == "sd":  # a net-booted slave has one NIC, as a Pi: its kernel's ip=dhcp must find only eth0
            port = SSH_PORT_BASE + i
            nics.append(Nic("ctl0", lab_mac(t.lab_id, f"{n.name}:control"), ssh_port=port))
        out.append(VmNode(n.name, n.role, n.boot, tuple(nics), port, n.address))
    return out


def ip_batches(spec: Cluster, t: Topology, nodes: list[VmNode]) -> tuple[list[str], dict[str, list[str]]]:
    """`ip -batch` lines: in the host's namespace (namespaces, the home veth), then per namespace."""
    host = [f"netns add {t.uplink_ns}", f"netns add {t.switch_ns}",
            f"link add {HOME_VETH} netns {t.switch_ns} type veth peer name {t.uplink_if} netns {t.uplink_ns}"]
    sw = ["link set lo up", f"link add {t.bridge} type bridge", f"link add {HOME_BRIDGE} type bridge",
          f"link set {HOME_VETH} master {HOME_BRIDGE}", f"link set {HOME_VETH} up",
          f"addr add {bench_address(spec)} dev {t.bridge}"]
    for n in nodes:
        for nic in n.nics:
            if nic.tap:
                br = HOME_BRIDGE if nic.ifname == t.master_uplink_if and n.role == "master" else t.bridge
                sw += [f"tuntap add dev {nic.tap} mode tap", f"link set {nic.tap} master {br}",
                       f"link set {nic.tap} up"]
    sw += [f"link set {t.bridge} up", f"link set {HOME_BRIDGE} up"]
    up = ["link set lo up", f"addr add {t.router}/{t.uplink_net.prefixlen} dev {t.uplink_if}",
          f"link set {t.uplink_if} up"]
    for a in t.extra_uplink_addresses:
        plen = t.uplink_net.prefixlen if a in t.uplink_net else 32
        up.append(f"addr add {a}/{plen} dev {t.uplink_if}")
    # As in the namespace lab: the uplink's one route points at the cluster through the master,
    # the worst a home network can be; the master's firewall must keep it out.
    up.append(f"route add {t.subnet} via {t.master_uplink_address.ip} dev {t.uplink_if}")
    return host, {t.switch_ns: sw, t.uplink_ns: up}


def uplink_dnsmasq(t: Topology, master_uplink_mac: str, run_dir: str, ntp_name: str | None) -> str:
    """The home router's dnsmasq: the fake upstream DNS (as the namespace lab's) plus DHCP on the
    home network, with a fixed lease for the master's uplink (a Pi on home Wi-Fi gets its address
    by DHCP: the case where NetworkManager drops an address added by hand)."""
    from ..uplink import dns_config

    lines = [dns_config(t, Path(run_dir))]
    if t.router not in t.upstream_dns:
        lines.append(f"listen-address={t.router}\n")
    net = t.uplink_net
    lines.append(
        f"dhcp-range={t.master_uplink_address.ip},{t.master_uplink_address.ip},{net.netmask},1h\n"
        f"dhcp-host={master_uplink_mac},{t.master_uplink_address.ip}\n"
        f"dhcp-option=option:router,{t.router}\n"
        f"dhcp-option=option:dns-server,{','.join(str(a) for a in t.upstream_dns)}\n"
        f"dhcp-leasefile={run_dir}/uplink-dnsmasq.leases\n"
        "dhcp-authoritative\n")
    if ntp_name:  # the file names an NTP host: upstream DNS answers it with the lab's NTP source
        lines.append(f"address=/{ntp_name}/{t.ntp_source}\n")
    return "".join(lines)
