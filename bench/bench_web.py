"""`rack serve`: how long from saving cluster.toml to the updated 3D and plates, warm, beside a
full `rack export all` in a fresh process.

Targets: an edit of the default cluster shows its updated 3D and plates within 0.5 s; a 16-node
cluster within 2 s. Each edit changes the plate margin (every plate and so the 3D scene change:
nothing can come from the cache); a comment edit shows that unchanged work is not redone.

    server   file saved -> the new design published (watcher, load, layout, plates, GLB, BOM)
    browser  file saved -> the page shows the new 3D and plates (Debian's headless chromium:
             WebGL on the CPU, so this is a no-GPU worst case)

    python bench/bench_web.py [--runs 5] [--no-browser]     (the browser part: under the lock)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def margin_edits(text: str, runs: int) -> list[str]:
    """Texts that differ from each other (and from `text`) in the plate margin only."""
    if 'margin = "5 mm"' not in text:
        sys.exit("the bench's cluster file has no margin = \"5 mm\" line to edit")
    return [text.replace('margin = "5 mm"', f'margin = "{5 + 0.1 * (i + 1):.1f} mm"') for i in range(runs)]


def wait_for(predicate, timeout: float = 120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.002)
    raise TimeoutError("no update")


def server_side(path: Path, texts: list[str]) -> tuple[list[float], dict]:
    """Seconds from each save to the new design, in-process, with the real watcher and worker."""
    from rackdesign.web.live import Live
    from rackdesign.web.watch import Watcher

    live = Live(path)
    watcher = Watcher()
    watcher.watch_file(path, live.changed)
    live.start()
    try:
        wait_for(lambda: live.design is not None, 600)
        settle(live)
        times = []
        for text in texts:
            times.append(save_and_wait(live, path, text))
            settle(live)
        stages = live.design.timings
        comment = save_and_wait(live, path, texts[-1] + "\n# a note: nothing to rebuild\n")
        return times, {"comment": comment, "reused": list(live.design.reused), "timings": stages}
    finally:
        watcher.stop()
        live.stop()


def save_and_wait(live, path: Path, text: str) -> float:
    before = live.design.version
    t0 = time.perf_counter()
    path.write_text(text, encoding="utf-8")
    wait_for(lambda: live.design.version != before)
    return time.perf_counter() - t0


def settle(live) -> None:
    """Let the worker finish the front plan and checks, as a person reading the page would."""
    wait_for(lambda: all(s.status != "pending" for s in live.design.slow.values()), 600)


def browser_side(path: Path, texts: list[str]) -> list[tuple[float, dict]]:
    """Seconds from each save until the page shows the new design (and the page's own split)."""
    from playwright.sync_api import sync_playwright

    server, url = start_server(path)
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="pirack-chromium-") as profile:
            ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                       viewport={"width": 1440, "height": 1000})
            page = ctx.new_page()
            page.goto(url)
            page.wait_for_function("document.body.dataset.version !== ''", timeout=600_000)
            page.wait_for_function("window.pirack.state.design.checks.status !== 'pending'", timeout=600_000)
            out = []
            for text in texts:
                version = page.evaluate("document.body.dataset.version")
                t0 = time.perf_counter()
                path.write_text(text, encoding="utf-8")
                page.wait_for_function(f"document.body.dataset.version !== '{version}'", timeout=120_000)
                took = time.perf_counter() - t0
                out.append((took, page.evaluate("({...window.pirack.timings, server: window.pirack.state.design.update_seconds})")))
                page.wait_for_function("window.pirack.state.design.checks.status !== 'pending'", timeout=600_000)
            ctx.close()
            return out
    finally:
        server.terminate()
        server.wait(15)


def start_server(path: Path):
    proc = subprocess.Popen([sys.executable, "-m", "rackdesign.cli", "serve", str(path), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found = threading.Event()
    url = []

    def read():
        for line in proc.stdout:
            m = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            if m and not url:
                url.append(m.group(1))
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(120):
        proc.terminate()
        sys.exit("rack serve did not start")
    return proc, url[0]


def export_all_fresh(cwd: Path) -> float:
    env = dict(os.environ, XDG_CACHE_HOME=str(cwd / "cache"))
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "rackdesign.cli", "export", "all", "--no-cache", "--out", str(cwd / "out")],
                       cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"rack export all failed:\n{r.stderr}")
    return time.perf_counter() - t0


def row(what: str, times: list[float], ref: float, target: str) -> str:
    med = statistics.median(times)
    return f"{what:46} {med:7.2f}s {max(times):7.2f}s {ref:9.2f}s {med / ref:6.2f}x {target:>8}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    from pirack.init_template import init_text
    from pirack.paths import default_text

    cases = {"default cluster (2 nodes)": (default_text(), "0.5 s"), "16-node cluster": (init_text(16), "2 s")}
    with tempfile.TemporaryDirectory(prefix="pirack-bench-web-") as d:
        d = Path(d)
        export = export_all_fresh(d)
        lines, notes = [], []
        for name, (text, target) in cases.items():
            path = d / f"{name.split()[0]}.toml"
            path.write_text(text, encoding="utf-8")
            edits = margin_edits(text, args.runs)
            times, extra = server_side(path, edits)
            lines.append(row(f"{name}: save -> new design (server)", times, export, f"<{target}"))
            notes.append(f"{name}: a comment edit {extra['comment']:.3f} s, reused {', '.join(extra['reused'])}; "
                         f"last margin edit's stages (s): {extra['timings']}")
            if not args.no_browser:
                path.write_text(text, encoding="utf-8")
                seen = browser_side(path, margin_edits(text, args.runs))
                lines.append(row(f"{name}: save -> page shows it (browser)", [t for t, _ in seen], export, f"<{target}"))
                notes.append(f"{name}: in the page (ms from the state's arrival): "
                             f"{[{k: v for k, v in s.items()} for _, s in seen]}")
    print(f"{'measure (median of %d edits)' % args.runs:46} {'median':>8} {'max':>8} {'export all':>10} {'ratio':>7} {'target':>8}")
    print("\n".join(lines))
    print(f"\nreference: `rack export all --no-cache` of the default cluster in a fresh process: {export:.2f} s")
    for n in notes:
        print("  " + n)


if __name__ == "__main__":
    main()
