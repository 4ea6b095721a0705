"""Benchmark: the rack assembly built with each distinct part once and placed by Location
(ours) vs every instance rebuilt (the naive way), for 2-, 8- and 16-node racks; plus the front
plan's hidden-line removal. Prints seconds and the ratios side by side: naive/ours, and each
against its target (the assembly of the 2-node default under 5 s, its front plan under 10 s).

    python bench/bench_model.py
"""

from __future__ import annotations

import time

import cadquery as cq

from pirack.init_template import init_text
from pirack.load import load_text
from rackdesign.frontplan import front_plan
from rackdesign.layout import build_layout
from rackdesign.model import ShapeCache, build_assembly, location


def _lc(n):
    return load_text(init_text(n), "bench")


def naive(lay, cat):
    """Every instance built from scratch (the memo bypassed)."""
    cache = ShapeCache(lay, cat)
    assy = cq.Assembly()
    for p in lay.parts:
        assy.add(cache._build(p), name=p.name, loc=location(p))
    return assy


def timed(f, *a):
    t = time.perf_counter()
    r = f(*a)
    return time.perf_counter() - t, r


BUILD_TARGET_S, FRONT_TARGET_S = 5.0, 10.0

if __name__ == "__main__":
    print(f"{'nodes':>5} {'parts':>6} {'layout s':>9} {'ours s':>8} {'naive s':>8} {'naive/ours':>10} "
          f"{'ours/target':>11} {'front plan s':>12} {'front/target':>12}")
    for n in (2, 8, 16):
        lc = _lc(n)
        tl, lay = timed(build_layout, lc)
        to, assy = timed(build_assembly, lay, lc.catalog)
        tn, _ = timed(naive, lay, lc.catalog)
        tf, _ = timed(front_plan, lay, assy)
        print(f"{n:>5} {len(lay.parts):>6} {tl:>9.3f} {to:>8.3f} {tn:>8.3f} {tn / to:>10.1f} "
              f"{to / BUILD_TARGET_S:>10.2f}x {tf:>12.2f} {tf / FRONT_TARGET_S:>11.2f}x")
