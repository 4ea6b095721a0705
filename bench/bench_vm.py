"""The VM lab (bringup/lab/vm): where its time goes, on this 2-core machine under emulation.

Figures side by side:
  image     cold (an empty cache: mmdebstrap + pirack's wheel + the disk) vs cached (a lookup),
            and the pirack layer alone (a code change: the base tree is reused)
  boot      power-on to SSH-ready per VM, two VMs in parallel vs one alone
  scenario  master + SD slave + net-boot slave: up, run, rerun, verify, reboot, verify, down;
            each phase's share of the whole
Targets (issue 15): the cached scenario under 5 minutes, cold under 10.

    sudo python bench/bench_vm.py [--cold] [--tb-size MIB]

--cold builds into an empty cache folder (several minutes: the download dominates).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "vm")]

TARGET_CACHED, TARGET_COLD = 300.0, 600.0


class Clock:
    def __init__(self):
        self.phases: list[tuple[str, float]] = []

    def __call__(self, name, fn, *args):
        t0 = time.monotonic()
        out = fn(*args)
        self.phases.append((name, time.monotonic() - t0))
        print(f"  {name:<34} {self.phases[-1][1]:7.1f} s", flush=True)
        return out

    @property
    def total(self) -> float:
        return sum(s for _, s in self.phases)


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


def scenario(lab) -> Clock:
    from bringup.lab.vm import scenario as sc
    from bringup.lab.vm.lab import down
    from bringup.lab.vm.verify import verify

    clock = Clock()
    master, sd = lab.t.master.name, "slave1"
    net = [n for n, v in lab.nodes.items() if v.boot == "net"]
    clock("up: namespaces, uplink, overlays", lab.up_infra)
    lab.st.community = "bench-community"
    lab.st.save()
    boots = clock("up: boot master + SD slave", sc.boot_all, lab, [master, sd])
    clock("run: format, converge, net boot", sc.converge, lab, lab.st.community, lambda m: print("   ", m))
    clock("rerun (no changes)", sc.run_everywhere, lab, "run")
    clock("bringup verify (no drift)", sc.run_everywhere, lab, "verify")
    checks = clock("lab verify", verify, lab, lab.st.community)
    reboots = clock("reboot every VM", lab.reboot, [master, sd, *net])
    checks2 = clock("lab verify after reboot", verify, lab, lab.st.community)
    clock("down", down, lab.t.lab_id)
    clock.boots, clock.reboots = boots, reboots
    clock.failed = [f"{c.name} ({c.where}): {c.detail}" for c in checks + checks2 if not c.ok]
    return clock


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", action="store_true", help="also build the image into an empty cache")
    ap.add_argument("--tb-size", type=int, help="TCG translation cache per VM, MiB")
    a = ap.parse_args()
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
        print("scenario (master + SD slave + net-boot slave):")
        try:
            clock = scenario(lab)
        finally:
            down(lab.t.lab_id)
    print("\nboot to SSH-ready, two in parallel:", ", ".join(f"{k} {v:.0f} s" for k, v in clock.boots.items()))
    print("reboot to SSH-ready:", ", ".join(f"{k} {v:.0f} s" for k, v in clock.reboots.items()))
    print(f"\nscenario, cached image: {clock.total:.0f} s (target {TARGET_CACHED:.0f} s, ratio {clock.total / TARGET_CACHED:.2f})")
    if "image, cold (empty cache)" in img:
        cold = clock.total + img["image, cold (empty cache)"]
        print(f"scenario, cold (image built): {cold:.0f} s (target {TARGET_COLD:.0f} s, ratio {cold / TARGET_COLD:.2f})")
    print("where the time goes:")
    for name, s in sorted(clock.phases, key=lambda p: -p[1]):
        print(f"  {100 * s / clock.total:5.1f} %  {name}")
    if clock.failed:
        print("checks that failed:", *clock.failed, sep="\n  ")


if __name__ == "__main__":
    main()
