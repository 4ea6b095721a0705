"""The parts catalog: one TOML file per part under parts/<group>/<id>.toml.

Every physical figure in a part file names its source in a `[[sources]]` entry (the keys it
covers, the document with its URL or its figure/table, and whether it was checked against an
official drawing). A figure no source gives is flagged `measure_before_cutting = true` on its
entry, with what to measure and how: `Catalog.to_measure()` lists them for `rack check`.
A test walks every file and fails on a figure that is neither cited nor flagged.

Positions are written as their source gives them, from the datum it names (SFF-8201 measures a
2.5" drive's holes from the connector end); the part's `datum` says which, and the model turns
them into the part's own frame that the layout uses (see `Drive`).

A part file may start from another with `based_on = "<id>"` (the Pi 4B 2/4/8 GB share one
board): its keys replace the base's, its sources add to them. A cluster file's own parts live
in a `parts/` folder beside it (`user_parts_dir`); they are validated like the built-in ones
and may replace a built-in id only with `override = true`.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, TypeVar, Union, overload

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError, from_validation_error
from .money import Price
from .grammar import CATALOG_ID
from .paths import catalog_dir, read_input
from .units import Length, Offset, mm, parse_length

if TYPE_CHECKING:
    from collections.abc import Iterable


class _Strict(BaseModel):
    # defer_build: a model's validator is built when a part of its kind is first read, so
    # `bringup` (which reads ~7 parts) does not pay for all of them at import.
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, validate_default=True, defer_build=True
    )


class Source(_Strict):
    """Where figures came from. `figures` lists dotted keys of this file ("width", "holes",
    "power.max_w"); a key covers everything below it; "*" covers the whole file.

    A source can be looked up: it gives a `url` or `where` in the document (figure, table,
    page; for your own measurement, when and how). Figures no source gives are flagged
    `measure_before_cutting = true`, and `measure` says what to measure and how."""

    figures: list[str]
    document: str
    official_drawing: bool = Field(description="checked against an official (manufacturer's) drawing or standard")
    note: str = ""
    url: str = ""
    where: str = Field(default="", description="figure, table, page or section of the document")
    measure_before_cutting: bool = Field(default=False, description="no source gives these figures: measure them")
    measure: str = Field(default="", description="what to measure and how (with measure_before_cutting)")

    @model_validator(mode="after")
    def _flag_says_what(self):
        if self.measure_before_cutting and not self.measure.strip():
            raise ValueError("measure_before_cutting needs `measure`: what to measure and how")
        return self

    @property
    def citable(self) -> bool:
        return bool(self.url.strip() or self.where.strip())


@dataclass(frozen=True)
class ToMeasure:
    """Figures of a part that no source gives: check them with calipers before cutting."""

    part_id: str
    figures: tuple[str, ...]
    measure: str  # what to measure and how
    document: str  # where the figure in the file came from instead (an estimate, a derivation)

    def describe(self) -> str:
        return f"{self.part_id}: {', '.join(self.figures)}: {self.measure}"


class Box(_Strict):
    """An axis-aligned box in the part's own frame (mm from its lower-left corner, z from its top face
    for keep-outs of boards): used for ports, fans and keep-out zones."""

    name: str
    x: Offset  # may be negative: ports overhang the board edge
    y: Offset
    z: Offset
    width: Length
    depth: Length
    height: Length


class Power(_Strict):
    """Electrical figures in SI units named in the key (W, A, V): not lengths, so plain numbers."""

    max_w: float | None = None
    typical_w: float | None = None
    idle_w: float | None = None
    current_5v_a: float | None = None  # peak current drawn from a 5 V supply (drives, USB devices)


class PartBase(_Strict):
    id: str
    kind: str
    name: str
    name_ja: str | None = None
    vendor: str | None = None
    vendor_part: str | None = None
    url: str | None = None
    price: Price | None = Field(default=None, description="price of one pack, integer yen")
    pack_size: int = Field(default=1, ge=1, description="pieces in one pack")
    price_source: str | None = None
    notes: str = ""
    datum: str = Field(default="", description="which corner, end and face this file's positions are measured from")
    sources: list[Source] = Field(default_factory=list)

    # Physical parts cite every source or flag it; fabricator profiles (service rules and
    # prices, owned by the fabricator work) are exempt.
    CITED_SOURCES: ClassVar[bool] = True

    @model_validator(mode="after")
    def _sources_citable_or_flagged(self):
        if not self.CITED_SOURCES:
            return self
        for i, src in enumerate(self.sources):
            if not (src.measure_before_cutting or src.citable):
                raise ValueError(f"sources[{i}] ({', '.join(src.figures)}): give a `url` or `where` (figure, table, "
                                 "page) so the source can be looked up; if no source gives these figures, set "
                                 "measure_before_cutting = true and say in `measure` what to measure and how")
        return self

    def to_measure(self) -> list[ToMeasure]:
        """This part's figures that no source gives (see Source)."""
        return [ToMeasure(self.id, tuple(s.figures), s.measure, s.document)
                for s in self.sources if s.measure_before_cutting]

    @field_validator("pack_size", mode="before")
    @classmethod
    def _pack_positive(cls, v: object):
        if isinstance(v, int) and not isinstance(v, bool) and v < 1:
            raise ValueError(f"pack size must be at least 1, not {v}")
        return v


