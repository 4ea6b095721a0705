"""Facts about the live node that parse a command's output: pure functions (text in, value out),
tested on output recorded in the VM lab (tests/bringup/facts/livefacts.json).

A Command in a plan names one of these parsers (`Command.parse`); the engine runs the fact
command and compares the parsed value with the plan's `done_if`. What is read is the live
state, not a configuration file: the addresses a device has (`ip -j addr`), the table the
kernel has loaded (`nft -j list table`), what systemd runs, what is mounted.
"""

from __future__ import annotations

import json
import re


def ip_addresses(output: str) -> list[str]:
    """`ip -j addr show dev IF` -> the device's IPv4 addresses as "ADDR/PREFIX"."""
    try:
        links = json.loads(output or "[]")
    except json.JSONDecodeError:
        return []
    return [f"{a['local']}/{a['prefixlen']}" for link in links for a in link.get("addr_info", [])
            if a.get("family") == "inet" and "local" in a and "prefixlen" in a]


def nft_table(output: str) -> list[str]:
    """`nft -j list table inet NAME` -> what the loaded table holds, one word per fact: "chain
    NAME" per base chain, "snat ADDR" per SNAT target. Empty when the table is not loaded."""
    try:
        doc = json.loads(output or "{}")
    except json.JSONDecodeError:
        return []
    out = []
    for item in doc.get("nftables", []):
        if "chain" in item and "hook" in item["chain"]:
            out.append(f"chain {item['chain']['name']}")
        elif "rule" in item:
            for expr in item["rule"].get("expr", []):
                if "snat" in expr:
                    out.append(f"snat {expr['snat'].get('addr')}")
    return out


def first_line(output: str) -> list[str]:
    """The first line of plain output (`systemctl is-enabled`, `sysctl -n`, `nmcli -g ...`)."""
    lines = (output or "").strip().splitlines()
    return [lines[0].strip()] if lines else []


def lines(output: str) -> list[str]:
    return [ln.strip() for ln in (output or "").splitlines() if ln.strip()]


def unit_start(output: str) -> tuple[str, int | None]:
    """`systemctl show UNIT -p ActiveState -p ExecMainStartTimestamp --timestamp=unix` ->
    (ActiveState, start time in seconds since the epoch or None)."""
    props = dict(ln.split("=", 1) for ln in (output or "").splitlines() if "=" in ln)
    m = re.fullmatch(r"@(\d+)", props.get("ExecMainStartTimestamp", "").strip())
    return props.get("ActiveState", "unknown").strip(), int(m.group(1)) if m else None


PARSERS = {"ip_addresses": ip_addresses, "nft_table": nft_table, "first_line": first_line, "lines": lines}


def satisfied(parser: str | None, output: str, done_if: str | tuple[str, ...]) -> bool:
    """Whether the fact's output says the change is there: every `done_if` item is among the
    parsed values (no parser: the text is found in the raw output, as before)."""
    wanted = (done_if,) if isinstance(done_if, str) else tuple(done_if)
    if parser is None:
        return all(w in output for w in wanted)
    got = set(PARSERS[parser](output))
    return all(w in got for w in wanted)
