"""chrony: the master serves time to the cluster, slaves follow the master."""

from __future__ import annotations

from pirack.spec import Cluster, Node

from .common import header, prefixed
from .model import ManagedFile, RenderOptions

PATH = "/etc/chrony/chrony.conf"


def config(spec: Cluster, node: Node, opts: RenderOptions) -> str:
    net = spec.network
    p = opts.path_prefix
    if node.role == "master":
        src = f"{net.ntp_source_type} {net.ntp_source} iburst\n"
        if opts.chrony_source_override:
            src = f"server {opts.chrony_source_override} iburst\n"
        serve = (f"# Serve the cluster, and keep serving (stratum 10) when the uplink is down.\n"
                 f"allow {net.subnet}\nlocal stratum 10\n")
    else:
        src = f"server {net.master_address} iburst\n"
        serve = ""
    return (header(spec) + src + serve +
            f"driftfile {prefixed(p, opts.chrony_driftfile)}\n"
            f"# logdir stays on the SD card: the SSD may be missing at boot.\n"
            f"logdir {prefixed(p, opts.chrony_logdir)}\n"
            "makestep 1 3\nrtcsync\n" +
            (f"pidfile {prefixed(p, opts.chrony_pidfile)}\n" if opts.chrony_pidfile else "") +
            (f"bindcmdaddress {prefixed(p, opts.chrony_cmdsocket)}\n" if opts.chrony_cmdsocket else ""))


def config_file(spec: Cluster, node: Node, opts: RenderOptions) -> ManagedFile:
    return ManagedFile(PATH, config(spec, node, opts), check="chrony", service="chrony",
                       why="time from " + ("the NTP source, served to the cluster" if node.role == "master" else "the master"))
