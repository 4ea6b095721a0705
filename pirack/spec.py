"""The cluster description (`cluster.toml`) as pydantic models: pure data, no CAD stack.

Field-level rules live on the models; rules that span fields or need the catalog live in
`check_cluster`, which raises InputError naming the key (like `nodes[1].mac`).
"""

from __future__ import annotations

import ipaddress
import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .money import Price
from .units import Length

_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
_SERIAL = re.compile(r"^[0-9a-f]{8}([0-9a-f]{8})?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, validate_default=True)


class ClusterInfo(_Model):
    name: str = Field(description="short name, used for output folders and labels")
    description: str = ""

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", v):
            raise ValueError(f"'{v}' must be letters, digits, '-' or '_' (it names folders)")
        return v


class Network(_Model):
    subnet: IPv4Network = Field(description="the cluster network, like 192.168.50.0/24")
    master_address: IPv4Address = Field(description="the master's address on the cluster network")
    dhcp_range: tuple[IPv4Address, IPv4Address] = Field(description="first and last address handed out dynamically")
    lease_time: str = Field(default="12h", pattern=r"^\d+[smhd]?$|^infinite$")
    cluster_interface: str = Field(default="eth0", description="the master's interface on the cluster side")
    uplink_interface: str = Field(default="wlan0", description="the master's interface to the home network")
    uplink_snat_address: IPv4Interface = Field(
        description="extra address on the uplink that cluster traffic is translated to (SNAT), with its prefix"
    )
    upstream_dns: list[IPv4Address] = Field(min_length=1, description="where names outside the cluster are forwarded")
    ntp_source: str = Field(description="the master's time source (host name or address)")
    ntp_source_type: Literal["pool", "server"] = "pool"
    domain: str = Field(description="the cluster's DNS domain, like cluster.lan")

    @field_validator("cluster_interface", "uplink_interface")
    @classmethod
    def _ifname(cls, v: str) -> str:
        if not _IFNAME.match(v):
            raise ValueError(f"'{v}' is not an interface name (1-15 letters, digits, '.', '-', '_')")
        return v

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str) -> str:
        v = v.lower().rstrip(".")
        if not _DOMAIN.match(v):
            raise ValueError(f"'{v}' is not a DNS domain")
        return v

    @field_validator("ntp_source")
    @classmethod
    def _ntp(cls, v: str) -> str:
        try:
            ipaddress.ip_address(v)
            return v
        except ValueError:
            pass
        if not _DOMAIN.match(v.lower()):
            raise ValueError(f"'{v}' is neither a host name nor an address")
        return v.lower()


class Node(_Model):
    name: str = Field(description="host name (lower case letters, digits, '-')")
    role: Literal["master", "slave"]
    board: str = Field(description="catalog id of the board, like rpi4b-8gb")
    hat: str | None = Field(default=None, description="catalog id of the HAT, like rpi-poe-plus-hat")
    mac: str = Field(description="MAC address of eth0, like dc:a6:32:12:34:56")
    serial: str | None = Field(default=None, description="Pi serial number (8 or 16 hex digits), for net boot")
    address: IPv4Address
    boot: Literal["sd", "net"] = "sd"
    owned: bool = Field(default=False, description="already owned: listed in the BOM but not charged")

    @field_validator("name")
    @classmethod
    def _hostname(cls, v: str) -> str:
        if not _HOSTNAME.match(v):
            raise ValueError(f"'{v}' is not a host name (lower case letters, digits and '-', up to 63)")
        return v

    @field_validator("mac")
    @classmethod
    def _mac(cls, v: str) -> str:
        norm = v.strip().lower().replace("-", ":")
        if not _MAC.match(norm):
            raise ValueError(f"'{v}' is not a MAC address (six pairs of hex digits, like dc:a6:32:12:34:56)")
        if int(norm[:2], 16) & 1:
            raise ValueError(f"'{v}' is a multicast MAC address, not a device's")
        return norm

    @field_validator("serial")
    @classmethod
    def _serial(cls, v: str | None) -> str | None:
        if v is None:
            return v
        norm = v.strip().lower()
        if not _SERIAL.match(norm):
            raise ValueError(f"'{v}' is not a Pi serial number (8 or 16 hex digits, from /proc/cpuinfo)")
        return norm

    @property
    def short_serial(self) -> str | None:
        """The 8-digit form the bootloader uses for TFTP folders."""
        return self.serial[-8:] if self.serial else None


class Export(_Model):
    name: str
    path: str = Field(description="folder on the drive, relative to the mount point")
    root_squash: bool = True
    read_only: bool = False

    @field_validator("path")
    @classmethod
    def _rel(cls, v: str) -> str:
        if v.startswith("/") or ".." in v.split("/"):
            raise ValueError(f"'{v}' must be a folder relative to the mount point, without '..'")
        return v


