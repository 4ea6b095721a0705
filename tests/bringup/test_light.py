"""bringup runs on a Pi without the CAD stack: block those imports (and pint) and run it."""

import subprocess
import sys

BLOCKER = r"""
import sys, runpy
BLOCKED = {"cadquery", "OCP", "svgwrite", "reportlab", "ezdxf", "shapely", "pint"}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked for this test: {name}")
sys.meta_path.insert(0, Block())
sys.argv = ["bringup"] + sys.argv[1:]
try:
    runpy.run_module("bringup.cli", run_name="__main__")
finally:
    heavy = BLOCKED & {m.split(".")[0] for m in sys.modules}
    assert not heavy, heavy
"""


def test_runs_without_cad_stack_or_pint(tmp_path):
    env = {"PIRACK_SNMP_COMMUNITY": "x" * 20, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    (tmp_path / "m").mkdir()
    (tmp_path / "s").mkdir()
    for root, args in (("m", ["run", "--node", "master"]), ("s", ["run", "--node", "slave1"]), ("m", ["verify", "--node", "master"])):
        r = subprocess.run([sys.executable, "-c", BLOCKER, *args, "--root", str(tmp_path / root)], capture_output=True,
                           text=True, env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "blocked" not in r.stderr
