"""Each daemon's own checker, run on a candidate file before the live one is replaced.

run_check(name, content, path, root) -> (ok, message). FILE is a temporary copy of the new
file with the live file's name, in a private folder. What each checker does (measured here on
Debian 12; see tests/bringup/test_checkers.py):

  dnsmasq   dnsmasq --test -C FILE
  nft       nft -c -f FILE                       (parses and checks against the kernel, applies nothing)
  chrony    chronyd -p -f FILE                   (prints the parsed config; exit 1 on a bad directive)
  sshd      sshd -T -f MAIN                      MAIN = the node's sshd_config, its Includes pointed at
                                                 copies of the root's files with FILE among them; every
                                                 setting of FILE must be the effective one
  exportfs  unshare -m: bind FILE over /etc/exports, an empty folder over /etc/exports.d and a
            scratch folder over /var/lib/nfs, then exportfs -ra. A bad option fails; "Failed to
            stat" (the SSD not mounted here) is not a syntax error and passes.
  snmpd     snmpd -f -C -c FILE -Le -r udp:192.0.2.1:65000 (a TEST-NET address, so it reads the
            config and exits at the endpoint); any warning about the config is a failure.
  fstab     findmnt --verify --tab-file FILE     (parse errors fail; a missing drive does not)
  keyfile   a NetworkManager keyfile parsed as INI with [connection] id, type, interface-name

Checker folders are named after their process, so the next run removes those a kill left.
"""

from __future__ import annotations

import configparser
import fnmatch
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from pirack.fsutil import NodeTree

from .engine.facts import process_start

BINARIES = {"dnsmasq": "dnsmasq", "nft": "nft", "chrony": "chronyd", "sshd": "sshd",
            "exportfs": "exportfs", "snmpd": "snmpd", "fstab": "findmnt", "keyfile": None}


class CheckerMissing(Exception):
    """The checker's binary is not installed (the daemon is not either)."""


def _run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def _tail(r: subprocess.CompletedProcess) -> str:
    return (r.stderr.strip() or r.stdout.strip() or f"exit {r.returncode}")[-800:]


def _dnsmasq(f: Path, root: Path, path: str):
    r = _run(["dnsmasq", "--test", "-C", str(f)])
    return r.returncode == 0, _tail(r)


def _nft(f: Path, root: Path, path: str):
    r = _run(["nft", "-c", "-f", str(f)])
    return r.returncode == 0, _tail(r)


def _chrony(f: Path, root: Path, path: str):
    r = _run(["chronyd", "-p", "-f", str(f)])
    return r.returncode == 0, _tail(r)


SSHD_MAIN = "/etc/ssh/sshd_config"
SSHD_DEFAULT_MAIN = "Include /etc/ssh/sshd_config.d/*.conf\n"  # Debian's, when the root has none


def _with_privsep(argv: list[str]) -> list[str]:
    """sshd wants its privilege separation folder, which exists only while ssh runs: make it in
    a private mount namespace rather than on this machine."""
    if Path("/run/sshd").is_dir() or not shutil.which("unshare"):
        return argv
    return ["unshare", "-m", "sh", "-c", 'mount -t tmpfs pirack /run && mkdir /run/sshd && exec "$@"', "sshd-check", *argv]


def _copy_included(tree: NodeTree, pattern: str, scratch: Path) -> str:
    """Copy the root's files an Include pattern names into scratch (same layout); the pattern
    that reads the copies. sshd's Include paths are absolute (relative ones are under /etc/ssh)."""
    pattern = pattern if pattern.startswith("/") else f"/etc/ssh/{pattern}"
    folder, glob = posixpath.split(pattern)
    dest = scratch / folder.lstrip("/")
    dest.mkdir(parents=True, exist_ok=True)
    for name in tree.listdir(folder):
        if fnmatch.fnmatch(name, glob):
            try:
                got = tree.read(f"{folder}/{name}")
            except OSError:  # a link or a folder: sshd would read it, we do not follow it
                continue
            if got:
                (dest / name).write_bytes(got[0])
    return str(scratch) + pattern


