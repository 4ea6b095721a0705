"""The daemons' own checkers on every rendered file (and on broken ones, which must fail)."""

import os
import shutil

import pytest

from bringup.checks import BINARIES, run_check
from bringup.render import RenderOptions, Secrets, merge_block, render_node
from pirack.load import load_cluster

from bringup_helpers import SECRET


def need(name):
    b = BINARIES[name]
    if b and not shutil.which(b):
        pytest.skip(f"{b} is not installed (apt-get install it; tools/install.sh --test does)")


def rendered(clusters):
    for which in ("seed", "four"):
        lc = load_cluster(clusters[which])
        for n in lc.spec.nodes:
            plan = render_node(lc, n.name, secrets=Secrets(SECRET) if n.role == "master" else None,
                               options=RenderOptions(admin_has_key=True))
            for f in plan.files:
                if f.check:
                    yield which, n.name, f


def test_every_rendered_file_passes_its_checker(clusters, tmp_path):
    seen = set()
    for which, node, f in rendered(clusters):
        need(f.check)
        content = merge_block(None, f.content) if f.kind == "block" else f.content
        ok, msg = run_check(f.check, content.encode(), f.path, tmp_path)  # an empty node root
        assert ok, f"{which}/{node} {f.path}: {msg}"
        seen.add(f.check)
    assert seen == {"dnsmasq", "nft", "chrony", "sshd", "exportfs", "snmpd", "fstab", "keyfile"}


BROKEN = {
    "dnsmasq": ("/etc/dnsmasq.d/pirack.conf", "interface=eth0\nno-such-option=1\n"),
    "nft": ("/etc/nftables.d/pirack.nft", "table inet pirack {\n chain x { ip saddr 10.0.0.0/8 snat to }\n}\n"),
    "chrony": ("/etc/chrony/chrony.conf", "server 192.168.50.1 iburst\nnotadirective 1\n"),
    "sshd": ("/etc/ssh/sshd_config.d/00-pirack.conf", "PasswordAuthentication maybe\n"),
    "exportfs": ("/etc/exports.d/pirack.exports", "/srv/x 192.168.50.0/24(rw,sync,frobnicate)\n"),
    "snmpd": ("/etc/snmp/snmpd.conf", "agentAddress udp:127.0.0.1:161\nrocommunty x 10.0.0.0/8\n"),
    "fstab": ("/etc/fstab", "LABEL=x /mnt ext4 defaults 0 x\n"),
    "keyfile": ("/etc/NetworkManager/system-connections/eth0.nmconnection", "[connection]\ntype=ethernet\n"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_fail(name, tmp_path):
    need(name)
    live, text = BROKEN[name]
    ok, msg = run_check(name, text.encode(), live, tmp_path)
    assert not ok and msg


DEBIAN_SSHD_CONFIG = """# Debian 12's sshd_config, as shipped (comments dropped)
Include /etc/ssh/sshd_config.d/*.conf
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
"""
OURS = "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"


def cloud_init_root(tmp_path):
    """A node root whose cloud-init turned passwords on in a drop-in."""
    root = tmp_path / "root"
    (root / "etc/ssh/sshd_config.d").mkdir(parents=True)
    (root / "etc/ssh/sshd_config").write_text(DEBIAN_SSHD_CONFIG)
    (root / "etc/ssh/sshd_config.d/50-cloud-init.conf").write_text("PasswordAuthentication yes\n")
    return root


def test_sshd_check_reads_the_effective_configuration(tmp_path):
    """sshd takes the first value it reads: named 00-pirack.conf our drop-in wins over
    50-cloud-init.conf; under its old name pirack.conf it loses, and the check says so."""
    need("sshd")
    root = cloud_init_root(tmp_path)
    ok, msg = run_check("sshd", OURS.encode(), "/etc/ssh/sshd_config.d/00-pirack.conf", root)
    assert ok, msg
    ok, msg = run_check("sshd", OURS.encode(), "/etc/ssh/sshd_config.d/pirack.conf", root)
    assert not ok and "passwordauthentication yes" in msg
    # an sshd_config that includes no drop-ins: ours would never be read
    (root / "etc/ssh/sshd_config").write_text(DEBIAN_SSHD_CONFIG.replace("Include", "#Include"))
    ok, msg = run_check("sshd", OURS.encode(), "/etc/ssh/sshd_config.d/00-pirack.conf", root)
    assert not ok


def sshd_T(root, key) -> dict:
    """`sshd -T -f /etc/ssh/sshd_config` as the node sees it: the root's /etc/ssh bound over
    /etc/ssh in a private mount namespace, so its absolute Include reads the root's files."""
    import subprocess

    from bringup.checks import sshd_effective

    script = ('mount --bind "$1/etc/ssh" /etc/ssh && mount -t tmpfs pirack /run && mkdir /run/sshd && '
              'exec /usr/sbin/sshd -T -f /etc/ssh/sshd_config -h "$2"')
    r = subprocess.run(["unshare", "-m", "sh", "-c", script, "sshd-T", str(root), str(key)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return {k: v[0] for k, v in sshd_effective(r.stdout).items()}


@pytest.mark.skipif(os.geteuid() != 0, reason="binds the root's /etc/ssh in a mount namespace: root only")
def test_passwords_off_once_an_admin_key_exists(tmp_path, bringup_cli, secret_env):
    import subprocess

    need("sshd")
    root = cloud_init_root(tmp_path)
    hostkey = tmp_path / "hostkey"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey)], check=True)
    assert sshd_T(root, hostkey)["passwordauthentication"] == "yes"  # cloud-init's, as shipped
    # no admin key yet: the run leaves passwords alone (no lock-out)
    assert bringup_cli("run", "--node", "master", "--root", str(root))[0] == 0
    assert sshd_T(root, hostkey)["passwordauthentication"] == "yes"
    # pi (in sudo) gets a key
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\nsudo:x:27:pi\npi:x:1000:\n")
    (root / "home/pi/.ssh").mkdir(parents=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "pi")], check=True)
    (root / "home/pi/.ssh/authorized_keys").write_bytes((tmp_path / "pi.pub").read_bytes())
    code, out, err = bringup_cli("run", "--node", "master", "--root", str(root))
    assert code == 0, err
    assert "checked /etc/ssh/sshd_config.d/00-pirack.conf with sshd: ok" in out
    eff = sshd_T(root, hostkey)
    assert eff["passwordauthentication"] == "no" and eff["kbdinteractiveauthentication"] == "no"
    assert (root / "etc/ssh/sshd_config.d/50-cloud-init.conf").read_text() == "PasswordAuthentication yes\n"


def test_fstab_check_passes_a_clean_table():
    """util-linux 2.38 says "Success, no errors or warnings detected" for a clean table: that is
    a pass (a live master whose drive is there and mounted), not a failure."""
    need("fstab")
    ok, msg = run_check("fstab", b"proc /proc proc defaults 0 0\n", "/etc/fstab")
    assert ok, msg
