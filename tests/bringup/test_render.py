"""Every rendered file read back and checked for what matters, for both clusters."""

import configparser
import ipaddress
import re

import pytest

from bringup.render import RenderOptions, Secrets, block_body, merge_block, render_node
from pirack.load import load_cluster

from bringup_helpers import SECRET


@pytest.fixture(scope="module")
def seed():
    return load_cluster(None)


@pytest.fixture(scope="module")
def four(clusters):
    return load_cluster(clusters["four"])


def master(lc, **opts):
    return render_node(lc, "master", secrets=Secrets(SECRET), options=RenderOptions(**opts))


def kv(text: str) -> list[tuple[str, str]]:
    """dnsmasq-style lines as (key, value) pairs, comments dropped."""
    out = []
    for ln in text.splitlines():
        ln = ln.strip()
        if ln and not ln.startswith("#"):
            k, _, v = ln.partition("=")
            out.append((k, v))
    return out


def dnsmasq(lc) -> dict[str, list[str]]:
    """The master's dnsmasq config as {key: [values, in order]}."""
    d: dict[str, list[str]] = {}
    for k, v in kv(master(lc).file("/etc/dnsmasq.d/pirack.conf").content):
        d.setdefault(k, []).append(v)
    return d


@pytest.mark.parametrize("which", ["seed", "four"])
def test_dnsmasq(which, request):
    """dnsmasq listens on the cluster side only, answers from our hosts file (never the host's
    /etc/hosts) for the cluster's domain, and forwards the rest upstream."""
    lc = request.getfixturevalue(which)
    net, d = lc.spec.network, dnsmasq(lc)
    assert d["interface"] == [net.cluster_interface] and "bind-dynamic" in d
    assert d["except-interface"] == [net.uplink_interface]
    assert d["addn-hosts"] == ["/etc/pirack/hosts"] and "no-hosts" in d
    assert "/etc/hosts" not in d["addn-hosts"]
    assert d["local"] == [f"/{net.domain}/"] and d["domain"] == [net.domain] and "expand-hosts" in d
    assert d["server"] == [str(a) for a in net.upstream_dns]


@pytest.mark.parametrize("which", ["seed", "four"])
def test_dnsmasq_dhcp_range_options_and_fixed_hosts(which, request):
    """The pool and its options (the master is router, DNS and NTP); every slave a fixed lease
    inside the subnet and outside the pool."""
    lc = request.getfixturevalue(which)
    spec, net, d = lc.spec, lc.spec.network, dnsmasq(lc)
    lo, hi, mask, lease = d["dhcp-range"][0].split(",")
    assert (lo, hi) == tuple(str(a) for a in net.dhcp_range) and mask == str(net.subnet.netmask)
    opts = dict(v.split(",", 1) for v in d["dhcp-option"])
    assert opts["option:router"] == opts["option:dns-server"] == opts["option:ntp-server"] == str(net.master_address)
    hosts = [v.split(",") for v in d["dhcp-host"]]
    assert hosts == [[n.mac, n.name, str(n.address)] for n in spec.slaves]
    for mac, name, ip in hosts:
        assert ipaddress.ip_address(ip) in net.subnet
        assert not (net.dhcp_range[0] <= ipaddress.ip_address(ip) <= net.dhcp_range[1])


@pytest.mark.parametrize("which", ["seed", "four"])
def test_dnsmasq_tftp_only_when_a_slave_boots_from_the_net(which, request):
    lc = request.getfixturevalue(which)
    spec, d = lc.spec, dnsmasq(lc)
    netboot = any(n.boot == "net" for n in spec.slaves)
    assert ("enable-tftp" in d) == netboot
    if netboot:
        assert d["tftp-root"] == [f"{spec.storage.mount_point}/tftpboot"]
        assert d["pxe-service"] == ['0,"Raspberry Pi Boot"']


def test_dnsmasq_lab_options(seed):
    conf = master(seed, dnsmasq_bind="bind-interfaces", dnsmasq_leasefile="/tmp/lab/leases",
                  dnsmasq_pidfile="/tmp/lab/dnsmasq.pid", path_prefix="/tmp/lab").file("/etc/dnsmasq.d/pirack.conf").content
    pairs = kv(conf)
    assert ("bind-interfaces", "") in pairs and ("bind-dynamic", "") not in pairs
    assert ("dhcp-leasefile", "/tmp/lab/tmp/lab/leases") in pairs
    assert ("addn-hosts", "/tmp/lab/etc/pirack/hosts") in pairs


