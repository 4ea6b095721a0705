"""run / plan / verify / revert against --root trees: idempotence, byte-exact revert, a failing
checker that changes nothing, secrets never shown, which-node-am-I."""

import json
import os
import stat

import pytest

from bringup_helpers import MASTER_MAC, SECRET, seed_old_root, snapshot


def run_json(bringup_cli, *args):
    code, out, err = bringup_cli("run", *args, "--json")
    return code, json.loads(out), err


@pytest.mark.parametrize("which", ["seed", "four"])
def test_every_node_converges_then_idles(which, clusters, bringup_cli, tmp_path, secret_env):
    from pirack.load import load_cluster

    f = clusters[which]
    fargs = [str(f)] if f else []
    for n in load_cluster(f).spec.nodes:
        root = tmp_path / n.name
        root.mkdir()
        seed_old_root(root)
        code, first, err = run_json(bringup_cli, *fargs, "--node", n.name, "--root", str(root))
        assert code == 0 and first["failed"] is None, err
        assert first["changed"] and first["run_id"]
        code, second, err = run_json(bringup_cli, *fargs, "--node", n.name, "--root", str(root))
        assert code == 0 and second["changed"] == [] and second["run_id"] is None
        assert second["unchanged"] >= len(first["changed"])
        code, out, err = bringup_cli("verify", *fargs, "--node", n.name, "--root", str(root))
        assert code == 0 and "no drift" in out
        code, out, err = bringup_cli("run", *fargs, "--node", n.name, "--root", str(root))
        assert "no changes" in out
        nm = root / "etc/NetworkManager/system-connections/eth0.nmconnection"
        assert stat.S_IMODE(nm.stat().st_mode) == 0o600 and nm.stat().st_uid == 0


def test_block_files_keep_the_rest(bringup_cli, tmp_path, secret_env):
    seed_old_root(tmp_path)
    assert bringup_cli("run", "--node", "master", "--root", str(tmp_path))[0] == 0
    fstab = (tmp_path / "etc/fstab").read_text()
    assert fstab.startswith("proc /proc proc defaults 0 0\nPARTUUID=abcd-02 / ext4 defaults,noatime 0 1\n# BEGIN pirack\n")
    assert fstab.count("LABEL=pirack-ssd") == 1
    assert (tmp_path / "etc/nftables.conf").read_text().startswith("#!/usr/sbin/nft -f\nflush ruleset\n")


def test_revert_is_byte_exact(bringup_cli, tmp_path, secret_env):
    seed_old_root(tmp_path)
    (tmp_path / "etc/fstab").chmod(0o640)
    before = snapshot(tmp_path)
    modes = {p: stat.S_IMODE((tmp_path / p).stat().st_mode) for p in before}
    code, res, err = run_json(bringup_cli, "--node", "master", "--root", str(tmp_path))
    assert code == 0 and snapshot(tmp_path) != before
    code, out, err = bringup_cli("revert", "--root", str(tmp_path))
    assert code == 0, err
    assert res["run_id"] in out
    assert snapshot(tmp_path) == before  # changed files back, created files gone
    assert {p: stat.S_IMODE((tmp_path / p).stat().st_mode) for p in before} == modes
    assert not (tmp_path / "mnt/usb").exists()  # folders the run made are gone too
    code, out, err = bringup_cli("revert", "no-such-run", "--root", str(tmp_path))
    assert code == 2 and "no run 'no-such-run'" in err


def test_revert_a_named_older_run(bringup_cli, tmp_path, secret_env, monkeypatch):
    seed_old_root(tmp_path)
    before = snapshot(tmp_path)
    _, first, _ = run_json(bringup_cli, "--node", "master", "--root", str(tmp_path))
    (tmp_path / "etc/pirack/hosts").write_text("drifted\n")
    _, second, _ = run_json(bringup_cli, "--node", "master", "--root", str(tmp_path))
    assert second["changed"] == ["/etc/pirack/hosts"]
    assert bringup_cli("revert", second["run_id"], "--root", str(tmp_path))[0] == 0
    assert (tmp_path / "etc/pirack/hosts").read_text() == "drifted\n"
    # the first run wrote hosts, which was edited since ("drifted"): revert stops, naming it
    code, out, err = bringup_cli("revert", first["run_id"], "--root", str(tmp_path))
    assert code == 1 and "/etc/pirack/hosts" in err and "--force" in err and "nothing was reverted" in err
    assert (tmp_path / "etc/pirack/hosts").read_text() == "drifted\n"
    code, out, err = bringup_cli("revert", first["run_id"], "--root", str(tmp_path), "--force")
    assert code == 0, err
    kept = tmp_path / f"var/lib/pirack/runs/{first['run_id']}/edited"
    assert [p.read_text() for p in kept.iterdir()] == ["drifted\n"] and "kept your edit" in out
    after = snapshot(tmp_path)
    assert after == before


