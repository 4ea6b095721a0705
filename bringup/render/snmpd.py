"""snmpd on the master: read-only, on the cluster address, to the cluster subnet only."""

from __future__ import annotations

from pirack.spec import Cluster

from .common import header
from .model import ManagedFile

PATH = "/etc/snmp/snmpd.conf"


def config(spec: Cluster, community: str) -> str:
    net = spec.network
    return (header(spec) +
            f"agentAddress udp:{net.master_address}:161\n"
            f"rocommunity {community} {net.subnet}\n"
            f"sysName {spec.fqdn(spec.master)}\n"
            f"sysLocation {spec.cluster.name} rack\n"
            "sysServices 72\n")


def config_file(spec: Cluster, community: str) -> ManagedFile:
    # 0600: the community is a password.
    return ManagedFile(PATH, config(spec, community), mode=0o600, check="snmpd", service="snmpd",
                       secret=True, why="SNMP for the cluster")
