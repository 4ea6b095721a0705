"""The VM lab's pure parts: QEMU command lines, the wiring, the image's keys. No VM boots here."""

from __future__ import annotations

import pytest

from vm_cluster import NET_SLAVE, vm_cluster_text


@pytest.fixture(scope="module")
def lab_parts(tmp_path_factory):
    from pirack.load import load_cluster

    from bringup.lab.topology import build_topology
    from bringup.lab.vm import net

    f = tmp_path_factory.mktemp("vm") / "cluster.toml"
    f.write_text(vm_cluster_text())
    lc = load_cluster(f)
    t = build_topology(lc.spec, "t1")
    return lc, t, net.vm_nodes(lc.spec, t)


def test_nics_follow_the_cluster_file(lab_parts):
    lc, t, nodes = lab_parts
    by = {n.name: n for n in nodes}
    m = by["master"]
    assert [x.ifname for x in m.nics] == ["eth0", "wlan0", "ctl0"]  # the uplink is the second NIC
    assert m.nics[0].mac == lc.spec.master.mac
    net_slave = by[NET_SLAVE["name"]]
    # A net-booted slave has one NIC, as a Pi: its kernel's ip=dhcp must find only eth0.
    assert [(x.ifname, x.mac) for x in net_slave.nics] == [("eth0", NET_SLAVE["mac"])] and net_slave.ssh_port is None
    assert len({n.ssh_port for n in nodes if n.ssh_port}) == 2


def test_control_channel_is_restricted_user_networking_on_loopback(lab_parts):
    from bringup.lab.vm import qemu

    _, _, nodes = lab_parts
    m = nodes[0]
    vm = qemu.VmSpec(name="master", memory_mib=512, kernel="k", initrd="i", append="a", console_log="c",
                     qmp="q", nics=m.nics)
    argv = qemu.argv(vm)
    user = [a for a in argv if a.startswith("user,")]
    assert len(user) == 1 and "restrict=on" in user[0] and f"hostfwd=tcp:127.0.0.1:{m.ssh_port}-:22" in user[0]
    taps = [a for a in argv if a.startswith("tap,")]
    assert len(taps) == 2 and all("script=no" in a and "downscript=no" in a for a in taps)
    assert "-nodefaults" in argv and not any("bridge" in a or a.startswith("socket,") for a in argv)
    assert argv[argv.index("-accel") + 1].startswith("tcg,tb-size=")


def test_kernel_args_carry_names_key_and_masks():
    from bringup.lab.vm.qemu import kernel_args

    line = kernel_args("root=/dev/vda", {"eth0": "02:00:00:50:00:01", "wlan0": "02:aa:bb:cc:dd:ee"},
                       "ssh-ed25519 AAAA lab", ("dnsmasq.service",))
    words = line.split()
    assert words[0] == "root=/dev/vda" and "pirack.ifname=eth0=02:00:00:50:00:01,wlan0=02:aa:bb:cc:dd:ee" in words
    assert any(w.startswith("pirack.key=") and " " not in w for w in words)
    assert "systemd.mask=dnsmasq.service" in words


def test_wiring_has_no_way_out(lab_parts):
    from bringup.lab.vm import net

    lc, t, nodes = lab_parts
    host, per = net.ip_batches(lc.spec, t, nodes)
    assert set(per) == {t.uplink_ns, t.switch_ns}
    routes = [ln for lines in per.values() for ln in lines if ln.startswith("route")]
    assert routes == [f"route add {t.subnet} via {t.master_uplink_address.ip} dev {t.uplink_if}"]
    # Every tap lives in the switch namespace, on one of the lab's two bridges.
    taps = [ln.split()[3] for ln in per[t.switch_ns] if ln.startswith("tuntap add")]
    assert taps and all(f"link set {tap} master {br}" in per[t.switch_ns] for tap in taps
                        for br in [net.HOME_BRIDGE if tap.endswith("u") else t.bridge])
    from ipaddress import IPv4Address

    bench = net.bench_address(lc.spec)
    lo, hi = (IPv4Address(str(a)) for a in lc.spec.network.dhcp_range)
    assert bench.ip not in {n.address for n in lc.spec.nodes} and bench.ip in lc.spec.network.subnet
    assert not lo <= bench.ip <= hi  # never a lease the master could hand out


def test_uplink_dhcp_serves_only_the_master(lab_parts):
    from bringup.lab.vm import net

    lc, t, nodes = lab_parts
    mac = nodes[0].nics[1].mac
    conf = net.uplink_dnsmasq(t, mac, "/run/x", "ntp.nict.jp")
    assert f"dhcp-host={mac},{t.master_uplink_address.ip}" in conf
    assert f"address=/ntp.nict.jp/{t.ntp_source}" in conf and "no-resolv" in conf


def test_image_key_follows_its_inputs(tmp_path):
    from bringup.lab.vm import image

    a = image.base_key(archive="x")
    assert image.base_key(archive="x") == a and image.base_key(archive="y") != a
    assert image.base_key(packages=(*image.PACKAGES, "vim"), archive="x") != a
    src = tmp_path / "src"
    (src / "bringup").mkdir(parents=True)
    (src / "pyproject.toml").write_text("[project]\n")
    (src / "bringup" / "x.py").write_text("A = 1\n")
    d1 = image.source_digest(src)
    (src / "bringup" / "__pycache__").mkdir()
    (src / "bringup" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    assert image.source_digest(src) == d1  # caches do not change what goes into the wheel
    (src / "bringup" / "x.py").write_text("A = 2\n")
    assert image.source_digest(src) != d1
    assert image.image_key(a, d1) != image.image_key(a, image.source_digest(src))


def test_apt_archive_state_reads_release_files(tmp_path):
    from bringup.lab.vm import image

    lists = tmp_path / "lists"
    lists.mkdir()
    empty = image.apt_archive_state(lists)
    (lists / "deb.debian.org_debian_dists_bookworm_InRelease").write_text("Date: 1\n")
    one = image.apt_archive_state(lists)
    (lists / "deb.debian.org_debian_dists_bookworm_InRelease").write_text("Date: 2\n")
    assert len({empty, one, image.apt_archive_state(lists)}) == 3


def test_the_old_line_differs_from_the_rendered_one_only_in_nfs_options(tmp_path):
    """The broken line the VM scenario boots is pirack's rendered cmdline.txt with only the
    nfsroot options swapped, so what the lab tells apart is those options alone."""
    from pirack.load import load_cluster

    from bringup.lab.vm.scenario import OLD_NFSROOT, with_nfs_options
    from bringup.render.netboot import cmdline, nfs_root

    f = tmp_path / "cluster.toml"
    f.write_text(vm_cluster_text())
    spec = load_cluster(f).spec
    node = spec.node(NET_SLAVE["name"])
    line = cmdline(spec, node).strip()
    old = with_nfs_options(line, OLD_NFSROOT)
    assert f"nfsroot={spec.network.master_address}:{nfs_root(spec, node)},vers=3 " in line
    assert f"nfsroot={spec.network.master_address}:{nfs_root(spec, node)},{OLD_NFSROOT} " in old
    assert old.replace(OLD_NFSROOT, "vers=3") == line and "proto=" not in line
    assert with_nfs_options("root=/dev/nfs nfsroot=10.0.0.1:/r rw", "vers=3") == "root=/dev/nfs nfsroot=10.0.0.1:/r,vers=3 rw"