HolePos = tuple[Length, Length]


def _metric_thread(v: str) -> str:
    if not re.fullmatch(r"M\d+(\.\d+)?", v):
        raise ValueError(f"'{v}' is not a metric thread like M3 or M2.5 (only ISO metric threads are supported)")
    return v


Thread = Annotated[str, AfterValidator(_metric_thread)]


# What raises a board's USB current (Pi 5): a supply that negotiates 5 A over USB-PD, a HAT+
# whose EEPROM declares the current it supplies, or `usb_max_current_enable=1` in config.txt.
USB_CONDITIONS = ("psu-5a", "hat-plus-declares-supply", "usb-max-current-enable")


class UsbRaise(_Strict):
    """The USB current a board gives when any of `when` holds (Pi 5: 1.6 A instead of 600 mA)."""

    current_a: float
    when: list[Literal["psu-5a", "hat-plus-declares-supply", "usb-max-current-enable"]] = Field(min_length=1)


class Board(PartBase):
    kind: Literal["board"]
    family: str  # "pi4", "pi5": what HATs declare they fit
    width: Length  # x, along the long edge
    depth: Length  # y
    thickness: Length
    height_above: Length  # tallest component above the board's top face (USB/Ethernet jacks)
    height_below: Length  # components under the board
    hole_diameter: Length
    hole_thread: Thread  # "M2.5"
    holes: list[HolePos]  # centres, from the board's lower-left corner
    poe_header: str | None = None  # which PoE header layout the board has
    poe_header_near: HolePos | None = None  # the mounting hole the 4-pin PoE header sits beside
    usb_current_max_a: float | None = None  # total current the USB ports supply by default
    usb_current_raised: UsbRaise | None = None  # more current when one of its conditions holds
    undervoltage_v: float | None = None
    power: Power = Field(default_factory=Power)
    keepouts: list[Box] = Field(default_factory=list)

    def usb_current_a(self, conditions: Iterable[str] = ()) -> float | None:
        """The USB ports' total current when `conditions` hold (names from USB_CONDITIONS)."""
        raised = self.usb_current_raised
        if raised is not None and set(conditions) & set(raised.when):
            return raised.current_a
        return self.usb_current_max_a


class Hat(PartBase):
    kind: Literal["hat"]
    fits: list[str]  # board families it fits
    does_not_fit: dict[str, str] = Field(default_factory=dict)  # family -> why
    width: Length
    depth: Length
    thickness: Length
    standoff: Length  # board top face to HAT bottom face
    height_above: Length  # tallest component above the HAT's top face
    height_below: Length  # below the HAT (its fan), inside the standoff
    holes: list[HolePos]
    poe_standard: str | None = None  # "802.3at"
    output_w: float | None = None
    output_current_a: float | None = None
    output_v: float | None = None
    input_max_w: float | None = None  # what it may draw from the switch port (PD class)
    poe_class: int | None = Field(default=None, ge=0, le=8, description="IEEE 802.3 PD class it declares")
    declares_supply: bool = False  # a HAT+ whose EEPROM declares its supply (raises a Pi 5's USB current)
    included: dict[str, int] = Field(default_factory=dict)  # part id -> pieces in the box
    keepouts: list[Box] = Field(default_factory=list)


