"""The rack layout: every plate, part and fastener of the rack positioned in one frame.

Pure Python (no CAD stack): the assembly (model.py), the cut files (plates.py), the checks and
the BOM all read this. Frame: millimetres; x to the right, y to the back, z up; the origin is
the front-left corner of the base plate's bottom face.

The rack is the seed's: the 2.5" drive lies on the base plate, screwed from below through its
SFF-8201 bottom holes; one tier plate per node above it, each carrying its board on short
spacers (the HAT on top at its standoff); a top plate; four M3 spacer columns join the plates,
set beside the drive and the boards (the seed's plates were redrawn three times because
spacers blocked the SSD); the PoE switch stands on its side beside the stack, held by a bent
("く") acrylic support, or lies flat on the base; rubber feet under the base.

Part frames (the model builds each part in its own frame and places it by pos + rot):
- plate: lower-left corner of its bottom face; x, y as in the plate's Part2D; z up to t.
- board / HAT: the catalog's board frame (lower-left corner), z = 0 at the part's bottom face.
- drive: front-left corner of its bottom face (the catalog's frame).
- switch: lying flat, front-left corner of its bottom face (the catalog's frame).
- spacer: centre of its bottom face; body up to its length, male thread above.
- screw: centre of the head's bearing face; head up (z 0..head), shank down (z −L..0).
- nut: centre of its bearing face; body up.  foot: centre of its top face; body down.
- switch-support: the wall's inner face at the bottom, front end; foot along +x, wall up.
Rotations are quarter turns about the part's own origin, applied in order, then the move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pirack.units import mm

from . import stack as stk
from .stack import LayoutError  # noqa: F401  (the layout's error; raised here and in stack)

# Board standoff height (plate top face to board bottom face): the seed's 5 mm brass spacers.
BOARD_STANDOFF = 5.0
# Heat-bent acrylic: inside bend radius ≈ sheet thickness (a strip heater's usual result).
BEND_RADIUS_T = 1.0
SUPPORT_WALL_FRACTION = 0.6  # the support's wall reaches this share of the standing switch
SUPPORT_FOOT = 15.0  # mm the support's foot runs out from the wall (room for its screws)
SUPPORT_GAP = 0.5  # switch face to the support's wall
COLUMN_NAMES = ("front-left", "back-left", "front-right", "back-right")

Box3 = tuple[float, float, float, float, float, float]  # x0, y0, z0, x1, y1, z1


@dataclass(frozen=True)
class Hole:
    x: float  # in the rack frame
    y: float
    diameter: float
    kind: str  # "column" | "board" | "drive" | "support"
    thread: str
    node: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class Cutout:
    """A stadium-shaped cut-out (cable pass or air vent), centre in the rack frame."""

    kind: str  # "cable" | "airflow"
    cx: float
    cy: float
    length: float
    width: float
    vertical: bool = False  # long axis along y


@dataclass(frozen=True)
class Plate:
    name: str  # "base", "tier-1-master", "top"
    role: str  # "base" | "tier" | "top"
    x: float  # lower-left corner in the rack frame
    y: float
    z: float  # bottom face
    width: float
    depth: float
    thickness: float
    corner_radius: float
    holes: tuple[Hole, ...]
    cutouts: tuple[Cutout, ...] = ()
    node: str | None = None
    carries: tuple[Box3, ...] = ()  # footprints (x0, y0, x1, y1 as a box with z 0) it must hold

    @property
    def top(self) -> float:
        return self.z + self.thickness

    def holes_of(self, kind: str) -> list[Hole]:
        return [h for h in self.holes if h.kind == kind]


@dataclass(frozen=True)
class Placed:
    """One solid of the assembly: a catalog part (or a plate) placed in the rack frame."""

    part_id: str  # catalog id, or the plate's / support's name
    kind: str  # catalog kind, or "plate" / "support"
    name: str  # unique instance name, f"{part_id}#{n}"
    pos: tuple[float, float, float]
    rot: tuple[tuple[str, float], ...] = ()
    bbox: Box3 = (0, 0, 0, 0, 0, 0)
    role: str = ""  # what it does: "column", "board-mount", "hat-mount", "drive", "support", ...
    node: str | None = None
    column: str | None = None
    params: tuple = ()  # what its shape depends on beyond the part id (model cache key)


@dataclass(frozen=True)
class Column:
    name: str
    x: float
    y: float
    segments: tuple[stk.Segment, ...]

    @property
    def length(self) -> float:
        """Spacer length from the base's top face to the top plate's bottom face."""
        return round(sum(s.height for s in self.segments), 6)


@dataclass(frozen=True)
class SupportPattern:
    """The switch support's flat pattern (in its own frame, before bending)."""

    length: float  # flat length across the bend
    width: float  # along y
    bend_at: float  # distance of the bend line from the foot's end
    bend_angle: float
    holes: tuple[tuple[float, float, float], ...]  # (x, y, diameter) in the flat pattern
    foot: float  # leg lengths (outside), for the model
    wall: float


