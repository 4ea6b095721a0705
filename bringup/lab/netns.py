"""Running things inside the lab's network namespaces.

Daemons and command-line clients run under `ip netns exec NS ...`; the checks written in
Python (DNS, NTP, echo, TFTP probes) enter a namespace for one thread only with setns(2), so
they need no extra interpreter per probe.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pirack.errors import WorkFailed

from ..engine.facts import process_start

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class LabError(WorkFailed):
    """The lab could not be built or torn down (a daemon did not start, ip failed)."""


@contextlib.contextmanager
def in_netns(ns: str):
    """Move the calling thread (only it) into namespace `ns`, and back afterwards."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise LabError(f"setns into {ns}: {os.strerror(ctypes.get_errno())}")
        try:
            yield
        finally:
            if _libc.setns(home, CLONE_NEWNET) != 0:  # a thread stranded in a lab ns must not live on
                raise LabError(f"could not return from {ns}: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(target)
        os.close(home)


def run(args: list[str], ns: str | None = None, input: str | None = None, timeout: float = 20,
        check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    e = None if env is None else {**os.environ, **env}
    try:
        cp = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=e)
    except subprocess.TimeoutExpired as exc:
        if check:
            raise LabError(f"{' '.join(cmd)}: no answer in {timeout} s") from None
        return subprocess.CompletedProcess(cmd, 124, exc.stdout or "", exc.stderr or "")
    if check and cp.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed ({cp.returncode}): {cp.stderr.strip() or cp.stdout.strip()}")
    return cp


def ip_batch(lines: list[str], ns: str | None = None) -> None:
    if not lines:
        return
    run(["ip", *(["-n", ns] if ns else []), "-batch", "-"], input="\n".join(lines) + "\n")


def list_netns() -> list[str]:
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


@dataclass
class Started:
    """A process the lab started: enough to find it again from another process."""

    name: str
    ns: str
    pid: int
    start: int
    log: str

    def alive(self) -> bool:
        st = process_start(self.pid)
        if st != self.start:
            return False
        try:  # a zombie (our own child, not reaped yet) counts as gone
            return Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False


_children: dict[int, subprocess.Popen] = {}


def start(name: str, ns: str, args: list[str], log: Path, env: dict | None = None) -> Started:
    """Start a daemon in the foreground inside `ns`; its stdout and stderr go to `log`.
    `ip netns exec` execs the command, so the PID is the daemon's own."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as fh:
        p = subprocess.Popen(["ip", "netns", "exec", ns, *args], stdin=subprocess.DEVNULL, stdout=fh,
                             stderr=subprocess.STDOUT, env=None if env is None else {**os.environ, **env},
                             start_new_session=True)  # a Ctrl-C in the terminal is ours to handle, not theirs
    _children[p.pid] = p
    st = process_start(p.pid)
    return Started(name, ns, p.pid, st if st is not None else -1, str(log))


def stop(procs: list[Started], grace: float = 0.4) -> list[str]:
    """Stop processes by PID: SIGTERM, then SIGKILL after `grace` seconds. Returns problems."""
    live = [p for p in procs if p.alive()]
    _signal(live, signal.SIGTERM)
    live = _wait_gone(live, grace)
    _signal(live, signal.SIGKILL)  # a lab daemon keeps nothing worth a slow shutdown
    live = _wait_gone(live, 3)
    return [f"{p.name} (pid {p.pid}) did not stop" for p in live]


def _signal(procs: list[Started], sig: signal.Signals) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, sig)


def _wait_gone(live: list[Started], seconds: float) -> list[Started]:
    """Reap until every process has ended or `seconds` have passed; those still alive."""
    deadline = time.monotonic() + seconds
    while live and time.monotonic() < deadline:
        reap()
        live = [p for p in live if p.alive()]
        if live:
            time.sleep(0.02)
    return live


def reap() -> None:
    """Collect the exit status of every child `start` made that has ended (no zombies left)."""
    for pid, p in list(_children.items()):
        if p.poll() is not None:
            del _children[pid]


def listening(pid: int, proto: str, port: int) -> bool:
    """Whether the namespace of `pid` has a socket bound to `port` (TCP in LISTEN state).
    /proc/PID/net shows the sockets of that process's namespace."""
    lines = []
    for table in (proto, proto + "6"):  # some daemons (ganesha) listen on AF_INET6 sockets
        try:
            lines += Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except (FileNotFoundError, ProcessLookupError):
            return False
    for line in lines:
        f = line.split()
        if int(f[1].split(":")[1], 16) == port and (proto != "tcp" or f[3] == "0A"):
            return True
    return False


def tail(path: str, n: int = 6) -> str:
    """The last lines of a daemon's log, on one line."""
    try:
        lines = Path(path).read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "(no output)"
    return " | ".join(lines[-n:]) or "(no output)"


def wait_listening(waits: list[tuple[Started, list[tuple[str, int]]]], timeout: float = 8.0) -> None:
    """Poll until every started process listens on its ports (never a fixed sleep); LabError
    naming the one that died or is still not listening."""
    deadline = time.monotonic() + timeout
    pending = list(waits)
    while pending:
        still = []
        for p, ports in pending:
            if not p.alive():
                raise LabError(f"{p.name} exited at start in {p.ns}: {tail(p.log)}")
            if not all(listening(p.pid, proto, port) for proto, port in ports):
                still.append((p, ports))
        pending = still
        if pending:
            if time.monotonic() > deadline:
                names = ", ".join(p.name for p, _ in pending)
                raise LabError(f"not listening after {timeout:.0f} s: {names} ({tail(pending[0][0].log)})")
            time.sleep(0.02)