def test_secrets_never_shown(bringup_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("PIRACK_SNMP_COMMUNITY", raising=False)
    seed_old_root(tmp_path)
    outputs = []
    for args in (("plan",), ("run",), ("run", "--json"), ("verify",), ("plan",)):
        code, out, err = bringup_cli(*args, "--node", "master", "--root", str(tmp_path))
        outputs.append(out + err)
    secrets_file = tmp_path / "etc/pirack/secrets.toml"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    community = secrets_file.read_text().split('community = "')[1].split('"')[0]
    assert len(community) >= 16
    assert community in (tmp_path / "etc/snmp/snmpd.conf").read_text()
    journal = tmp_path / "var/lib/pirack/runs"
    manifests = "".join(p.read_text() for p in journal.rglob("manifest.json"))
    for text in outputs + [manifests]:
        assert community not in text
    assert "«redacted»" in outputs[0]
    # the journal's backups are root-only
    for d in journal.iterdir():
        if d.is_dir():
            assert stat.S_IMODE(d.stat().st_mode) == 0o700
    # the env var wins, and is not shown either
    monkeypatch.setenv("PIRACK_SNMP_COMMUNITY", SECRET)
    code, out, err = bringup_cli("plan", "--node", "master", "--root", str(tmp_path))
    assert SECRET not in out + err and "snmpd.conf" in out


def test_failing_checker_changes_nothing(bringup_cli, tmp_path, secret_env, monkeypatch):
    import bringup.render.dnsmasq as dm

    seed_old_root(tmp_path)
    before = snapshot(tmp_path)
    monkeypatch.setattr(dm, "config", lambda spec, opts: "interface=eth0\ndhcp-range=nonsense\n")
    code, out, err = bringup_cli("run", "--node", "master", "--root", str(tmp_path))
    assert code == 1
    assert "check /etc/dnsmasq.d/pirack.conf with dnsmasq" in err and "dhcp-range" in err
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "var/lib/pirack/runs").exists() or not any(
        p.is_dir() for p in (tmp_path / "var/lib/pirack/runs").iterdir())
    code, res, err = run_json(bringup_cli, "--node", "master", "--root", str(tmp_path))
    assert code == 1 and res["failed"]["step"].startswith("check /etc/dnsmasq.d/pirack.conf")


def test_which_node_am_i(bringup_cli, clusters, tmp_path, secret_env):
    (tmp_path / "sys/class/net/eth0").mkdir(parents=True)
    (tmp_path / "sys/class/net/eth0/address").write_text(MASTER_MAC + "\n")
    code, out, err = bringup_cli("plan", "--root", str(tmp_path))
    assert code == 0 and "node master (master)" in out
    # by serial (the 4-node file's net-booting slave2), when the MAC is unknown
    (tmp_path / "sys/class/net/eth0/address").write_text("02:aa:bb:cc:dd:ee\n")
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text("processor\t: 0\nSerial\t\t: 10000000abcd1234\nModel\t\t: Raspberry Pi 4\n")
    code, out, err = bringup_cli("plan", str(clusters["four"]), "--root", str(tmp_path))
    assert code == 0 and "node slave2 (slave)" in out
    # nothing matches: exit 2 naming what was seen and what the file has
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/hostname").write_text("stranger\n")
    code, out, err = bringup_cli("plan", "--root", str(tmp_path))
    assert code == 2 and "Traceback" not in err
    for word in ("02:aa:bb:cc:dd:ee", "10000000abcd1234", "stranger", "master", "slave1", "--node"):
        assert word in err
    code, out, err = bringup_cli("plan", "--node", "nobody", "--root", str(tmp_path))
    assert code == 2 and "no node named 'nobody'" in err


