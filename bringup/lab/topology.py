"""The lab's shape from the cluster file: namespaces, links and addresses (pure data).

Every veth is created directly inside the lab's namespaces, so no lab link ever exists in the
host's namespace and names like eth0 cannot clash with the host's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `down` imports this module: keep it free of pydantic's start-up cost
    from pirack.spec import Cluster

PREFIX = "pirl-"
# The fake upstream's test zone: names here resolve only through the uplink's DNS.
UPSTREAM_ZONE = "upstream.test"
UPSTREAM_ANSWER = IPv4Address("192.0.2.53")  # TEST-NET-1 (RFC 5737)
ECHO_PORT = 7


def lab_id_for(spec: Cluster) -> str:
    """A short, stable id per cluster name, so `up` of the same cluster sweeps its stale lab."""
    return lab_id_for_name(spec.cluster.name)


def lab_id_for_name(name: str) -> str:
    """lab_id_for from the name alone (`lab down` reads only the name from the file)."""
    return hashlib.sha1(name.encode()).hexdigest()[:6]


@dataclass(frozen=True)
class Link:
    """One veth pair: `name` in namespace `ns`, `peer` in namespace `peer_ns`."""

    ns: str
    name: str
    peer_ns: str
    peer: str
    mac: str | None = None  # the MAC of `name` (a slave's eth0 carries the cluster file's MAC)


@dataclass(frozen=True)
class NodeNet:
    name: str
    role: str
    ns: str
    interface: str  # cluster-side interface
    mac: str
    address: IPv4Address  # static (master) or reserved by DHCP (slave)
    boot: str
    serial: str | None


@dataclass(frozen=True)
class Topology:
    lab_id: str
    subnet: IPv4Network
    domain: str
    uplink_ns: str
    switch_ns: str
    bridge: str
    master: NodeNet
    slaves: list[NodeNet]
    links: list[Link]
    uplink_if: str  # the uplink's side of the master's uplink veth
    master_uplink_if: str  # named as in the file (wlan0)
    uplink_net: IPv4Network
    router: IPv4Address  # the home router: the master's default route
    master_uplink_address: IPv4Interface
    snat_address: IPv4Interface
    upstream_dns: list[IPv4Address]
    ntp_source: IPv4Address  # where the uplink's chronyd listens
    ntp_override: bool  # True: the file names a host, the lab points the master at ntp_source
    extra_uplink_addresses: list[IPv4Address] = field(default_factory=list)

    @property
    def nodes(self) -> list[NodeNet]:
        return [self.master, *self.slaves]

    @property
    def namespaces(self) -> list[str]:
        return [self.uplink_ns, self.switch_ns, *(n.ns for n in self.nodes)]


def _ns_name(lab_id: str, what: str) -> str:
    return f"{PREFIX}{lab_id}-{what}"


def build_topology(spec: Cluster, lab_id: str | None = None) -> Topology:
    lab_id = lab_id or lab_id_for(spec)
    net = spec.network
    uplink_net = net.uplink_snat_address.network
    upstream = list(net.upstream_dns)
    # The home router: the first upstream DNS on the home network (the seed's 192.168.11.1),
    # else the home network's first free host.
    taken = {net.uplink_snat_address.ip, *upstream}
    router = next((a for a in upstream if a in uplink_net), None)
    if router is None:
        router = next(h for h in uplink_net.hosts() if h not in taken)
    taken.add(router)
    try:
        ntp = IPv4Address(net.ntp_source)
        ntp_override = False
    except ValueError:
        ntp, ntp_override = router, True
    taken.add(ntp)
    master_up = next(h for h in uplink_net.hosts() if h not in taken)
    extra = sorted({a for a in (*upstream, ntp) if a != router})

    uplink_ns = _ns_name(lab_id, "up")
    switch_ns = _ns_name(lab_id, "sw")
    m = spec.master
    master = NodeNet(m.name, "master", _ns_name(lab_id, m.name), net.cluster_interface, m.mac,
                     m.address, m.boot, m.serial)
    slaves = [NodeNet(s.name, "slave", _ns_name(lab_id, s.name), "eth0", s.mac, s.address, s.boot, s.serial)
              for s in spec.slaves]
    links = [Link(master.ns, master.interface, switch_ns, "port0", master.mac),
             Link(master.ns, net.uplink_interface, uplink_ns, "up0")]
    links += [Link(s.ns, s.interface, switch_ns, f"port{i}", s.mac) for i, s in enumerate(slaves, 1)]
    return Topology(
        lab_id=lab_id, subnet=net.subnet, domain=net.domain, uplink_ns=uplink_ns, switch_ns=switch_ns,
        bridge="poe", master=master, slaves=slaves, links=links, uplink_if="up0",
        master_uplink_if=net.uplink_interface, uplink_net=uplink_net, router=router,
        master_uplink_address=IPv4Interface(f"{master_up}/{uplink_net.prefixlen}"),
        snat_address=net.uplink_snat_address, upstream_dns=upstream, ntp_source=ntp,
        ntp_override=ntp_override, extra_uplink_addresses=extra,
    )


def ip_batches(t: Topology) -> tuple[list[str], dict[str, list[str]]]:
    """`ip -batch` lines: first in the host's namespace (create namespaces and veths), then
    per namespace (addresses, routes, bridge)."""
    host = [f"netns add {ns}" for ns in t.namespaces]
    for ln in t.links:
        mac = f" address {ln.mac}" if ln.mac else ""
        host.append(f"link add {ln.name} netns {ln.ns}{mac} type veth peer name {ln.peer} netns {ln.peer_ns}")
    per: dict[str, list[str]] = {ns: ["link set lo up"] for ns in t.namespaces}
    per[t.switch_ns] += [f"link add {t.bridge} type bridge", f"link set {t.bridge} up"]
    for ln in t.links:
        if ln.peer_ns == t.switch_ns:
            per[t.switch_ns] += [f"link set {ln.peer} master {t.bridge}", f"link set {ln.peer} up"]
    m = t.master
    per[m.ns] += [
        f"addr add {m.address}/{t.subnet.prefixlen} dev {m.interface}",
        f"link set {m.interface} up",
        f"addr add {t.master_uplink_address} dev {t.master_uplink_if}",
        f"addr add {t.snat_address} dev {t.master_uplink_if}",
        f"link set {t.master_uplink_if} up",
        f"route add default via {t.router} dev {t.master_uplink_if}",
    ]
    up = t.uplink_ns
    per[up] += [f"addr add {t.router}/{t.uplink_net.prefixlen} dev {t.uplink_if}", f"link set {t.uplink_if} up"]
    for a in t.extra_uplink_addresses:
        plen = t.uplink_net.prefixlen if a in t.uplink_net else 32
        per[up].append(f"addr add {a}/{plen} dev {t.uplink_if}")
    # No default route in the uplink: only its veth to the master. The one route it gets points
    # at the cluster through the master, the worst case a home network can be: the master's
    # firewall, not missing routes, must keep it out.
    per[up].append(f"route add {t.subnet} via {t.master_uplink_address.ip} dev {t.uplink_if}")
    for s in t.slaves:
        per[s.ns].append(f"link set {s.interface} up")
    return host, per

