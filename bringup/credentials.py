"""Secrets (the SNMP community): from PIRACK_SNMP_COMMUNITY, else /etc/pirack/secrets.toml
(mode 0600), else a new random one that the run writes to that file. Never printed."""

from __future__ import annotations

import os
import secrets as _random
import stat
import tomllib
from pathlib import Path

from pirack.errors import InputError

from .render.model import ManagedFile, Secrets
from .render.node import SECRETS_PATH

ENV = "PIRACK_SNMP_COMMUNITY"


def load_secrets(root: Path) -> tuple[Secrets, ManagedFile | None]:
    """The secrets, and the file to write when they were just made up (else None)."""
    env = os.environ.get(ENV)
    if env:
        return Secrets(snmp_community=env.strip()), None
    path = root / SECRETS_PATH.lstrip("/")
    if path.exists():
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InputError(path, None, "is readable by others: chmod 600 it (it holds the SNMP community)")
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise InputError(path, None, f"not valid TOML: {exc}") from None
        community = data.get("snmp", {}).get("community")
        if not isinstance(community, str) or not community.strip():
            raise InputError(path, "snmp.community", "missing or empty: write community = \"...\" under [snmp]")
        return Secrets(snmp_community=community.strip()), None
    community = _random.token_urlsafe(18)
    text = ("# Secrets for pirack `bringup` (mode 0600). Made up on the first run; change freely.\n"
            f"[snmp]\ncommunity = \"{community}\"\n")
    return Secrets(snmp_community=community), ManagedFile(SECRETS_PATH, text, mode=0o600, secret=True,
                                                          why="the SNMP community, made up now")
