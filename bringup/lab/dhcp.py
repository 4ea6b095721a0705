"""The lab's DHCP client: busybox udhcpc in a namespace, with our hook (udhcpc.sh) that records
the offer in a file and sets the address (never /etc/resolv.conf; dhclient would rewrite it)."""

from __future__ import annotations

from pathlib import Path

from .netns import run

UDHCPC_SCRIPT = Path(__file__).with_name("udhcpc.sh")


def lease(ns: str, interface: str, out: Path, tries: int = 5, options: tuple[str, ...] = (),
          probe: bool = False, timeout: float = 15) -> tuple[dict[str, str] | None, str]:
    """Ask for a lease on `interface` in `ns`: (what was offered, or None; udhcpc's own words).
    `probe`: only record an offer, change no address (asked from where none must come)."""
    out.unlink(missing_ok=True)
    argv = ["busybox", "udhcpc", "-i", interface, "-n", "-q", "-f", "-s", str(UDHCPC_SCRIPT),
            "-t", str(tries), "-T", "1"]
    if probe:
        argv += ["-A", "1"]
    for opt in options:
        argv += ["-O", opt]
    env = {"PIRACK_DHCP_OUT": str(out), **({"PIRACK_DHCP_PROBE": "1"} if probe else {})}
    cp = run(argv, ns=ns, check=False, timeout=timeout, env=env)
    said = f"udhcpc exit {cp.returncode}: {(cp.stderr or cp.stdout).strip()[-300:]}"
    if cp.returncode != 0 or not out.exists():
        return None, said
    return dict(ln.split("=", 1) for ln in out.read_text().splitlines() if "=" in ln), said