def _chain(text: str, name: str) -> list[str]:
    body = re.search(rf"chain {name} \{{(.*?)\n\t\}}", text, re.S).group(1)
    return [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("#")]


@pytest.mark.parametrize("which", ["seed", "four"])
def test_nftables_snat_direction_and_scope(which, request):
    from bringup.render.nfs import MOUNTD_PORT

    lc = request.getfixturevalue(which)
    net = lc.spec.network
    cif, up = net.cluster_interface, net.uplink_interface
    text = master(lc).file("/etc/nftables.d/pirack.nft").content
    assert "flush ruleset" not in text
    # our table only, replaced in one file: create-if-missing, delete, define
    assert re.findall(r"^(?:table|delete table) .*$", text, re.M) == [
        "table inet pirack {}", "delete table inet pirack", "table inet pirack {"]
    snat = re.findall(r"ip saddr (\S+) oifname \"(\S+)\" snat to (\S+)", text)
    assert snat == [(str(net.subnet), up, str(net.uplink_snat_address.ip))]
    # forward: cluster -> uplink and its replies, then everything else dropped
    assert _chain(text, "forward")[1:] == [
        f'iifname "{cif}" oifname "{up}" ip saddr {net.subnet} accept',
        f'iifname "{up}" oifname "{cif}" ip daddr {net.subnet} ct state established,related accept',
        "drop"]
    # input: the cluster's services from the cluster side only, SSH from anywhere, then drop
    inp = _chain(text, "input")
    assert inp[-1] == "drop" and "tcp dport 22 accept" in inp
    for proto, ports in (("udp", {53, 67, 69, 111, 123, 161, 2049, MOUNTD_PORT}),
                         ("tcp", {53, 111, 2049, MOUNTD_PORT})):
        rule = next(r for r in inp if r.startswith(f'iifname "{cif}" {proto} dport'))
        assert set(map(int, re.search(r"\{ ([\d, ]+) \}", rule).group(1).split(", "))) == ports
    # every other accept is for packets the master itself asked for (or its IPv6 on the uplink)
    others = [r for r in inp if r.endswith("accept") and not r.startswith(f'iifname "{cif}"')]
    assert others == ['iifname "lo" accept', "ct state established,related accept", "tcp dport 22 accept",
                      "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } ip6 hoplimit 255 accept",
                      "ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept"]


def test_nftables_main_conf_block_keeps_the_rest(seed):
    f = master(seed).file("/etc/nftables.conf")
    assert f.kind == "block"
    old = "#!/usr/sbin/nft -f\nflush ruleset\ntable inet docker {}\n"
    merged = merge_block(old, f.content)
    assert merged.startswith(old) and 'include "/etc/nftables.d/pirack.nft"' in merged
    assert merge_block(merged, f.content) == merged  # idempotent
    assert block_body(merged) == f.content


@pytest.mark.parametrize("which", ["seed", "four"])
def test_networkmanager_keyfiles(which, request):
    lc = request.getfixturevalue(which)
    net = lc.spec.network
    f = master(lc).file("/etc/NetworkManager/system-connections/eth0.nmconnection")
    assert f.mode == 0o600 and f.owner == "root"
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(f.content)
    assert cp["connection"]["id"] == "eth0" and cp["connection"]["interface-name"] == net.cluster_interface
    assert cp["ipv4"]["method"] == "manual"
    assert cp["ipv4"]["address1"] == f"{net.master_address}/{net.subnet.prefixlen}"
    assert cp["ipv4"]["never-default"] == "true" and "gateway" not in cp["ipv4"]
    for s in lc.spec.slaves:
        sf = render_node(lc, s.name).file("/etc/NetworkManager/system-connections/eth0.nmconnection")
        cp = configparser.ConfigParser(interpolation=None)
        cp.read_string(sf.content)
        assert cp["ipv4"]["method"] == "auto" and sf.mode == 0o600


