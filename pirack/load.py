"""Finding, reading and validating a cluster file.

With no file argument every command uses ./cluster.toml if it exists, else the built-in
default (two nodes, modelled on the seed's rack; examples/seed.toml holds the seed's literal
parts). Every problem becomes one InputError naming the file and the key; nothing here writes anything.

A file is refused before it is parsed when it is not a regular file, larger than MAX_BYTES,
not UTF-8 or holds a NUL; after parsing, when it nests deeper than MAX_DEPTH (tomllib itself
recurses and would raise RecursionError at ~600 levels). Then the schema (pirack.spec), then
the rules that span fields or need the catalog (RULES below), each a small named function.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from pydantic import ValidationError

from .catalog import Catalog, load_catalog, user_parts_dir
from .errors import InputError, from_validation_error, shown
from .paths import default_text, read_cluster_file, resolve  # noqa: F401  (part of this module's interface)
from .spec import Cluster

if TYPE_CHECKING:
    from ipaddress import IPv4Network

DEFAULT_NAME = "<built-in default cluster>"
MAX_BYTES = 1 << 20  # a 64-node cluster file is ~25 KB
MAX_DEPTH = 16  # the schema nests 4 deep (purchases.extra[0].price.amount)


@dataclass(frozen=True)
class LoadedCluster:
    spec: Cluster
    catalog: Catalog
    path: Path | None  # None for the built-in default
    text: str

    @property
    def display(self) -> str:
        return str(self.path) if self.path else DEFAULT_NAME

    @property
    def base_dir(self) -> Path:
        """Where paths in the file (a logo) are relative to."""
        return self.path.parent if self.path else Path.cwd()


def load_cluster(path: Path | str | None = None, catalog: Catalog | None = None) -> LoadedCluster:
    p = resolve(path)
    if p is None:
        return load_text(default_text(), DEFAULT_NAME, None, catalog)
    return load_text(read_cluster_file(p, MAX_BYTES), str(p), p, catalog)


def load_text(text: str, display: str, path: Path | None = None, catalog: Catalog | None = None) -> LoadedCluster:
    """A cluster file's text, parsed and checked (errors name `display`); `path` is the file it
    was read from (None for the built-in default or text made in memory)."""
    spec = parse_cluster(text, display)
    catalog = catalog or load_catalog(user_dir=user_parts_dir(path))  # parts/ beside the cluster file joins
    check_cluster(spec, catalog, display)
    return LoadedCluster(spec=spec, catalog=catalog, path=path, text=text)


def parse_cluster(text: str, file: str) -> Cluster:
    if len(text) > MAX_BYTES:
        raise InputError(file, None, f"is {len(text)} characters, over the {MAX_BYTES} limit for a cluster file")
    line = _too_deep_line(text)
    if line is not None:
        raise InputError(file, None, f"line {line} nests keys, tables or lists more than {MAX_DEPTH} levels deep")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(file, None, f"not valid TOML: {exc}") from None
    except RecursionError:  # a fallback: _too_deep_line stops what would get here
        raise InputError(file, None, f"nests tables or lists more than {MAX_DEPTH} levels deep") from None
    deep = _too_deep(data)
    if deep is not None:
        raise InputError(file, deep, f"nests tables or lists more than {MAX_DEPTH} levels deep")
    try:
        return Cluster.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(file, exc, model=Cluster) from None


# What the TOML parser would see outside strings and comments: strings (all four kinds) and
# comments as whole tokens, then the characters that nest (brackets, braces, a dot in a key).
_TOKENS = re.compile(r'''"""(?:\\.|[^\\])*?"""|\'\'\'.*?\'\'\'|"(?:\\.|[^"\\\n])*"|'[^'\n]*'|#[^\n]*|[.\n\[\]{}]''', re.S)


def _too_deep_line(text: str) -> int | None:
    """The first line that nests deeper than MAX_DEPTH, read before parsing: tomllib recurses on
    nested lists and inline tables (RecursionError at ~600 levels), and its time grows with the
    square of a dotted key's length (8000 parts: 3 s; a 1 MiB file could hold minutes of it)."""
    depth = dots = 0
    line = 1
    for m in _TOKENS.finditer(text):
        tok = m.group()
        if tok == "\n":
            line, dots = line + 1, 0
        elif tok == ".":
            dots += 1
        elif tok in ("[", "{"):
            depth += 1
        elif tok in ("]", "}"):
            depth -= 1
        else:  # a string or a comment
            line += tok.count("\n")
        if depth > MAX_DEPTH or dots > MAX_DEPTH:
            return line
    return None


