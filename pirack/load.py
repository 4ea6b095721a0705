"""Finding, reading and validating a cluster file.

With no file argument every command uses ./cluster.toml if it exists, else the built-in
default (the seed's two-node cluster). Every problem becomes one InputError naming the file
and the key; nothing here writes anything.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from pydantic import ValidationError

from .catalog import Catalog, load_catalog
from .errors import InputError, from_validation_error
from .paths import default_text, resolve  # noqa: F401  (both part of this module's interface)
from .spec import Cluster

DEFAULT_NAME = "<built-in default: the seed's cluster>"


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
    display = str(p) if p else DEFAULT_NAME
    if p is None:
        text = default_text()
    else:
        if not p.exists():
            raise InputError(p, None, "no such file (create one with `rack init`)")
        if p.is_dir():
            raise InputError(p, None, "is a folder, not a cluster file")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(p, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return load_text(text, display, p, catalog)


def load_text(text: str, display: str, path: Path | None = None, catalog: Catalog | None = None) -> LoadedCluster:
    """A cluster file's text, parsed and checked (errors name `display`); `path` is the file it
    was read from (None for the built-in default or text made in memory)."""
    spec = parse_cluster(text, display)
    catalog = catalog or load_catalog()
    check_cluster(spec, catalog, display)
    return LoadedCluster(spec=spec, catalog=catalog, path=path, text=text)


def parse_cluster(text: str, file: str) -> Cluster:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(file, None, f"not valid TOML: {exc}") from None
    try:
        return Cluster.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(file, exc) from None


def check_cluster(spec: Cluster, catalog: Catalog, file: str) -> None:
    """Rules that span fields or need the catalog. Raises InputError on the first broken rule."""

    def fail(key: str, msg: str):
        raise InputError(file, key, msg)

    net = spec.network

    # roles
    masters = [i for i, n in enumerate(spec.nodes) if n.role == "master"]
    if not masters:
        fail("nodes", "no node has role = \"master\": exactly one must")
    if len(masters) > 1:
        fail(f"nodes[{masters[1]}].role", f"a second master (nodes[{masters[0]}] is already the master): exactly one is allowed")

    # uniqueness
    for attr in ("name", "mac", "address", "serial"):
        seen: dict = {}
        for i, n in enumerate(spec.nodes):
            v = getattr(n, attr)
            if v is None:
                continue
            if v in seen:
                fail(f"nodes[{i}].{attr}", f"'{v}' is already used by nodes[{seen[v]}] ({spec.nodes[seen[v]].name})")
            seen[v] = i

    # addresses
    for i, n in enumerate(spec.nodes):
        if not _is_host(n.address, net.subnet):
            fail(f"nodes[{i}].address", f"{n.address} is not a usable host address in the subnet {net.subnet}")
    if not _is_host(net.master_address, net.subnet):
        fail("network.master_address", f"{net.master_address} is not a usable host address in the subnet {net.subnet}")
    m = masters[0]
    if spec.nodes[m].address != net.master_address:
        fail(f"nodes[{m}].address", f"the master's address {spec.nodes[m].address} differs from network.master_address {net.master_address}")
    lo, hi = net.dhcp_range
    for k, a in (("0", lo), ("1", hi)):
        if not _is_host(a, net.subnet):
            fail(f"network.dhcp_range[{k}]", f"{a} is not a usable host address in the subnet {net.subnet}")
    if int(lo) > int(hi):
        fail("network.dhcp_range", f"starts at {lo}, after its end {hi}")
    for i, n in enumerate(spec.nodes):
        if int(lo) <= int(n.address) <= int(hi):
            fail(f"nodes[{i}].address", f"{n.address} ({n.name}) lies inside the DHCP range {lo}-{hi}: static addresses must stay outside it")
    snat = net.uplink_snat_address
    if snat.ip in net.subnet or net.subnet.overlaps(snat.network):
        fail("network.uplink_snat_address", f"{snat} is on the cluster network {net.subnet}: it must be an address of the uplink network")
    if net.cluster_interface == net.uplink_interface:
        fail("network.uplink_interface", f"'{net.uplink_interface}' is also the cluster interface")

    # boot
    for i, n in enumerate(spec.nodes):
        if n.boot == "net" and n.role == "master":
            fail(f"nodes[{i}].boot", "the master cannot boot from the network: it serves the others")
    if any(n.boot == "net" for n in spec.nodes) and spec.storage is None:
        i = next(i for i, n in enumerate(spec.nodes) if n.boot == "net")
        fail(f"nodes[{i}].boot", "net boot needs a [storage] section (the NFS roots live on the drive)")
    for i, n in enumerate(spec.nodes):
        if n.boot == "net" and n.serial is None:
            fail(f"nodes[{i}].serial", "a net-booting node needs its serial number: its boot files are served from a "
                 "TFTP folder named by it (read it on the Pi with `grep Serial /proc/cpuinfo`)")

    # parts
    def need(key: str, pid: str | None, kind: str):
        if pid is None:
            return None
        part = catalog.get(pid)
        if part is None:
            near = ", ".join(catalog.ids(kind)[:8])
            fail(key, f"no part '{pid}' in the catalog (known {kind}{'es' if kind.endswith('ch') else 's'}: {near})")
        if part.kind != kind:
            fail(key, f"'{pid}' is a {part.kind}, not a {kind}")
        return part

    for i, n in enumerate(spec.nodes):
        board = need(f"nodes[{i}].board", n.board, "board")
        hat = need(f"nodes[{i}].hat", n.hat, "hat")
        if hat is not None and board.family not in hat.fits:
            why = hat.does_not_fit.get(board.family, f"it fits {', '.join(hat.fits)}")
            fail(f"nodes[{i}].hat", f"'{n.hat}' does not fit a {board.name}: {why}")
    if spec.storage is not None:
        st = spec.storage
        need("storage.drive", st.drive, "drive")
        need("storage.cable", st.cable, "cable")
        if st.node is not None and spec.node(st.node) is None:
            fail("storage.node", f"no node named '{st.node}'")
        if st.label is None and st.uuid is None:
            fail("storage", "give the drive's filesystem `label` or `uuid` (fstab mounts it by one of them)")
        names = set()
        for i, e in enumerate(st.exports):
            if e.name in names:
                fail(f"storage.exports[{i}].name", f"'{e.name}' is used twice")
            names.add(e.name)
    r = spec.rack
    need("rack.sheet", r.sheet, "sheet")
    need("rack.fabricator", r.fabricator, "fabricator")
    need("rack.switch", r.switch, "switch")
    need("rack.feet", r.feet, "foot")
    if spec.rack.drive_placement == "base" and spec.storage is None:
        fail("rack.drive_placement", "is 'base' but there is no [storage] drive to place (set it to \"none\")")
    for i, pid in enumerate(r.fasteners or []):
        part = catalog.get(pid)
        if part is None or part.kind not in ("spacer", "screw", "nut"):
            what = f"a {part.kind}" if part is not None else "not in the catalog"
            fail(f"rack.fasteners[{i}]", f"'{pid}' is {what}: list spacers, screws and nuts")
    for table in ("owned", "bought"):
        for pid in getattr(spec.purchases, table):
            if pid not in catalog:
                fail(f"purchases.{table}.{pid}", f"no part '{pid}' in the catalog")
    for pid in spec.purchases.price_overrides:
        if pid not in catalog:
            fail(f"purchases.price_overrides.{pid}", f"no part '{pid}' in the catalog")


def _is_host(a: IPv4Address, subnet) -> bool:
    """In the subnet and neither its network nor its broadcast address."""
    if a not in subnet:
        return False
    if subnet.prefixlen >= 31:
        return True
    return a not in (subnet.network_address, subnet.broadcast_address)