@dataclass
class Layout:
    name: str
    sheet: str
    thickness: float
    thickness_range: tuple[float, float]
    plates: list[Plate]
    columns: list[Column]
    parts: list[Placed]
    tiers: dict[str, float]  # plate name -> z of its bottom face
    support: SupportPattern | None = None
    notes: list[str] = field(default_factory=list)  # design warnings for `rack check`

    def plate(self, name: str) -> Plate:
        return next(p for p in self.plates if p.name == name)

    def parts_of(self, kind: str) -> list[Placed]:
        return [p for p in self.parts if p.kind == kind]

    def counts(self) -> dict[str, int]:
        """Catalog part id -> pieces in the rack (plates and the support excluded)."""
        out: dict[str, int] = {}
        for p in self.parts:
            if p.kind not in ("plate", "support"):
                out[p.part_id] = out.get(p.part_id, 0) + 1
        return out

    def bbox(self) -> Box3:
        bs = [p.bbox for p in self.parts]
        return (min(b[0] for b in bs), min(b[1] for b in bs), min(b[2] for b in bs),
                max(b[3] for b in bs), max(b[4] for b in bs), max(b[5] for b in bs))

    @property
    def size(self) -> tuple[float, float, float]:
        b = self.bbox()
        return (b[3] - b[0], b[4] - b[1], b[5] - b[2])


# ---------------------------------------------------------------------------------------------
# geometry helpers


def _rot_point(p, axis: str, deg: float):
    x, y, z = p
    a = math.radians(deg)
    c, s = round(math.cos(a), 12), round(math.sin(a), 12)
    if axis == "x":
        return (x, y * c - z * s, y * s + z * c)
    if axis == "y":
        return (x * c + z * s, y, -x * s + z * c)
    return (x * c - y * s, x * s + y * c, z)


def transform(p, pos, rot=()):
    for axis, deg in rot:
        p = _rot_point(p, axis, deg)
    return (p[0] + pos[0], p[1] + pos[1], p[2] + pos[2])


