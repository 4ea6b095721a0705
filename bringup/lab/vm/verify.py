"""`bringup lab verify --vm`: the namespace lab's probes, live in the VMs.

From each slave VM (over SSH, pirack's own probe module in the guest): DHCP, DNS, NFS, NTP, SNAT,
SNMP, and TFTP on a net-booted slave. From the uplink namespace (the namespace lab's own checks,
unchanged): nothing of the cluster answers the home network. Per node: `systemctl
is-system-running` is `running` (or the failed units are named); a net-booted slave's root is
NFS from the master, its /boot/firmware is the NFS mount of its TFTP folder, and its SSH host
keys are its own.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from ..checks import Check, Verifier, tftp_rrq, _dns_probe
from ..topology import ECHO_PORT, UPSTREAM_ANSWER, UPSTREAM_ZONE
from bringup.render.nfs import MOUNTD_PORT

from .lab import VmLab

PROBE = "/opt/pirack/bin/python3 -m bringup.lab.vm.probe"


def _job(lab: VmLab, name: str, community: str) -> dict:
    from bringup.render.netboot import tftp_folder

    spec = lab.spec
    node = spec.node(name)
    names = {}
    for n in spec.nodes:
        names[spec.fqdn(n)] = str(n.address)
        names[n.name] = str(n.address)
    checks = ["DHCP", "DNS", "NFS", "NTP", "SNAT", "SNMP"]
    tftp = None
    if node.boot == "net":
        st = spec.storage
        folder = tftp_folder(spec, node)
        tftp = [folder[len(st.mount_point + "/" + st.tftp_root.strip("/")):].strip("/"), "/boot/firmware"]
        checks.append("TFTP")
    exports = []
    if spec.storage is not None:
        from bringup.render.common import drive_path

        exports = [[drive_path(spec, e.path), "root_squash" if e.root_squash else "no_root_squash"]
                   for e in spec.storage.exports]
    return {"checks": checks, "master": str(spec.master.address), "domain": spec.network.domain,
            "names": names, "upstream": [f"www.{UPSTREAM_ZONE}", str(UPSTREAM_ANSWER)],
            "router": str(lab.t.router), "echo_port": ECHO_PORT, "snat": str(lab.t.snat_address.ip),
            "community": community, "master_fqdn": spec.fqdn(spec.master), "exports": exports,
            "address": str(node.address), "tftp_folder": tftp}


def slave_checks(lab: VmLab, name: str, community: str) -> list[Check]:
    cp = lab.ssh(name, PROBE, input=json.dumps(_job(lab, name, community)), check=False, timeout=600)
    try:
        return [Check(d["check"], d["from"], d["ok"], d["detail"], d["seconds"]) for d in json.loads(cp.stdout)]
    except (json.JSONDecodeError, KeyError, TypeError):
        return [Check("probe", name, False, f"the probe did not run (exit {cp.returncode}): "
                      f"{(cp.stderr or cp.stdout).strip()[-300:]}")]


def system_state(lab: VmLab, name: str) -> Check:
    cp = lab.ssh(name, "systemctl is-system-running --wait; systemctl --failed --plain --no-legend",
                 check=False, timeout=300)
    lines = cp.stdout.strip().splitlines()
    state = lines[0] if lines else f"no answer ({cp.stderr.strip()[-120:]})"
    failed = [ln.split()[0] for ln in lines[1:] if ln.strip()]
    return Check("system", name, state == "running", state + (f": failed {', '.join(failed)}" if failed else ""))


def netboot_state(lab: VmLab, name: str) -> list[Check]:
    """Root over NFS from the master, /boot/firmware the NFS mount of its TFTP folder."""
    from bringup.render.netboot import nfs_root, tftp_folder

    spec = lab.spec
    node = spec.node(name)
    m = str(spec.master.address)
    cp = lab.ssh(name, "findmnt -n -o TARGET,FSTYPE,SOURCE,OPTIONS / ; findmnt -n -o TARGET,FSTYPE,SOURCE /boot/firmware",
                 check=False, timeout=60)
    mounts = {f[0]: f[1:] for f in (ln.split() for ln in cp.stdout.splitlines()) if len(f) >= 3}
    root = mounts.get("/", [])
    want_root = f"{m}:{nfs_root(spec, node)}"
    fw = mounts.get("/boot/firmware", [])
    want_fw = f"{m}:{tftp_folder(spec, node)}"
    return [
        Check("NFS root", name, root[:2] == ["nfs", want_root],
              " ".join(root) if root else f"/ is not mounted? {cp.stderr.strip()[-120:]}"),
        Check("boot firmware", name, len(fw) >= 2 and fw[0].startswith("nfs") and fw[1] == want_fw,
              " ".join(fw) if fw else f"/boot/firmware is not a mount (want {want_fw})"),
    ]


def host_keys(lab: VmLab, names: list[str]) -> Check:
    """Every node its own SSH host key (a net-booted root copied from an image must not share one)."""
    fps = {}
    for name in names:
        cp = lab.ssh(name, "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub", check=False, timeout=60)
        fps[name] = cp.stdout.split()[1] if cp.returncode == 0 and len(cp.stdout.split()) > 1 else None
    missing = [n for n, f in fps.items() if f is None]
    shared = sorted({n for n, f in fps.items() for m, g in fps.items() if n != m and f and f == g})
    ok = not missing and not shared
    detail = (f"{len(fps)} distinct ed25519 host keys" if ok else
              "; ".join(filter(None, [missing and f"no key on {', '.join(missing)}",
                                      shared and f"shared by {', '.join(shared)}"])))
    return Check("own SSH host keys", "all", ok, detail)


RPC_PORTS = ((111, "rpcbind"), (MOUNTD_PORT, "mountd"))  # NFSv3's helpers: real in the VMs, absent from ganesha


def _closed(v: Verifier, port: int) -> tuple[bool, str]:
    from ..checks import tcp_connect

    r = tcp_connect(v.t.uplink_ns, v.master, port)
    return r not in ("open", "refused"), f"TCP {port} on {v.master}: {r}"


def uplink_checks(lab: VmLab, community: str) -> list[Check]:
    """The namespace lab's checks from the uplink, against the VMs (same addresses, same namespace)."""
    v = Verifier(lab.lc, lab.st)
    v.st.community = community
    up = "uplink"
    tests = [("uplink isolated", v.uplink_routes), ("no DHCP from uplink", v.uplink_dhcp),
             ("no TFTP from uplink", lambda: v.uplink_udp(69, tftp_rrq("kernel8.img"), "TFTP")),
             ("no DNS from uplink", lambda: v.uplink_udp(53, _dns_probe(), "DNS")),
             ("no SNMP from uplink", v.uplink_snmp), ("no NFS from uplink", v.uplink_nfs)]
    tests += [(f"no {what} from uplink", lambda port=port: _closed(v, port)) for port, what in RPC_PORTS]
    tests += [(f"no connection into {s.name}", lambda s=s: v.uplink_to_slave(s)) for s in lab.t.slaves]
    with ThreadPoolExecutor(len(tests)) as pool:
        return list(pool.map(lambda nt: v._timed(nt[0], up, nt[1]), tests))


def verify(lab: VmLab, community: str) -> list[Check]:
    names = list(lab.nodes)
    slaves = [n for n in names if lab.nodes[n].role == "slave"]
    with ThreadPoolExecutor(max_workers=max(1, len(names)) + 1) as pool:
        per_slave = [pool.submit(slave_checks, lab, s, community) for s in slaves]
        systems = [pool.submit(system_state, lab, n) for n in names]
        nets = [pool.submit(netboot_state, lab, s) for s in slaves if lab.nodes[s].boot == "net"]
        leaks = pool.submit(uplink_checks, lab, community)
        out = [c for f in per_slave for c in f.result()] + [f.result() for f in systems]
        out += [c for f in nets for c in f.result()] + leaks.result()
    out.append(host_keys(lab, names))
    return out
