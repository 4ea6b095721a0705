"""The master's firewall and SNAT: one table of our own, replaced in one transaction.

Policy (fixed: the cluster file has no key for it): from the uplink (or any interface but the
cluster's), only SSH is new-connection reachable; from the cluster, the services the master
offers it. Forwarding: cluster -> uplink and the replies, nothing else.

Where it lives: /etc/nftables.d/pirack.nft, a file that stands alone (`nft -f` on it replaces
our table atomically: create-if-missing, delete, define — never `flush ruleset`, which would
wipe Docker's or k3s's tables). /etc/nftables.conf gets one managed block that includes it, so
nftables.service loads it at boot after whatever the main file does; the rest of the main file
is the owner's.
"""

from __future__ import annotations

from pirack.spec import Cluster

from .common import header
from .model import Command, ManagedFile
from .nfs import MOUNTD_PORT

TABLE = "pirack"
RULES_PATH = "/etc/nftables.d/pirack.nft"
MAIN_CONF = "/etc/nftables.conf"
SSH_PORT = 22  # the one service the home network reaches (a fixed policy: the cluster file lists none)

# Services the master offers to the cluster, and only to it. NFSv3 (the net-booted slaves'
# initramfs mounts its root with v3 only) also needs rpcbind and mountd on a fixed port.
UDP_SERVICES = {53: "DNS", 67: "DHCP", 69: "TFTP", 111: "rpcbind", 123: "NTP", 161: "SNMP", 2049: "NFS",
                MOUNTD_PORT: "mountd"}
TCP_SERVICES = {53: "DNS", 111: "rpcbind", 2049: "NFS", MOUNTD_PORT: "mountd"}


def _ports(services: dict[int, str]) -> str:
    return ", ".join(str(p) for p in sorted(services))


def ruleset(spec: Cluster) -> str:
    net = spec.network
    cif, up, sub = net.cluster_interface, net.uplink_interface, net.subnet
    snat = net.uplink_snat_address.ip
    names = ", ".join(dict.fromkeys([*UDP_SERVICES.values(), *TCP_SERVICES.values()]))
    return header(spec) + f"""# Checked with `nft -c -f`; applied with `nft -f` (one transaction: all or nothing).
table inet {TABLE} {{}}
delete table inet {TABLE}
table inet {TABLE} {{
	# New connections to the master: from the cluster side, the services it offers the
	# cluster ({names});
	# SSH from anywhere; nothing else. The final drop is ours alone: a packet must pass every
	# table's chain on this hook, so no other table can open a port we drop.
	chain input {{
		type filter hook input priority filter; policy accept;
		iifname "lo" accept
		ct state established,related accept
		ct state invalid drop
		iifname "{cif}" udp dport {{ {_ports(UDP_SERVICES)} }} accept
		iifname "{cif}" tcp dport {{ {_ports(TCP_SERVICES)} }} accept
		iifname "{cif}" icmp type echo-request accept
		tcp dport {SSH_PORT} accept
		# The master's own IPv6 on the uplink: neighbour discovery and DHCPv6 replies.
		icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert }} ip6 hoplimit 255 accept
		ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept
		drop
	}}

	# Routing: the cluster to the uplink (SNAT below) and the replies back; nothing else, so
	# the master never routes between two other interfaces or from the uplink inward.
	chain forward {{
		type filter hook forward priority filter; policy accept;
		iifname "{cif}" oifname "{up}" ip saddr {sub} accept
		iifname "{up}" oifname "{cif}" ip daddr {sub} ct state established,related accept
		drop
	}}

	# SNAT, not masquerade: the cluster leaves the uplink from its own extra address.
	# Source = the cluster subnet, target = the SNAT address (the seed's rule had them reversed).
	chain postrouting {{
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr {sub} oifname "{up}" snat to {snat}
	}}
}}
"""


def rules_file(spec: Cluster) -> ManagedFile:
    # On revert the table follows the file: the old file loaded again, or our table deleted.
    undo = (f"if [ -s {RULES_PATH} ]; then nft -f {RULES_PATH}; "
            f"else nft delete table inet {TABLE} 2>/dev/null; true; fi")
    return ManagedFile(RULES_PATH, ruleset(spec), mode=0o644, check="nft",
                       after=("nft", "-f", RULES_PATH), revert=("sh", "-c", undo),
                       why="SNAT, forward policy; SSH and the cluster-only services in, nothing else")


def table_loaded(spec: Cluster) -> Command:
    """The kernel has our table, with its chains and SNAT target: a file on disk is not a
    firewall (after a reboot with nftables.service disabled the file is there, the table not)."""
    snat = spec.network.uplink_snat_address.ip
    return Command(name=f"load table inet {TABLE}", argv=("nft", "-f", RULES_PATH),
                   fact=("nft", "-j", "list", "table", "inet", TABLE), parse="nft_table",
                   done_if=("chain input", "chain forward", "chain postrouting", f"snat {snat}"),
                   why="the firewall and SNAT are loaded, not only written")


def service_enabled() -> Command:
    """Debian ships nftables.service disabled: without it the table is gone after a reboot.
    Enabled only (not started now: the package's nftables.conf begins with `flush ruleset`)."""
    return Command(name="enable nftables.service", argv=("systemctl", "enable", "nftables.service"),
                   fact=("systemctl", "is-enabled", "nftables.service"), parse="first_line", done_if="enabled",
                   undo=("systemctl", "disable", "nftables.service"),
                   why="the firewall and SNAT come back after a reboot")


def main_conf_block() -> ManagedFile:
    return ManagedFile(MAIN_CONF, f'include "{RULES_PATH}"\n', kind="block",
                       why="nftables.service loads our table at boot")