def _lengths_mm(values: Iterable[float]) -> list:
    return [parse_length(f"{round(v, 6)} mm") for v in values]


class Drive(PartBase):
    """A 2.5" drive. The file gives SFF-8201's own figures (Table 3-1, Figure 3-1) from its own
    datums: Z the connector end, Y the long side the bottom holes' A28 is measured from, X the
    bottom face. The layout's frame is the drive seen from above with its connector at the back:
    x from the left long side, y from the front end (opposite the connector), z up from the
    bottom. `bottom_holes` and `side_holes_from_front` are positions in that frame, converted
    from the connector-end figures, so the connector end is exact whatever the drive's length."""

    kind: Literal["drive"]
    form_factor: str
    width: Length  # A4
    length: Length  # A6: the maximum; a real drive may be shorter at the front
    height: Length  # A1
    thread: Thread  # A26 / A32
    bottom_hole_inset: Length  # A28: datum Y to the first column of bottom holes
    bottom_hole_spacing: Length  # A29: between the two columns
    bottom_holes_from_connector: list[Length]  # A50, A51
    side_holes_from_connector: list[Length]  # A52, A53
    side_hole_height: Length  # A23: above the bottom face
    thread_depth_bottom: Length  # A41: screws must not go deeper
    thread_depth_side: Length  # A38
    datum_y_side: Literal["left", "right"] = "right"  # where datum Y is, seen from above, connector at the back
    has_bottom_holes: bool = True  # SFF-8201: optional on drives 7 mm high or less
    power: Power = Field(default_factory=Power)

    @model_validator(mode="before")
    @classmethod
    def _old_front_keys(cls, data: object):
        for old in ("bottom_holes", "side_holes_from_front"):
            if isinstance(data, dict) and old in data:
                raise ValueError(f"`{old}` is no longer read: give SFF-8201's figures from the connector end "
                                 "(bottom_hole_inset, bottom_hole_spacing, bottom_holes_from_connector, "
                                 "side_holes_from_connector); the catalog converts them")
        return data

    @model_validator(mode="after")
    def _bottom_holes_required(self):
        if not self.has_bottom_holes and mm(self.height) > 7.0 + 1e-9:
            raise ValueError(f"has_bottom_holes = false on a {mm(self.height):g} mm drive: SFF-8201 makes bottom "
                             "holes optional only on drives 7 mm high or less")
        return self

    @property
    def bottom_holes_optional(self) -> bool:
        """SFF-8201 Figure 3-1 note: bottom holes are optional when A1 <= 7 mm."""
        return mm(self.height) <= 7.0 + 1e-9

    def _y_from_front(self, from_connector: float) -> float:
        return mm(self.length) - from_connector

    def _x_columns(self) -> list[float]:
        inset, spacing, w = mm(self.bottom_hole_inset), mm(self.bottom_hole_spacing), mm(self.width)
        cols = [inset, inset + spacing]  # from datum Y
        return cols if self.datum_y_side == "left" else [w - c for c in reversed(cols)]

    @property
    def bottom_holes(self) -> list[tuple]:
        """Bottom hole centres (x, y) in the layout's frame; none if this drive has none."""
        if not self.has_bottom_holes:
            return []
        ys = [self._y_from_front(mm(v)) for v in self.bottom_holes_from_connector]
        return [tuple(_lengths_mm((x, y))) for y in sorted(ys) for x in self._x_columns()]

    @property
    def side_holes_from_front(self) -> list:
        """Side hole centres along the length, from the front end (both long sides)."""
        return _lengths_mm(sorted(self._y_from_front(mm(v)) for v in self.side_holes_from_connector))

    @property
    def side_holes(self) -> list[tuple]:
        """Side hole centres (x, y, z) in the layout's frame, on both long faces (x = 0, width)."""
        z = mm(self.side_hole_height)
        ys = [mm(v) for v in self.side_holes_from_front]
        return [tuple(_lengths_mm((x, y, z))) for x in (0.0, mm(self.width)) for y in ys]