def _too_deep(data: dict) -> str | None:
    """The top-level key under which `data` nests deeper than MAX_DEPTH, or None. Iterative:
    dotted keys (a.b.c...) build deep tables without any recursion in the parser."""
    for top, value in data.items():
        todo = [(value, 1)]
        while todo:
            node, depth = todo.pop()
            if depth > MAX_DEPTH:
                return str(top)
            children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
            todo.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return None


# --- rules that span fields or need the catalog ----------------------------------------------------

Problem = tuple[str, str]  # (key, message)
Rule = Callable[[Cluster, Catalog], Iterator[Problem]]


def check_cluster(spec: Cluster, catalog: Catalog, file: str) -> None:
    """Rules that span fields or need the catalog. Raises InputError on the first broken rule."""
    for rule in RULES:
        for key, message in rule(spec, catalog):
            raise InputError(file, key, message)


def one_master(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    masters = [i for i, n in enumerate(spec.nodes) if n.role == "master"]
    if not masters:
        yield "nodes", "no node has role = \"master\": exactly one must"
    elif len(masters) > 1:
        yield (f"nodes[{masters[1]}].role",
               f"a second master (nodes[{masters[0]}] is already the master): exactly one is allowed")


def unique_node_fields(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    for attr in ("name", "mac", "address", "serial"):
        seen: dict = {}
        for i, n in enumerate(spec.nodes):
            v = getattr(n, attr)
            if v is not None and v in seen:
                yield f"nodes[{i}].{attr}", f"{shown(str(v))} is already used by nodes[{seen[v]}] ({spec.nodes[seen[v]].name})"
            seen.setdefault(v, i)


def addresses_in_subnet(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    net = spec.network
    named = [(f"nodes[{i}].address", n.address) for i, n in enumerate(spec.nodes)]
    named += [("network.master_address", net.master_address)]
    named += [(f"network.dhcp_range[{k}]", a) for k, a in enumerate(net.dhcp_range)]
    for key, a in named:
        if not _is_host(a, net.subnet):
            yield key, f"{a} is not a usable host address in the subnet {net.subnet}"


def master_address_matches(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    m = next(i for i, n in enumerate(spec.nodes) if n.role == "master")
    if spec.nodes[m].address != spec.network.master_address:
        yield (f"nodes[{m}].address", f"the master's address {spec.nodes[m].address} differs from "
               f"network.master_address {spec.network.master_address}")


def dhcp_range_clear_of_nodes(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    lo, hi = spec.network.dhcp_range
    if int(lo) > int(hi):
        yield "network.dhcp_range", f"starts at {lo}, after its end {hi}"
    for i, n in enumerate(spec.nodes):
        if int(lo) <= int(n.address) <= int(hi):
            yield (f"nodes[{i}].address", f"{n.address} ({n.name}) lies inside the DHCP range {lo}-{hi}: "
                   "static addresses must stay outside it")


def uplink_apart_from_cluster(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    net = spec.network
    snat = net.uplink_snat_address
    if snat.ip in net.subnet or net.subnet.overlaps(snat.network):
        yield ("network.uplink_snat_address",
               f"{snat} is on the cluster network {net.subnet}: it must be an address of the uplink network")
    if net.cluster_interface == net.uplink_interface:
        yield "network.uplink_interface", f"'{net.uplink_interface}' is also the cluster interface"


def servers_elsewhere(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    """The upstream DNS servers and an NTP source given as an address are other machines: not the
    master (its cluster address or its SNAT address: dnsmasq or chronyd would ask itself, a loop),
    nor the network or broadcast address of the cluster network or of the uplink's prefix. The
    spec records no router address, so the router itself is not checked."""
    net = spec.network
    own = {net.master_address: "the master's own cluster address (network.master_address)",
           net.uplink_snat_address.ip: "the master's own address on the uplink (network.uplink_snat_address)"}
    servers = [(f"network.upstream_dns[{i}]", a, "dnsmasq") for i, a in enumerate(net.upstream_dns)]
    if re.fullmatch(r"[0-9.]+", net.ntp_source):  # an address (the grammar has normalised it)
        servers.append(("network.ntp_source", IPv4Address(net.ntp_source), "chronyd"))
    for key, a, daemon in servers:
        if a in own:
            yield key, (f"{a} is {own[a]}: the master's {daemon} would ask itself (a loop); give another "
                        "server, like your router's address")
            continue
        for where in (net.subnet, net.uplink_snat_address.network):
            if where.prefixlen < 31 and a in (where.network_address, where.broadcast_address):
                which = "network" if a == where.network_address else "broadcast"
                yield key, (f"{a} is the {which} address of {where}, not a server's: give a server's own address, "
                            "like your router's")
                break


def net_boot_needs(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    for i, n in enumerate(spec.nodes):
        if n.boot == "net" and n.role == "master":
            yield f"nodes[{i}].boot", "the master cannot boot from the network: it serves the others"
    for i, n in enumerate(spec.nodes):
        if n.boot == "net" and spec.storage is None:
            yield f"nodes[{i}].boot", "net boot needs a [storage] section (the NFS roots live on the drive)"
    for i, n in enumerate(spec.nodes):
        if n.boot == "net" and n.serial is None:
            yield (f"nodes[{i}].serial", "a net-booting node needs its serial number: its boot files are served "
                   "from a TFTP folder named by it (read it on the Pi with `grep Serial /proc/cpuinfo`)")


def _part(catalog: Catalog, key: str, pid: str | None, kind: str) -> Iterator[Problem]:
    """A catalog id must name a part of that kind."""
    if pid is None:
        return
    part = catalog.get(pid)
    if part is None:
        near = ", ".join(catalog.ids(kind)[:8])
        yield key, f"no part {shown(pid)} in the catalog (known {kind}{'es' if kind.endswith('ch') else 's'}: {near})"
    elif part.kind != kind:
        yield key, f"{shown(pid)} is a {part.kind}, not a {kind}"


def node_parts(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    for i, n in enumerate(spec.nodes):
        yield from _part(catalog, f"nodes[{i}].board", n.board, "board")
        yield from _part(catalog, f"nodes[{i}].hat", n.hat, "hat")
        board, hat = catalog.get(n.board, "board"), catalog.get(n.hat, "hat") if n.hat else None
        if board is not None and hat is not None and board.family not in hat.fits:
            why = hat.does_not_fit.get(board.family, f"it fits {', '.join(hat.fits)}")
            yield f"nodes[{i}].hat", f"'{n.hat}' does not fit a {board.name}: {why}"


def storage_parts(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    st = spec.storage
    if st is None:
        return
    yield from _part(catalog, "storage.drive", st.drive, "drive")
    yield from _part(catalog, "storage.cable", st.cable, "cable")
    if st.node is not None and spec.node(st.node) is None:
        yield "storage.node", f"no node named {shown(st.node)}"
    if st.label is None and st.uuid is None:
        yield "storage", "give the drive's filesystem `label` or `uuid` (fstab mounts it by one of them)"
    if st.label is not None and st.filesystem == "xfs" and len(st.label) > 12:
        yield "storage.label", f"{shown(st.label)} is longer than the 12 characters an xfs label holds"


def drive_folders_apart(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    """Export names are unique, and the slaves' roots, the TFTP folder and each export are
    folders apart: a root is served to its own slave (root kept), the boot files by TFTP to
    anyone asking, an export to the whole cluster, so one inside another would hand out what
    its own service guards (a root's SSH host keys over TFTP, say)."""
    st = spec.storage
    if st is None:
        return
    if _overlaps(st.tftp_root, st.netboot_root):
        yield ("storage.tftp_root", f"{shown(st.tftp_root)} overlaps storage.netboot_root ({shown(st.netboot_root)}): "
               "TFTP would serve the slaves' root filesystems to anyone on the cluster network")
    names: set[str] = set()
    paths: dict[str, int] = {}
    private = {"storage.netboot_root": st.netboot_root, "storage.tftp_root": st.tftp_root}
    for i, e in enumerate(st.exports):
        if e.name in names:
            yield f"storage.exports[{i}].name", f"{shown(e.name)} is used twice"
        names.add(e.name)
        if e.path in paths:  # normalised: "data/" and "./data" are "data"
            j = paths[e.path]
            yield (f"storage.exports[{i}].path", f"{shown(e.path)} is already exported by storage.exports[{j}] "
                   f"({shown(st.exports[j].name)}): one folder is one export (exportfs refuses two entries for the "
                   "same folder); give it another folder, or remove one of the two")
        paths.setdefault(e.path, i)
        for key, folder in private.items():
            if _overlaps(e.path, folder):
                yield (f"storage.exports[{i}].path", f"{shown(e.path)} overlaps {key} ({shown(folder)}): the slaves' "
                       "roots and boot files are served to each slave alone, never exported to the whole cluster")


def _overlaps(a: str, b: str) -> bool:
    """Two folders on the drive where one holds the other (both are normalised relative paths)."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def rack_parts(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    r = spec.rack
    yield from _part(catalog, "rack.sheet", r.sheet, "sheet")
    yield from _part(catalog, "rack.fabricator", r.fabricator, "fabricator")
    yield from _part(catalog, "rack.switch", r.switch, "switch")
    yield from _part(catalog, "rack.feet", r.feet, "foot")
    if r.drive_placement == "base" and spec.storage is None:
        yield "rack.drive_placement", "is 'base' but there is no [storage] drive to place (set it to \"none\")"
    for i, pid in enumerate(r.fasteners or []):
        part = catalog.get(pid)
        if part is not None and part.kind == "washer":
            # every plate hole is cut within ISO 273's coarse clearance, so a screw head always
            # bears on the sheet: the layout places no washer, and listing one changes nothing
            yield (f"rack.fasteners[{i}]", f"{shown(pid)} is a washer: the layout places none (each screw head "
                   "bears on the sheet around its hole); list spacers, screws and nuts")
        elif part is None or part.kind not in ("spacer", "screw", "nut"):
            what = f"a {part.kind}" if part is not None else "not in the catalog"
            yield f"rack.fasteners[{i}]", f"{shown(pid)} is {what}: list spacers, screws and nuts"


def purchases_parts(spec: Cluster, catalog: Catalog) -> Iterator[Problem]:
    p = spec.purchases
    for table, ids in (("owned", p.owned), ("bought", p.bought), ("price_overrides", p.price_overrides)):
        for pid in ids:
            if pid not in catalog:
                yield f"purchases.{table}.{pid}", f"no part {shown(pid)} in the catalog"


RULES: tuple[Rule, ...] = (
    one_master, unique_node_fields, addresses_in_subnet, master_address_matches, dhcp_range_clear_of_nodes,
    uplink_apart_from_cluster, servers_elsewhere, net_boot_needs, node_parts, storage_parts, drive_folders_apart, rack_parts,
    purchases_parts,
)


def _is_host(a: IPv4Address, subnet: IPv4Network) -> bool:
    """In the subnet and neither its network nor its broadcast address."""
    if a not in subnet:
        return False
    if subnet.prefixlen >= 31:
        return True
    return a not in (subnet.network_address, subnet.broadcast_address)


# --- warnings: legal, but worth a second look ---------------------------------------------------------

@dataclass(frozen=True)
class SpecWarning:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def cluster_warnings(spec: Cluster) -> list[SpecWarning]:
    """What a valid cluster file asks for that weakens the cluster; printed by `rack validate`
    and `bringup plan`, never an error."""
    out = []
    st = spec.storage
    for i, e in enumerate(st.exports if st else []):
        if not e.root_squash:
            out.append(SpecWarning(f"storage.exports[{i}].root_squash",
                                   f"false: root on every node is root on the export {shown(e.name)} "
                                   "(any node can change or plant root-owned files there)"))
    if st is not None and st.label is not None and st.uuid is not None:
        out.append(SpecWarning("storage.label", "both label and uuid are given: fstab mounts by the uuid"))
    return out
