"""A converged no-op `bringup run --root` for the master, beside the same files kept by Ansible.

Both sides manage the master's files under a scratch root that is already converged, so
neither changes anything: what is measured is the cost of finding out. Ansible runs template
tasks with `validate:` (the same checkers), a local connection, the same files. Median of
several CLI runs as subprocesses. Needs ansible-core (the `fleet` extra); without it only our
side is printed.

    python bench/bench_bringup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECRET = "bench-community-not-secret"
TARGET_S = 0.5


def timed(argv, env) -> float:
    t = time.perf_counter()
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])}... failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return dt


def playbook(plan, root: Path, tpl_dir: Path) -> str:
    """One template task per managed file (validate: the same checker), one file task per folder."""
    validate = {"dnsmasq": "dnsmasq --test -C %s", "nft": "nft -c -f %s", "chrony": "chronyd -p -f %s",
                "fstab": "findmnt --verify --tab-file %s", "exportfs": None, "snmpd": None, "keyfile": None, "sshd": None}
    tasks = []
    for i, d in enumerate(plan.directories):
        tasks.append({"name": f"dir {d.path}", "ansible.builtin.file": {"path": str(root) + d.path, "state": "directory", "mode": f"{d.mode:04o}"}})
    for i, f in enumerate(plan.files):
        dest = root / f.path.lstrip("/")
        content = dest.read_text() if f.kind == "block" else f.content  # the converged whole file
        src = tpl_dir / f"t{i}.j2"
        src.write_text("{% raw %}" + content + "{% endraw %}")
        t = {"src": str(src), "dest": str(dest), "mode": f"{f.mode:04o}"}
        if f.check and validate.get(f.check):
            t["validate"] = validate[f.check]
        tasks.append({"name": f"file {f.path}", "ansible.builtin.template": t})
    return json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    env = dict(os.environ, PIRACK_SNMP_COMMUNITY=SECRET)
    with tempfile.TemporaryDirectory(prefix="bench-bringup-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        ours = [sys.executable, "-m", "bringup.cli", "run", "--node", "master", "--root", str(root), "--json"]
        timed(ours, env)  # converge once
        out = subprocess.run(ours, env=env, capture_output=True, text=True).stdout
        assert json.loads(out)["changed"] == [], "not converged"
        t_ours = statistics.median(timed(ours, env) for _ in range(args.repeat))
        print(f"bringup run --root (converged master, no-op): median {t_ours * 1000:.0f} ms over {args.repeat} "
              f"[target < {TARGET_S * 1000:.0f} ms: {'ok' if t_ours < TARGET_S else 'MISSED'}]")

        ansible = shutil.which("ansible-playbook")
        if not ansible:
            print("ansible-playbook: not installed (pip install 'pirack[fleet]'): no comparison")
            return
        os.environ["PIRACK_SNMP_COMMUNITY"] = SECRET
        from bringup.render import RenderOptions, Secrets, render_node
        from pirack.load import load_cluster

        plan = render_node(load_cluster(None), "master", secrets=Secrets(SECRET), options=RenderOptions())
        tpl = Path(tmp) / "tpl"
        tpl.mkdir()
        pb = Path(tmp) / "site.yml"
        pb.write_text(playbook(plan, root, tpl))
        aenv = dict(env, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
                    ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False",
                    ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        a_argv = [ansible, "-i", "localhost,", str(pb)]
        timed(a_argv, aenv)
        t_ans = statistics.median(timed(a_argv, aenv) for _ in range(args.repeat))
        r = subprocess.run(a_argv, env=aenv, capture_output=True, text=True)
        changed = "changed=0" in r.stdout
        print(f"ansible-playbook (same {len(plan.files)} files + {len(plan.directories)} folders, local): "
              f"median {t_ans * 1000:.0f} ms{'' if changed else ' (NOT a no-op: check the playbook)'}")
        print(f"ratio ansible / bringup: {t_ans / t_ours:.1f}x")


if __name__ == "__main__":
    main()
