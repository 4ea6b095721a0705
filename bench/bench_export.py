"""`rack export all` on the default cluster vs a bare `import cadquery`, and the cache hit.

Targets: a full export within 1.5x the time Python takes just to import CadQuery (the CAD
stack's fixed cost), and a re-export of an unchanged cluster file from the cache under 0.5 s.
Each figure is the best of N runs of a fresh process (wall time, as a user waits for it).

    python bench/bench_export.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(args, cwd, env) -> float:
    t = time.perf_counter()
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{r.stderr}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    n = ap.parse_args().runs
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="pirack-bench-") as d:
        env = dict(os.environ, XDG_CACHE_HOME=str(Path(d) / "cache"), COLUMNS="120")
        rack = [py, "-m", "rackdesign.cli", "export", "all"]
        imp = min(wall([py, "-c", "import cadquery"], d, env) for _ in range(n))
        full = min(wall(rack + ["--no-cache"], d, env) for _ in range(n))
        wall(rack, d, env)  # fill the cache
        hit = min(wall(rack, d, env) for _ in range(n))
        files = sorted(p for p in (Path(d) / "exports").rglob("*") if p.is_file())
        total = sum(p.stat().st_size for p in files)
        print(f"{'measure':44} {'ours':>9} {'reference':>10} {'ratio':>7} {'target':>8}")
        print(f"{'rack export all (default) vs import cadquery':44} {full:8.2f}s {imp:9.2f}s {full / imp:6.2f}x {'<= 1.5x':>8}")
        print(f"{'cache hit: rack export all again vs 0.5 s':44} {hit:8.2f}s {0.5:9.2f}s {hit / 0.5:6.2f}x {'<= 1x':>8}")
        print(f"\n{len(files)} files, {total / 1024:.0f} KiB in exports/ (best of {n} runs each):")
        for p in files:
            print(f"  {p.relative_to(Path(d) / 'exports')}  {p.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
