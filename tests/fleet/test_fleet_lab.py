"""`bringup fleet run --lab` for real: `rack init --nodes 4`, the lab up with an sshd in every
slave, ansible-playbook in the master's namespace driving the slaves over SSH.

One lab for the module; the tests run in file order (check, run, run again, drift, a failing
node). Needs root, network namespaces and ansible-core; skipped with the reason otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from helpers import netns_unavailable, sh
from pirack.init_template import init_text

pytestmark = pytest.mark.root

NAME = "fleetlab"


def _why_not() -> str | None:
    if shutil.which("ansible-playbook") is None:
        return "ansible-core is not installed (pip install 'pirack[fleet]')"
    if not os.path.exists("/usr/sbin/sshd") or shutil.which("ssh") is None:
        return "openssh-server/-client are not installed"
    return netns_unavailable()


_why = _why_not()
if _why:
    pytest.skip(_why, allow_module_level=True)


def fleet(*args, lab) -> tuple[int, dict, str]:
    """`bringup fleet run --lab --json`: exit code, the summary (after Ansible's output), all output."""
    r = sh("bringup", "fleet", "run", str(lab["file"]), "--lab", "--json", *args, cwd=lab["cwd"], timeout=180)
    i = r.stdout.rfind("\n{\n")
    assert i >= 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.returncode, json.loads(r.stdout[i:]), r.stdout + r.stderr


def by_node(summary: dict) -> dict:
    return {n["node"]: n for n in summary["nodes"]}


def tree_digest(root: Path) -> str:
    """Every path, mode and content under the folder."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        h.update(f"{p.relative_to(root)} {st.st_mode:o}\n".encode())
        if p.is_file() and not p.is_symlink():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("fleetlab")
    file = cwd / "cluster.toml"
    file.write_text(init_text(4).replace('name = "mycluster"', f'name = "{NAME}"'))
    t0 = time.monotonic()
    r = sh("bringup", "lab", "up", str(file), "--ssh", "--json", cwd=cwd, timeout=180)
    assert r.returncode == 0, r.stderr + r.stdout
    info = json.loads(r.stdout)
    info.update(file=file, cwd=cwd, up_seconds=time.monotonic() - t0,
                fleet=Path(info["dir"]) / "_lab/fleet", privsep_existed=os.path.exists("/run/sshd"))
    yield info
    r = sh("bringup", "lab", "down", str(file), cwd=cwd, timeout=180)
    assert r.returncode == 0, r.stderr + r.stdout
    # The sshds went with the rest: by PID, and nothing runs from the lab's folder.
    for name, pid in info["processes"].items():
        if name.startswith("sshd-"):
            assert not os.path.exists(f"/proc/{pid}") or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    assert not os.path.exists(info["dir"])
    if not info["privsep_existed"]:  # sshd's /run/sshd, made by the lab, went with it
        assert not os.path.exists("/run/sshd")


def roots_digest(lab) -> str:
    return tree_digest(lab["fleet"] / "roots")


def test_sshd_in_every_slave(lab):
    slaves = [n for n in lab["nodes"] if n != "master"]
    assert sorted(n for n in lab["processes"] if n.startswith("sshd-")) == [f"sshd-{s}" for s in slaves]
    for s in slaves:
        conf = (Path(lab["dir"]) / "_lab/ssh" / s / "sshd_config").read_text()
        assert "UsePAM no" in conf and "PermitTTY no" in conf
        assert str(Path(lab["dir"])) in conf.split("PidFile ")[1].split("\n")[0]
    # Listening on the slave's cluster address, inside its own namespace only.
    ss = subprocess.run(["ip", "netns", "exec", lab["nodes"]["slave1"], "ss", "-Htln"], capture_output=True, text=True).stdout
    assert "192.168.50.11:22" in ss
    host_ss = subprocess.run(["ss", "-Htln"], capture_output=True, text=True).stdout
    assert "192.168.50.11:22" not in host_ss


def test_check_changes_nothing_and_shows_the_plan(lab):
    before = roots_digest(lab)
    code, s, out = fleet("--check", lab=lab)
    assert code == 0, out[-3000:]
    assert roots_digest(lab) == before
    assert not list((lab["fleet"] / "roots").rglob("*.toml"))  # not even the cluster file
    nodes = by_node(s)
    assert set(nodes) == {"master", "slave1", "slave2", "slave3"}
    for name, n in nodes.items():
        assert n["status"] == "changed" and n["changes"] > 0 and "to change" in n["detail"], n
    assert "/etc/dnsmasq.d/pirack.conf" in out  # the master's plan, shown by Ansible


def assert_root_is_what_bringup_renders(lab, name: str) -> None:
    """The node's files, under its own root, are what bringup renders for it (same file, same
    root), and a diff there finds nothing left to change."""
    from bringup.engine.runner import diff_all, make_context
    from bringup.target import load_target

    root = lab["fleet"] / "roots" / name
    copied = root / "etc/pirack/cluster.toml"
    assert copied.read_bytes() == lab["file"].read_bytes()
    t = load_target(copied, name, root)
    assert len(t.plan.files) >= 5
    for f in t.plan.files:
        on_disk = (root / f.path.lstrip("/")).read_bytes()
        want = f.content if isinstance(f.content, bytes) else f.content.encode()
        if f.kind == "file":
            assert on_disk == want, f.path
        else:  # our block inside the file
            assert want.strip() in on_disk, f.path
    changes, unchanged, _ = diff_all(t.plan, make_context(root, t.plan), t.mount_point)
    assert not [c for c in changes if not c.recorded_only] and unchanged > 0


def test_run_brings_every_root_up_over_ssh(lab):
    code, s, out = fleet(lab=lab)
    assert code == 0, out[-3000:]
    nodes = by_node(s)
    for name, n in nodes.items():
        assert n["status"] == "changed" and n["changes"] > 0 and n["detail"].startswith("run "), n
        assert_root_is_what_bringup_renders(lab, name)
    assert "/etc/hostname" in out and "slave1" in (lab["fleet"] / "roots/slave1/etc/hostname").read_text()
    # The slaves were reached over SSH, with the lab's key.
    for s_ in ("slave1", "slave2", "slave3"):
        log = (Path(lab["dir"]) / "_lab/ssh" / s_ / "sshd.log").read_text()
        assert "Accepted publickey for root from 192.168.50.1" in log, log[-800:]


def test_second_run_changes_nothing(lab):
    before = roots_digest(lab)
    code, s, out = fleet(lab=lab)
    assert code == 0, out[-3000:]
    for name, n in by_node(s).items():
        assert (n["status"], n["changes"], n["other"]) == ("ok", 0, 0), n
    assert "changed=0" in out and "changed=1" not in out
    assert roots_digest(lab) == before


def test_check_after_drift_names_it_and_leaves_it(lab):
    conf = lab["fleet"] / "roots/slave2/etc/chrony/chrony.conf"
    conf.write_text(conf.read_text() + "# drifted\n")
    before = roots_digest(lab)
    code, s, out = fleet("--check", "--limit", "slave1,slave2", lab=lab)
    assert code == 0, out[-3000:]
    nodes = by_node(s)
    assert set(nodes) == {"slave1", "slave2"}
    assert nodes["slave2"]["status"] == "changed" and nodes["slave2"]["changes"] == 1
    assert nodes["slave1"]["status"] == "ok" and nodes["slave1"]["changes"] == 0
    assert "-# drifted" in out  # the plan's diff, through Ansible
    assert roots_digest(lab) == before


def test_a_failing_node_stops_alone_with_its_message(lab):
    """A broken host var for slave2 (host_vars/ beside the inventory, as Ansible reads it)."""
    out_dir = lab["cwd"] / "bundle"
    (out_dir / "host_vars").mkdir(parents=True, exist_ok=True)
    (out_dir / "host_vars/slave2.yml").write_text("pirack_node: slave9\n")
    code, s, out = fleet("--out", str(out_dir), lab=lab)
    assert code == 1, out[-3000:]
    nodes = by_node(s)
    assert nodes["slave2"]["status"] == "failed"
    assert "no node named 'slave9'" in nodes["slave2"]["detail"]
    for name in ("master", "slave1", "slave3"):  # the others finished (and were converged: no change)
        assert nodes[name]["status"] == "ok", nodes[name]
    # The drift the check left alone is still there: slave2's run never happened.
    assert "# drifted" in (lab["fleet"] / "roots/slave2/etc/chrony/chrony.conf").read_text()


def test_ansible_kept_its_temp_files_in_the_lab(lab):
    """Ansible's temp folders and SSH's known hosts are the lab's: nothing new in /tmp."""
    known = (Path(lab["dir"]) / "_lab/ssh/known_hosts").read_text()
    assert all(a in known for a in ("192.168.50.11", "192.168.50.12", "192.168.50.13"))
    start = Path(lab["dir"]).stat().st_ctime - 1
    new_in_tmp = [p.name for p in Path("/tmp").iterdir()
                  if p.name.startswith("ansible") and p.lstat().st_mtime >= start]
    assert not new_in_tmp


@pytest.mark.skipif(not os.environ.get("PIRACK_FLEET_INSTALL"), reason="~35 s: set PIRACK_FLEET_INSTALL=1 to run "
                    "the install tasks for real (wheel built here, venv per node in the lab) [skip allowed in CI]")
def test_install_tasks_put_the_wheel_in_a_venv_on_the_node(lab):
    code, s, out = fleet("--install", "--limit", "slave1", lab=lab)
    assert code == 0, out[-3000:]
    n = by_node(s)["slave1"]
    assert n["status"] in ("ok", "changed") and n["other"] >= 3, n  # folder, wheel, venv + install
    venv = lab["fleet"] / "venvs/slave1"
    # bringup ran from the wheel in the node's venv, not from this checkout.
    r = subprocess.run([str(venv / "bin/python"), "-c", "import bringup; print(bringup.__file__)"], cwd="/",
                       capture_output=True, text=True)
    assert r.stdout.startswith(str(venv)), r.stdout + r.stderr
    code, s, out = fleet("--install", "--limit", "slave1", lab=lab)  # the same wheel: nothing to do
    assert code == 0 and (by_node(s)["slave1"]["status"], by_node(s)["slave1"]["other"]) == ("ok", 0), out[-3000:]
