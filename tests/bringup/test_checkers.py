"""The daemons' own checkers on every rendered file (and on broken ones, which must fail)."""

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
