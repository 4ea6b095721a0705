"""The VM lab (bringup/lab/vm): where its time goes, on this 2-core machine under emulation.

Figures side by side:
  image     cold (an empty cache: mmdebstrap + pirack's wheel + the disk) vs cached (a lookup),
            and the pirack layer alone (a code change: the base tree is reused)
  boot      power-on to SSH-ready per VM, two VMs in parallel vs one alone
  scenario  master + SD slave + net-boot slave: up, run, net boot (old line, rendered line),
            rerun, verify, reboot (the net-booted slave stays on), lab verify, revert, down; each phase's share of the whole
Targets (issue 15): the cached scenario under 5 minutes, cold under 10.

    sudo python bench/bench_vm.py [--cold] [--tb-size MIB]
    python bench/bench_vm.py --last      the last tests/vm/test_vm_scenario.py run's phases

--cold builds into an empty cache folder (several minutes: the download dominates). The VM test
saves its phases (cache folder, last-scenario.json); --last prints them with the same figures,
so a CI run's VM test is measured without booting the scenario twice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "vm")]

TARGET_CACHED, TARGET_COLD = 300.0, 600.0


def image_figures(cold: bool) -> dict[str, float]:
    from bringup.lab.vm import image

    out = {}
    if cold:
        with tempfile.TemporaryDirectory(prefix="pirack-vm-cold-", dir="/var/tmp") as tmp:
            os.environ["PIRACK_VM_CACHE"] = tmp
            t0 = time.monotonic()
            image.build_image(log=lambda m: None)
            out["image, cold (empty cache)"] = time.monotonic() - t0
            base = next(Path(tmp).glob("base-*"))
            for p in Path(tmp).glob("image-*"):
                import shutil

                shutil.rmtree(p)
            t0 = time.monotonic()
            image.build_image(log=lambda m: None)
            out["image, pirack layer only"] = time.monotonic() - t0
            assert base.exists()
            del os.environ["PIRACK_VM_CACHE"]
    t0 = time.monotonic()
    image.build_image(log=lambda m: print(f"  ({m})", flush=True))
    out["image, first use here (maybe built)"] = time.monotonic() - t0
    t0 = time.monotonic()
    image.build_image()
    out["image, cached (lookup)"] = time.monotonic() - t0
    return out


def scenario(lab):
    """The test's scenario without its asserts (tests/vm/test_vm_scenario.py), phase by phase."""
    from bringup.lab.vm import image
    from bringup.lab.vm import scenario as sc
    from bringup.lab.vm.lab import down
    from bringup.lab.vm.verify import verify

    ph = sc.Phases("bench/bench_vm.py")
    master, sd = lab.t.master.name, "slave1"
    net = [n for n, v in lab.nodes.items() if v.boot == "net"]
    ph.notes["image"] = image.cache_state()
    with ph("up: image, namespaces, uplink, overlays"):
        lab.up_infra()
    lab.st.community = "bench-community"
    lab.st.save()
    with ph("boot master + SD slave (parallel)"):
        ph.notes["boot to SSH"] = {k: round(v) for k, v in sc.boot_all(lab, [master, sd]).items()}
    with ph("converge: format, run, netboot prepare, SD slave run"):
        sc.converge(lab, lab.st.community, lambda m: print("   ", m), boot_net=False)
    with ph("net boot: old line, then the rendered one"):
        nb = [sc.old_line_then_rendered(lab, n) for n in net]
    ph.notes["net boot"] = [{"TFTP": round(b.fetch_seconds), "old line": round(b.old_seconds),
                             "rendered to SSH": round(b.boot_seconds), "old line showed": b.old_seen} for b in nb]
    with ph("rerun + bringup verify (master, SD slave)"):
        sc.run_everywhere(lab, "run")
        sc.run_everywhere(lab, "verify")
    with ph("reboot the SD-booted VMs"):
        rb = sc.reboot_sd_nodes(lab)
    ph.notes["reboot to SSH"] = {k: round(v) for k, v in rb.seconds.items()}
    ph.notes["net-booted slaves kept their boot"] = rb.kept_boot
    with ph("lab verify (after the reboot)"):
        checks = verify(lab, lab.st.community)
    with ph("revert on the master"):
        sc.bringup(lab, master, "revert --force")
    with ph("down"):
        down(lab.t.lab_id)
    ph.notes["failed checks"] = [f"{c.name} ({c.where}): {c.detail}" for c in checks if not c.ok]
    return ph


def report(doc: dict, img: dict[str, float]) -> None:
    """A scenario's phases (this run's, or the last test's) beside the targets."""
    total = doc["total"]
    print(f"scenario ({doc['title']}, {doc['when']}, image {doc['notes'].get('image', 'cached')}):")
    for name, s in doc["seconds"].items():
        print(f"  {name:<52} {s:7.1f} s  {100 * s / total:5.1f} %")
    for k, v in doc["notes"].items():
        print(f"  {k}: {v}")
    state = doc["notes"].get("image", "cached")
    if state == "cached":
        print(f"scenario, cached image: {total:.0f} s (target {TARGET_CACHED:.0f} s, ratio {total / TARGET_CACHED:.2f})")
    elif state == "pirack layer":
        print(f"scenario, pirack layer of the image built: {total:.0f} s")
    cold = total if state == "cold" else (total + img["image, cold (empty cache)"]
                                          if "image, cold (empty cache)" in img else None)
    if cold is not None:
        print(f"scenario, cold (image built): {cold:.0f} s (target {TARGET_COLD:.0f} s, ratio {cold / TARGET_COLD:.2f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", action="store_true", help="also build the image into an empty cache")
    ap.add_argument("--tb-size", type=int, help="TCG translation cache per VM, MiB")
    ap.add_argument("--last", action="store_true",
                    help="print the last VM scenario test's phases (no VM boots; the test saves them)")
    a = ap.parse_args()
    from bringup.lab.vm import image
    from bringup.lab.vm.scenario import LAST_SCENARIO

    if a.last:
        f = image.cache_dir() / LAST_SCENARIO
        if not f.exists():
            sys.exit(f"no {f}: run tests/vm/test_vm_scenario.py first")
        report(json.loads(f.read_text()), {})
        return
    if os.geteuid() != 0:
        sys.exit("the VM lab needs root")
    from bringup.lab.vm import qemu

    if a.tb_size:
        qemu.TB_SIZE_MIB = a.tb_size
    from pirack.load import load_cluster
    from vm_cluster import write_vm_cluster

    from bringup.lab.vm.lab import VmLab, down

    print("image:")
    img = image_figures(a.cold)
    for k, v in img.items():
        print(f"  {k:<38} {v:7.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        lab = VmLab(load_cluster(write_vm_cluster(Path(tmp), "vmbench")), "vmbench")
        try:
            ph = scenario(lab)
        finally:
            down(lab.t.lab_id)
    ph.save(Path(tmp + ".json"))
    report(json.loads(Path(tmp + ".json").read_text()), img)
    Path(tmp + ".json").unlink()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # `bench_vm.py --last | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
