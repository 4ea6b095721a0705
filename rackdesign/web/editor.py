"""The settings people change most, read from and written back into cluster.toml with tomlkit:
comments, order and spacing stay as they were; only the values asked for change. The file stays
the one source of truth: the caller validates the new text as `rack validate` would before it
is written, and the page updates from the file like after any other save.

Settings (JSON from the page):
    nodes               nodes in total (1 master + slaves); slaves are added or removed at the end
    node_parts          [{"board", "hat"}] per node, in file order ("" = no HAT)
    switch, switch_orientation ("side" | "flat"), drive (storage.drive), drive_placement
    ("base" | "none"), sheet, margin_mm, labels (rack.engraving.labels)
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
import tomllib
from typing import TYPE_CHECKING

from pirack import spec
from pirack.errors import InputError

if TYPE_CHECKING:
    from tomlkit import TOMLDocument
    from tomlkit.items import AbstractTable

ORIENTATIONS = ("side", "flat")
PLACEMENTS = ("base", "none")


def _range_mm(length_type: object) -> tuple[float, float]:
    """The [lo, hi] mm a schema length type declares with pirack.units.within."""
    for meta in getattr(length_type, "__metadata__", ()):
        span = getattr(getattr(meta, "func", None), "range_mm", None)
        if span is not None:
            return float(span[0]), float(span[1])
    raise LookupError(f"{length_type!r} declares no range")


# The schema's limits, not copies of them: the form must offer nothing the file would refuse.
MAX_NODES = spec.MAX_NODES
MARGIN_RANGE = _range_mm(spec.Margin)  # mm


def limits() -> dict[str, list[float]]:
    """What the page's inputs allow (their min and max), as the schema has it."""
    return {"nodes": [1, MAX_NODES], "margin_mm": list(MARGIN_RANGE)}


def current(text: str) -> dict:
    """The editable settings of a cluster file's text (as written, before validation)."""
    data = tomllib.loads(text)
    rack = data.get("rack", {})
    nodes = data.get("nodes", [])
    return {
        "nodes": len(nodes),
        "node_parts": [{"name": n.get("name", ""), "role": n.get("role", ""), "board": n.get("board", ""),
                        "hat": n.get("hat") or ""} for n in nodes],
        "switch": rack.get("switch") or "",
        "switch_orientation": rack.get("switch_orientation", "side"),
        "drive": (data.get("storage") or {}).get("drive") or "",
        "has_storage": "storage" in data,
        "drive_placement": rack.get("drive_placement", "base"),
        "sheet": rack.get("sheet", ""),
        "margin_mm": _mm(rack.get("margin", "5 mm")),
        "labels": bool(rack.get("engraving", {}).get("labels", True)),
    }


def _mm(value: object) -> float | None:
    from pirack.units import mm, parse_length

    try:
        return round(mm(parse_length(value)), 3)
    except Exception:  # shown as empty; the file's own error is on the page already
        return None


def apply(text: str, changes: dict) -> str:
    """The file's text with `changes` applied; everything else byte for byte as it was."""
    import tomlkit

    doc = tomlkit.parse(text)
    if "nodes" in changes:
        set_node_count(doc, _int(changes["nodes"], "nodes", 1, MAX_NODES))
    for i, np in enumerate(changes.get("node_parts") or []):
        if i < len(doc.get("nodes", [])):
            node = doc["nodes"][i]
            _set(node, "board", _text(np.get("board"), f"nodes[{i}].board"))
            _set(node, "hat", _text(np.get("hat"), f"nodes[{i}].hat"))
    rack = doc.setdefault("rack", tomlkit.table())
    simple = {"switch": ("switch", None), "switch_orientation": ("switch_orientation", ORIENTATIONS),
              "drive_placement": ("drive_placement", PLACEMENTS), "sheet": ("sheet", None)}
    for field, (key, allowed) in simple.items():
        if field in changes:
            _set(rack, key, _text(changes[field], f"rack.{key}", allowed))
    if "margin_mm" in changes:
        _set(rack, "margin", f"{_number(changes['margin_mm'], 'rack.margin', *MARGIN_RANGE):g} mm")
    if "labels" in changes:
        rack.setdefault("engraving", tomlkit.table())["labels"] = bool(changes["labels"])
    if "drive" in changes and "storage" in doc:
        _set(doc["storage"], "drive", _text(changes["drive"], "storage.drive"))
    return tomlkit.dumps(doc)