class FlatMount(_Strict):
    """How a switch lying flat is held. `holes`: screw positions in its own frame (lying flat,
    x along the port face, y from the port face) when it has screw holes underneath; `strap`:
    a hook-and-loop strap `strap_width` wide over the switch, through two slots cut in the base
    `frame_gap` beside its outline (ports and power stay free: the strap crosses left to right);
    `frame`: a retaining frame cut from the plates around its outline, `frame_gap` clear of it."""

    method: Literal["holes", "frame", "strap"]
    strap_width: Length | None = None
    holes: list[HolePos] = Field(default_factory=list)
    hole_thread: Thread | None = None
    frame_gap: Length | None = None  # between the switch's outline and the frame's inner edge
    open_sides: list[Literal["front", "back", "left", "right"]] = Field(default_factory=list)  # ports, cables

    @model_validator(mode="after")
    def _method_has_its_data(self):
        if self.method == "holes" and (not self.holes or self.hole_thread is None):
            raise ValueError("method = \"holes\" needs `holes` and `hole_thread`")
        if self.method in ("frame", "strap") and self.frame_gap is None:
            raise ValueError(f"method = \"{self.method}\" needs `frame_gap`")
        if self.method == "strap" and self.strap_width is None:
            raise ValueError("method = \"strap\" needs `strap_width`")
        return self


class Switch(PartBase):
    kind: Literal["switch"]
    width: Length  # lying flat: x
    depth: Length  # y (front to back)
    height: Length  # z
    ports: int
    poe_ports: int
    poe_budget_w: float
    poe_port_max_w: float
    hardware_version: str = ""  # the hardware version these figures belong to (TP-Link's "Ver.")
    poe_class_allocation_w: dict[str, float] = Field(default_factory=dict)  # PD class -> W the switch reserves
    # how it shares the budget: "class" reserves each port's allocation, "draw" allocates by
    # measured draw; None when no source says (rack check then says what to find out)
    poe_allocation: Literal["class", "draw"] | None = None
    flat_mount: FlatMount | None = None
    power: Power = Field(default_factory=Power)
    keepouts: list[Box] = Field(default_factory=list)

    def allocation_w(self, poe_class: int | None) -> float:
        """What the switch sets aside for a port with a device of `poe_class` (unknown: the port maximum)."""
        if poe_class is None:
            return self.poe_port_max_w
        return self.poe_class_allocation_w.get(str(poe_class), self.poe_port_max_w)


class Cable(PartBase):
    kind: Literal["cable"]
    cable: Literal["lan", "sata-usb", "usb-power"]
    length: Length
    powered: bool = False  # True if it brings its own power (a powered adapter)


class SheetBend(_Strict):
    """How this sheet bends on a hot line (the switch support): the inside radius the heater
    leaves, the neutral axis's place in the thickness (K-factor: 0 inside face, 0.5 middle)
    and the angle the support is bent to. Flat length across a bend: the legs' straight parts
    plus the bend allowance BA = π (R + K·T) A / 180."""

    inner_radius: Length
    k_factor: float = Field(ge=0, le=1)
    angle: float = Field(default=90.0, gt=0, lt=180)  # degrees the material is bent through
    method: str = "hot-line bending (strip heater)"


class Sheet(PartBase):
    kind: Literal["sheet"]
    material: str  # "cast acrylic"
    colour: str = "clear"
    thickness: Length
    tolerance_base: Length  # thickness tolerance = ±(tolerance_base + tolerance_per_mm · t)
    tolerance_per_mm: float
    kerf: Length  # typical laser kerf on this sheet
    bend: SheetBend | None = None  # None: not known how it bends (the support is then not bent)

    def thickness_range_mm(self) -> tuple[float, float]:
        t = mm(self.thickness)
        tol = mm(self.tolerance_base) + self.tolerance_per_mm * t
        return t - tol, t + tol