def _sshd_main(tree: NodeTree, scratch: Path, candidate: Path, candidate_path: str) -> Path:
    """The node's sshd_config with each Include pointed at copies of the root's included files,
    the candidate among them under its real name, and a scratch host key."""
    try:
        got = tree.read(SSHD_MAIN)
    except OSError:
        got = None
    lines = []
    for line in (got[0].decode("utf-8", "replace") if got else SSHD_DEFAULT_MAIN).splitlines():
        m = re.match(r"(\s*Include\s+)(.*)$", line, re.I)
        if m:
            line = m.group(1) + " ".join(_copy_included(tree, p, scratch) for p in m.group(2).split())
        lines.append(line)
    (scratch / candidate_path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(candidate, scratch / candidate_path.lstrip("/"))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(scratch / "hostkey")],
                   capture_output=True, timeout=20)
    main = scratch / "sshd_config"
    main.write_text("\n".join(lines) + f"\nHostKey {scratch / 'hostkey'}\n")
    return main


def sshd_effective(text: str) -> dict[str, list[str]]:
    """`sshd -T` output: keyword (lower case) -> its values."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            out.setdefault(key.lower(), []).append(value.strip())
    return out


def _sshd(f: Path, root: Path, path: str):
    """sshd -T on the configuration the node would have: every setting of the candidate must be
    the one sshd uses. sshd takes the FIRST value it reads, so a drop-in that sorts before ours
    (50-cloud-init.conf before pirack.conf) would win: the check sees it, `-t` would not."""
    scratch = f.parent / "sshd-root"
    main = _sshd_main(NodeTree(root), scratch, f, path)
    r = _run(_with_privsep(["sshd", "-T", "-f", str(main)]))
    if r.returncode != 0:
        return False, _tail(r)
    effective = sshd_effective(r.stdout)
    ours = sshd_effective("\n".join(ln for ln in f.read_text().splitlines() if not ln.lstrip().startswith("#")))
    wrong = [f"sshd uses {k} {' '.join(effective.get(k, ['(unset)']))}, {path} says {v[0]}: another file sets it first"
             for k, v in ours.items() if [x.lower() for x in effective.get(k, [])][:1] != [v[0].lower()]]
    if wrong:
        return False, "; ".join(wrong)
    return True, "ok (sshd -T: " + ", ".join(f"{k} {v[0]}" for k, v in ours.items()) + ")"


def _exportfs(f: Path, root: Path, path: str):
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


def _snmpd(f: Path, root: Path, path: str):
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


def _fstab(f: Path, root: Path, path: str):
    """util-linux 2.38 prints "Success, no errors or warnings detected" for a clean table and
    "N parse errors, N errors, N warnings" otherwise; only parse errors matter here (a drive or
    mount point missing on this machine is not the file's fault)."""
    r = _run(["findmnt", "--verify", "--tab-file", str(f)])
    out = r.stdout + r.stderr
    m = re.search(r"(\d+) parse errors?", out)
    if (m and m.group(1) != "0") or (m is None and r.returncode != 0):
        return False, _tail(r)
    return True, "ok"


def _keyfile(f: Path, root: Path, path: str):
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


CHECK_PREFIX = "pirack-check-"


def _check_folder_prefix() -> str:
    """Checker folders carry their process (PID and start time): one whose process is gone was
    left by a kill, and sweep_stale() removes it (a candidate snmpd.conf holds the community)."""
    return f"{CHECK_PREFIX}{os.getpid()}-{process_start(os.getpid())}-"


def sweep_stale() -> list[str]:
    """Checker folders of processes that no longer run (killed mid-check), ours only."""
    gone = []
    base = Path(tempfile.gettempdir())
    for p in base.glob(f"{CHECK_PREFIX}*"):
        m = re.fullmatch(rf"{CHECK_PREFIX}(\d+)-(\d+)-\w+", p.name)
        try:
            st = p.lstat()
        except FileNotFoundError:
            continue
        if not m or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
            continue
        if str(process_start(int(m.group(1)))) != m.group(2):
            shutil.rmtree(p, ignore_errors=True)
            gone.append(str(p))
    return gone


def run_check(name: str, content: bytes, path: str, root: Path = Path("/")) -> tuple[bool, str]:
    """Check `content`, the new version of the node's file `path`, with checker `name`, against
    the node at `root`. Raises CheckerMissing if its binary is not installed."""
    binary = BINARIES[name]
    if binary and not shutil.which(binary):
        raise CheckerMissing(binary)
    with tempfile.TemporaryDirectory(prefix=_check_folder_prefix()) as tmp:
        f = Path(tmp) / posixpath.basename(path)
        f.write_bytes(content)
        os.chmod(f, 0o644)
        try:
            return CHECKS[name](f, root, path)
        except subprocess.TimeoutExpired:
            return False, f"{binary} did not finish in time"
