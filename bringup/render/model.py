"""What a node should look like, as data: the files, folders, commands and packages of one node.

Renderers are pure (cluster spec in, NodePlan out, no disk, no network); the engine
(bringup.engine) compares a NodePlan with a machine and converges it; the virtual lab reads the
same NodePlan to start the real daemons from these files. Keep these fields stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BEGIN_MARK = "# BEGIN pirack"
END_MARK = "# END pirack"
REDACTED = "«redacted»"


@dataclass(frozen=True)
class ManagedFile:
    """One file on the node.

    path: absolute path on the node ("/etc/dnsmasq.d/pirack.conf"); under --root it is taken
        relative to the root.
    content: the whole file (kind="file") or only the body of our block (kind="block": the
        lines between `# BEGIN pirack` / `# END pirack`; the rest of the file is left as it is —
        see merge_block).
    check: name of the daemon's own checker run on a candidate copy before the live file is
        replaced (bringup.checks.CHECKS: "dnsmasq", "nft", "chrony", "sshd", "exportfs",
        "snmpd", "fstab", "keyfile"), or None.
    service: the systemd unit to reload/restart when the file changed (None: no service).
    after: a command run (live only) after the file changed, instead of or besides `service`
        ("nft -f FILE", "sysctl -p FILE", "exportfs -ra", "nmcli connection reload").
    secret: the content holds a secret (redacted in every diff, plan and log).
    on_drive: lives on the SSD; live runs skip it (with a note) while the drive is not mounted,
        so nothing is written onto the SD card under an empty mount point.
    """

    path: str
    content: str
    mode: int = 0o644
    owner: str = "root"
    group: str = "root"
    kind: Literal["file", "block"] = "file"
    check: str | None = None
    service: str | None = None
    action: Literal["reload", "restart"] = "restart"
    after: tuple[str, ...] | None = None
    secret: bool = False
    on_drive: bool = False
    why: str = ""
    # Live only. needs_drive: written only while the SSD is mounted (it names folders on it:
    # exportfs fails on a missing one). revert: run after `bringup revert` put the old file
    # back (or removed it), so live state follows the file; "{before}" is replaced by what
    # live_fact printed before the run changed the file.
    needs_drive: bool = False
    revert: tuple[str, ...] | None = None
    live_fact: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ManagedDir:
    path: str
    mode: int = 0o755
    owner: str = "root"
    group: str = "root"
    on_drive: bool = False
    why: str = ""


@dataclass(frozen=True)
class Command:
    """A change that is not a file we own (the uplink's extra address, the Wi-Fi radio).

    argv runs only on a live node (never under --root, where it is recorded in the plan).
    fact: a read-only command whose output tells whether the change is already there — live
        state (a device's addresses, the loaded ruleset, what systemd has enabled), not a file;
    parse: the name of the pure parser of that output (bringup.engine.livefacts.PARSERS);
        None: done_if is looked for in the raw text;
    done_if: the value (or all of the values) that, among the parsed fact, mean "no change";
    undo: run by `bringup revert` to take the change back (journaled with the run);
    optional: a failure is noted and the run goes on (mounting an SSD that is not plugged in).
    """

    name: str
    argv: tuple[str, ...]
    fact: tuple[str, ...] | None = None
    done_if: str | tuple[str, ...] | None = None
    why: str = ""
    parse: str | None = None
    undo: tuple[str, ...] | None = None
    optional: bool = False


@dataclass
class NodePlan:
    node: str
    role: Literal["master", "slave"]
    files: list[ManagedFile] = field(default_factory=list)
    directories: list[ManagedDir] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    packages: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)  # steps for a person (EEPROM, formatting)
    secrets: tuple[str, ...] = ()  # values to redact from anything shown

    def file(self, path: str) -> ManagedFile:
        return next(f for f in self.files if f.path == path)

    def redact(self, text: str) -> str:
        for s in self.secrets:
            if s:
                text = text.replace(s, REDACTED)
        return text


@dataclass(frozen=True)
class RenderOptions:
    """Knobs that differ between a real node and the virtual lab. Defaults = a real Pi."""

    dnsmasq_bind: Literal["bind-dynamic", "bind-interfaces"] = "bind-dynamic"
    dnsmasq_leasefile: str = "/var/lib/misc/dnsmasq.leases"
    dnsmasq_pidfile: str | None = None  # None: the service's own (Debian passes -x)
    hosts_file: str = "/etc/pirack/hosts"
    chrony_driftfile: str = "/var/lib/chrony/chrony.drift"
    chrony_logdir: str = "/var/log/chrony"  # never on the SSD: it may be missing at boot
    # Lab only (None on a real node: the package's defaults). chronyd has no command-line flag
    # for these, and the defaults (/run/chrony/...) are the host's.
    chrony_pidfile: str | None = None
    chrony_cmdsocket: str | None = None
    # Lab only: the master's source as `server ADDRESS iburst` (the lab's uplink NTP source)
    # instead of the file's pool or host name, which does not resolve inside the lab.
    chrony_source_override: str | None = None
    # Prefix for paths *inside* config files (tftp-root, addn-hosts, driftfile...), so the lab can
    # run daemons against a --root tree. File locations (ManagedFile.path) never carry it.
    path_prefix: str = ""
    # sshd drop-in (no passwords) only when the admin user has an authorized key: no lock-out.
    admin_has_key: bool = False


@dataclass(frozen=True)
class Secrets:
    snmp_community: str | None = None

    def values(self) -> tuple[str, ...]:
        return tuple(v for v in (self.snmp_community,) if v)


def merge_block(existing: str | None, body: str) -> str:
    """The file with our block (between the markers) set to `body`; everything else untouched.

    A file without the markers gets the block appended; a missing file becomes just the block.
    """
    block = f"{BEGIN_MARK}\n{body.rstrip(chr(10))}\n{END_MARK}\n"
    if not existing:
        return block
    lines = existing.splitlines(keepends=True)
    try:
        start = next(i for i, ln in enumerate(lines) if ln.rstrip("\r\n") == BEGIN_MARK)
        end = next(i for i in range(start, len(lines)) if lines[i].rstrip("\r\n") == END_MARK)
    except StopIteration:
        sep = "" if existing.endswith("\n") else "\n"
        return existing + sep + block
    return "".join(lines[:start]) + block + "".join(lines[end + 1:])


def block_body(existing: str | None) -> str | None:
    """The body of our block in a file, or None if it has none."""
    if not existing:
        return None
    lines = existing.splitlines()
    if BEGIN_MARK not in lines:
        return None
    start = lines.index(BEGIN_MARK)
    try:
        end = lines.index(END_MARK, start)
    except ValueError:
        return None
    return "\n".join(lines[start + 1:end]) + "\n"