class Spacer(PartBase):
    kind: Literal["spacer"]
    thread: Thread
    length: Length  # body length, excluding any male thread
    style: Literal["female-female", "male-female"]
    male_thread_length: Length | None = None
    across_flats: Length
    material: str


class Screw(PartBase):
    kind: Literal["screw"]
    thread: Thread
    length: Length  # under the head
    head: Literal["pan", "flat", "cap"]
    head_diameter: Length
    head_height: Length
    material: str


class Nut(PartBase):
    kind: Literal["nut"]
    thread: Thread
    style: Literal["cap", "hex"]
    across_flats: Length
    height: Length
    thread_depth: Length  # how much screw end it takes (a cap nut's blind depth)
    material: str


class Washer(PartBase):
    kind: Literal["washer"]
    thread: Thread
    inner_diameter: Length  # d1
    outer_diameter: Length  # d2
    thickness: Length  # h
    standard: str  # "ISO 7089" (normal series), "ISO 7092" (small series)
    material: str


class Cooler(PartBase):
    """A cooler that clips onto a board (the Pi 5 Active Cooler): its footprint in the board's
    frame and its height above the board's top face."""

    kind: Literal["cooler"]
    fits: list[str]  # board families
    x: Offset
    y: Offset
    width: Length
    depth: Length
    height: Length  # above the board's top face


class Foot(PartBase):
    kind: Literal["foot"]
    diameter: Length
    height: Length
    material: str


class Purpose(_Strict):
    colour: str  # "#ff0000"
    width: Length  # stroke width
    layer: str  # DXF layer
    fill: bool = False  # engrave regions filled


class Rule(_Strict):
    """A minimum that grows with material thickness: base + per_thickness · t."""

    base: Length
    per_thickness: float = 0.0

    def at(self, thickness_mm: float) -> float:
        return mm(self.base) + self.per_thickness * thickness_mm


class Calibration(_Strict):
    """One quote a price model was calibrated on (when no published tariff exists): what was
    quoted, how much, and where the figure comes from. A single-plate quote gives the plate's
    size, so a test can price it again with the model."""

    quote: int = Field(gt=0)  # yen, tax included
    what: str
    source: str
    width: Length | None = None  # a single plate's size, when the quote was for one plate
    height: Length | None = None
    thickness: Length | None = None


class PriceModel(_Strict):
    """How a service prices a cut job (rackdesign.pricing computes it; `rack bom --explain`
    prints it): yen per cm² of material by thickness over the billed area (`material_basis`:
    each part's rectangle, the artboard around the nested parts, or whole sheets), yen per m of
    cut and of score, yen per cm² engraved, a fee per bend, a minimum per part, a fee and a
    minimum per order, consumption tax and shipping. None: not priced (the BOM says so)."""

    currency: Literal["JPY"] = "JPY"
    material_basis: Literal["parts", "artboard", "sheets"] = "parts"
    material_per_cm2: dict[str, float] = Field(default_factory=dict)  # thickness "3 mm" -> yen/cm²
    cut_per_m: float = Field(default=0, ge=0)
    score_per_m: float = Field(default=0, ge=0)
    engrave_per_cm2: float = Field(default=0, ge=0)
    bend_each: float | None = Field(default=None, ge=0)
    per_part_min: float = Field(default=0, ge=0)
    per_order_fee: float = Field(default=0, ge=0)
    per_order_min: float = Field(default=0, ge=0)
    tax_rate: float = Field(default=0, ge=0, le=1)
    shipping: float | None = Field(default=None, ge=0)
    range_low: float = Field(default=1.0, gt=0)  # the estimate's range: estimate x [low, high]
    range_high: float = Field(default=1.0, gt=0)
    source: str = ""
    # not a published tariff: the quotes the coefficients were solved from (`rack bom --explain` lists them)
    calibrated_on: list[Calibration] = Field(default_factory=list)


