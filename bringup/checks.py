"""Each daemon's own checker, run on a candidate file before the live one is replaced.

run_check(name, candidate, root) -> (ok, message). `candidate` is a temporary copy of the new
file with the live file's name, in a private folder. What each checker does (measured here on
Debian 12; see tests/bringup/test_checkers.py):

  dnsmasq   dnsmasq --test -C FILE
  nft       nft -c -f FILE                       (parses and checks against the kernel, applies nothing)
  chrony    chronyd -p -f FILE                   (prints the parsed config; exit 1 on a bad directive)
  sshd      sshd -t -f MAIN                      MAIN = the node's sshd_config with its Include of
                                                 sshd_config.d replaced by an Include of FILE
  exportfs  unshare -m: bind FILE over /etc/exports, an empty folder over /etc/exports.d and a
            scratch folder over /var/lib/nfs, then exportfs -ra. A bad option fails; "Failed to
            stat" (the SSD not mounted here) is not a syntax error and passes.
  snmpd     snmpd -f -C -c FILE -Le -r udp:192.0.2.1:65000 (a TEST-NET address, so it reads the
            config and exits at the endpoint); any warning about the config is a failure.
  fstab     findmnt --verify --tab-file FILE     (parse errors fail; a missing drive does not;
                                                 "Success, no errors or warnings detected" passes)
  keyfile   a NetworkManager keyfile parsed as INI with [connection] id, type, interface-name
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

BINARIES = {"dnsmasq": "dnsmasq", "nft": "nft", "chrony": "chronyd", "sshd": "sshd",
            "exportfs": "exportfs", "snmpd": "snmpd", "fstab": "findmnt", "keyfile": None}


class CheckerMissing(Exception):
    """The checker's binary is not installed (the daemon is not either)."""


def _run(argv, env=None, timeout=20) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def _tail(r: subprocess.CompletedProcess) -> str:
    return (r.stderr.strip() or r.stdout.strip() or f"exit {r.returncode}")[-800:]


def _dnsmasq(f: Path, root: Path):
    r = _run(["dnsmasq", "--test", "-C", str(f)])
    return r.returncode == 0, _tail(r)


def _nft(f: Path, root: Path):
    r = _run(["nft", "-c", "-f", str(f)])
    return r.returncode == 0, _tail(r)


def _chrony(f: Path, root: Path):
    r = _run(["chronyd", "-p", "-f", str(f)])
    return r.returncode == 0, _tail(r)


def _sshd(f: Path, root: Path):
    main = None
    for cand in (root / "etc/ssh/sshd_config", Path("/etc/ssh/sshd_config")):
        if cand.exists():
            main = cand.read_text(errors="replace")
            break
    lines = [ln for ln in (main or "").splitlines() if not re.match(r"\s*Include\s+\S*sshd_config\.d", ln)]
    # sshd takes the first value it reads: the candidate drop-in goes first, as Include does.
    text = f"Include {f}\n" + "\n".join(lines) + "\n"
    m = f.parent / "sshd_config.candidate"
    m.write_text(text)
    argv = ["sshd", "-t", "-f", str(m)]
    if not Path("/run/sshd").is_dir() and shutil.which("unshare"):
        # sshd -t wants its privilege separation folder, which exists only while ssh runs:
        # make it in a private mount namespace rather than on this machine.
        argv = ["unshare", "-m", "sh", "-c", 'mount -t tmpfs pirack /run && mkdir /run/sshd && exec "$@"', "sshd-check", *argv]
    r = _run(argv)
    return r.returncode == 0, _tail(r)


def _exportfs(f: Path, root: Path):
    scratch = f.parent / "exportfs"
    (scratch / "d").mkdir(parents=True, exist_ok=True)
    (scratch / "nfs").mkdir(exist_ok=True)
    script = ('mount --bind "$1" /etc/exports && '
              '{ [ ! -d /etc/exports.d ] || mount --bind "$2" /etc/exports.d; } && '
              'mount --bind "$3" /var/lib/nfs && exportfs -ra')
    if not Path("/etc/exports").exists():
        return True, "not checked: no /etc/exports to stand in for (nfs-kernel-server missing)"
    r = _run(["unshare", "-m", "sh", "-c", script, "check", str(f), str(scratch / "d"), str(scratch / "nfs")])
    problems = [ln for ln in r.stderr.splitlines() if ln.strip() and "Failed to stat" not in ln]
    if problems:
        return False, "\n".join(problems)[-800:]
    return True, "ok"


def _snmpd(f: Path, root: Path):
    persist = f.parent / "snmp-persist"
    persist.mkdir(exist_ok=True)
    # No MIBs (Debian ships none: loading them prints hundreds of lines), a scratch state folder.
    env = {"MIBS": "", "MIBDIRS": str(persist), "SNMP_PERSISTENT_DIR": str(persist)}
    r = _run(["snmpd", "-f", "-C", "-c", str(f), "-Le", "-r", "-p", str(f.parent / "snmpd.pid"),
              "udp:192.0.2.1:65000"], env=env, timeout=10)
    expected = ("Error opening specified endpoint", "Server Exiting with code")
    problems = [ln for ln in (r.stderr + r.stdout).splitlines()
                if ln.strip() and not ln.startswith(expected) and not ln.startswith("Created directory")]
    if problems:
        return False, "\n".join(problems)[-800:]
    return True, "ok"


def _fstab(f: Path, root: Path):
    from .engine.livefacts import fstab_verdict

    r = _run(["findmnt", "--verify", "--tab-file", str(f)])
    return fstab_verdict(r.stdout + r.stderr)


def _keyfile(f: Path, root: Path):
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read_string(f.read_text())
    except configparser.Error as exc:
        return False, f"not a keyfile: {exc}"
    for key in ("id", "type", "interface-name"):
        if not cp.has_option("connection", key):
            return False, f"[connection] has no {key}"
    return True, "ok"


CHECKS = {"dnsmasq": _dnsmasq, "nft": _nft, "chrony": _chrony, "sshd": _sshd, "exportfs": _exportfs,
          "snmpd": _snmpd, "fstab": _fstab, "keyfile": _keyfile}


def run_check(name: str, content: bytes, live_name: str, root: Path = Path("/")) -> tuple[bool, str]:
    """Check `content` (the new file) with checker `name`. Raises CheckerMissing if its binary is
    not installed."""
    binary = BINARIES[name]
    if binary and not shutil.which(binary):
        raise CheckerMissing(binary)
    with tempfile.TemporaryDirectory(prefix="pirack-check-") as tmp:
        f = Path(tmp) / live_name
        f.write_bytes(content)
        os.chmod(f, 0o644)
        try:
            return CHECKS[name](f, root)
        except subprocess.TimeoutExpired:
            return False, f"{binary} did not finish in time"
