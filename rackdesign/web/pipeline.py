"""The ONE module of rackdesign/web that calls rackdesign: loading, the layout, the flat parts
and their cut geometry, the CadQuery assembly and its glTF, the front plan, the BOM, the checks
and the export files. Everything it hands back is bytes, plain data or a type from views.py,
so a change of rackdesign's insides is re-wired here and nowhere else.

Two kinds of callers:
- the server process (live.py) runs the fast stages: load, layout, flat parts, plate SVGs,
  the 3D scene (GLB), the BOM;
- the CAD worker process runs the slow ones (`worker_*`): the front plan (hidden-line removal),
  the checks (exact collisions), the export files. They take the cluster file's text, so only
  plain data crosses the process boundary.
"""

from __future__ import annotations

import hashlib
import json
import struct
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pirack.errors import InputError

from .views import ErrorView, HoleView, LegendEntry, PartView, PlateView

if TYPE_CHECKING:
    from pirack.catalog import Catalog, Fabricator
    from pirack.load import LoadedCluster

    from ..geometry2d import Part2D
    from ..layout.placed import Layout, Placed, SupportPattern

# glTF tessellation: fine enough to read a hex spacer as a hex, coarse enough to stay small
# and fast (CadQuery's default 0.001 mm took 2.4 s and 1.2 MB for the default rack).
GLB_TOLERANCE = 0.05  # mm
GLB_ANGULAR = 0.3  # rad
SHAPE_STORE_MAX = 600  # distinct shapes kept across edits


class DesignError(Exception):
    """The file loads, but no rack can be laid out from it."""

    def __init__(self, view: ErrorView):
        self.view = view
        super().__init__(view.message)


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:24]


def import_cad_stack() -> None:
    """Import the CAD stack once, up front (seconds cold), so no edit waits for it."""
    import cadquery  # noqa: F401

    from .. import frontplan, model  # noqa: F401
    from ..checks import collisions  # noqa: F401


# --- loading ----------------------------------------------------------------------------------

def default_text() -> str:
    from pirack.paths import default_text as text

    return text()


def default_display() -> str:
    from pirack.load import DEFAULT_NAME

    return DEFAULT_NAME


def load(text: str, display: str, path: Path | None):
    """The cluster file's text, parsed and checked against the schema and the catalog.
    Raises InputError (file, key, message), as every `rack` command does."""
    from pirack.load import load_text

    return load_text(text, display, path)


def reload_catalog() -> None:
    """Forget the parsed catalog so the next load reads the part files again (a part file was
    saved). pirack.catalog keeps one per process behind an lru_cache."""
    from pirack import catalog

    cached = getattr(catalog, "_load_catalog_cached", None)
    if cached is not None and hasattr(cached, "cache_clear"):
        cached.cache_clear()


def catalog_dirs() -> list[Path]:
    from pirack.paths import catalog_dir

    return [catalog_dir()]


def spec_key(lc: LoadedCluster) -> str:
    """Changes when the cluster's meaning changes (not for comments or spacing)."""
    return digest(lc.spec.model_dump_json())


def cluster_name(lc: LoadedCluster) -> str:
    return lc.spec.cluster.name


def node_count(lc: LoadedCluster) -> int:
    return len(lc.spec.nodes)


def choices(lc: LoadedCluster) -> dict[str, list[dict]]:
    """Catalog parts the settings editor offers, by kind: [{"id", "name"}]."""
    cat = lc.catalog
    out = {}
    for kind in ("board", "hat", "switch", "drive", "sheet"):
        out[kind] = [{"id": pid, "name": getattr(cat.get(pid), "name", pid)} for pid in cat.ids(kind)]
    return out


# --- layout and flat parts --------------------------------------------------------------------

def layout(lc: LoadedCluster):
    from ..findings import LayoutError
    from ..layout import build_layout

    try:
        return build_layout(lc)
    except LayoutError as exc:
        raise DesignError(ErrorView(f"the rack cannot be laid out: {exc.message}", lc.display, None,
                                    kind="layout", fix=getattr(exc, "fix", "") or "")) from None