def test_uplink_address_command(seed):
    snat = str(seed.spec.network.uplink_snat_address)
    cmd = next(c for c in master(seed).commands if snat in c.name)
    assert f"+ipv4.addresses {snat}" in cmd.argv[-1] and cmd.done_if == snat
    # Activated again (device reapply drops it on a DHCP uplink), undone by revert, and the
    # fact is the device's addresses, not the profile (issue 15, failure 5).
    assert "nmcli connection up" in cmd.argv[-1] and "reapply" not in cmd.argv[-1]
    assert f"-ipv4.addresses {snat}" in cmd.undo[-1]
    assert cmd.fact == ("ip", "-j", "addr", "show", "dev", "wlan0") and cmd.parse == "ip_addresses"


def test_master_live_state_commands_come_in_order(seed):
    """The cluster address before anything that binds it; the firewall loaded and enabled; the
    SSD mounted (issue 15, failures 4, 6, 8)."""
    names = [c.name for c in master(seed).commands]
    assert names[0] == "activate the eth0 profile"
    assert "load table inet pirack" in names and "enable nftables.service" in names
    assert names[-1] == "mount the SSD at /mnt/usb"
    enable = next(c for c in master(seed).commands if c.name == "enable nftables.service")
    assert enable.argv == ("systemctl", "enable", "nftables.service") and enable.undo[1] == "disable"


def exports(plan) -> list[tuple[str, str]]:
    """The master's NFS exports as (path, clients) pairs, comments dropped."""
    return [tuple(ln.split("\t")) for ln in plan.file("/etc/exports.d/pirack.exports").content.splitlines()
            if ln and not ln.startswith("#")]


@pytest.mark.parametrize("which", ["seed", "four"])
def test_exports_and_netboot(which, request):
    """A root file system per net-booting slave, to that slave only; the data export to each
    slave's own address, never the whole subnet (the DHCP range with it)."""
    lc = request.getfixturevalue(which)
    spec = lc.spec
    plan = master(lc)
    lines = exports(plan)
    mp = spec.storage.mount_point
    roots = {p: c for p, c in lines if "/nfsroot/" in p}
    net_slaves = [n for n in spec.slaves if n.boot == "net"]
    assert roots == {f"{mp}/nfsroot/{n.name}": f"{n.address}(rw,sync,no_subtree_check,no_root_squash)" for n in net_slaves}
    data = [(p, c) for p, c in lines if p == f"{mp}/data"]
    assert data == [(f"{mp}/data", " ".join(f"{n.address}(rw,sync,no_subtree_check,root_squash)" for n in spec.slaves))]
    assert str(spec.network.subnet) not in plan.file("/etc/exports.d/pirack.exports").content


@pytest.mark.parametrize("which", ["seed", "four"])
def test_netboot_folder_per_net_booting_slave(which, request):
    """One TFTP folder per net-booting slave, named by its short serial (the EEPROM's
    TFTP_PREFIX=0), with its kernel command line (the NFS root) and config.txt."""
    lc = request.getfixturevalue(which)
    spec = lc.spec
    plan = master(lc)
    mp = spec.storage.mount_point
    net_slaves = [n for n in spec.slaves if n.boot == "net"]
    for n in net_slaves:
        folder = f"{mp}/tftpboot/{n.serial[-8:]}"
        cmdline = plan.file(f"{folder}/cmdline.txt").content
        assert cmdline.count("\n") == 1 and cmdline.endswith("\n")
        assert cmdline.split() == ["console=serial0,115200", "console=tty1", "root=/dev/nfs",
                                   f"nfsroot={spec.network.master_address}:{mp}/nfsroot/{n.name},vers=3",
                                   "rw", "ip=dhcp", "rootwait"]
        cfg = plan.file(f"{folder}/config.txt")
        assert cfg.kind == "block" and "dtoverlay=disable-wifi" in cfg.content.splitlines()
        assert any("BOOT_ORDER=0xf21" in note and "TFTP_PREFIX=0" in note for note in plan.notes)
    tftp_dirs = {d.path for d in plan.directories if d.path.startswith(f"{mp}/tftpboot/")}
    assert tftp_dirs == {f"{mp}/tftpboot/{n.serial[-8:]}" for n in net_slaves}


