"""bringup runs on a Pi without the CAD stack: block those imports (and pint) and run it."""

import json
import subprocess
import sys

# One fresh interpreter runs the commands one after the other (each a fresh `python -m
# bringup.cli`'s module), prints each exit code, and at the end asserts that none of them
# imported a blocked module: what three interpreters would show, for one interpreter's start.
BLOCKER = r"""
import json, sys, runpy
BLOCKED = {"cadquery", "OCP", "svgwrite", "reportlab", "ezdxf", "shapely", "pint"}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked for this test: {name}")
sys.meta_path.insert(0, Block())
codes = []
try:
    for args in json.loads(sys.argv[1]):
        sys.argv = ["bringup"] + args
        try:
            runpy.run_module("bringup.cli", run_name="__main__")
            codes.append(0)
        except SystemExit as exc:
            codes.append(exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1))
    print(f"\nexit codes: {codes}", file=sys.stderr)
finally:
    heavy = BLOCKED & {m.split(".")[0] for m in sys.modules}
    assert not heavy, heavy
"""


def test_runs_without_cad_stack_or_pint(tmp_path):
    env = {"PIRACK_SNMP_COMMUNITY": "x" * 20, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    (tmp_path / "m").mkdir()
    (tmp_path / "s").mkdir()
    commands = [["run", "--node", "master", "--root", str(tmp_path / "m")],
                ["run", "--node", "slave1", "--root", str(tmp_path / "s")],
                ["verify", "--node", "master", "--root", str(tmp_path / "m")]]
    r = subprocess.run([sys.executable, "-c", BLOCKER, json.dumps(commands)], capture_output=True, text=True, env=env,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.rstrip().endswith("exit codes: [0, 0, 0]"), r.stderr
    assert "blocked" not in r.stderr