def world_box(local: Box3, pos, rot=()) -> Box3:
    x0, y0, z0, x1, y1, z1 = local
    pts = [transform((x, y, z), pos, rot) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
    xs, ys, zs = zip(*pts)
    return (min(xs), min(ys), min(zs), max(xs), max(ys), max(zs))


def hex_circumradius(across_flats: float) -> float:
    return across_flats / math.sqrt(3)


def _rect_dist(px, py, r) -> float:
    """Distance from a point to an (x0, y0, x1, y1) rectangle (0 inside)."""
    x0, y0, x1, y1 = r
    dx = max(x0 - px, 0.0, px - x1)
    dy = max(y0 - py, 0.0, py - y1)
    return math.hypot(dx, dy)


# ---------------------------------------------------------------------------------------------
# catalog access


def _spacer_spec(p) -> stk.SpacerSpec:
    male = mm(p.male_thread_length) if getattr(p, "male_thread_length", None) else 0.0
    return stk.SpacerSpec(p.id, p.thread, mm(p.length), p.style, male, mm(p.across_flats))


def _screw_spec(p) -> stk.ScrewSpec:
    return stk.ScrewSpec(p.id, p.thread, mm(p.length), mm(p.head_diameter), mm(p.head_height))


def _local_box(part, kind: str) -> Box3:
    """The part's extent in its own frame (see the module docstring)."""
    if kind == "spacer":
        r = hex_circumradius(mm(part.across_flats))
        male = mm(part.male_thread_length) if part.male_thread_length else 0.0
        return (-r, -r, 0.0, r, r, mm(part.length) + male)
    if kind == "screw":
        r = mm(part.head_diameter) / 2
        return (-r, -r, -mm(part.length), r, r, mm(part.head_height))
    if kind == "nut":
        r = hex_circumradius(mm(part.across_flats))
        return (-r, -r, 0.0, r, r, mm(part.height))
    if kind == "foot":
        r = mm(part.diameter) / 2
        return (-r, -r, -mm(part.height), r, r, 0.0)
    if kind == "drive":
        return (0.0, 0.0, 0.0, mm(part.width), mm(part.length), mm(part.height))
    if kind == "switch":
        return (0.0, 0.0, 0.0, mm(part.width), mm(part.depth), mm(part.height))
    if kind == "board":
        top = mm(part.thickness)
        x1, y1, h = mm(part.width), mm(part.depth), 0.0
        x0 = y0 = 0.0
        for k in part.keepouts:
            x0, y0 = min(x0, mm(k.x)), min(y0, mm(k.y))
            x1 = max(x1, mm(k.x) + mm(k.width))
            y1 = max(y1, mm(k.y) + mm(k.depth))
            h = max(h, mm(k.z) + mm(k.height))
        return (x0, y0, -mm(part.height_below), x1, y1, top + h)
    if kind == "hat":
        return (0.0, 0.0, -mm(part.height_below), mm(part.width), mm(part.depth),
                mm(part.thickness) + mm(part.height_above))
    raise ValueError(kind)


class _FastenerChoice:
    """The catalog as the rack may use it: `rack.fasteners` (when given) limits the spacers,
    screws and nuts the choosers see; the parts in the HATs' boxes always stay."""

    KINDS = ("spacer", "screw", "nut")

    def __init__(self, cat, allowed, hats):
        self._cat = cat
        self._allowed = None if allowed is None else set(allowed) | {p for h in hats for p in h.included}

    def __getattr__(self, name):
        return getattr(self._cat, name)

    def __getitem__(self, pid):
        return self._cat[pid]

    def __contains__(self, pid):
        return pid in self._cat

    def of_kind(self, kind: str):
        parts = self._cat.of_kind(kind)
        if self._allowed is None or kind not in self.KINDS:
            return parts
        return [p for p in parts if p.id in self._allowed]

    def where_to_add(self, kind: str, want: str, fits=lambda p: True) -> str:
        """What to do when no allowed part fits: list one of the catalog's in rack.fasteners
        (naming them), or add `want` to the catalog."""
        if self._allowed is not None:
            have = [p.id for p in self._cat.of_kind(kind) if fits(p) and p.id not in self._allowed]
            if have:
                more = ", …" if len(have) > 6 else ""
                return f"list one in rack.fasteners (the catalog has {', '.join(have[:6])}{more})"
        return f"add {want} to the catalog (parts/)"

    def screw(self, choice, thread: str, what: str, where: str) -> str:
        """The chosen screw's id, or a LayoutError when the allowed parts have no screw of `thread`."""
        if choice.part_id is None:
            raise LayoutError("NO_SCREW", f"{where}: no {thread} screw for the {what}",
                              self.where_to_add("screw", f"an {thread} screw", lambda p: p.thread == thread))
        return choice.part_id


class _Builder:
    def __init__(self):
        self.parts: list[Placed] = []
        self.count: dict[str, int] = {}

    def add(self, part_id, kind, pos, local: Box3, rot=(), **kw) -> Placed:
        n = self.count.get(part_id, 0) + 1
        self.count[part_id] = n
        p = Placed(part_id, kind, f"{part_id}#{n}", tuple(round(v, 6) for v in pos), tuple(rot),
                   world_box(local, pos, rot), **kw)
        self.parts.append(p)
        return p


# ---------------------------------------------------------------------------------------------


def build_layout(lc) -> Layout:
    """The rack of a loaded cluster (pirack.load.LoadedCluster)."""
    spec, cat = lc.spec, lc.catalog
    rack = spec.rack
    sheet = cat[rack.sheet]
    t = mm(sheet.thickness)
    t_range = sheet.thickness_range_mm()
    margin, radius, clr = mm(rack.margin), mm(rack.corner_radius), mm(rack.min_clearance)
    notes: list[str] = []
    cat = _FastenerChoice(cat, rack.fasteners, [cat[n.hat] for n in spec.nodes if n.hat])

    # -- catalog parts -------------------------------------------------------------------------
    col_spacers = [_spacer_spec(p) for p in cat.of_kind("spacer") if p.thread == "M3"]
    if not col_spacers:
        raise LayoutError("STACK_HEIGHT", f"spacer columns ({', '.join(COLUMN_NAMES)}): no M3 spacer to stack",
                          cat.where_to_add("spacer", "M3 spacers", lambda p: p.thread == "M3"))
    screws = [_screw_spec(p) for p in cat.of_kind("screw")]
    cap = next((p for p in cat.of_kind("nut") if p.thread == "M3" and p.style == "cap"), None)
    hexnut = next((p for p in cat.of_kind("nut") if p.thread == "M3" and p.style == "hex"), None)
    col_af = max(s.across_flats for s in col_spacers)
    col_r = hex_circumradius(col_af)
    col_hole = stk.clearance_hole("M3")

    drive = cat[spec.storage.drive] if (spec.storage and rack.drive_placement == "base") else None
    switch = cat[rack.switch] if rack.switch else None
    feet = cat[rack.feet] if rack.feet else None

    # -- the boards: rotated a quarter turn (jacks to the front, towards the switch's ports) --
    # board frame (u, v) -> rack (x0 + v, y0 + W - u): a rotation by -90° about z.
    nodes = [spec.master] + spec.slaves
    boards = [cat[n.board] for n in nodes]
    hats = [cat[n.hat] if n.hat else None for n in nodes]
    footprints = []
    for b in boards:
        lb = _local_box(b, "board")
        # extent along the rack's x (board v) and y (board u, jacks overhang to the front)
        footprints.append((lb[4] - lb[1], lb[3] - lb[0], mm(b.width)))
    board_w = max(f[0] for f in footprints)  # across x
    board_d = max(f[1] for f in footprints)  # along y, with the jacks' overhang

    # -- the stack's content rectangle, before the move to the plate's corner ----------------
    dw, dl = (mm(drive.width), mm(drive.length)) if drive else (0.0, 0.0)
    cw, cd = max(dw, board_w), max(dl, board_d)
    # columns beside the content: clear of the drive and the boards by min_clearance
    col_dx = math.ceil((clr + col_r) * 10 - 1e-9) / 10  # to 0.1 mm: round numbers on the floor plan
    edge = col_hole / 2 + margin  # plate edge to a column's centre
    stack_w = cw + 2 * (col_dx + edge)
    stack_d = cd + 2 * margin
    content_x0 = edge + col_dx  # in stack-plate coordinates
    content_y0 = margin

    # -- the switch beside the stack ------------------------------------------------------------
    sw_x = sw_w = sw_d = sw_h = 0.0
    base_w, base_d = stack_w, stack_d
    support = None
    if switch:
        sw_w, sw_d, sw_h = mm(switch.width), mm(switch.depth), mm(switch.height)
        sw_x = stack_w + clr
        if rack.switch_orientation == "side":
            # out to the support's foot, and its screw holes `margin` clear of the edge
            hx_rel = sw_h + SUPPORT_GAP + t + (SUPPORT_FOOT - t) / 2
            base_w = sw_x + max(sw_h + SUPPORT_GAP + SUPPORT_FOOT, hx_rel + stk.clearance_hole("M3") / 2 + margin)
        else:
            base_w = sw_x + sw_w + margin
        base_d = max(stack_d, sw_d + 2 * margin)
    stack_y = (base_d - stack_d) / 2  # stack plates centred on the base's depth

    cx0, cy0 = content_x0, stack_y + content_y0
    drive_rect = (cx0 + (cw - dw) / 2, cy0, cx0 + (cw + dw) / 2, cy0 + dl) if drive else None
    cols_xy = {
        "front-left": (edge, stack_y + edge),
        "back-left": (edge, stack_y + stack_d - edge),
        "front-right": (stack_w - edge, stack_y + edge),
        "back-right": (stack_w - edge, stack_y + stack_d - edge),
    }
    if drive_rect:
        for name, (x, y) in cols_xy.items():
            gap = _rect_dist(x, y, drive_rect[:4]) - col_r
            if gap < clr - 1e-6:  # the seed's first plates: a spacer blocked the SSD
                raise LayoutError("LAYOUT", f"base plate: the {name} spacer column stands {gap:.1f} mm from the "
                                  f"drive {drive.id}, under rack.min_clearance ({clr:g} mm)",
                                  "this is a bug in the layout: report it with the cluster file")

    b = _Builder()

    # -- z: the base, then one tier per node, then the top -----------------------------------
    base_top = t
    # board mounts: spacer below the board (M-F, male up into the HAT's spacer) and screws
    mounts = [_board_mount(cat, node, board, hat, t_range, notes, f"tier-{i + 1}-{node.name}")
              for i, (node, board, hat) in enumerate(zip(nodes, boards, hats))]

    def tier_content_height(i):
        board, hat, m = boards[i], hats[i], mounts[i]
        top = m["standoff"] + mm(board.thickness) + _local_box(board, "board")[5] - mm(board.thickness)
        if hat is not None:
            hat_top = m["standoff"] + mm(board.thickness) + mm(hat.standoff) + mm(hat.thickness)
            top = max(top, hat_top + mm(hat.height_above), hat_top + m["hat_screw_head"])
        return top

    def hang_below(i):
        """What hangs under tier i's plate: the heads of its board-mount screws."""
        return mounts[i]["plate_screw_head"]

    gaps = []
    plate_names = ["base"] + [f"tier-{i + 1}-{n.name}" for i, n in enumerate(nodes)] + ["top"]
    req0 = hang_below(0) + clr + (mm(drive.height) if drive else 0.0)
    gaps.append(("base", plate_names[1], req0))
    for i in range(len(nodes)):
        below_next = hang_below(i + 1) if i + 1 < len(nodes) else 0.0
        gaps.append((plate_names[i + 1], plate_names[i + 2], tier_content_height(i) + clr + below_next))
    cap_arg = (cap.id, mm(cap.thread_depth)) if cap else None
    try:
        segments = stk.solve_column(gaps, col_spacers, screws, t_range, cap_arg)
    except LayoutError as exc:
        raise LayoutError(exc.code, f"spacer columns ({', '.join(COLUMN_NAMES)}): {exc.message}",
                          f"lower rack.min_clearance (now {clr:g} mm), or "
                          + cat.where_to_add("spacer", "longer M3 male-female spacers",
                                             lambda p: p.thread == "M3" and p.style == "male-female")) from None
    for s in segments:
        notes.extend(f"column {s.lower}→{s.upper}: {n}" for n in s.notes)

    tiers: dict[str, float] = {"base": 0.0}
    z = base_top
    for s in segments:
        tiers[s.upper] = z + s.height
        z = z + s.height + t

    # -- plates ---------------------------------------------------------------------------------
    col_holes = tuple(Hole(x, y, col_hole, "column", "M3", column=n) for n, (x, y) in cols_xy.items())
    plates: list[Plate] = []

    # the drive on the base, its connector end at the back
    base_holes = list(col_holes)
    carries = []
    if drive:
        dx0, dy0 = drive_rect[0], drive_rect[1]
        for (u, v) in drive.bottom_holes:
            base_holes.append(Hole(dx0 + mm(u), dy0 + mm(v), stk.clearance_hole(drive.thread), "drive", drive.thread))
        carries.append((drive_rect[0], drive_rect[1], 0.0, drive_rect[2], drive_rect[3], 0.0))
        b.add(drive.id, "drive", (dx0, dy0, base_top), _local_box(drive, "drive"), role="drive")
        sc = stk.choose_screw(screws, drive.thread, t_range, mm(drive.thread_depth_bottom),
                              min_engage=1.0, what="drive screw")  # 2 turns: the drive's holes are shallow
        if not sc.ok:
            notes.append(f"drive screws: {sc.note}")
        scp = cat[cat.screw(sc, drive.thread, f"drive {drive.id}", "base plate")]
        for (u, v) in drive.bottom_holes:
            b.add(scp.id, "screw", (dx0 + mm(u), dy0 + mm(v), 0.0), _local_box(scp, "screw"),
                  rot=(("x", 180),), role="drive-screw")

    # the switch and its support
    if switch:
        sy = (base_d - sw_d) / 2
        if rack.switch_orientation == "side":
            # on its side: its height runs along x, its width up; port face to the front
            b.add(switch.id, "switch", (sw_x + sw_h, sy, base_top), _local_box(switch, "switch"),
                  rot=(("y", -90),), role="switch")
            wall = round(SUPPORT_WALL_FRACTION * sw_w, 1)
            sup_d = round(min(sw_d - 2 * margin, 0.6 * sw_d), 1)
            sup_x = sw_x + sw_h + SUPPORT_GAP
            sup_y = (base_d - sup_d) / 2
            support = _support_pattern(t, wall, SUPPORT_FOOT, sup_d)
            b.add("switch-support", "support", (sup_x, sup_y, base_top),
                  (0.0, 0.0, 0.0, SUPPORT_FOOT, sup_d, wall), role="support",
                  params=(t, wall, SUPPORT_FOOT, sup_d))
            carries.append((sw_x, sy, 0.0, sup_x + SUPPORT_FOOT, sy + sw_d, 0.0))
            # two M3 screws up through the base and the support's foot, hex nuts on the foot (the
            # screw's end then rises beside the wall instead of reaching below the feet)
            hx = sup_x + t + (SUPPORT_FOOT - t) / 2
            grip = (2 * t_range[0], 2 * t_range[1])
            if hexnut is None and cap is not None:  # rack.fasteners allows only cap nuts
                hexnut = cap
                sc = stk.choose_screw(screws, "M3", grip, mm(cap.thread_depth), what="support screw")
            else:
                nut_h = mm(hexnut.height) if hexnut else 0.0
                sc = stk.choose_screw(screws, "M3", grip, 99.0, min_engage=nut_h, what="support screw")
            if not sc.ok:
                notes.append(f"switch support screws: {sc.note}")
            scp = cat[cat.screw(sc, "M3", "switch support", "base plate")]
            for hy in (sup_y + sh for sh in _support_hole_ys(sup_d)):
                base_holes.append(Hole(hx, hy, stk.clearance_hole("M3"), "support", "M3"))
                b.add(scp.id, "screw", (hx, hy, 0.0), _local_box(scp, "screw"), rot=(("x", 180),),
                      role="support-screw")
                if hexnut:
                    b.add(hexnut.id, "nut", (hx, hy, base_top + t), _local_box(hexnut, "nut"), role="support-nut")
        else:
            b.add(switch.id, "switch", (sw_x, sy, base_top), _local_box(switch, "switch"), role="switch")
            carries.append((sw_x, sy, 0.0, sw_x + sw_w, sy + sw_d, 0.0))

    base_cut = []
    plates.append(Plate("base", "base", 0.0, 0.0, 0.0, base_w, base_d, t, radius, tuple(base_holes),
                        tuple(base_cut), carries=tuple(carries)))

    # tiers
    board_places = []
    for i, (node, board, hat, m) in enumerate(zip(nodes, boards, hats, mounts)):
        name = plate_names[i + 1]
        pz = tiers[name]
        # board frame (u, v) -> rack (x + v, y - u): v across x centred on the content, the
        # jacks' end (largest u, overhang included) at the content's front
        lb = _local_box(board, "board")
        pos_board = (cx0 + (cw - (lb[4] - lb[1])) / 2 - lb[1], cy0 + lb[3], pz + t + m["standoff"])
        rot = (("z", -90),)
        holes = []
        for (u, v) in board.holes:
            x, y, _ = transform((mm(u), mm(v), 0.0), (pos_board[0], pos_board[1], 0.0), rot)
            holes.append(Hole(x, y, stk.clearance_hole(m["plate_screw_thread"]), "board", m["plate_screw_thread"],
                              node=node.name))
        b.add(board.id, "board", pos_board, _local_box(board, "board"), rot=rot, role="board", node=node.name)
        board_places.append((pos_board, rot))
        # fasteners of the board: screw up through the plate, spacer, (HAT spacer, HAT, screw)
        bsp, psc = cat[m["board_spacer"]], cat[m["plate_screw"]]
        for h in holes:
            b.add(psc.id, "screw", (h.x, h.y, pz), _local_box(psc, "screw"), rot=(("x", 180),),
                  role="board-screw", node=node.name)
            b.add(bsp.id, "spacer", (h.x, h.y, pz + t), _local_box(bsp, "spacer"), rot=rot, role="board-mount",
                  node=node.name)
        if hat is not None:
            hz = pos_board[2] + mm(board.thickness) + mm(hat.standoff)
            b.add(hat.id, "hat", (pos_board[0], pos_board[1], hz), _local_box(hat, "hat"), rot=rot,
                  role="hat", node=node.name)
            hsp, hsc = cat[m["hat_spacer"]], cat[m["hat_screw"]]
            for (u, v) in hat.holes:
                x, y, _ = transform((mm(u), mm(v), 0.0), (pos_board[0], pos_board[1], 0.0), rot)
                # turned with the board: the hex's flats face the board's connectors
                b.add(hsp.id, "spacer", (x, y, pos_board[2] + mm(board.thickness)), _local_box(hsp, "spacer"),
                      rot=rot, role="hat-mount", node=node.name)
                b.add(hsc.id, "screw", (x, y, hz + mm(hat.thickness)), _local_box(hsc, "screw"),
                      role="hat-screw", node=node.name)
        elif m.get("top_screw"):
            tsc = cat[m["top_screw"]]
            for h in holes:
                b.add(tsc.id, "screw", (h.x, h.y, pos_board[2] + mm(board.thickness)), _local_box(tsc, "screw"),
                      role="board-screw-top", node=node.name)
        cuts = _tier_cutouts(rack, board, pos_board, rot, cx0, cw, cy0 + board_d, stack_y + stack_d - margin)
        bb = world_box(_local_box(board, "board"), pos_board, rot)
        plates.append(Plate(name, "tier", 0.0, stack_y, pz, stack_w, stack_d, t, radius,
                            col_holes + tuple(holes), tuple(cuts), node=node.name,
                            carries=((bb[0], bb[1], 0.0, bb[3], bb[4], 0.0),)))

    plates.append(Plate("top", "top", 0.0, stack_y, tiers["top"], stack_w, stack_d, t, radius, col_holes))
    for p in plates:
        b.add(p.name, "plate", (p.x, p.y, p.z), (0.0, 0.0, 0.0, p.width, p.depth, p.thickness), role=p.role,
              params=(p.name,))

    # -- the spacer columns ----------------------------------------------------------------------
    columns = []
    for cname, (x, y) in cols_xy.items():
        z = base_top
        for k, s in enumerate(segments):
            for sp in s.stack.spacers:
                part = cat[sp.id]
                b.add(sp.id, "spacer", (x, y, z), _local_box(part, "spacer"), role="column", column=cname)
                z += sp.length
            if k == 0 and s.joint.part_id:
                part = cat[s.joint.part_id]
                b.add(part.id, "screw", (x, y, 0.0), _local_box(part, "screw"), rot=(("x", 180),),
                      role="column-screw", column=cname)
            if s.top is not None and s.top.part_id:
                part = cat[s.top.part_id]
                b.add(part.id, part.kind, (x, y, z + t), _local_box(part, part.kind), role="column-top",
                      column=cname)
            z += t
        columns.append(Column(cname, x, y, tuple(segments)))

    # -- feet, clear of every screw head and nut under the base ---------------------------------
    if feet:
        under = [(p.pos[0], p.pos[1], max(p.bbox[3] - p.bbox[0], p.bbox[4] - p.bbox[1]) / 2)
                 for p in b.parts if p.bbox[2] < -1e-6 and p.kind in ("screw", "nut")]
        fr = mm(feet.diameter) / 2
        for fx, fy in _feet_positions(base_w, base_d, fr, margin, under):
            b.add(feet.id, "foot", (fx, fy, 0.0), _local_box(feet, "foot"), role="foot")

    lay = Layout(spec.cluster.name, sheet.id, t, t_range, plates, columns, b.parts, tiers, support, notes)
    return lay


def _board_mount(cat, node, board, hat, t_range, notes, plate: str) -> dict:
    """How a board is held on its tier: the spacer under it, the screw up through the plate,
    and (with a HAT) the HAT's spacers and screws. Prefers the board's own thread; the seed
    used M2.6 brass spacers (M2.6 passes the Pi's Ø2.7 M2.5 holes)."""
    threads = [board.hole_thread] + [th for th in ("M2.5", "M2.6") if th != board.hole_thread]
    style = "male-female" if hat is not None else "female-female"
    sp = None
    for th in threads:
        cands = [p for p in cat.of_kind("spacer") if p.thread == th and p.style == style]
        if cands:
            sp = min(cands, key=lambda p: (abs(mm(p.length) - BOARD_STANDOFF), mm(p.length)))
            break
    if sp is None:
        raise LayoutError("NO_SPACER", f"{plate}: no {style} spacer ({' or '.join(threads)}) to hold "
                          f"{board.id} by its {board.hole_thread} holes",
                          cat.where_to_add("spacer", f"{board.hole_thread} {style} spacers",
                                           lambda p: p.thread in threads and p.style == style))
    if sp.thread != board.hole_thread:
        notes.append(f"{node.name}: board spacers {sp.id} are {sp.thread}, the board's holes are for "
                     f"{board.hole_thread} (the seed did the same: M2.6 passes the Ø{mm(board.hole_diameter):g} holes)")
    spec = _spacer_spec(sp)
    screws = [_screw_spec(p) for p in cat.of_kind("screw")]
    psc = stk.choose_screw(screws, sp.thread, t_range, spec.female_depth, what="board screw")
    if not psc.ok:
        notes.append(f"{node.name}: board screws: {psc.note}")
    psc_id = cat.screw(psc, sp.thread, f"board {board.id} (up through the plate into {sp.id})", plate)
    out = {"standoff": mm(sp.length), "board_spacer": sp.id, "plate_screw": psc_id,
           "plate_screw_thread": sp.thread, "plate_screw_head": mm(cat[psc_id].head_height)}
    if hat is not None:
        inc_sp = [pid for pid in hat.included if cat.get(pid, "spacer")]
        inc_sc = [pid for pid in hat.included if cat.get(pid, "screw")]
        hsp = inc_sp[0] if inc_sp else None
        if hsp is None or abs(mm(cat[hsp].length) - mm(hat.standoff)) > 0.05:
            cands = [p for p in cat.of_kind("spacer") if p.style == "female-female"
                     and abs(mm(p.length) - mm(hat.standoff)) <= 0.05]
            if not cands:
                raise LayoutError("NO_SPACER", f"{plate}: no female-female spacer of the "
                                  f"{mm(hat.standoff):g} mm standoff of {hat.id}",
                                  cat.where_to_add("spacer", f"{mm(hat.standoff):g} mm female-female spacers",
                                                   lambda p: p.style == "female-female"
                                                   and abs(mm(p.length) - mm(hat.standoff)) <= 0.05))
            hsp = min(cands, key=lambda p: (p.thread != sp.thread, p.id)).id
        if inc_sc:
            hsc = inc_sc[0]  # the screws in the HAT's box (the seed reused them)
        else:
            th = cat[hsp].thread
            c = stk.choose_screw(screws, th, (mm(hat.thickness), mm(hat.thickness)),
                                 _spacer_spec(cat[hsp]).female_depth, what="HAT screw")
            hsc = cat.screw(c, th, f"HAT {hat.id} (into {hsp})", plate)
        if cat[hsp].thread != sp.thread:
            notes.append(f"{node.name}: the board spacer's {sp.thread} male thread goes into the HAT spacer "
                         f"{hsp} ({cat[hsp].thread}): the threads differ")
        if cat[hsc].thread != cat[hsp].thread:
            notes.append(f"{node.name}: HAT screws {hsc} ({cat[hsc].thread}) into HAT spacers {hsp} "
                         f"({cat[hsp].thread}): the threads differ")
        out.update(hat_spacer=hsp, hat_screw=hsc, hat_screw_head=mm(cat[hsc].head_height))
    else:
        c = stk.choose_screw(screws, sp.thread, (mm(board.thickness), mm(board.thickness)), spec.female_depth,
                             what="board screw")
        out.update(top_screw=c.part_id, hat_screw_head=mm(cat[c.part_id].head_height) if c.part_id else 0.0)
    return out


def _tier_cutouts(rack, board, pos, rot, cx0, cw, free_y0, free_y1) -> list[Cutout]:
    cuts = []
    if rack.cable_cutouts and free_y1 - free_y0 >= 6.0:
        # behind the board: the SATA-USB and LAN cables pass between tiers here
        w = min(10.0, free_y1 - free_y0 - 1.0)
        cuts.append(Cutout("cable", cx0 + cw / 2, (free_y0 + free_y1) / 2, min(40.0, cw - 10.0), w))
    if rack.airflow_cutouts:
        # under the board, inside its hole pattern: the HAT's fan blows down through the board
        us = [mm(u) for u, _ in board.holes]
        vs = [mm(v) for _, v in board.holes]
        u0, u1, v0, v1 = min(us) + 8, max(us) - 8, min(vs) + 8, max(vs) - 8
        n = max(1, int((v1 - v0) // 10))
        for k in range(n):
            v = v0 + (v1 - v0) * (k + 0.5) / n
            a = transform((u0, v, 0.0), (pos[0], pos[1], 0.0), rot)
            c = transform((u1, v, 0.0), (pos[0], pos[1], 0.0), rot)
            cuts.append(Cutout("airflow", (a[0] + c[0]) / 2, (a[1] + c[1]) / 2,
                               math.dist(a[:2], c[:2]) + 5.0, 5.0, vertical=abs(a[0] - c[0]) < 1e-6))
    return cuts


def _support_hole_ys(depth: float) -> tuple[float, float]:
    return (10.0, depth - 10.0)


def _support_pattern(t: float, wall: float, foot: float, depth: float) -> SupportPattern:
    """Flat pattern of the bent support: a strip whose bend (90°, inside radius BEND_RADIUS_T·t)
    joins a foot of `foot` mm and a wall of `wall` mm (outside lengths). Flat length uses the
    neutral axis at mid-thickness: legs minus (r + t) each, plus the arc (π/2)(r + t/2)."""
    r = BEND_RADIUS_T * t
    ba = math.pi / 2 * (r + t / 2)
    flat_foot = foot - (r + t)
    flat_wall = wall - (r + t)
    length = flat_foot + ba + flat_wall
    hx = foot - (t + (foot - t) / 2)  # from the foot's free end (x = 0 in the flat pattern)
    holes = tuple((hx, y, stk.clearance_hole("M3")) for y in _support_hole_ys(depth))
    return SupportPattern(round(length, 3), depth, round(flat_foot + ba / 2, 3), 90.0, holes, foot, wall)


def _feet_positions(w, d, r, margin, under, gap=1.0):
    """One foot near each corner, moved inward until clear of the heads and nuts under the base."""
    out = []
    for sx, sy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        best = None
        for step in range(0, 120):
            for axis in ("y", "x", "xy"):
                dx = step if "x" in axis else 0
                dy = step if "y" in axis else 0
                x = margin + r + dx if sx == 0 else w - margin - r - dx
                y = margin + r + dy if sy == 0 else d - margin - r - dy
                if all(math.hypot(x - ux, y - uy) >= r + ur + gap for ux, uy, ur in under):
                    best = (x, y)
                    break
            if best:
                break
        out.append(best or (margin + r if sx == 0 else w - margin - r, margin + r if sy == 0 else d - margin - r))
    return out
