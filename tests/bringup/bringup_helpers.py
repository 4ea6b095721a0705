"""Helpers shared by the bringup tests: the 4-node cluster text, root snapshots, an old root."""

import re
from pathlib import Path

from pirack.init_template import init_text

SECRET = "Zq9-not-public-community"
MASTER_MAC = "02:00:00:50:00:01"


def four_node_text() -> str:
    """`rack init --nodes 4` with slave2 switched to net boot (with a serial)."""
    text = init_text(4)
    text, n = re.subn(r'(name = "slave2"(?:.|\n)*?)boot = "sd"', r'\1boot = "net"\nserial = "10000000abcd1234"', text, count=1)
    assert n == 1
    return text


def snapshot(root: Path) -> dict:
    """path -> bytes of every file under root, except the journal."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and "var/lib/pirack" not in p.as_posix():
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def seed_old_root(root: Path) -> None:
    """A node that already has a life: files we manage a block of, and old versions of ours."""
    (root / "etc/dnsmasq.d").mkdir(parents=True)
    (root / "etc/dnsmasq.d/pirack.conf").write_text("# an old hand-made version\ninterface=eth0\n")
    (root / "etc/fstab").write_text("proc /proc proc defaults 0 0\nPARTUUID=abcd-02 / ext4 defaults,noatime 0 1\n")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    (root / "etc/hostname").write_text("raspberrypi\n")
    (root / "etc/chrony").mkdir()
    (root / "etc/chrony/chrony.conf").write_text("pool 2.debian.pool.ntp.org iburst\n")
    (root / "etc/nftables.conf").write_text("#!/usr/sbin/nft -f\nflush ruleset\n")
    (root / "etc/snmp").mkdir()
    (root / "etc/snmp/snmpd.conf").write_text("agentaddress 127.0.0.1,[::1]\n")
    (root / "etc/snmp/snmpd.conf").chmod(0o600)
