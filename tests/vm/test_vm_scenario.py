"""The VM lab's scenario, live: real Debian 12 nodes with systemd, NetworkManager and kernel NFS
(bringup/lab/vm). One test, because every step stands on the one before and a boot under
emulation costs a minute: the image is built (or taken from the cache), the master and an SD
slave boot, the master formats its SSD and converges, a slave net-boots from it (the files it
fetched over TFTP booted twice: the old `vers=4.1,proto=tcp` line hangs in the initramfs, the
rendered one boots), a second run changes nothing, verify sees no drift, the master and the SD
slave reboot while the net-booted slave stays on (its NFS root waits for the master, then carries
on: same boot), the lab's checks pass (services came back by themselves), and revert on the
master puts the package defaults back with the daemons still running.

Times are not asserted: each phase's seconds go to the cache folder's last-scenario.json, which
`python3 bench/bench_vm.py --last` prints beside the targets.
"""

from __future__ import annotations

import os
import shutil

import pytest

from bringup.lab.vm.image import cache_dir
from bringup.lab.vm.scenario import OLD_NFSROOT
from vm_cluster import NET_SLAVE, write_vm_cluster

pytestmark = [pytest.mark.vm, pytest.mark.root]

# Read at collection, before tests/conftest.py points XDG_CACHE_HOME at a scratch folder: the
# image (1-2 GB, minutes to build) is kept where `bringup lab up --vm` keeps it, so a second run
# only boots and pytest's scratch folders never hold images.
VM_CACHE = str(cache_dir())

TOOLS = ("qemu-system-x86_64", "qemu-img", "mmdebstrap", "mkfs.ext4", "ssh", "busybox")
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
    before = os.environ.get("PIRACK_VM_CACHE")
    os.environ["PIRACK_VM_CACHE"] = VM_CACHE
    try:
        yield lab
    finally:
        if before is None:
            os.environ.pop("PIRACK_VM_CACHE", None)
        else:
            os.environ["PIRACK_VM_CACHE"] = before
        if not os.environ.get("PIRACK_LAB_KEEP"):  # keep a failed run's VMs to look at
            _, problems = down(lab.t.lab_id)
            assert not problems


def _failed_checks(checks):
    return [f"{c.name} ({c.where}): {c.detail}" for c in checks if not c.ok]


def test_vm_scenario(lab):
    from bringup.lab.vm import scenario
    from bringup.lab.vm.image import cache_state
    from bringup.lab.vm.lab import down

    master, sd, net = lab.t.master.name, "slave1", NET_SLAVE["name"]
    ph = scenario.Phases("tests/vm/test_vm_scenario.py")
    ph.notes["image"] = cache_state()
    try:
        with ph("up: image, namespaces, uplink, overlays"):
            lab.up_infra()
        lab.st.community = "vmtest-community"
        lab.st.save()
        assert lab.info.accel in ("tcg", "kvm") and lab.info.accel_why
        ph.notes["accel"] = lab.info.accel
        with ph("boot master + SD slave (parallel)"):
            ph.notes["boot to SSH"] = {k: round(v) for k, v in scenario.boot_all(lab, [master, sd]).items()}
        with ph("converge: format, run, netboot prepare, SD slave run"):
            steps = scenario.converge(lab, lab.st.community, boot_net=False)
        _first_run_converged(steps)
        with ph("net boot: old line, then the rendered one"):
            nb = scenario.old_line_then_rendered(lab, net, HANG_SECONDS)
        ph.notes["net boot"] = {"TFTP": round(nb.fetch_seconds), "old line": round(nb.old_seconds),
                                "rendered to SSH": round(nb.boot_seconds), "old line showed": nb.old_seen}
        _old_line_hangs(nb)
        with ph("rerun + bringup verify (master, SD slave)"):
            _second_run_changes_nothing(lab)
        # The master and the SD slave reboot; the net-booted slave stays on and carries on once
        # its master is back. Then the lab's probes, live: services came back by themselves.
        with ph("reboot the SD-booted VMs"):
            rb = scenario.reboot_sd_nodes(lab)
        ph.notes["reboot to SSH"] = {k: round(v) for k, v in rb.seconds.items()}
        assert set(rb.seconds) == {master, sd} and rb.kept_boot == {net: True}, rb
        with ph("lab verify (after the reboot)"):
            _lab_checks_pass(lab, net)
        ph.notes["boot of each node (systemd-analyze)"] = {
            n: lab.ssh(n, "systemd-analyze time | head -1", check=False, timeout=60).stdout.strip()[-60:]
            for n in (master, sd, net)}
        with ph("revert on the master"):
            _revert_restores_package_defaults(lab, master)
        with ph("down"):
            removed, problems = down(lab.t.lab_id)
        assert not problems and any(r.startswith("VM ") for r in removed)
        ph.notes["passed"] = True
    finally:
        ph.save()


def _first_run_converged(steps):
    """The master's first run mounted the SSD and exported it; nothing fell back to the default."""
    assert [s.what for s in steps][:2] == ["bringup storage format --device /dev/sda --yes-i-am-sure /dev/sda",
                                           "bringup run"]
    out = steps[1].output
    assert "built-in default" not in out and "/etc/pirack/cluster.toml" in out
    assert "command: mount the SSD at /mnt/usb" in out and "run None" not in out


def _second_run_changes_nothing(lab):
    """A second run changes nothing; verify, which reads live state, sees no drift."""
    from bringup.lab.vm import scenario

    for s in scenario.run_everywhere(lab, "run"):
        assert s.ok and "no changes" in s.output, (s.node, s.output)
    for s in scenario.run_everywhere(lab, "verify"):
        assert s.ok and "no drift" in s.output, (s.node, s.output)


def _lab_checks_pass(lab, net):
    """The lab's probes from the slaves and the uplink, every node's systemd state, the net-booted
    slave's NFS root and boot firmware mount, own host keys."""
    from bringup.lab.vm.verify import verify

    checks = verify(lab, lab.st.community)
    assert not _failed_checks(checks)
    names = {(c.name, c.where) for c in checks}
    assert {("NFS root", net), ("boot firmware", net), ("TFTP", net), ("SNAT", "slave1")} <= names


def _old_line_hangs(nb):
    """The old cmdline.txt options, in the same VM from the same fetched files: the Bookworm
    initramfs cannot mount the root and retries; the rendered line booted to SSH."""
    from bringup.lab.vm.scenario import HANG_SIGN

    assert ",vers=3 " in nb.rendered_line and f",{OLD_NFSROOT} " in nb.old_line
    assert nb.old_line.replace(OLD_NFSROOT, "vers=3") == nb.rendered_line
    assert nb.old_seen == HANG_SIGN, f"the old line did not hang as reported: {nb.old_seen}"


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
