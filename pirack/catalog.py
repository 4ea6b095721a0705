"""The parts catalog: one TOML file per part under parts/<group>/<id>.toml.

Every physical figure in a part file names its source in a `[[sources]]` entry (the keys it
covers, the document, and whether it was checked against an official drawing). A test walks
every file and fails on a figure no source covers.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InputError, from_validation_error
from .money import Price
from .paths import catalog_dir
from .units import Length, Offset, mm


class _Strict(BaseModel):
    # defer_build: a model's validator is built when a part of its kind is first read, so
    # `bringup` (which reads ~7 parts) does not pay for all of them at import.
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, validate_default=True, defer_build=True
    )


class Source(_Strict):
    """Where figures came from. `figures` lists dotted keys of this file ("width", "holes",
    "power.max_w"); a key covers everything below it; "*" covers the whole file."""

    figures: list[str]
    document: str
    official_drawing: bool = Field(description="checked against an official (manufacturer's) drawing or standard")
    note: str = ""


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
    sources: list[Source] = Field(default_factory=list)

    @field_validator("pack_size", mode="before")
    @classmethod
    def _pack_positive(cls, v):
        if isinstance(v, int) and not isinstance(v, bool) and v < 1:
            raise ValueError(f"pack size must be at least 1, not {v}")
        return v


HolePos = tuple[Length, Length]


def _metric_thread(v: str) -> str:
    if not re.fullmatch(r"M\d+(\.\d+)?", v):
        raise ValueError(f"'{v}' is not a metric thread like M3 or M2.5 (only ISO metric threads are supported)")
    return v


Thread = Annotated[str, AfterValidator(_metric_thread)]


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
    usb_current_max_a: float | None = None  # total current the USB ports can supply
    undervoltage_v: float | None = None
    power: Power = Field(default_factory=Power)
    keepouts: list[Box] = Field(default_factory=list)


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
    included: dict[str, int] = Field(default_factory=dict)  # part id -> pieces in the box
    keepouts: list[Box] = Field(default_factory=list)


class Drive(PartBase):
    kind: Literal["drive"]
    form_factor: str
    width: Length
    length: Length
    height: Length
    thread: Thread
    bottom_holes: list[HolePos]  # (across the width from the left edge, from the front)
    side_holes_from_front: list[Length]
    side_hole_height: Length  # above the bottom face
    thread_depth_bottom: Length  # screws must not go deeper
    thread_depth_side: Length
    power: Power = Field(default_factory=Power)


class Switch(PartBase):
    kind: Literal["switch"]
    width: Length  # lying flat: x
    depth: Length  # y (front to back)
    height: Length  # z
    ports: int
    poe_ports: int
    poe_budget_w: float
    poe_port_max_w: float
    power: Power = Field(default_factory=Power)
    keepouts: list[Box] = Field(default_factory=list)


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
    Union[Board, Hat, Drive, Switch, Cable, Sheet, Spacer, Screw, Nut, Foot, Fabricator],
    Field(discriminator="kind"),
]
MODELS: dict[str, type[PartBase]] = {
    m.model_fields["kind"].annotation.__args__[0]: m
    for m in (Board, Hat, Drive, Switch, Cable, Sheet, Spacer, Screw, Nut, Foot, Fabricator)
}
KINDS = tuple(MODELS)


class Catalog:
    """Parts by id. A part file is read and validated when first asked for (`parts` reads them
    all), so a command that needs a handful of parts does not validate the whole catalog."""

    def __init__(self, parts: dict[str, PartBase] | None = None, root: Path | None = None,
                 paths: dict[str, Path] | None = None):
        self._parts: dict[str, PartBase] = dict(parts or {})
        self._pending: dict[str, Path] = {k: v for k, v in (paths or {}).items() if k not in self._parts}
        self.root = root

    def _read(self, pid: str) -> PartBase:
        part = self._parts.get(pid)
        if part is None:
            part = self._parts[pid] = load_part(self._pending.pop(pid))
        return part

    @property
    def parts(self) -> dict[str, PartBase]:
        for pid in list(self._pending):
            self._read(pid)
        return self._parts

    def __contains__(self, pid: str) -> bool:
        return pid in self._parts or pid in self._pending

    def __getitem__(self, pid: str) -> PartBase:
        if pid not in self:
            raise KeyError(pid)
        return self._read(pid)

    def get(self, pid: str, kind: str | None = None):
        p = self._read(pid) if pid in self else None
        if p is not None and kind is not None and p.kind != kind:
            return None
        return p

    def of_kind(self, kind: str) -> list[PartBase]:
        return sorted((p for p in self.parts.values() if p.kind == kind), key=lambda p: p.id)

    def ids(self, kind: str) -> list[str]:
        return [p.id for p in self.of_kind(kind)]


def load_part(path: Path):
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, f"not valid TOML: {exc}") from None
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


def load_catalog(root: Path | None = None) -> Catalog:
    root = root or catalog_dir()
    return _load_catalog_cached(str(root))


@functools.lru_cache(maxsize=4)
def _load_catalog_cached(root: str) -> Catalog:
    paths: dict[str, Path] = {}
    base = Path(root)
    for path in sorted(base.rglob("*.toml")):
        if path.stem in paths:
            raise InputError(path, "id", f"part id '{path.stem}' is used twice in the catalog (also {paths[path.stem]})")
        paths[path.stem] = path
    return Catalog(root=base, paths=paths)