def _set(table: AbstractTable, key: str, value: str | None) -> None:
    """Set a value in place (its comment stays); None or "" removes an optional key."""
    if value in (None, ""):
        if key in table:
            del table[key]
    elif table.get(key) != value:
        table[key] = value


def _text(value: object, key: str, allowed: tuple[str, ...] | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(None, key, f"{value!r}: expected text")
    if allowed and value not in allowed:
        raise InputError(None, key, f"'{value}' is not one of {' | '.join(allowed)}")
    return value.strip()


def _int(value: object, key: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise InputError(None, key, f"{value!r}: expected a whole number")
    n = int(value)
    if not lo <= n <= hi:
        raise InputError(None, key, f"{n}: must be between {lo} and {hi}")
    return n


def _number(value: object, key: str, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(None, key, f"{value!r}: expected a number of millimetres") from None
    if not lo <= x <= hi:
        raise InputError(None, key, f"{x:g} mm: must be between {lo:g} and {hi:g} mm")
    return round(x, 3)


# --- adding and removing nodes -------------------------------------------------------------------

def set_node_count(doc: TOMLDocument, n: int) -> None:
    """Remove slaves from the end, or add slaves made like the last node (its board, HAT and
    comments) with a free name, a placeholder MAC and a free address outside the DHCP range."""
    nodes = doc["nodes"]
    while len(nodes) > n:
        last = len(nodes) - 1
        if nodes[last].get("role") == "master":
            raise InputError(None, "nodes", "the last node is the master: move it up before removing nodes")
        del nodes[last]
    while len(nodes) < n:
        nodes.append(_new_slave(doc, nodes[-1]))


def _new_slave(doc: TOMLDocument, like: AbstractTable):
    node = copy.deepcopy(like)
    used_names = {str(x.get("name")) for x in doc["nodes"]}
    k = 1
    while f"slave{k}" in used_names:
        k += 1
    node["name"] = f"slave{k}"
    node["role"] = "slave"
    node["mac"] = _free_mac({str(x.get("mac", "")).lower() for x in doc["nodes"]})
    node["address"] = _free_address(doc)
    node["boot"] = "sd"
    for key in ("serial", "owned"):
        if key in node:
            del node[key]
    return node


def _free_mac(used: set[str]) -> str:
    for i in range(0x10, 0x10000):
        mac = f"02:00:00:50:{i >> 8:02x}:{i & 0xff:02x}"  # locally administered: a placeholder
        if mac not in used:
            return mac
    raise InputError(None, "nodes", "no free placeholder MAC address")


def _free_address(doc: TOMLDocument) -> str:
    net = doc.get("network", {})
    try:
        subnet = ipaddress.ip_network(str(net.get("subnet")), strict=False)
        lo, hi = (ipaddress.ip_address(str(a)) for a in net.get("dhcp_range", ["0.0.0.0", "0.0.0.0"]))
    except ValueError:
        raise InputError(None, "network.subnet", "fix the network section before adding nodes") from None
    used = {str(x.get("address")) for x in doc["nodes"]} | {str(net.get("master_address"))}
    start = max((ipaddress.ip_address(a) for a in used if _in(a, subnet)), default=subnet.network_address)
    free = (a for a in itertools.islice(subnet.hosts(), 65536) if not lo <= a <= hi and str(a) not in used)
    first = None
    for a in free:
        if a > start:
            return str(a)  # the next one after the highest address in use
        first = first or a
    if first is None:
        raise InputError(None, "nodes", f"no free address left in {subnet} outside the DHCP range")
    return str(first)


def _in(a: str, subnet: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(a) in subnet
    except ValueError:
        return False
