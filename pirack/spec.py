"""The cluster description (`cluster.toml`) as pydantic models: pure data, no CAD stack.

Field-level rules live on the models: every string that reaches a configuration file, a
command or a path has the grammar of its kind (pirack.grammar); lengths carry a unit and lie
in a physical range per key; booleans and counts are strictly typed (pydantic would otherwise
read "yes" as true and 11 as the address 0.0.0.11). Rules that span fields or need the catalog
live in `pirack.load.check_cluster`, which raises InputError naming the key (like `nodes[1].mac`).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt
from pydantic_core import PydanticCustomError

from . import grammar as g
from .money import Price
from .units import Length, within

# The most nodes a cluster file may have: what the tools are tested with (bench/bench_check.py
# runs `rack check` on 64 nodes; tests/test_spec.py round-trips `rack init --nodes 64`).
MAX_NODES = 64


def _text_only(kind: str):
    """Only a quoted string becomes an address: pydantic alone would read 11 as 0.0.0.11."""

    def check(v: object):
        if not isinstance(v, str):
            raise PydanticCustomError(kind, "not text")
        return v

    return BeforeValidator(check)


Address = Annotated[IPv4Address, _text_only("ip_v4_address")]
Network_ = Annotated[IPv4Network, _text_only("ip_v4_network")]
AddressWithPrefix = Annotated[IPv4Interface, _text_only("ip_v4_interface")]
# Addresses by what they are for (pirack.grammar says why one is refused): the cluster's range,
# the master's extra address on the uplink, a server the master asks.
ClusterSubnet = Annotated[Network_, AfterValidator(g.cluster_subnet)]
SnatAddress = Annotated[AddressWithPrefix, AfterValidator(g.snat_address)]
ServerAddress = Annotated[Address, AfterValidator(g.server_address)]

HostName = Annotated[str, AfterValidator(g.host_name)]
Domain = Annotated[str, AfterValidator(g.domain)]
InterfaceName = Annotated[str, AfterValidator(g.INTERFACE.check)]
ClusterName = Annotated[str, AfterValidator(g.CLUSTER_NAME.check)]
ExportName = Annotated[str, AfterValidator(g.EXPORT_NAME.check)]
CatalogId = Annotated[str, AfterValidator(g.CATALOG_ID.check)]
Mac = Annotated[str, AfterValidator(g.mac)]
Serial = Annotated[str, AfterValidator(g.lower(g.SERIAL))]
Uuid = Annotated[str, AfterValidator(g.lower(g.UUID))]
FsLabel = Annotated[str, AfterValidator(g.LABEL.check)]
LeaseTime = Annotated[str, AfterValidator(g.lease_time)]
NtpSource = Annotated[str, AfterValidator(g.host_or_address)]
DrivePath = Annotated[str, AfterValidator(g.drive_path)]
MountPoint = Annotated[str, AfterValidator(g.mount_point)]
SvgPath = Annotated[str, AfterValidator(g.svg_path)]
ShortText = Annotated[str, AfterValidator(g.text(100))]
LongText = Annotated[str, AfterValidator(g.text(500))]
PieceCount = Annotated[StrictInt, Field(ge=0, le=100_000)]  # pieces of a part: no cluster owns 100000 screws

# Physical ranges of the rack's free lengths. Outside them a value is a typo or a unit slip,
# and some would break the geometry rather than the design checks.
Margin = Annotated[Length, within(1, 25, "plate edge to the nearest hole or part: under 1 mm the edge web "
                                  "breaks when cut; over 25 mm the plates only grow, and the switch support "
                                  "(the switch's depth less two margins) runs out of depth")]
CornerRadius = Annotated[Length, within(0, 15, "0 is a square corner; over 15 mm the rounding reaches the "
                                        "spacer column holes of the smallest plate")]
Clearance = Annotated[Length, within(1, 200, "the gap above a tier's tallest part: under 1 mm the acrylic's "
                                     "thickness tolerance (±0.7 mm for 3 mm cast) eats it; over 200 mm is no gap "
                                     "a rack of Pis needs (below it, past what the spacers can stack, `rack check` "
                                     "names the column that cannot reach)")]
LogoWidth = Annotated[Length, within(5, 600, "under 5 mm the laser's spot blurs a logo's detail; over 600 mm "
                                     "is wider than the largest sheet a fabricator profile takes")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ClusterInfo(_Model):
    name: ClusterName = Field(description="short name, used for output folders and labels", examples=["mycluster"])
    description: LongText = ""


class Network(_Model):
    subnet: ClusterSubnet = Field(description="the cluster network, like 192.168.50.0/24", examples=["192.168.50.0/24"])
    master_address: Address = Field(description="the master's address on the cluster network",
                                    examples=["192.168.50.1"])
    dhcp_range: tuple[Address, Address] = Field(description="first and last address handed out dynamically",
                                                examples=[["192.168.50.100", "192.168.50.199"]])
    lease_time: LeaseTime = "12h"
    cluster_interface: InterfaceName = Field(default="eth0", description="the master's interface on the cluster side")
    uplink_interface: InterfaceName = Field(default="wlan0", description="the master's interface to the home network")
    uplink_snat_address: SnatAddress = Field(
        description="extra address on the uplink that cluster traffic is translated to (SNAT), with its prefix",
        examples=["192.168.11.211/24"],
    )
    upstream_dns: list[ServerAddress] = Field(min_length=1, max_length=8, examples=[["192.168.11.1"]],
                                        description="where names outside the cluster are forwarded")
    ntp_source: NtpSource = Field(description="the master's time source (host name or address)", examples=["ntp.nict.jp"])
    ntp_source_type: Literal["pool", "server"] = "pool"
    domain: Domain = Field(description="the cluster's DNS domain, like cluster.lan", examples=["cluster.lan"])


class Node(_Model):
    name: HostName = Field(description="host name (lower case letters, digits, '-')", examples=["slave1"])
    role: Literal["master", "slave"] = Field(examples=["slave"])
    board: CatalogId = Field(description="catalog id of the board, like rpi4b-8gb", examples=["rpi4b-8gb"])
    hat: CatalogId | None = Field(default=None, description="catalog id of the HAT, like rpi-poe-plus-hat",
                                  examples=["rpi-poe-plus-hat"])
    mac: Mac = Field(description="MAC address of eth0, like dc:a6:32:12:34:56", examples=["dc:a6:32:12:34:56"])
    serial: Serial | None = Field(default=None, description="Pi serial number (8 or 16 hex digits), for net boot",
                                  examples=["10000000abcdef01"])
    address: Address = Field(examples=["192.168.50.11"])
    boot: Literal["sd", "net"] = "sd"
    owned: StrictBool = Field(default=False, description="already owned: listed in the BOM but not charged")

    @property
    def short_serial(self) -> str | None:
        """The 8-digit form the bootloader uses for TFTP folders."""
        return self.serial[-8:] if self.serial else None


class Export(_Model):
    name: ExportName = Field(examples=["data"])
    path: DrivePath = Field(description="folder on the drive, relative to the mount point", examples=["data"])
    root_squash: StrictBool = True
    read_only: StrictBool = False


class Storage(_Model):
    drive: CatalogId = Field(description="catalog id of the drive", examples=["ssd-sata-2.5-500gb"])
    cable: CatalogId | None = Field(default=None, description="catalog id of the cable that connects it (SATA-USB)",
                                    examples=["sata-usb-c"])
    node: HostName | None = Field(default=None, description="the node it hangs on (default: the master)",
                                  examples=["master"])
    powered: StrictBool = Field(
        default=False, description="true if the drive has its own power (a powered enclosure or hub)"
    )
    label: FsLabel | None = Field(default=None, description="filesystem label (LABEL=) used in fstab",
                                  examples=["pirack-ssd"])
    uuid: Uuid | None = Field(default=None, description="filesystem UUID used in fstab (wins over label)",
                              examples=["0b1c2d3e-1111-2222-3333-444455556666"])
    filesystem: Literal["ext4", "xfs", "btrfs"] = "ext4"
    mount_point: MountPoint = "/mnt/ssd"
    netboot_root: DrivePath = Field(default="nfsroot", description="folder on the drive holding one root per net-booting slave")
    tftp_root: DrivePath = Field(default="tftpboot", description="folder on the drive holding the TFTP boot files")
    exports: list[Export] = Field(default_factory=list, max_length=16)


class Engraving(_Model):
    labels: StrictBool = Field(default=True, description="engrave each plate's name on it")
    logo: SvgPath | None = Field(default=None, description="an SVG file (relative to the cluster file) engraved in free space",
                                 examples=["logo.svg"])
    logo_width: LogoWidth = "30 mm"


class Rack(_Model):
    sheet: CatalogId = Field(default="acrylic-cast-3mm", description="catalog id of the sheet: material and thickness")
    fabricator: CatalogId = Field(default="anymany-pdf", description="catalog id of the fabricator profile")
    switch: CatalogId | None = Field(default="tl-sg1005p", description="catalog id of the PoE switch, or none")
    switch_orientation: Literal["side", "flat"] = "side"
    drive_placement: Literal["base", "none"] = Field(
        default="base", description="'base': the drive is screwed to the base plate under the boards"
    )
    feet: CatalogId | None = "foot-rubber-tk"
    margin: Margin = Field(default="5 mm", description="plate edge to the nearest hole or part")
    corner_radius: CornerRadius = "4 mm"
    min_clearance: Clearance = Field(default="3 mm", description="smallest gap between a tier's tallest part and the plate above")
    cable_cutouts: StrictBool = True
    airflow_cutouts: StrictBool = False
    engraving: Engraving = Field(default_factory=Engraving)
    fasteners: list[CatalogId] | None = Field(
        default=None, max_length=64, examples=[["spacer-m3-ff-28", "screw-m3-pan-6", "nut-m3-cap"]],
        description="catalog ids of the spacers, screws and nuts the rack may use (default: the whole catalog); "
        "parts in a HAT's box are always allowed. When none of them meets a thread rule the nearest is used "
        "and `rack check` says why",
    )


class ExtraLine(_Model):
    name: ShortText = Field(examples=["Adobe Illustrator"])
    name_ja: ShortText | None = None
    quantity: StrictInt = Field(ge=1, le=10_000, examples=[1])
    price: Price = Field(description="price of the whole line", examples=[4580])
    note: LongText = ""
    group: ShortText = "other"


class Purchases(_Model):
    extra: list[ExtraLine] = Field(default_factory=list, max_length=200,
                                   description="BOM lines the model cannot know (software, tools)")
    owned: dict[CatalogId, PieceCount] = Field(default_factory=dict, examples=[{"screw-m3-pan-6": 10}],
                                        description="catalog id -> pieces already owned (not charged)")
    bought: dict[CatalogId, PieceCount] = Field(
        default_factory=dict, examples=[{"screw-m3-pan-6": 20}],
        description="catalog id -> pieces actually bought, when more than the pack-rounded need (spares); charged",
    )
    price_overrides: dict[CatalogId, Price] = Field(default_factory=dict, examples=[{"tl-sg1005p": 5980}],
                                                    description="catalog id -> price of one pack")
    acrylic_quote: Price | None = Field(default=None, description="the fabricator's quoted price; wins over the estimate",
                                        examples=[7370])
    spare_percent: StrictInt = Field(default=0, ge=0, le=100, description="extra small fasteners to buy, in percent")


def _node_count(v: object):
    """Refuse a huge list before pydantic validates each of its nodes."""
    if isinstance(v, list) and len(v) > MAX_NODES:
        raise ValueError(f"{len(v)} nodes: at most {MAX_NODES} are supported (the rack and bring-up tools are "
                         f"tested with up to {MAX_NODES})")
    return v


class Cluster(_Model):
    """A small Raspberry Pi cluster: its nodes, network, storage and rack."""

    cluster: ClusterInfo
    network: Network
    nodes: Annotated[list[Node], BeforeValidator(_node_count)] = Field(min_length=1)
    storage: Storage | None = None
    rack: Rack = Field(default_factory=Rack)
    purchases: Purchases = Field(default_factory=Purchases)

    @property
    def master(self) -> Node:
        return next(n for n in self.nodes if n.role == "master")

    @property
    def slaves(self) -> list[Node]:
        return [n for n in self.nodes if n.role == "slave"]

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)

    def fqdn(self, node: Node) -> str:
        return f"{node.name}.{self.network.domain}"