class Storage(_Model):
    drive: str = Field(description="catalog id of the drive")
    cable: str | None = Field(default=None, description="catalog id of the cable that connects it (SATA-USB)")
    node: str | None = Field(default=None, description="the node it hangs on (default: the master)")
    powered: bool = Field(
        default=False, description="true if the drive has its own power (a powered enclosure or hub)"
    )
    label: str | None = Field(default=None, description="filesystem label (LABEL=) used in fstab")
    uuid: str | None = Field(default=None, description="filesystem UUID used in fstab (wins over label)")
    filesystem: Literal["ext4", "xfs", "btrfs"] = "ext4"
    mount_point: str = "/mnt/ssd"
    netboot_root: str = Field(default="nfsroot", description="folder on the drive holding one root per net-booting slave")
    tftp_root: str = Field(default="tftpboot", description="folder on the drive holding the TFTP boot files")
    exports: list[Export] = Field(default_factory=list)

    @field_validator("mount_point")
    @classmethod
    def _abs(cls, v: str) -> str:
        if not v.startswith("/") or ".." in v.split("/") or v == "/":
            raise ValueError(f"'{v}' must be an absolute folder like /mnt/ssd")
        return v.rstrip("/")

    @field_validator("label")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[A-Za-z0-9_-]{1,16}$", v):
            raise ValueError(f"'{v}' is not an ext4 label (1-16 letters, digits, '-', '_')")
        return v

    @field_validator("uuid")
    @classmethod
    def _uuid(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[0-9a-fA-F-]{8,36}$", v):
            raise ValueError(f"'{v}' is not a filesystem UUID")
        return v.lower() if v else v


class Engraving(_Model):
    labels: bool = Field(default=True, description="engrave each plate's name on it")
    logo: str | None = Field(default=None, description="an SVG file (relative to the cluster file) engraved in free space")
    logo_width: Length = "30 mm"


class Rack(_Model):
    sheet: str = Field(default="acrylic-cast-3mm", description="catalog id of the sheet: material and thickness")
    fabricator: str = Field(default="anymany-pdf", description="catalog id of the fabricator profile")
    switch: str | None = Field(default="tl-sg1005p", description="catalog id of the PoE switch, or none")
    switch_orientation: Literal["side", "flat"] = "side"
    drive_placement: Literal["base", "none"] = Field(
        default="base", description="'base': the drive is screwed to the base plate under the boards"
    )
    feet: str | None = "foot-rubber-tk"
    margin: Length = Field(default="5 mm", description="plate edge to the nearest hole or part")
    corner_radius: Length = "4 mm"
    min_clearance: Length = Field(default="3 mm", description="smallest gap between a tier's tallest part and the plate above")
    cable_cutouts: bool = True
    airflow_cutouts: bool = False
    engraving: Engraving = Field(default_factory=Engraving)
    fasteners: list[str] | None = Field(
        default=None,
        description="catalog ids of the spacers, screws and nuts the rack may use (default: the whole catalog); "
        "parts in a HAT's box are always allowed. When none of them meets a thread rule the nearest is used "
        "and `rack check` says why",
    )


class ExtraLine(_Model):
    name: str
    name_ja: str | None = None
    quantity: int = Field(ge=1)
    price: Price = Field(description="price of the whole line")
    note: str = ""
    group: str = "other"


class Purchases(_Model):
    extra: list[ExtraLine] = Field(default_factory=list, description="BOM lines the model cannot know (software, tools)")
    owned: dict[str, int] = Field(default_factory=dict, description="catalog id -> pieces already owned (not charged)")
    bought: dict[str, int] = Field(
        default_factory=dict,
        description="catalog id -> pieces actually bought, when more than the pack-rounded need (spares); charged",
    )
    price_overrides: dict[str, Price] = Field(default_factory=dict, description="catalog id -> price of one pack")
    acrylic_quote: Price | None = Field(default=None, description="the fabricator's quoted price; wins over the estimate")
    spare_percent: int = Field(default=0, ge=0, le=100, description="extra small fasteners to buy, in percent")

    @field_validator("owned", "bought", mode="before")
    @classmethod
    def _counts(cls, v, info):
        if isinstance(v, dict):
            for k, n in v.items():
                if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                    raise ValueError(f"{info.field_name} quantity of '{k}' must be a whole number ≥ 0, not {n!r}")
        return v


class Cluster(_Model):
    """A small Raspberry Pi cluster: its nodes, network, storage and rack."""

    cluster: ClusterInfo
    network: Network
    nodes: list[Node] = Field(min_length=1)
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