class Fabricator(PartBase):
    CITED_SOURCES: ClassVar[bool] = False
    kind: Literal["fabricator"]
    service: str  # who it is for
    formats: list[Literal["pdf", "svg", "dxf", "ai"]]
    sheet_width: Length
    sheet_height: Length
    spacing: Length  # between parts on the sheet
    kerf_compensation: Literal["ours", "service"]
    kerf: Length
    cut: Purpose
    engrave: Purpose
    score: Purpose
    bend: Purpose | None = None  # bend lines (drawn, never cut); None: writers' default green BEND layer
    # does the service bend acrylic? false: the switch support is cut as two plates joined by
    # tabs and slots (rackdesign.layout.switch_support), and nothing is bent
    bends: bool = True
    min_hole: Rule
    min_web: Rule
    pricing: PriceModel = Field(default_factory=PriceModel)


Part = Annotated[
    Union[Board, Hat, Drive, Switch, Cable, Sheet, Spacer, Screw, Nut, Washer, Foot, Cooler, Fabricator],
    Field(discriminator="kind"),
]
MODELS: dict[str, type[PartBase]] = {
    m.model_fields["kind"].annotation.__args__[0]: m
    for m in (Board, Hat, Drive, Switch, Cable, Sheet, Spacer, Screw, Nut, Washer, Foot, Cooler, Fabricator)
}
KINDS = tuple(MODELS)


P = TypeVar("P", bound=PartBase)


class WrongKind(KeyError):
    """A part asked for as one kind is another (`Catalog.part`)."""


class Catalog:
    """Parts by id. A part file is read and validated when first asked for (`parts` reads them
    all), so a command that needs a handful of parts does not validate the whole catalog.

    `get(pid, Board)` and `part(pid, Board)` return the part as its own type (a `Board`), so
    callers need no isinstance checks; `get(pid, "board")` and `cat[pid]` work as before."""

    def __init__(self, parts: dict[str, PartBase] | None = None, root: Path | None = None,
                 paths: dict[str, Path] | None = None, user_dir: Path | None = None):
        self._parts: dict[str, PartBase] = dict(parts or {})
        self._paths: dict[str, Path] = dict(paths or {})
        self._pending: set[str] = {k for k in self._paths if k not in self._parts}
        self.root = root  # the built-in catalog folder
        self.user_dir = user_dir  # the cluster file's own parts/ folder, if any
        self._shadowed: dict[str, Path] = {}  # built-in files a user's part overrides (its based_on may name them)

    @property
    def folders(self) -> tuple[Path, ...]:
        """The folders the part files come from: the built-in catalog, then the user's."""
        return tuple(f for f in (self.root, self.user_dir) if f is not None)

    def path_of(self, pid: str) -> Path | None:
        """The file a part was read from."""
        return self._paths.get(pid)

    def _read(self, pid: str) -> PartBase:
        part = self._parts.get(pid)
        if part is None:
            part = self._parts[pid] = _validate(self._paths[pid], self.raw(pid))
            self._pending.discard(pid)
        return part

    def raw(self, pid: str) -> dict:
        """The part file's data as validated: with `based_on`, merged over its base."""
        return _raw_merged(pid, self._paths, shadowed=self._shadowed)

    @property
    def parts(self) -> dict[str, PartBase]:
        for pid in sorted(self._pending):
            self._read(pid)
        return self._parts

    def __contains__(self, pid: str) -> bool:
        return pid in self._parts or pid in self._pending

    def __getitem__(self, pid: str) -> PartBase:
        if pid not in self:
            raise KeyError(pid)
        return self._read(pid)

    @overload
    def get(self, pid: str, kind: None = None) -> PartBase | None: ...
    @overload
    def get(self, pid: str, kind: str) -> PartBase | None: ...
    @overload
    def get(self, pid: str, kind: type[P]) -> P | None: ...

    def get(self, pid, kind=None):
        """The part, or None if there is none of that id (or it is not of `kind`, a kind name
        like "board" or a model class like Board)."""
        p = self._read(pid) if pid in self else None
        if p is None or kind is None:
            return p
        if isinstance(kind, str):
            return p if p.kind == kind else None
        return p if isinstance(p, kind) else None

    def part(self, pid: str, kind: type[P]) -> P:
        """The part as its own type; KeyError if there is none, WrongKind if it is another kind."""
        p = self[pid]
        if not isinstance(p, kind):
            want = kind.model_fields["kind"].annotation.__args__[0]
            raise WrongKind(f"'{pid}' is a {p.kind}, not a {want}")
        return p

    @overload
    def of_kind(self, kind: str) -> list[PartBase]: ...
    @overload
    def of_kind(self, kind: type[P]) -> list[P]: ...

    def of_kind(self, kind):
        name = kind if isinstance(kind, str) else kind.model_fields["kind"].annotation.__args__[0]
        return sorted((p for p in self.parts.values() if p.kind == name), key=lambda p: p.id)

    def ids(self, kind: str) -> list[str]:
        return [p.id for p in self.of_kind(kind)]

    def to_measure(self, ids: Iterable[str] | None = None) -> list[ToMeasure]:
        """Figures to measure before cutting, of the parts `ids` (default: every part)."""
        pids = sorted(set(ids)) if ids is not None else sorted(self.parts)
        return [m for pid in pids if pid in self for m in self[pid].to_measure()]


