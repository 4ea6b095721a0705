"""Renderers: cluster spec -> what one node should look like (files, folders, commands, packages).

Pure functions, no disk and no network, so the engine, the tests and the virtual lab share them:

    from bringup.render import render_node, RenderOptions, Secrets
    plan = render_node(load_cluster(path), "master", secrets=Secrets(snmp_community="..."),
                       options=RenderOptions(dnsmasq_bind="bind-interfaces", path_prefix=root))
    for f in plan.files: f.path, f.content, f.mode, f.owner, f.check, f.service ...

A file of kind "block" is only our block inside a bigger file: `merge_block(old, f.content)`.
One module per daemon: dnsmasq.py, nftables.py, chrony.py, snmpd.py, nfs.py, netboot.py,
networkmanager.py, system.py (hostname, hosts, sysctl, fstab, sshd).
"""

from .model import (BEGIN_MARK, END_MARK, REDACTED, Command, ManagedDir, ManagedFile, NodePlan,
                    RenderOptions, Secrets, block_body, merge_block)
from .node import MASTER_PACKAGES, SECRETS_PATH, SLAVE_PACKAGES, node_named, render_node

__all__ = ["render_node", "node_named", "NodePlan", "ManagedFile", "ManagedDir", "Command", "RenderOptions",
           "Secrets", "merge_block", "block_body", "BEGIN_MARK", "END_MARK", "REDACTED",
           "MASTER_PACKAGES", "SLAVE_PACKAGES", "SECRETS_PATH"]
