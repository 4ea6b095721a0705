"""Secrets (the SNMP community): from PIRACK_SNMP_COMMUNITY, else /etc/pirack/secrets.toml
(mode 0600), else a new random one that the run writes to that file. Never printed.

The community is a word in snmpd.conf (`rocommunity COMMUNITY SOURCE`) and a password: it must
match COMMUNITY (8 to 64 letters, digits and `._~+-=:@%/`): no space (snmpd splits on it), no
quote, no `#`, no control character. A bad one is refused naming where it came from, never
showing it.
"""

from __future__ import annotations

import os
import re
import secrets as _random
import stat
import tomllib
from pathlib import Path

from pirack.errors import InputError
from pirack.fsutil import NodeTree

from .render.model import ManagedFile, Secrets
from .render.node import SECRETS_PATH

ENV = "PIRACK_SNMP_COMMUNITY"
COMMUNITY = re.compile(r"[A-Za-z0-9._~+=:@%/-]{8,64}")
COMMUNITY_RULE = "8 to 64 letters, digits or ._~+-=:@%/ (no space, quote, '#' or control character)"


def check_community(value: str, where: str, key: str | None) -> str:
    """The community, or InputError naming where it came from (the value is never shown)."""
    if not COMMUNITY.fullmatch(value):
        raise InputError(where, key, f"the SNMP community must be {COMMUNITY_RULE}; this one is not "
                                     f"({len(value)} characters)")
    return value


def load_secrets(root: Path) -> tuple[Secrets, ManagedFile | None]:
    """The secrets, and the file to write when they were just made up (else None)."""
    env = os.environ.get(ENV)
    if env:
        return Secrets(snmp_community=check_community(env.strip(), f"${ENV}", None)), None
    tree = NodeTree(root)
    where = str(tree.host_path(SECRETS_PATH))
    try:
        got = tree.read(SECRETS_PATH)
    except OSError as exc:
        raise InputError(where, None, f"cannot be read: {exc.strerror or exc}") from None
    if got is not None:
        return Secrets(snmp_community=_from_file(where, *got)), None
    community = _random.token_urlsafe(18)
    text = ("# Secrets for pirack `bringup` (mode 0600). Made up on the first run; change freely.\n"
            f"[snmp]\ncommunity = \"{community}\"\n")
    return Secrets(snmp_community=community), ManagedFile(SECRETS_PATH, text, mode=0o600, secret=True,
                                                          why="the SNMP community, made up now")


def _from_file(where: str, data: bytes, st: os.stat_result) -> str:
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(where, None, "is readable by others: chmod 600 it (it holds the SNMP community)")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(where, None, f"not valid TOML: {exc}") from None
    snmp = doc.get("snmp")
    community = snmp.get("community") if isinstance(snmp, dict) else None
    if not isinstance(community, str) or not community.strip():
        raise InputError(where, "snmp.community", "missing or empty: write community = \"...\" under [snmp]")
    return check_community(community.strip(), where, "snmp.community")
