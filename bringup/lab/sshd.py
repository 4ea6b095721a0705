"""`bringup lab up --ssh`: an sshd in every slave's namespace, so `bringup fleet run --lab` drives
the slaves over real SSH from the master's namespace, as Ansible would on the hardware.

Each slave first takes its address from the lab's dnsmasq (busybox udhcpc, the lab's hook), then
runs Debian's sshd with its own config, host key, pid file and log under the lab folder: never
the host's /etc/ssh. The lab makes one key pair; its public half is the only authorized key.
No TTYs are allowed, so sshd never writes the host's utmp/wtmp/lastlog.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .dhcp import lease
from .netns import LabError, Started, run, start, wait_listening
from .paths import SshPaths, fleet_root, ssh_paths
from .state import LabState
from .topology import NodeNet, Topology

SSHD = "/usr/sbin/sshd"  # sshd refuses to start unless called by its absolute path
PRIVSEP = Path("/run/sshd")  # compiled into Debian's sshd: it must exist, root-owned


def process_name(node: str) -> str:
    return f"sshd-{node}"


def sshd_config(address: str, d: Path, authorized_keys: Path) -> str:
    return "\n".join([
        "# pirack lab: sshd of one slave namespace (not the host's /etc/ssh/sshd_config)",
        f"ListenAddress {address}",
        "Port 22",
        f"HostKey {d / 'ssh_host_ed25519_key'}",
        f"PidFile {d / 'sshd.pid'}",
        f"AuthorizedKeysFile {authorized_keys}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",  # the lab folder's modes are the lab's business
        "PermitTTY no",  # a TTY login would be recorded in the host's wtmp and lastlog
        "PrintMotd no",
        "PrintLastLog no",
        "UseDNS no",
        "Subsystem sftp internal-sftp",  # Ansible copies files over SFTP
        "",
    ])


def _keygen(path: Path, comment: str) -> None:
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def _lease(s: NodeNet, d: Path) -> str:
    """The slave's address from the lab's DHCP server, set on its interface by the lab's hook."""
    got, said = lease(s.ns, s.interface, d / "dhcp.env")
    if got is None:
        raise LabError(f"{s.name} got no DHCP lease for its sshd ({said})")
    if got.get("ip") != str(s.address):
        raise LabError(f"{s.name} was leased {got.get('ip')!r}, the cluster file says {s.address}")
    return got["ip"]


def _prepare(s: NodeNet, p: SshPaths) -> tuple[list[str], Path]:
    d = p.node(s.name)
    d.mkdir(parents=True, exist_ok=True)
    address = _lease(s, d)
    _keygen(d / "ssh_host_ed25519_key", f"pirack-lab {s.name}")
    conf = d / "sshd_config"
    conf.write_text(sshd_config(address, d, p.authorized_keys))
    run([SSHD, "-t", "-f", str(conf)], ns=s.ns)  # sshd's own check, before it runs
    return [SSHD, "-D", "-f", str(conf), "-E", str(d / "sshd.log")], d


def start_all(t: Topology, st: LabState, lab_dir: Path) -> list[Started]:
    """Lease, configure and start an sshd in every slave; each PID goes into the lab state, so
    `bringup lab down` stops them with the rest."""
    if not shutil.which("ssh-keygen") or not os.path.exists(SSHD):
        raise LabError(f"`lab up --ssh` needs openssh-server and openssh-client ({SSHD}, ssh-keygen)")
    for n in t.nodes:
        fleet_root(lab_dir, n.name).mkdir(parents=True, exist_ok=True)
    p = ssh_paths(lab_dir)
    p.dir.mkdir(parents=True, exist_ok=True)
    os.chmod(p.dir, 0o700)
    _keygen(p.key, "pirack-lab fleet")
    shutil.copyfile(p.key.with_suffix(".pub"), p.authorized_keys)
    os.chmod(p.authorized_keys, 0o600)
    if not PRIVSEP.exists():
        PRIVSEP.mkdir(mode=0o755)
        st.host_dirs.append(str(PRIVSEP))  # `down` removes it again if still empty
        st.save()
    with ThreadPoolExecutor(max_workers=max(1, len(t.slaves))) as pool:
        prepared = list(pool.map(lambda s: _prepare(s, p), t.slaves))
    waits = []
    for s, (argv, d) in zip(t.slaves, prepared):
        proc = start(process_name(s.name), s.ns, argv, d / "sshd.out")
        st.processes.append(proc)
        st.save()
        waits.append((proc, [("tcp", 22)]))
    wait_listening(waits)
    return [w[0] for w in waits]


def running(st: LabState) -> dict[str, Started]:
    """node -> its live sshd, from the lab state."""
    out = {}
    for node in st.nodes:
        proc = next((x for x in st.processes if x.name == process_name(node)), None)
        if proc is not None and proc.alive():
            out[node] = proc
    return out