def test_bad_input_exit_2(bringup_cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[cluster]\nname = 1\n")
    code, out, err = bringup_cli("run", str(bad), "--node", "master", "--root", str(tmp_path))
    assert code == 2 and "bad.toml" in err
    code, out, err = bringup_cli("plan", "--node", "master", "--root", str(tmp_path / "missing"))
    assert code == 2 and "--root" in err


def test_netboot_eeprom_and_prepare(bringup_cli, clusters, tmp_path):
    f = str(clusters["four"])
    code, out, err = bringup_cli("netboot", "eeprom", f, "--node", "slave2")
    assert code == 0 and "BOOT_ORDER=0xf21" in out.splitlines() and "TFTP_PREFIX=0" in out.splitlines()
    assert "rpi-eeprom-config --apply" in err
    code, out, err = bringup_cli("netboot", "eeprom", f, "--node", "slave1")
    assert code == 2 and "nodes[1].boot" in err
    # a tiny Raspberry Pi OS tree (bookworm layout: the boot partition at boot/firmware)
    os_tree = tmp_path / "os"
    (os_tree / "boot/firmware").mkdir(parents=True)
    (os_tree / "boot/firmware/config.txt").write_text("arm_64bit=1\n")
    (os_tree / "boot/firmware/cmdline.txt").write_text("console=tty1 root=PARTUUID=1234-02 rootwait\n")
    (os_tree / "boot/firmware/start4.elf").write_bytes(b"\x7fELF")
    (os_tree / "etc/ssh").mkdir(parents=True)
    (os_tree / "etc/ssh/ssh_host_ed25519_key").write_text("the image's shared key\n")
    (os_tree / "etc/fstab").write_text("PARTUUID=1234-01 /boot/firmware vfat defaults 0 2\nPARTUUID=1234-02 / ext4 defaults 0 1\n")
    (os_tree / "usr/bin").mkdir(parents=True)
    (os_tree / "usr/bin/true").write_bytes(b"#!/bin/sh\n")
    root = tmp_path / "root"
    root.mkdir()
    code, out, err = bringup_cli("netboot", "prepare", f, "--node", "slave2", "--from", str(os_tree), "--root", str(root))
    assert code == 0, err
    tftp, nfs = root / "mnt/ssd/tftpboot/abcd1234", root / "mnt/ssd/nfsroot/slave2"
    assert (tftp / "start4.elf").read_bytes() == b"\x7fELF"
    cmdline = (tftp / "cmdline.txt").read_text()
    assert cmdline.count("\n") == 1 and "nfsroot=192.168.50.1:/mnt/ssd/nfsroot/slave2,vers=3" in cmdline
    assert (tftp / "config.txt").read_text().startswith("arm_64bit=1\n# BEGIN pirack\ndtoverlay=disable-wifi\n")
    assert (nfs / "usr/bin/true").exists() and not (nfs / "boot/firmware/start4.elf").exists()
    assert (nfs / "etc/hostname").read_text() == "slave2\n"
    fstab = (nfs / "etc/fstab").read_text()
    assert "PARTUUID" not in fstab and "proc" in fstab
    key = (nfs / "etc/ssh/ssh_host_ed25519_key").read_text()
    assert "the image's shared key" not in key and "OPENSSH PRIVATE KEY" in key
    assert (nfs / "etc/ssh/ssh_host_rsa_key.pub").exists()
    assert "BOOT_ORDER=0xf21" in out


def test_netboot_prepare_failures_are_one_message(clusters, tmp_path, bringup_cli, monkeypatch):
    """A tool that fails (losetup/mount on a file that is no disk image) or a root that cannot
    take the files: exit 1, one message naming the step and the cause, no traceback. The first
    as a real process; the others in-process (the same messages and exit codes)."""
    import subprocess

    from helpers import sh

    f = str(clusters["four"])
    not_image = tmp_path / "notes.img"
    not_image.write_text("not a disk image\n")
    root = tmp_path / "root"
    root.mkdir()
    r = sh("bringup", "netboot", "prepare", f, "--node", "slave2", "--image", str(not_image), "--root", str(root), timeout=120)
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("error: netboot prepare: ") and r.stderr.count("error:") == 1, r.stderr
    assert "Traceback" not in r.stderr and str(not_image) in r.stderr and r.stdout == ""
    assert list(root.iterdir()) == []  # nothing copied
    if os.geteuid() == 0:  # the loop device went away with the failure
        assert subprocess.run(["losetup", "-j", str(not_image)], capture_output=True, text=True).stdout == ""
    # --from a file is bad usage: exit 2
    monkeypatch.setenv("COLUMNS", "200")  # as sh() runs a command
    code, out, err = bringup_cli("netboot", "prepare", f, "--node", "slave2", "--from", str(not_image), "--root", str(root))
    assert code == 2 and "is a file" in err and "Traceback" not in err
    # a root with a file where the SSD's mount point should be a folder
    os_tree = tmp_path / "os"
    (os_tree / "boot").mkdir(parents=True)
    (os_tree / "boot/start4.elf").write_bytes(b"\x7fELF")
    bad_root = tmp_path / "bad-root"
    bad_root.mkdir()
    (bad_root / "mnt").write_text("a file, not a folder\n")
    code, out, err = bringup_cli("netboot", "prepare", f, "--node", "slave2", "--from", str(os_tree), "--root", str(bad_root))
    assert code == 1, err
    assert err.count("error:") == 1 and "Traceback" not in err
    assert "Not a directory" in err and str(bad_root / "mnt") in err


def _seed_file(tmp_path):
    from pirack.paths import default_text

    f = tmp_path / "cluster.toml"
    f.write_text(default_text())
    return str(f)


def test_storage_format_refuses_without_confirmation(bringup_cli, tmp_path):
    f = _seed_file(tmp_path)
    code, out, err = bringup_cli("storage", "format", f, "--device", "/dev/null")
    assert code == 2 and "not a block device" in err
    code, out, err = bringup_cli("storage", "format", f, "--device", str(tmp_path / "nope"))
    assert code == 2 and "does not exist" in err


def test_storage_format_never_uses_the_built_in_default(bringup_cli, tmp_path, monkeypatch):
    """Formatting is live: with no file given and no /etc/pirack/cluster.toml it stops (exit 2)
    rather than format by the seed's file (issue 15, failure 9)."""
    import bringup.target as target

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(target, "LIVE_CLUSTER", tmp_path / "etc-pirack-cluster.toml")
    code, out, err = bringup_cli("storage", "format", "--device", "/dev/null")
    assert code == 2 and "never falls back to a default cluster" in err and "Traceback" not in err


def test_storage_format_names_a_missing_mkfs(bringup_cli, tmp_path, monkeypatch):
    """A filesystem whose mkfs is not installed: one line naming the package, exit 1, before
    anything is asked or changed (issue 15, failure 8: it was a traceback)."""
    import tomllib

    import tomli_w

    doc = tomllib.loads(open(_seed_file(tmp_path)).read())
    doc["storage"]["filesystem"] = "xfs"
    f = tmp_path / "xfs.toml"
    f.write_text(tomli_w.dumps(doc))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, out, err = bringup_cli("storage", "format", str(f), "--device", "/dev/null")
    assert code == 1 and "mkfs.xfs is not installed" in err and "xfsprogs" in err and "Traceback" not in err


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="loop devices need root")
def test_storage_format_on_a_loop_device(tmp_path):
    import subprocess

    from helpers import sh

    img = tmp_path / "disk.img"
    img.write_bytes(b"\0" * (16 << 20))
    r = subprocess.run(["losetup", "--show", "-f", str(img)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"no loop device here: {r.stderr.strip()}")
    loop = r.stdout.strip()
    f = _seed_file(tmp_path)
    try:
        r = sh("bringup", "storage", "format", f, "--device", loop, cwd=tmp_path, timeout=120)  # no TTY
        assert r.returncode == 2 and f"--yes-i-am-sure {loop}" in r.stderr
        r = sh("bringup", "storage", "format", f, "--device", loop, "--yes-i-am-sure", "/dev/sdz", cwd=tmp_path, timeout=120)
        assert r.returncode == 2
        r = sh("bringup", "storage", "format", f, "--device", loop, "--yes-i-am-sure", loop, cwd=tmp_path, timeout=120)
        assert r.returncode == 0, r.stderr
        label = subprocess.run(["blkid", "-s", "LABEL", "-o", "value", loop], capture_output=True, text=True).stdout.strip()
        assert label == "pirack-ssd"
    finally:
        subprocess.run(["losetup", "-d", loop])
