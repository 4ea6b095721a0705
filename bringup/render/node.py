"""render_node: one node's whole plan from the cluster file."""

from __future__ import annotations

from pirack.errors import InputError
from pirack.load import LoadedCluster
from pirack.spec import Cluster, Node

from . import chrony, dnsmasq, guard, netboot, networkmanager, nfs, nftables, snmpd, system
from .model import NodePlan, RenderOptions, Secrets

MASTER_PACKAGES = ("dnsmasq", "nftables", "chrony", "snmpd", "nfs-kernel-server")
SLAVE_PACKAGES = ("chrony",)
SECRETS_PATH = "/etc/pirack/secrets.toml"


def node_named(spec: Cluster, name: str, display: str) -> Node:
    """The node called `name`, or InputError (exit 2) listing the nodes the file has."""
    node = spec.node(name)
    if node is None:
        raise InputError(display, "nodes", f"no node named {name!a} (nodes: {', '.join(n.name for n in spec.nodes)})")
    return node


def render_node(lc: LoadedCluster | Cluster, node_name: str, secrets: Secrets | None = None,
                options: RenderOptions | None = None) -> NodePlan:
    """Everything `node_name` should have, as data. Pure: reads no disk, runs nothing.

    The master needs `secrets.snmp_community`; the slaves need no secrets.
    Raises InputError for an unknown node, a missing secret, or a value that would put a line
    into a file that the cluster file did not mean (render/guard.py).
    """
    spec = lc.spec if isinstance(lc, LoadedCluster) else lc
    display = lc.display if isinstance(lc, LoadedCluster) else "cluster file"
    opts = options or RenderOptions()
    secrets = secrets or Secrets()
    node = node_named(spec, node_name, display)
    guard.check_inputs(display, spec, opts, secrets)
    plan = _master(spec, opts, secrets, display) if node.role == "master" else _slave(spec, node, opts)
    guard.check_plan(plan, display)
    return plan


def _common(spec: Cluster, node: Node, opts: RenderOptions, plan: NodePlan) -> None:
    plan.files += [system.hostname(node), system.loopback_hosts_block(spec, node),
                   networkmanager.cluster_keyfile(spec, node),
                   chrony.config_file(spec, node, opts)]
    if opts.admin_has_key:
        plan.files.append(system.sshd_dropin(spec))
    else:
        plan.notes.append("sshd keeps password logins: no admin (root, or a member of sudo) has an authorized "
                          "key that `ssh-keygen -l` accepts (add one to ~/.ssh/authorized_keys, then run again "
                          "to allow keys only)")


def _master(spec: Cluster, opts: RenderOptions, secrets: Secrets, display: str) -> NodePlan:
    node = spec.master
    if not secrets.snmp_community:
        raise InputError(SECRETS_PATH, "snmp.community",
                         "no SNMP community: write it there (mode 0600) or set PIRACK_SNMP_COMMUNITY")
    plan = NodePlan(node=node.name, role="master", packages=MASTER_PACKAGES, secrets=secrets.values())
    _common(spec, node, opts, plan)
    plan.files += [
        system.cluster_hosts(spec, opts.hosts_file),
        system.ip_forward(spec),
        nftables.rules_file(spec),
        nftables.main_conf_block(),
        dnsmasq.config_file(spec, opts),
        snmpd.config_file(spec, secrets.snmp_community),
    ]
    # Live state, in this order: the cluster address up (daemons bind it), forwarding, the
    # firewall loaded and kept over reboots, the SNAT address on the uplink device.
    plan.commands += [networkmanager.activate_cluster_profile(spec, node), system.ip_forward_live(),
                      nftables.table_loaded(spec), nftables.service_enabled(),
                      networkmanager.uplink_snat_address(spec)]
    if spec.storage is not None:
        fstab, mount_dir = system.fstab_block(spec)
        plan.files += [fstab, nfs.exports_file(spec)]
        plan.directories += [mount_dir, *nfs.export_dirs(spec)]
        plan.commands.append(system.mount_drive(spec))
        st = spec.storage
        plan.notes.append(f"the SSD is mounted by {'UUID' if st.uuid else 'LABEL'} at {st.mount_point}; "
                          f"format it only with `bringup storage format --device /dev/sdX`")
    if any(s.boot == "net" for s in spec.slaves):
        plan.files.append(nfs.nfs_conf())  # NFSv3 net boot: mountd on a fixed port
    for s in spec.slaves:
        if s.boot == "net":
            files, dirs = netboot.boot_files(spec, s)
            plan.files += files
            plan.directories += dirs
            plan.notes.append(f"{s.name} boots from the network: fill its boot folder and root with "
                              f"`bringup netboot prepare --node {s.name} --image FILE`, then:\n"
                              + netboot.eeprom_steps(s))
    return plan


def _slave(spec: Cluster, node: Node, opts: RenderOptions) -> NodePlan:
    plan = NodePlan(node=node.name, role="slave", packages=SLAVE_PACKAGES)
    _common(spec, node, opts, plan)
    if node.boot == "sd":
        # A net-booted slave has no SD boot partition: its config.txt lives in its TFTP folder.
        plan.files.append(netboot.slave_config_txt(node))
    if node.boot == "sd":
        # Not on a net-booted slave: its root is NFS over eth0, which must never blink.
        plan.commands.append(networkmanager.activate_cluster_profile(spec, node))
    plan.commands.append(networkmanager.wifi_off())
    return plan