def layout_key(lay: Layout) -> str:
    return digest(repr(lay))  # frozen dataclasses all the way down: repr is the content


def logo_path(lc: LoadedCluster) -> Path | None:
    """The logo file rack.engraving.logo names, or None."""
    from ..engrave import logo_file

    logo = lc.spec.rack.engraving.logo
    return logo_file(lc.base_dir, logo) if logo else None


def logo_stamp(path: Path | None) -> str:
    """A digest of the logo file's bytes, read as the engraving reads them (a regular SVG file
    under the size limit: a FIFO cannot block the builder): '' without a logo, 'unreadable'
    when the engraving would refuse it (and then names the problem itself)."""
    from ..engrave import read_logo

    if path is None:
        return ""
    try:
        return digest(read_logo(path.parent, str(path), str(path))[1])
    except InputError:
        return "unreadable"


def engraving_key(lc: LoadedCluster) -> str:
    """What the engraving reads besides the layout: rack.engraving and the logo file's bytes."""
    return digest(lc.spec.rack.engraving.model_dump_json(), logo_stamp(logo_path(lc)))


def flat_parts(lc: LoadedCluster, lay: Layout) -> tuple[list, list[str]]:
    """The plates and the switch support as cut for rack.fabricator (bent, or two plates when
    it does not bend), with their engraving; and its warnings."""
    from ..pipeline import flat_parts_for

    warnings: list[str] = []
    return flat_parts_for(lc, lay, warnings.append, fabricator(lc)), warnings


def fabricator(lc: LoadedCluster):
    from ..pipeline import profile_for

    return profile_for(lc, None)


# The plates' colours in words: as the order note beside the cut files and the floor plans name
# them (rackdesign/writers/order_note.py, floorplan.py): a bend line is neither cut nor scored.
LEGEND = {
    "cut": ("cut", "cut through: outlines and holes"),
    "engrave": ("engrave", "engraved (filled)"),
    "score": ("score", "scored, not cut through"),
    "bend": ("bend line", "bend line: not cut or scored; the service bends the switch support there"),
}


def legend(parts: list[Part2D], prof: Fabricator) -> list[LegendEntry]:
    """What each colour on the plates means, for the purposes the plates use, in the pens the
    fabricator's cut files draw them in."""
    from ..writers import pens

    pen = pens(prof)
    used = {purpose for p in parts for purpose, _ in p.paths()}
    return [LegendEntry(purpose, label, meaning, pen[purpose].colour, pen[purpose].layer)
            for purpose, (label, meaning) in LEGEND.items() if purpose in used]


def plates(parts: list[Part2D], prof: Fabricator) -> list[PlateView]:
    """Each flat part as drawn in its cut file (the fabricator's colours), one SVG per plate."""
    from ..nesting import CutSheet
    from ..writers.svg import sheet_svg

    out = []
    for p in parts:
        x0, y0, x1, y1 = p.bbox()
        sheet = CutSheet(p.material, p.thickness, 1, x1, y1, parts=[p])
        out.append(_plate_view(p, x1, y1, sheet_svg(sheet, prof)))
    return out


def _plate_view(p: Part2D, width: float, height: float, svg: bytes) -> PlateView:
    from ..geometry2d import Circle

    notes = p.notes or {}
    infos = notes.get("holes") or []
    holes = []
    for i, h in enumerate(p.holes):
        info = infos[i] if i < len(infos) and isinstance(infos[i], dict) else {}
        holes.append(HoleView(tuple(round(v, 3) for v in h.bbox()), info.get("kind", "hole"), isinstance(h, Circle),
                              info.get("node"), info.get("column")))
    datum = notes.get("datum")
    return PlateView(p.name, notes.get("role") or "plate", notes.get("node"), round(width, 3), round(height, 3),
                     notes.get("z"), p.thickness, tuple(datum) if datum else None, tuple(holes), svg, bool(p.bend))


