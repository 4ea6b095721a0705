"""`bringup fleet inventory|run` without a lab: what Ansible itself reads back from the inventory
and playbook, the wheel the nodes get, the summary from task results, and no Ansible at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bringup.fleet.bundle import PLAN_TASK, RUN_TASK, BundleOptions, write_bundle
from bringup.fleet.driver import build_backend_here, summarize
from helpers import run_main_in, sh
from overlay import overlay_text
from pirack.init_template import init_text
from pirack.load import load_cluster

ANSIBLE = shutil.which("ansible-playbook")
needs_ansible = pytest.mark.skipif(ANSIBLE is None, reason="ansible-core is not installed (pip install 'pirack[fleet]')")


def ansible_env(out: Path) -> dict:
    """Ansible's own temp and home inside the test folder, and our ansible.cfg."""
    return dict(os.environ, ANSIBLE_CONFIG=str(out / "ansible.cfg"), ANSIBLE_HOME=str(out / ".ansible"),
                ANSIBLE_LOCAL_TEMP=str(out / ".ansible/tmp"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Path:
    """Four nodes; slave3's MAC is all digits, which YAML 1.1 would read as a base-60 number if
    it were written unquoted."""
    d = tmp_path_factory.mktemp("fleet")
    text = init_text(4).replace('mac = "02:00:00:50:00:0d"', 'mac = "12:34:56:12:34:56"')
    p = d / "cluster.toml"
    p.write_text(text)
    return p


@pytest.fixture(scope="module")
def bundle(cluster) -> Path:
    from bringup.cli import main

    out = cluster.parent / "bundle"
    code, stdout, stderr = run_main_in(cluster.parent, main, ["bringup", "fleet", "inventory", str(cluster), "--out", str(out),
                                                              "--package", "pirack==0.1.0"])
    assert code == 0, stderr + stdout
    return out


@needs_ansible
def test_ansible_reads_the_inventory_as_the_cluster_file(cluster, bundle):
    r = subprocess.run(["ansible-inventory", "-i", str(bundle / "inventory.yml"), "--list"],
                       env=ansible_env(bundle), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    inv = json.loads(r.stdout)
    spec = load_cluster(cluster).spec
    assert inv["pirack_master"]["hosts"] == [spec.master.name]
    assert inv["pirack_slaves"]["hosts"] == [s.name for s in spec.slaves]
    hv = inv["_meta"]["hostvars"]
    assert set(hv) == {n.name for n in spec.nodes}
    for n in spec.nodes:
        v = hv[n.name]
        assert v["ansible_host"] == str(n.address)
        assert v["pirack_mac"] == n.mac and isinstance(v["pirack_mac"], str)
        assert v["pirack_role"] == n.role and v["pirack_node"] == n.name
        assert v["pirack_package"] == "pirack==0.1.0" and v["pirack_install"] is True
    assert hv["slave3"]["pirack_mac"] == "12:34:56:12:34:56"
    # The copy the nodes get is the file itself, byte for byte.
    assert (bundle / "cluster.toml").read_bytes() == cluster.read_bytes()


@needs_ansible
def test_playbook_passes_syntax_check_with_its_install_tasks(bundle):
    """`--list-tasks` loads the playbook as `--syntax-check` does: both exit 4 on an unknown
    module, an unknown play key, two actions in one task or broken YAML (tried by hand with
    ansible-core 2.19), so one Ansible start checks the syntax and lists the tasks."""
    r = subprocess.run(["ansible-playbook", "--list-tasks", "-i", str(bundle / "inventory.yml"),
                        str(bundle / "playbook.yml")], env=ansible_env(bundle), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # The master's play comes first, as its own play; each play installs, copies, plans or runs.
    assert out.index("bringup: the master") < out.index("bringup: the slaves")
    plays = out.split("play #")[1:]
    assert len(plays) == 2
    for play in plays:
        tasks = [ln.split("TAGS:")[0].strip() for ln in play.splitlines() if "TAGS:" in ln and "play #" not in ln]
        tasks = [t for t in tasks if t and not t.startswith("tasks:")]
        want = ["pirack wheel on the node", "pirack installed in its virtualenv", "the cluster file", PLAN_TASK, RUN_TASK]
        assert [t for t in tasks if t in want] == want, tasks


def play_hosts(list_hosts: str) -> dict[str, list[str]]:
    """`ansible-playbook --list-hosts` output -> {play name: the hosts it selects, sorted (the
    order Ansible lists them in varies from run to run)}."""
    plays: dict[str, list[str]] = {}
    for block in list_hosts.split("play #")[1:]:
        head, _, rest = block.partition("hosts (")
        name = head.splitlines()[0].split(": ", 1)[1].split("\tTAGS:")[0].strip()
        plays[name] = sorted(ln.strip() for ln in rest.splitlines()[1:] if ln.strip())
    return plays


@needs_ansible
def test_no_node_name_can_be_a_group_name(tmp_path):
    """Nodes named like the groups of old (`master`, `slaves`): Ansible neither warns "Found both
    group and host with same name" nor mixes them up; each play selects exactly its nodes."""
    text = overlay_text({"nodes[1].name": "slaves",
                         "nodes[2]": {"name": "slave1", "role": "slave", "board": "rpi4b-8gb",
                                      "hat": "rpi-poe-plus-hat", "mac": "02:00:00:50:00:12",
                                      "address": "192.168.50.12", "boot": "sd"}})
    (tmp_path / "cluster.toml").write_text(text)
    out = tmp_path / "bundle"
    write_bundle(load_cluster(tmp_path / "cluster.toml"), out, BundleOptions(package="pirack==0.1.0"))
    r = subprocess.run(["ansible-playbook", "--list-hosts", "-i", str(out / "inventory.yml"), str(out / "playbook.yml")],
                       env=ansible_env(out), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Found both group and host" not in r.stderr, r.stderr
    assert play_hosts(r.stdout) == {"bringup: the master": ["master"], "bringup: the slaves": ["slave1", "slaves"]}, r.stdout


def test_wheel_of_this_checkout_goes_to_the_nodes(cluster, tmp_path, bringup_cli, monkeypatch):
    """Without --package the nodes get a wheel built here (hatchling, by a real `pip wheel`): it
    carries the bring-up, the fleet's Ansible callback and the parts catalog, and the inventory
    points at it."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "b"
    code, stdout, stderr = bringup_cli("fleet", "inventory", str(cluster), "--out", str(out))
    assert code == 0, stderr + stdout
    wheels = list((out / "wheel").glob("pirack-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(wheels[0]) as z:
        names = set(z.namelist())
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        assert "Name: pirack" in z.read(meta).decode()
    assert {"bringup/cli.py", "bringup/engine/runner.py", "bringup/fleet/callback/pirack_results.py",
            "pirack/parts/boards/rpi4b-8gb.toml"} <= names
    inv = (out / "inventory.yml").read_text()
    assert f"pirack_wheel: {wheels[0].resolve()}" in inv and "pirack_package: ''" in inv


def test_without_ansible_run_exits_2_with_the_hint(cluster, tmp_path, bringup_cli, monkeypatch):
    """In-process (a real process's exit 2 without a traceback: the bad cluster file below)."""
    path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and not os.path.exists(os.path.join(d, "ansible-playbook")))
    monkeypatch.setenv("PATH", path)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "never"
    code, stdout, stderr = bringup_cli("fleet", "run", str(cluster), "--out", str(out))
    assert code == 2, stderr + stdout
    assert "pip install 'pirack[fleet]'" in stderr and "ansible-playbook" in stderr
    assert "Traceback" not in stderr and not out.exists()


def test_bad_cluster_file_exits_2_and_writes_nothing(tmp_path):
    """A real process: `bringup fleet` exits 2 with one message, no traceback."""
    bad = tmp_path / "cluster.toml"
    bad.write_text(init_text(3).replace('address = "192.168.50.12"', 'address = "192.168.60.12"'))
    out = tmp_path / "b"
    r = sh("bringup", "fleet", "inventory", str(bad), "--out", str(out), "--package", "pirack", cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert str(bad) in r.stderr and not out.exists()


def test_a_failed_wheel_build_is_failed_work_exit_1(cluster, tmp_path, bringup_cli, monkeypatch):
    """The input was fine; building the wheel failed (here: pip says no): exit 1, one message."""
    from bringup.fleet import driver

    real = subprocess.run

    def pip_fails(argv, *a, **kw):
        if argv[1:4] == ["-m", "pip", "wheel"]:
            return subprocess.CompletedProcess(argv, 1, "", "ERROR: Could not build wheels for pirack\n")
        return real(argv, *a, **kw)

    monkeypatch.setattr(driver.subprocess, "run", pip_fails)
    code, out, err = bringup_cli("fleet", "inventory", str(cluster), "--out", str(tmp_path / "b"))
    assert code == 1 and "Traceback" not in err and err.count("error:") == 1
    assert "building the wheel failed" in err and "Could not build wheels" in err



# pyproject.toml's [build-system] -> whether `pip wheel` may build in this Python, without
# fetching the backend into an isolated environment.
BACKEND_CASES = [
    ("hatchling, installed here", '[build-system]\nrequires = ["hatchling>=1.18"]\nbuild-backend = "hatchling.build"\n', True),
    ("hatchling newer than this one", '[build-system]\nrequires = ["hatchling>=999"]\nbuild-backend = "hatchling.build"\n', False),
    ("a backend not installed", '[build-system]\nrequires = ["no-such-backend"]\nbuild-backend = "no_such_backend.build"\n', False),
    ("no [build-system]", '[project]\nname = "x"\n', False),
]


@pytest.mark.parametrize("text,want", [c[1:] for c in BACKEND_CASES], ids=[c[0] for c in BACKEND_CASES])
def test_wheel_builds_without_isolation_when_the_backend_is_here(tmp_path, text, want):
    if want:
        pytest.importorskip("hatchling.build", reason="hatchling is not installed (pip install 'pirack[fleet]')")
    (tmp_path / "pyproject.toml").write_text(text)
    assert build_backend_here(tmp_path) is want


# The per-node summary from task results (what the callback writes), as data.
SUMMARY_CASES = [
    ("converged", [
        {"host": "master", "task": "the cluster file", "status": "ok"},
        {"host": "master", "task": RUN_TASK, "status": "ok", "rc": 0,
         "stdout": json.dumps({"node": "master", "changed": [], "unchanged": 14, "run_id": None, "failed": None})},
    ], {"master": ("ok", 0, 0, "all 14 as planned")}),
    ("changed, and the cluster file with it", [
        {"host": "slave1", "task": "the cluster file", "status": "changed"},
        {"host": "slave1", "task": RUN_TASK, "status": "changed", "rc": 0,
         "stdout": json.dumps({"node": "slave1", "changed": ["/etc/hostname", "/etc/hosts"], "unchanged": 3,
                               "run_id": "R1", "failed": None})},
    ], {"slave1": ("changed", 2, 1, "run R1")}),
    ("a step failed: bringup's own message", [
        {"host": "slave2", "task": RUN_TASK, "status": "failed", "rc": 1,
         "stdout": json.dumps({"node": "slave2", "changed": [], "unchanged": 0, "run_id": None,
                               "failed": {"step": "check /etc/chrony/chrony.conf with chronyd", "message": "bad line 3"}})},
    ], {"slave2": ("failed", 0, 0, "check /etc/chrony/chrony.conf with chronyd: bad line 3")}),
    ("bad input: exit 2, message on stderr", [
        {"host": "slave2", "task": RUN_TASK, "status": "failed", "rc": 2, "stdout": "",
         "stderr": "error: /etc/pirack/cluster.toml: nodes: no node named 'x'"},
    ], {"slave2": ("failed", None, 0, "error: /etc/pirack/cluster.toml: nodes: no node named 'x'")}),
    ("unreachable", [
        {"host": "slave3", "task": "the cluster file's folder", "status": "unreachable", "msg": "ssh: connect refused"},
    ], {"slave3": ("unreachable", None, 0, "the cluster file's folder: ssh: connect refused")}),
    ("check mode: the plan's last line", [
        {"host": "slave1", "task": PLAN_TASK, "status": "changed", "rc": 0, "stdout": "node slave1\n~ /etc/hosts\n2 to change, 3 already as planned"},
        {"host": "slave1", "task": RUN_TASK, "status": "skipped"},
    ], {"slave1": ("changed", 2, 0, "2 to change, 3 already as planned")}),
]


@pytest.mark.parametrize("records,want", [c[1:] for c in SUMMARY_CASES], ids=[c[0] for c in SUMMARY_CASES])
def test_summary_from_task_results(records, want):
    got = {r.node: (r.status, r.changes, r.other, r.detail) for r in summarize(records, list(want))}
    assert got == want


@needs_ansible
def test_run_without_the_lab_through_group_and_host_vars(tmp_path, bringup_cli, monkeypatch):
    """`fleet run` as on real hardware, except that group_vars/ and host_vars/ beside the
    inventory (Ansible's own override files) make every node local, each in its own --root."""
    file = tmp_path / "cluster.toml"
    file.write_text(init_text(2))
    out = tmp_path / "bundle"
    (out / "group_vars").mkdir(parents=True)
    (out / "host_vars").mkdir()
    (out / "group_vars/all.yml").write_text(
        f"ansible_connection: local\nansible_become: false\nansible_python_interpreter: {sys.executable}\n"
        f"bringup_python: {sys.executable}\nbringup_environment: {{TMPDIR: {tmp_path}}}\n")
    for node in ("master", "slave1"):
        (tmp_path / "roots" / node).mkdir(parents=True)
        (out / "host_vars" / f"{node}.yml").write_text(f"bringup_root: {tmp_path / 'roots' / node}\n")
    monkeypatch.setenv("ANSIBLE_HOME", str(tmp_path / ".ansible"))
    monkeypatch.setenv("ANSIBLE_LOCAL_TEMP", str(tmp_path / ".ansible/tmp"))
    monkeypatch.setenv("ANSIBLE_REMOTE_TMP", str(tmp_path / ".ansible/rtmp"))
    monkeypatch.chdir(tmp_path)
    # The controller's `bringup fleet run` in-process; Ansible and each node's bringup are real
    # processes (Ansible's own output goes to the file descriptors pytest captures).
    code, stdout, stderr = bringup_cli("fleet", "run", str(file), "--out", str(out), "--no-install", "--json")
    assert code == 0, stdout[-3000:] + stderr[-2000:]
    stdout = "\n" + stdout
    s = json.loads(stdout[stdout.rfind("\n{\n"):])
    got = {n["node"]: (n["status"], n["changes"] > 0) for n in s["nodes"]}
    assert got == {"master": ("changed", True), "slave1": ("changed", True)}
    assert "slave1" in (tmp_path / "roots/slave1/etc/hostname").read_text()
    assert "pirack_install: false" in (out / "inventory.yml").read_text() and not (out / "wheel").exists()
