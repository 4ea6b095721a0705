"""The Ansible inventory and playbook for a cluster file (pure: data in, text out), and the
folder they are written to: inventory.yml, playbook.yml, ansible.cfg, cluster.toml (+ wheel).

The playbook does per node what a person would do on it: install pirack, copy the cluster file,
run `bringup run --json --node NAME` (or `bringup plan` in check mode). Ansible's changed and
failed come from bringup's own summary, so a converged cluster shows zero changes.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pirack.fsutil import atomic_write
from pirack.load import LoadedCluster

if TYPE_CHECKING:
    from pirack.spec import Node

INVENTORY = "inventory.yml"
PLAYBOOK = "playbook.yml"
CONFIG = "ansible.cfg"
CLUSTER = "cluster.toml"  # beside the playbook: the copy task's src

# Task names the driver finds again in Ansible's results (driver.py).
RUN_TASK = "bringup run"
PLAN_TASK = "bringup plan"

# Inventory groups (and group_vars/NAME.yml files). The '_' keeps them apart from every node
# name (grammar.HOST_NAME has none): a node named like a group makes Ansible warn, and a play
# aimed at the group gets that node alone.
MASTER_GROUP = "pirack_master"
SLAVES_GROUP = "pirack_slaves"


@dataclass
class BundleOptions:
    install: bool = True  # the install tasks run (the lab sets False: this Python has pirack)
    wheel: Path | None = None  # a wheel on the controller, copied and pip-installed on each node
    package: str | None = None  # or a pip requirement each node installs (`--package SPEC`)
    group_vars: dict = field(default_factory=dict)  # more `all` vars (the lab's connection settings)
    host_vars: dict[str, dict] = field(default_factory=dict)  # node -> more vars (the lab's roots)


def defaults(opts: BundleOptions) -> dict:
    """Every variable the playbook reads, with a real node's value. Inventory `all` vars are the
    lowest precedence Ansible has after role defaults, so host vars and host_vars/ files win."""
    return {
        "ansible_become": True,  # bringup writes /etc: root on the node (sudo as the Pi's user)
        "pirack_install": opts.install,
        "pirack_wheel": str(opts.wheel.resolve()) if opts.wheel else "",
        "pirack_package": opts.package or "",
        # Raspberry Pi OS (Debian 12) refuses `pip install` into the system Python (PEP 668): a venv.
        "pirack_venv": "/opt/pirack",
        "pirack_venv_python": "python3",
        "pirack_venv_package": "python3-venv",  # Debian splits `python3 -m venv` off; "" skips it
        "pirack_venv_site_packages": False,  # True: the venv sees the system's packages (the lab)
        "pirack_stage": "{{ bringup_root }}/var/cache/pirack",
        "pirack_cluster_path": "{{ bringup_root }}/etc/pirack/cluster.toml",
        "bringup_python": "{{ pirack_venv }}/bin/python",
        "bringup_root": "",  # set: `bringup run --root DIR` (nothing outside DIR is touched)
        "bringup_environment": {},  # extra environment for every task on the node (the lab: TMPDIR)
    }


def inventory(lc: LoadedCluster, opts: BundleOptions) -> dict:
    spec = lc.spec

    def host(n: Node) -> dict:
        hv = {"ansible_host": str(n.address), "pirack_node": n.name, "pirack_role": n.role,
              "pirack_mac": n.mac, "pirack_boot": n.boot}
        hv.update(opts.host_vars.get(n.name, {}))
        return hv

    return {"all": {
        "vars": {**defaults(opts), **opts.group_vars},
        "children": {
            MASTER_GROUP: {"hosts": {spec.master.name: host(spec.master)}},
            SLAVES_GROUP: {"hosts": {s.name: host(s) for s in spec.slaves}},
        },
    }}


def _bringup_argv(command: str, cluster: str, *flags: str) -> str:
    """`python -m bringup.cli COMMAND FILE --node NAME [FLAGS] [--root DIR]` as one Jinja list, so
    no value ever goes through a shell."""
    more = "".join(f", '{f}'" for f in flags)
    return (f"{{{{ [bringup_python, '-m', 'bringup.cli', '{command}', {cluster}, '--node', pirack_node{more}]"
            " + (['--root', bringup_root] if bringup_root | length > 0 else []) }}")


def node_tasks() -> list[dict]:
    wheel_dest = "{{ pirack_stage }}/{{ pirack_wheel | basename }}"
    return [
        {"name": "pirack's folder for the wheel",
         "ansible.builtin.file": {"path": "{{ pirack_stage }}", "state": "directory", "mode": "0755"},
         "when": "pirack_install | bool and pirack_wheel | length > 0"},
        {"name": "pirack wheel on the node",
         "ansible.builtin.copy": {"src": "{{ pirack_wheel }}", "dest": wheel_dest, "mode": "0644"},
         "register": "pirack_wheel_copy",
         "when": "pirack_install | bool and pirack_wheel | length > 0"},
        {"name": "python's venv module",
         "ansible.builtin.package": {"name": "{{ pirack_venv_package }}", "state": "present"},
         "when": "pirack_install | bool and pirack_venv_package | length > 0"},
        {"name": "pirack installed in its virtualenv",
         "ansible.builtin.pip": {
             "name": "{{ (pirack_stage ~ '/' ~ (pirack_wheel | basename)) if pirack_wheel | length > 0 else pirack_package }}",
             "virtualenv": "{{ pirack_venv }}",
             "virtualenv_command": "{{ pirack_venv_python }} -m venv",
             "virtualenv_site_packages": "{{ pirack_venv_site_packages | bool }}",
             "extra_args": "--disable-pip-version-check"},
         "when": "pirack_install | bool"},
        # A new build of the same version: pip above sees it as installed. Reinstall pirack
        # alone (its dependencies stay as they are: no index is asked).
        {"name": "pirack reinstalled from the new wheel",
         "ansible.builtin.pip": {
             "name": wheel_dest,
             "virtualenv": "{{ pirack_venv }}",
             "extra_args": "--disable-pip-version-check --force-reinstall --no-deps"},
         "when": "pirack_install | bool and pirack_wheel_copy is changed"},
        {"name": "the cluster file's folder",
         "ansible.builtin.file": {"path": "{{ pirack_cluster_path | dirname }}", "state": "directory", "mode": "0755"}},
        {"name": "the cluster file",
         "ansible.builtin.copy": {"src": CLUSTER, "dest": "{{ pirack_cluster_path }}", "mode": "0644"}},
        # Check mode: the node's own cluster file may be old or missing (the copy above did not
        # happen), so the plan reads this run's file on its stdin: nothing is written anywhere.
        {"name": PLAN_TASK,
         "ansible.builtin.command": {
             "argv": _bringup_argv("plan", "'/dev/stdin'"),
             "stdin": "{{ lookup('ansible.builtin.file', '" + CLUSTER + "', rstrip=false) }}",
             "stdin_add_newline": False},
         "register": "pirack_plan",
         "when": "ansible_check_mode",
         "check_mode": False,  # it only reads: let it run in check mode
         "changed_when": "'no changes:' not in pirack_plan.stdout"},
        {"name": "what bringup would change",
         "ansible.builtin.debug": {"var": "pirack_plan.stdout_lines"},
         "when": "ansible_check_mode and pirack_plan is changed"},
        {"name": RUN_TASK,
         "ansible.builtin.command": {"argv": _bringup_argv("run", "pirack_cluster_path", "--json")},
         "register": "pirack_run",
         "when": "not ansible_check_mode",
         # bringup's own verdict: changed = it changed something, failed = a step failed (or it
         # refused its input: exit 2, message on stderr).
         "changed_when": "pirack_run.rc == 0 and (pirack_run.stdout | from_json).changed | length > 0",
         "failed_when": "pirack_run.rc != 0 or (pirack_run.stdout | from_json).failed is not none"},
        {"name": "what bringup changed",
         "ansible.builtin.debug": {"msg": "{{ (pirack_run.stdout | from_json).changed }}"},
         "when": "not ansible_check_mode and pirack_run is changed"},
    ]


def playbook() -> list[dict]:
    """The master first, as its own play (the slaves need its DHCP/DNS), then the slaves."""
    return [
        {"name": "bringup: the master", "hosts": MASTER_GROUP, "gather_facts": False,
         "environment": "{{ bringup_environment }}", "tasks": node_tasks()},
        {"name": "bringup: the slaves", "hosts": SLAVES_GROUP, "gather_facts": False,
         "environment": "{{ bringup_environment }}", "tasks": node_tasks()},
    ]


def ansible_cfg(extra: dict[str, dict[str, str]] | None = None) -> str:
    sections: dict[str, dict[str, str]] = {
        "defaults": {"interpreter_python": "auto_silent", "retry_files_enabled": "False"},
        "ssh_connection": {"pipelining": "True"},  # one SSH round trip per task
    }
    for sec, kv in (extra or {}).items():
        sections.setdefault(sec, {}).update(kv)
    out = ["# Written by `bringup fleet`; used by `bringup fleet run` (ANSIBLE_CONFIG)."]
    for sec, kv in sections.items():
        out.append(f"\n[{sec}]")
        out += [f"{k} = {v}" for k, v in kv.items()]
    return "\n".join(out) + "\n"


def to_yaml(data: object, header: str) -> str:
    """YAML through PyYAML (ansible-core brings it). Without it, JSON: YAML 1.2 is a superset
    of JSON, so Ansible reads the file all the same."""
    try:
        import yaml
    except ImportError:
        return header + json.dumps(data, indent=2) + "\n"

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: object):  # the two plays share nothing: write both in full
            return True

    return header + yaml.dump(data, Dumper=_NoAliases, sort_keys=False, default_flow_style=False,
                              allow_unicode=True, width=120)


def write_bundle(lc: LoadedCluster, out: Path, opts: BundleOptions,
                 cfg_extra: dict[str, dict[str, str]] | None = None) -> dict[str, Path]:
    """Write the inventory, playbook, ansible.cfg and a copy of the cluster file into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    src = f"from {lc.display}" if lc.display else ""
    head = f"# Written by `bringup fleet inventory` {src}. Regenerate rather than edit; per-node\n" \
           "# overrides go in host_vars/NODE.yml beside this file.\n"
    files = {
        "inventory": out / INVENTORY,
        "playbook": out / PLAYBOOK,
        "config": out / CONFIG,
        "cluster": out / CLUSTER,
    }
    atomic_write(files["inventory"], to_yaml(inventory(lc, opts), head))
    atomic_write(files["playbook"], to_yaml(copy.deepcopy(playbook()), head))
    atomic_write(files["config"], ansible_cfg(cfg_extra))
    atomic_write(files["cluster"], lc.text)
    return files