# ---------------------------------------------------------------------------------------------
# reading part files

OVERRIDE_KEY = "override"  # in a user's part file: replace the built-in part of the same id


PART_FILE_LIMIT = 256 << 10  # the largest built-in part file is ~6 KB


def _read_toml(path: Path) -> dict:
    """A part file: a regular file of at most PART_FILE_LIMIT bytes, never a FIFO or a device
    (a user's parts/ folder is input like the cluster file), as TOML."""
    try:
        return tomllib.loads(read_input(path, PART_FILE_LIMIT).decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, None, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, f"not valid TOML: {exc}") from None


def _raw_merged(pid: str, paths: dict[str, Path], seen: tuple[str, ...] = (),
                shadowed: dict[str, Path] | None = None) -> dict:
    """A part file's data; with `based_on`, the base's data with this file's keys over it and
    both files' sources. A user's override may be based on the built-in part it replaces."""
    path = paths[pid]
    data = _read_toml(path)
    data.pop(OVERRIDE_KEY, None)
    base_id = data.pop("based_on", None)
    if base_id is None:
        return data
    if base_id == pid and shadowed and pid in shadowed:
        base = _raw_merged(pid, {**paths, pid: shadowed[pid]}, seen + (pid,))
        return _merge(base, data)
    if not isinstance(base_id, str) or base_id not in paths:
        raise InputError(path, "based_on", f"{base_id!r} is not a part in the catalog")
    if base_id in seen or base_id == pid:
        raise InputError(path, "based_on", f"'{base_id}' leads back to '{pid}': based_on must not loop")
    return _merge(_raw_merged(base_id, paths, seen + (pid,), shadowed), data)


def _merge(base: dict, data: dict) -> dict:
    """The file's keys over its base's. Its sources join the base's, and replace them for the
    figures they cover: a board you measured is no longer "measure its thickness" because the
    built-in one it is based on was."""
    own = data.pop("sources", [])
    covered = [f for s in own if isinstance(s, dict) and isinstance(s.get("figures"), list)
               for f in s["figures"] if isinstance(f, str)]
    inherited = [s for s in (_uncovered(s, covered) for s in base.pop("sources", [])) if s is not None]
    base.pop("id", None)
    merged = {**base, **data}
    merged["sources"] = inherited + own
    return merged


def _uncovered(source: object, covered: list[str]) -> object | None:
    """A base's source entry without the figures the derived file sources itself (a key covers
    everything below it, "*" the whole file); None when none is left. Malformed entries pass
    through for validation to name."""
    if not isinstance(source, dict) or not isinstance(source.get("figures"), list):
        return source

    def covers(f: str, g: object) -> bool:
        return f == "*" or g == f or (isinstance(g, str) and g.startswith(f + "."))

    left = [g for g in source["figures"] if not any(covers(f, g) for f in covered)]
    if len(left) == len(source["figures"]):
        return source
    return {**source, "figures": left} if left else None


