"""The master's firewall and SNAT: one table of our own, replaced in one transaction.

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

TABLE = "pirack"
RULES_PATH = "/etc/nftables.d/pirack.nft"
MAIN_CONF = "/etc/nftables.conf"

# Services the master offers to the cluster, and only to it.
# rpcbind (111) and mountd (pinned to 20048, render/netboot.py) serve NFSv3: the net-booted
# slaves' initramfs mounts its root with v3. rpcbind listens on every interface by default.
UDP_SERVICES = {53: "DNS", 67: "DHCP", 69: "TFTP", 111: "rpcbind", 123: "NTP", 161: "SNMP", 20048: "mountd"}
TCP_SERVICES = {53: "DNS", 111: "rpcbind", 2049: "NFS", 20048: "mountd"}


def ruleset(spec: Cluster) -> str:
    net = spec.network
    cif, up, sub = net.cluster_interface, net.uplink_interface, net.subnet
    snat = net.uplink_snat_address.ip
    udp = ", ".join(str(p) for p in UDP_SERVICES)
    tcp = ", ".join(str(p) for p in TCP_SERVICES)
    return header(spec) + f"""# Checked with `nft -c -f`; applied with `nft -f` (one transaction: all or nothing).
table inet {TABLE} {{}}
delete table inet {TABLE}
table inet {TABLE} {{
	# The cluster services ({", ".join(sorted(set(UDP_SERVICES.values()) | set(TCP_SERVICES.values())))}) answer on the cluster side only.
	# Policy accept: other tables (and SSH from home) are not ours to decide.
	chain input {{
		type filter hook input priority filter; policy accept;
		iifname "lo" accept
		iifname "{cif}" udp dport {{ {udp} }} accept
		iifname "{cif}" tcp dport {{ {tcp} }} accept
		udp dport {{ {udp} }} drop
		tcp dport {{ {tcp} }} drop
	}}

	# Cluster -> uplink allowed, replies back, nothing new from the uplink into the cluster.
	# Policy accept and explicit drops: a drop policy here would also drop forwarding that
	# other tables (Docker, k3s) accept, since every base chain on the hook must pass a packet.
	chain forward {{
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		iifname "{cif}" oifname "{up}" ip saddr {sub} accept
		oifname "{cif}" drop
		iifname "{cif}" drop
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
                       why="SNAT, forward policy and cluster-only services")


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