def test_fstab_block(seed):
    f = master(seed).file("/etc/fstab")
    fields = f.content.split()
    assert f.kind == "block" and fields[0] == "LABEL=pirack-ssd" and fields[1] == "/mnt/usb"
    # 10 s expired under emulation while the disk was probed, and took nfs-server with it
    assert "nofail" in fields[3].split(",") and "x-systemd.device-timeout=90s" in fields[3].split(",")
    old = "proc /proc proc defaults 0 0\nPARTUUID=x / ext4 defaults 0 1\n"
    merged = merge_block(old, f.content)
    assert merged.startswith(old) and merged.count("# BEGIN pirack") == 1


@pytest.mark.parametrize("which", ["seed", "four"])
def test_chrony_and_snmpd(which, request):
    lc = request.getfixturevalue(which)
    net = lc.spec.network
    plan = master(lc)
    c = plan.file("/etc/chrony/chrony.conf").content.splitlines()
    assert f"{net.ntp_source_type} {net.ntp_source} iburst" in c and f"allow {net.subnet}" in c
    assert "local stratum 10" in c
    logdir = next(ln.split()[1] for ln in c if ln.startswith("logdir"))
    assert not logdir.startswith(lc.spec.storage.mount_point)  # never on the SSD
    s = plan.file("/etc/snmp/snmpd.conf")
    assert s.secret and s.mode == 0o600
    assert f"agentAddress udp:{net.master_address}:161" in s.content.splitlines()
    assert f"rocommunity {SECRET} {net.subnet}" in s.content.splitlines()
    assert SECRET in plan.secrets
    for sl in lc.spec.slaves:
        sc = render_node(lc, sl.name).file("/etc/chrony/chrony.conf").content.splitlines()
        assert f"server {net.master_address} iburst" in sc and not any(ln.startswith("allow") for ln in sc)


@pytest.mark.parametrize("which", ["seed", "four"])
def test_slaves(which, request):
    lc = request.getfixturevalue(which)
    for s in lc.spec.slaves:
        plan = render_node(lc, s.name)
        paths = [f.path for f in plan.files]
        assert plan.file("/etc/hostname").content == f"{s.name}\n"
        assert ("/boot/firmware/config.txt" in paths) == (s.boot == "sd")
        if s.boot == "sd":
            assert "dtoverlay=disable-wifi" in plan.file("/boot/firmware/config.txt").content
        # An SD slave's eth0 is brought onto our profile; a net-booted one's never blinks (NFS root).
        up = [("nmcli", "connection", "up", "eth0")] if s.boot == "sd" else []
        assert [c.argv for c in plan.commands] == up + [("nmcli", "radio", "wifi", "off")]
        assert plan.packages == ("chrony",) and not plan.secrets


def test_root_squash_false_is_rendered_as_asked(seed):
    st = seed.spec.storage
    spec = seed.spec.model_copy(update={"storage": st.model_copy(update={"exports": [
        st.exports[0].model_copy(update={"root_squash": False})]})})
    text = render_node(spec, "master", secrets=Secrets(SECRET)).file("/etc/exports.d/pirack.exports").content
    assert f"{st.mount_point}/{st.exports[0].path}\t192.168.50.11(rw,sync,no_subtree_check,no_root_squash)\n" in text


def test_no_slaves_no_data_export(seed):
    """exports(5): a line without a client is exported to everyone; with no slave there is none."""
    spec = seed.spec.model_copy(update={"nodes": [seed.spec.master]})
    text = render_node(spec, "master", secrets=Secrets(SECRET)).file("/etc/exports.d/pirack.exports").content
    assert not [ln for ln in text.splitlines() if ln and not ln.startswith("#")]


def test_sshd_only_with_a_key(seed):
    assert not [f.path for f in master(seed).files if "sshd_config.d" in f.path]
    # sshd takes the first value it reads: ours must sort before cloud-init's 50-cloud-init.conf
    f = master(seed, admin_has_key=True).file("/etc/ssh/sshd_config.d/00-pirack.conf")
    assert sorted([f.path.rsplit("/", 1)[1], "50-cloud-init.conf"])[0] == "00-pirack.conf"
    assert "PasswordAuthentication no" in f.content.splitlines()
    assert "KbdInteractiveAuthentication no" in f.content.splitlines()


def test_master_needs_a_secret(seed):
    from pirack.errors import InputError

    with pytest.raises(InputError, match="SNMP community"):
        render_node(seed, "master")
    with pytest.raises(InputError, match="no node named 'nope'"):
        render_node(seed, "nope")