def _validate(path: Path, data: dict):
    data.setdefault("id", path.stem)
    if data["id"] != path.stem:
        raise InputError(path, "id", f"'{data['id']}' must equal the file name '{path.stem}'")
    model = MODELS.get(data.get("kind"))
    if model is None:
        raise InputError(path, "kind", f"{data.get('kind')!r} is not a part kind: expected one of {', '.join(KINDS)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(path, exc) from None


def load_part(path: Path):
    """One part file, validated. A `based_on` base is looked up in the same folder tree and
    the built-in catalog."""
    path = Path(path)
    paths = _scan(catalog_dir())
    for root in (path.parent, path.parent.parent):
        for p in sorted(root.rglob("*.toml")):
            paths.setdefault(p.stem, p)
    paths[path.stem] = path
    return _validate(path, _raw_merged(path.stem, paths))


def _scan(base: Path) -> dict[str, Path]:
    """Part id -> file under `base`; an id used twice is an error naming both files."""
    paths: dict[str, Path] = {}
    for path in sorted(base.rglob("*.toml")):
        if path.stem in paths:
            raise InputError(path, "id", f"part id '{path.stem}' is used twice in the catalog (also {paths[path.stem]})")
        paths[path.stem] = path
    return paths


def user_parts_dir(cluster_path: Path | str | None) -> Path | None:
    """The folder of a cluster file's own parts: `parts/` beside it, if there is one (and it is
    not the built-in catalog itself, as for a cluster file at the top of a checkout)."""
    if cluster_path is None:
        return None
    folder = Path(cluster_path).resolve().parent / "parts"
    if not folder.is_dir() or folder == catalog_dir().resolve():
        return None
    return folder


def _join_user_parts(paths: dict[str, Path], user_dir: Path) -> dict[str, Path]:
    """The built-in parts and the user's: a user's id that is also built in must say override = true."""
    out = dict(paths)
    for pid, path in _scan(user_dir).items():
        try:  # the file's name is the part's id: the cluster file names it, drawings and the BOM show it
            CATALOG_ID.check(pid)
        except ValueError as exc:
            raise InputError(path, "id", f"the file's name is the part id: {exc}") from None
        data = _read_toml(path)
        wants = data.get(OVERRIDE_KEY, False)
        if not isinstance(wants, bool):
            raise InputError(path, OVERRIDE_KEY, f"{wants!r} is not true or false")
        if pid in paths and not wants:
            raise InputError(path, "id", f"'{pid}' is already a built-in part ({paths[pid]}): rename your file, or "
                             f"set {OVERRIDE_KEY} = true in it to use yours instead")
        if pid not in paths and wants:
            raise InputError(path, OVERRIDE_KEY, f"there is no built-in part '{pid}' to override: remove the key")
        out[pid] = path
    return out


def load_catalog(root: Path | None = None, user_dir: Path | None = None) -> Catalog:
    """The catalog under `root` (default: the built-in parts/), joined with a user's parts folder."""
    root = root or catalog_dir()
    return _load_catalog_cached(str(root), str(user_dir) if user_dir else "")


@functools.lru_cache(maxsize=8)
def _load_catalog_cached(root: str, user_dir: str) -> Catalog:
    builtin = _scan(Path(root))
    paths = _join_user_parts(builtin, Path(user_dir)) if user_dir else builtin
    cat = Catalog(root=Path(root), paths=paths, user_dir=Path(user_dir) if user_dir else None)
    cat._shadowed = {pid: builtin[pid] for pid in paths if pid in builtin and paths[pid] != builtin[pid]}
    if user_dir:
        for pid, path in paths.items():  # a user's part file is checked when the cluster is loaded
            if path.is_relative_to(user_dir):
                cat[pid]
    return cat
