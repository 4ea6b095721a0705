"""dnsmasq on the master: DHCP with a static lease per node, DNS for the cluster domain, TFTP."""

from __future__ import annotations

from pirack.spec import Cluster

from .common import drive_path, header, prefixed
from .model import ManagedFile, RenderOptions

PATH = "/etc/dnsmasq.d/pirack.conf"


def config(spec: Cluster, opts: RenderOptions) -> str:
    net = spec.network
    lo, hi = net.dhcp_range
    p = opts.path_prefix
    out = [header(spec)]
    out.append(f"""# Only the cluster side: never answer DHCP or DNS on the home network.
interface={net.cluster_interface}
{opts.dnsmasq_bind}
except-interface={net.uplink_interface}

# DNS: cluster names from our hosts file (not /etc/hosts), the rest forwarded upstream.
no-resolv
no-hosts
addn-hosts={prefixed(p, opts.hosts_file)}
domain-needed
bogus-priv
domain={net.domain}
local=/{net.domain}/
expand-hosts
""")
    for dns in net.upstream_dns:
        out.append(f"server={dns}\n")
    out.append(f"""
# DHCP: the dynamic range, then a fixed address per node (by its eth0 MAC).
dhcp-authoritative
dhcp-range={lo},{hi},{net.subnet.netmask},{net.lease_time}
dhcp-leasefile={prefixed(p, opts.dnsmasq_leasefile)}
dhcp-option=option:router,{net.master_address}
dhcp-option=option:dns-server,{net.master_address}
dhcp-option=option:ntp-server,{net.master_address}
dhcp-option=option:domain-search,{net.domain}
""")
    if opts.dnsmasq_pidfile:
        out.append(f"pid-file={prefixed(p, opts.dnsmasq_pidfile)}\n")
    for n in spec.slaves:
        out.append(f"dhcp-host={n.mac},{n.name},{n.address}\n")
    if any(n.boot == "net" for n in spec.slaves) and spec.storage is not None:
        out.append(f"""
# Net boot (Pi 4 bootloader): TFTP from the SSD, one folder per slave.
# tftp-no-fail: a missing SSD must not take DHCP and DNS down with it.
enable-tftp
tftp-root={prefixed(p, drive_path(spec, spec.storage.tftp_root))}
tftp-no-fail
pxe-service=0,"Raspberry Pi Boot"
""")
    return "".join(out)


def config_file(spec: Cluster, opts: RenderOptions) -> ManagedFile:
    return ManagedFile(PATH, config(spec, opts), check="dnsmasq", service="dnsmasq",
                       why="DHCP, DNS and TFTP for the cluster")
