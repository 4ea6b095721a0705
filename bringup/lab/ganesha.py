"""The master's NFS exports, served in the lab by nfs-ganesha (userspace: this kernel has no
NFS server). Each line of the bring-up's exports file becomes one EXPORT with the same clients,
the same rw/ro and the same squash; only the folder moves under the lab's root, and the
pseudo path stays the real one, so clients ask for exactly what a slave would mount.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from pirack.errors import InputError


@dataclass(frozen=True)
class ExportClient:
    clients: str  # an address, a subnet, '*' ...
    access: str  # "RW" | "RO"
    squash: str  # "root_squash" | "no_root_squash" | "all_squash"


@dataclass(frozen=True)
class ExportLine:
    path: str
    clients: tuple[ExportClient, ...]


# Options with no ganesha counterpart that change nothing a lab client can see.
_NEUTRAL = {"sync", "async", "no_subtree_check", "subtree_check", "secure", "insecure", "wdelay",
            "no_wdelay", "hide", "nohide", "crossmnt", "no_acl"}


def parse_exports(text: str, source: str = "exports") -> list[ExportLine]:
    """exports(5) lines: `path client(opts) client(opts)...` (comments and blank lines skipped)."""
    out = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = shlex.split(line)
        path, specs = words[0], words[1:]
        clients = []
        for spec in specs:
            host, _, opts = spec.partition("(")
            opts = opts.rstrip(")")
            access, squash = "RO", "root_squash"  # exports(5) defaults
            for o in filter(None, opts.split(",")):
                if o in ("rw", "ro"):
                    access = o.upper()
                elif o in ("root_squash", "no_root_squash", "all_squash"):
                    squash = o
                elif o not in _NEUTRAL:
                    raise InputError(source, f"line {lineno}", f"export option '{o}' has no lab translation")
            clients.append(ExportClient(host or "*", access, squash))
        if not clients:
            raise InputError(source, f"line {lineno}", f"export {path} names no client")
        out.append(ExportLine(path, tuple(clients)))
    return out


def ganesha_config(exports: list[ExportLine], root: str, bind: str, recovery_dir: str) -> str:
    """The whole ganesha.conf: NFSv4 only, bound to the master's cluster address, no rpcbind."""
    out = [
        "# nfs-ganesha for the pirack lab, translated from the bring-up's exports file.\n",
        "NFS_CORE_PARAM {\n\tProtocols = 4;\n\tBind_addr = %s;\n\tNFS_Port = 2049;\n"
        "\tEnable_NLM = false;\n\tEnable_RQUOTA = false;\n\tEnable_UDP = false;\n}\n" % bind,
        # No grace period: the lab's first client may write at once.
        "NFSv4 {\n\tGraceless = true;\n\tRecoveryBackend = fs;\n\tRecoveryRoot = %s;\n"
        "\tOnly_Numeric_Owners = true;\n}\n" % recovery_dir,
        "NFS_KRB5 {\n\tActive_krb5 = false;\n}\n",
    ]
    for i, e in enumerate(exports, 1):
        out.append(
            "EXPORT {\n"
            f"\tExport_Id = {i};\n\tPath = \"{root.rstrip('/')}{e.path}\";\n\tPseudo = \"{e.path}\";\n"
            "\tAccess_Type = None;\n\tProtocols = 4;\n\tTransports = TCP;\n"
            "\tFSAL {\n\t\tName = VFS;\n\t}\n"
        )
        for c in e.clients:
            out.append(f"\tCLIENT {{\n\t\tClients = {c.clients};\n\t\tAccess_Type = {c.access};\n"
                       f"\t\tSquash = {c.squash};\n\t}}\n")
        out.append("}\n")
    return "".join(out)
