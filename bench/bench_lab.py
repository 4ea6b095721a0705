"""The virtual cluster lab for 1 master + 3 slaves (`rack init --nodes 4`): `bringup lab up`,
`verify` and `down`, each as a user runs it (a fresh process, wall time).

Target: the three together under 5 s. Side by side: verify with its checks in parallel
threads (ours) vs the same checks one after another (the alternative), in-process.
Needs root (network namespaces).

    sudo python bench/bench_lab.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 5.0


def wall(args, cwd) -> float:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "bringup.cli", *args], cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - t
    if r.returncode != 0:
        subprocess.run([sys.executable, "-m", "bringup.cli", "lab", "down"], cwd=cwd, capture_output=True)
        sys.exit(f"bringup {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("the lab needs root")
    from pirack.init_template import init_text

    with tempfile.TemporaryDirectory() as d:
        Path(d, "cluster.toml").write_text(init_text(4).replace('name = "mycluster"', 'name = "benchlab"'))
        best = None
        for _ in range(a.runs):
            t = (wall(["lab", "up"], d), wall(["lab", "verify"], d), wall(["lab", "down"], d))
            if best is None or sum(t) < sum(best):
                best = t
        up, verify, down = best
        total = up + verify + down
        print(f"lab for 1 master + 3 slaves, best of {a.runs} (fresh process each, wall time)")
        print(f"  up      {up:6.2f} s")
        print(f"  verify  {verify:6.2f} s")
        print(f"  down    {down:6.2f} s")
        print(f"  total   {total:6.2f} s   target < {TARGET:.0f} s: {'ok' if total < TARGET else 'MISSED'} "
              f"({total / TARGET:.2f} of the budget)")

        # Parallel vs serial checks, in-process on one lab.
        wall(["lab", "up"], d)
        try:
            from bringup.lab.checks import verify
            from bringup.lab.state import load_state
            from bringup.lab.topology import lab_id_for
            from pirack.load import load_cluster

            lc = load_cluster(Path(d, "cluster.toml"))
            st = load_state(lab_id_for(lc.spec))
            times = {}
            for label, workers in (("threads", 32), ("serial", 1)):
                t0 = time.perf_counter()
                res = verify(lc, st, workers)
                times[label] = time.perf_counter() - t0
                assert all(c.ok for c in res), [c for c in res if not c.ok]
            print(f"verify checks ({len(res)}): threads {times['threads']:.2f} s vs one after another "
                  f"{times['serial']:.2f} s -> {times['serial'] / times['threads']:.1f}x faster")
        finally:
            wall(["lab", "down"], d)


if __name__ == "__main__":
    main()