# --- the 3D scene -----------------------------------------------------------------------------

def parts(lay: Layout, catalog: Catalog) -> list[PartView]:
    """Every solid of the assembly, in the assembly's order, named as its scene node."""
    out = []
    for p in lay.parts:
        out.append(PartView(p.name, p.part_id, p.kind, p.role, p.node, p.column, _label(p, catalog, lay.support),
                            tuple(round(v, 3) for v in p.bbox)))
    return out


def _label(p: Placed, catalog: Catalog, support: SupportPattern | None) -> str:
    if p.kind == "plate":
        return f"plate {p.part_id}"
    if p.kind == "support":  # the layout's support pattern says which form it laid out
        bent = support is None or support.bent
        return "switch support (bent acrylic)" if bent else "switch support (two acrylic plates, tabs in slots)"
    part = catalog.get(p.part_id)
    name = getattr(part, "name", None) or p.part_id
    where = [f"node {p.node}" if p.node else "", f"spacer column {p.column}" if p.column else ""]
    return name + "".join(f" — {w}" for w in where if w)


class ShapeStore:
    """Distinct CadQuery shapes kept across edits: a catalog part by its id, kind, parameters and
    catalog entry; a plate by its geometry (so identical tier plates share one). The meshes
    OCCT attaches to a shape's faces stay with it, so an unchanged part is neither rebuilt nor
    tessellated again."""

    def __init__(self):
        self.shapes: dict = {}
        self.builds = 0

    def assembly(self, lay: Layout, catalog: Catalog):
        """The rack as a CadQuery assembly, as rackdesign.model.build_assembly builds it, with
        shapes taken from this store."""
        import cadquery as cq

        from .. import model

        store = self
        entries: dict[str, str] = {}

        class Cache(model.ShapeCache):
            def get(self, p: Placed):
                if p.kind == "plate":  # its params are its name: the geometry is the key
                    key = (p.kind, self._geometry(p))
                elif p.kind == "support":
                    key = (p.kind, p.params, self._geometry(p))
                else:  # the catalog entry's content: a part file edited while serving
                    if p.part_id not in entries:
                        entries[p.part_id] = repr(self.cat[p.part_id])
                    key = (p.kind, p.part_id, p.params, entries[p.part_id])
                shape = store.shapes.get(key)
                if shape is None:
                    shape = store.shapes[key] = self._build(p)
                    store.builds += 1
                return shape

            def _geometry(self, p: Placed):
                if p.kind == "support":
                    return repr(self.lay.support)
                plate = self.plates[p.part_id]
                return repr((plate.outline, plate.holes, plate.thickness))

        if len(self.shapes) > SHAPE_STORE_MAX:
            self.shapes.clear()
        cache = Cache(lay, catalog)
        assy = cq.Assembly(name=f"rack-{lay.name}")
        for p in lay.parts:
            assy.add(cache.get(p), name=p.name, loc=model.location(p), color=model.COLOURS.get(p.kind),
                     metadata={"part_id": p.part_id, "kind": p.kind, "role": p.role})
        return assy


def scene_glb(lay: Layout, catalog: Catalog, store: ShapeStore, views: list[PartView]) -> bytes:
    """The assembly as binary glTF (CadQuery's exporter: node names and colours kept), each part
    node tagged with its name, kind and node in `extras` (three.js puts them in userData;
    it rewrites node names, so the page reads the tags)."""
    from cadquery.occ_impl.exporters.assembly import exportGLTF

    assy = store.assembly(lay, catalog)
    with tempfile.TemporaryDirectory(prefix="pirack-web-") as d:
        path = Path(d) / "rack.glb"
        exportGLTF(assy, str(path), True, GLB_TOLERANCE, GLB_ANGULAR)
        glb = path.read_bytes()
    return tag_nodes(glb, {v.name: {"part": v.name, "kind": v.kind, "node": v.node, "label": v.label}
                           for v in views})


