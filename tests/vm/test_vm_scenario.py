"""The VM lab's scenario, live: real Debian 12 nodes with systemd, NetworkManager and kernel NFS
(bringup/lab/vm). One test, because every step stands on the one before and a boot under
emulation costs a minute: the image is built (or taken from the cache), the master and an SD
slave boot, the master formats its SSD and converges, a slave net-boots from it, a second run
changes nothing, verify sees no drift, the lab's checks pass, the old `vers=4.1,proto=tcp` line
hangs where the rendered one boots, every node reboots and the checks pass again, and revert on
the master puts the package defaults back with the daemons still running.

Times go to bench/bench_vm.py, not here.
"""

from __future__ import annotations

import os
import shutil

import pytest

from vm_cluster import NET_SLAVE, write_vm_cluster

pytestmark = [pytest.mark.vm, pytest.mark.root]

TOOLS = ("qemu-system-x86_64", "qemu-img", "mmdebstrap", "mkfs.ext4", "ssh", "busybox")
OLD_NFSROOT = "vers=4.1,proto=tcp"
HANG_SECONDS = 300  # the old line's initramfs must say it is retrying within this


def _missing() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the VM lab needs root (namespaces, taps)")
    if _missing():
        pytest.skip(f"not installed: {', '.join(_missing())} (bash tools/install.sh --test)")
    from pirack.load import load_cluster

    from bringup.lab.vm.lab import VmLab, down

    lc = load_cluster(write_vm_cluster(tmp_path_factory.mktemp("vmlab")))
    lab = VmLab(lc, "vmtest")
    try:
        yield lab
    finally:
        _, problems = down(lab.t.lab_id)
        assert not problems


def _failed_checks(checks, allow_system=()):
    bad = []
    for c in checks:
        if c.ok:
            continue
        if c.name == "system" and allow_system and c.detail.startswith("degraded: failed ") and \
                set(c.detail.split("failed ", 1)[1].split(", ")) <= set(allow_system):
            continue
        bad.append(f"{c.name} ({c.where}): {c.detail}")
    return bad


def test_vm_scenario(lab):
    from bringup.lab.vm import scenario
    from bringup.lab.vm.lab import down
    from bringup.lab.vm.verify import verify

    master, sd, net = lab.t.master.name, "slave1", NET_SLAVE["name"]
    lab.up_infra()
    lab.st.community = "vmtest-community"
    lab.st.save()
    assert lab.info.accel in ("tcg", "kvm") and lab.info.accel_why
    scenario.boot_all(lab, [master, sd])
    steps = scenario.converge(lab, lab.st.community)
    assert [s.what for s in steps][:2] == [f"bringup storage format --device /dev/sda --yes-i-am-sure /dev/sda",
                                           "bringup run"]

    # The master's first run mounted the SSD and exported it; nothing fell back to the default.
    out = steps[1].output
    assert "built-in default" not in out and "/etc/pirack/cluster.toml" in out
    assert "command: mount the SSD at /mnt/usb" in out and "run None" not in out

    # A second run changes nothing; verify, which reads live state, sees no drift.
    for s in scenario.run_everywhere(lab, "run"):
        assert s.ok and "no changes" in s.output, (s.node, s.output)
    for s in scenario.run_everywhere(lab, "verify"):
        assert s.ok and "no drift" in s.output, (s.node, s.output)

    # The lab's probes, live. Before any reboot a node may still carry its first boot's failed
    # wait for the network (no DHCP server existed yet): that is the OS before pirack, named.
    checks = verify(lab, lab.st.community)
    assert not _failed_checks(checks, allow_system=("NetworkManager-wait-online.service",))
    names = {(c.name, c.where) for c in checks}
    assert {("NFS root", net), ("boot firmware", net), ("TFTP", net), ("SNAT", sd)} <= names

    _old_line_hangs(lab, master, net)

    # Every node reboots; services come back by themselves.
    lab.reboot([master, sd, net])
    checks = verify(lab, lab.st.community)
    assert not _failed_checks(checks)

    _revert_restores_package_defaults(lab, master)

    removed, problems = down(lab.t.lab_id)
    assert not problems and any(r.startswith("VM ") for r in removed)


def _old_line_hangs(lab, master, net):
    """The old cmdline.txt line, in the same VM: the Bookworm initramfs cannot mount it. Then the
    slave boots its rendered line again."""
    from bringup.lab.vm.qemu import wait_console

    lab.power_off(net)
    old = lab.ssh(master, f"cat /mnt/usb/tftpboot/{NET_SLAVE['serial'][-8:]}/cmdline.txt").stdout.splitlines()[0]
    assert ",vers=3 " in old
    lab.boot(net, cmdline=old.replace(",vers=3 ", f",{OLD_NFSROOT} "))
    seen = wait_console(lab.console(net), ("Retrying nfs mount", "login:"), HANG_SECONDS, lambda: lab.alive(net))
    assert seen == "Retrying nfs mount", f"the old line did not hang as reported: {seen}"
    lab.power_off(net)
    lab.boot(net)
    lab.wait_ready(net)


def _revert_restores_package_defaults(lab, master):
    """Revert on the master: package defaults back, live state too, daemons still start."""
    from bringup.lab.vm import scenario

    # `netboot prepare` replaced the boot folder's config.txt after the run wrote it: revert names
    # it and stops; --force reverts and keeps that file aside.
    refused = scenario.bringup(lab, master, "revert")
    assert not refused.ok and "config.txt: edited" in refused.output, refused.output
    rev = scenario.bringup(lab, master, "revert --force")
    assert rev.ok, rev.output
    live = lab.ssh(master, "hostname; sysctl -n net.ipv4.ip_forward; nft list table inet pirack >/dev/null 2>&1 "
                           "&& echo table || echo no-table; ip -br addr show dev wlan0; "
                           "systemctl is-active dnsmasq snmpd chrony ssh; systemctl is-enabled nftables; "
                           "test -e /etc/dnsmasq.d/pirack.conf && echo ours || echo package", check=False).stdout.split()
    assert live[0] == "raspberrypi" and live[1] == "0" and "no-table" in live
    assert "192.168.11.211/24" not in live
    assert live[-6:] == ["active", "active", "active", "active", "disabled", "package"]
