"""`bringup fleet run --lab`: the same playbook against the virtual cluster lab.

ansible-playbook runs inside the master's namespace; the master is driven locally, the slaves
over SSH to the sshd that `bringup lab up --ssh` started in each of them. The slaves' namespaces
share this machine's filesystem, so every node converges into its own folder with
`bringup run --root`: <lab>/_lab/fleet/roots/<node> (made by `lab up --ssh`). (Not the lab's own node roots: those hold
the lab's variant of each file, which its running daemons read.) Ansible's and bringup's temp
files stay in the lab folder too, never in /tmp or ~/.ansible.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pirack.errors import InputError
from pirack.load import LoadedCluster

if TYPE_CHECKING:
    from .bundle import BundleOptions

FLEET = Path("_lab") / "fleet"


@dataclass
class LabFleet:
    lab_id: str
    netns: str  # the master's namespace: where ansible-playbook runs
    dir: Path  # <lab>/_lab/fleet
    roots: dict[str, Path]
    group_vars: dict = field(default_factory=dict)
    host_vars: dict[str, dict] = field(default_factory=dict)
    cfg_extra: dict[str, dict[str, str]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def bundle(self) -> Path:
        return self.dir / "bundle"

    def with_install(self, opts: BundleOptions) -> None:
        """`--lab --install`: the real install tasks, into a venv per node inside the lab that
        sees this machine's packages (its dependencies come from here, not from PyPI)."""
        for v in ("pirack_install", "bringup_python"):
            opts.group_vars.pop(v, None)
        opts.group_vars.update(pirack_venv_python=sys.executable, pirack_venv_site_packages=True,
                               pirack_venv_package="")  # never apt in the lab
        # The lab has no way to an index: pip must never wait for one.
        opts.group_vars["bringup_environment"] = {**opts.group_vars["bringup_environment"], "PIP_NO_INDEX": "1"}
        for node in self.roots:
            opts.host_vars[node]["pirack_venv"] = str(self.dir / "venvs" / node)


def prepare(lc: LoadedCluster, lab_id: str | None) -> LabFleet:
    from bringup.lab.paths import fleet_root, ssh_paths
    from bringup.lab.sshd import running
    from bringup.lab.state import load_state
    from bringup.lab.topology import lab_id_for

    if os.geteuid() != 0:
        raise InputError(None, "--lab", "the lab needs root (network namespaces): run it with sudo")
    lid = lab_id or lab_id_for(lc.spec)
    st = load_state(lid)
    if st is None or not st.ready:
        raise InputError(lc.display, "--lab", f"no lab is up for this cluster (id {lid}): "
                         "run `bringup lab up --ssh` first")
    live = running(st)
    missing = [s.name for s in lc.spec.slaves if s.name not in live]
    if missing:
        raise InputError(lc.display, "--lab", f"the lab {lid} has no sshd in {', '.join(missing)}: "
                         "run `bringup lab up --ssh` (again)")
    ssh = ssh_paths(Path(st.dir))
    d = Path(st.dir) / FLEET
    tmp = d / "tmp"
    for sub in ("tmp", "ansible/tmp", "remote-tmp", "cp"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(d / "remote-tmp", 0o700)
    roots = {n.name: fleet_root(Path(st.dir), n.name) for n in lc.spec.nodes}
    if not all(r.is_dir() for r in roots.values()):
        raise InputError(lc.display, "--lab", f"the lab {lid} has no folder for every node: it was made from "
                         "another cluster file? Run `bringup lab up --ssh` with this one")
    ssh_args = " ".join([
        "-F /dev/null",  # not this machine's ~/.ssh/config
        "-o StrictHostKeyChecking=no", f"-o UserKnownHostsFile={ssh.known_hosts}",
        "-o GlobalKnownHostsFile=/dev/null", "-o IdentitiesOnly=yes",
    ])
    group_vars = {
        "pirack_install": False,  # this Python already has this checkout
        "bringup_python": sys.executable,
        "ansible_python_interpreter": sys.executable,
        "ansible_user": "root",
        "ansible_become": False,  # already root; the lab has no sudo to go through
        "ansible_ssh_private_key_file": str(ssh.key),
        "ansible_ssh_common_args": ssh_args,
        "ansible_ssh_use_tty": False,  # sshd allows no TTY (no wtmp/lastlog entries)
        "bringup_environment": {"TMPDIR": str(tmp)},  # the daemons' checkers write temp files
    }
    host_vars = {n: {"bringup_root": str(r)} for n, r in roots.items()}
    host_vars[lc.spec.master.name]["ansible_connection"] = "local"  # ansible runs in its namespace
    cfg_extra = {
        "defaults": {"local_tmp": str(d / "ansible/tmp"), "remote_tmp": str(d / "remote-tmp"),
                     "forks": str(max(5, len(lc.spec.nodes)))},
        # No ControlPersist: its background ssh would outlive the run and hold the lab's folder.
        "ssh_connection": {"ssh_args": "-o ControlMaster=no", "control_path_dir": str(d / "cp")},
    }
    env = {"ANSIBLE_HOME": str(d / "ansible"), "TMPDIR": str(tmp)}
    return LabFleet(lid, st.nodes[lc.spec.master.name], d, roots, group_vars, host_vars, cfg_extra, env)