def tag_nodes(glb: bytes, tags: dict[str, dict]) -> bytes:
    """Add `extras` to the glTF nodes named in `tags` (GLB container: header, JSON chunk, BIN)."""
    magic, version, _ = struct.unpack_from("<III", glb, 0)
    if magic != 0x46546C67:
        raise ValueError("not a GLB file")
    n, kind = struct.unpack_from("<II", glb, 12)
    doc = json.loads(glb[20:20 + n])
    for node in doc.get("nodes", []):
        tag = tags.get(node.get("name"))
        if tag is not None:
            node["extras"] = {**node.get("extras", {}), **tag}
    body = json.dumps(doc, separators=(",", ":")).encode()
    body += b" " * (-len(body) % 4)  # chunks are 4-byte aligned; JSON pads with spaces
    rest = glb[20 + n:]
    out = struct.pack("<III", 0x46546C67, version, 12 + 8 + len(body) + len(rest))
    return out + struct.pack("<II", len(body), kind) + body + rest


# --- BOM ----------------------------------------------------------------------------------------

def bom(lc: LoadedCluster, lay: Layout, parts2d: list[Part2D], prof: Fabricator) -> dict:
    """The BOM and cost table as `rack bom --format json` prints it."""
    from ..bom import build_bom
    from ..bom_render import render_json

    return json.loads(render_json(build_bom(lc, lay, parts2d, prof)))


# --- the CAD worker process's stages --------------------------------------------------------------

_worker_memo: dict[str, object] = {}


def _worker_loaded(text: str, display: str, path: str | None):
    key = digest(text, display, path or "")
    if _worker_memo.get("key") != key:
        lc = load(text, display, Path(path) if path else None)
        _worker_memo.clear()
        _worker_memo.update(key=key, lc=lc, lay=layout(lc))
    return _worker_memo["lc"], _worker_memo["lay"]


def worker_front_plan(text: str, display: str, path: str | None) -> bytes:
    """The front plan (正面図) as SVG, drawn from the assembly as `rack export` draws it."""
    from ..export import _date
    from ..frontplan import front_plan
    from ..model import build_assembly
    from ..writers.svg import drawing_svg

    lc, lay = _worker_loaded(text, display, path)
    return drawing_svg(front_plan(lay, build_assembly(lay, lc.catalog)), cluster_name(lc), _date())


def worker_checks(text: str, display: str, path: str | None) -> dict:
    """`rack check --json`'s report, with the preflight findings (what a laser service would
    reject) as errors naming their plate."""
    from ..checks import run_checks
    from ..preflight import preflight

    lc, lay = _worker_loaded(text, display, path)
    report = run_checks(lc, lay).to_dict()
    parts2d, _ = flat_parts(lc, lay)
    for f in preflight(parts2d, fabricator(lc)):
        report["findings"].insert(0, {"severity": "error", "code": "PREFLIGHT", "message": str(f),
                                      "fix": "the laser service would refuse or mis-cut this plate",
                                      "parts": [f.plate], "count": 1, "node": None, "value": None,
                                      "unit": None, "limit": None})
    return report


def worker_exports(text: str, display: str, path: str | None) -> dict:
    """Every file `rack export all` writes, as {relative path: bytes}; or the preflight
    findings that stop an export."""
    from ..export import render
    from ..preflight import PreflightFailed

    lc, _ = _worker_loaded(text, display, path)
    warnings: list[str] = []
    try:
        files = render("all", lc, None, warnings.append)
    except PreflightFailed as exc:
        return {"files": {}, "warnings": warnings, "refused": [str(f) for f in exc.problems]}
    return {"files": files, "warnings": warnings, "refused": []}


def input_error_view(exc: InputError) -> ErrorView:
    return ErrorView(exc.message, exc.file, exc.key, tuple(exc.more), kind="input")
