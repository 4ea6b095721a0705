"""`rack export`: every file a fabricator or a person needs, in one predictable tree.

    exports/<cluster>/cut/cut-<material>-sheet-<n>.<pdf|svg|dxf>    what the laser cuts (1:1 mm)
    exports/<cluster>/drawings/floor-plan-<plate>.<pdf|svg|png>      平面図, per plate
    exports/<cluster>/drawings/front-plan.<pdf|svg|png>              正面図
    exports/<cluster>/model/rack.step, rack.stl                      the CadQuery assembly

Everything is rendered to memory first (pure functions returning bytes); only then are files
written, into a temporary folder beside the target and moved into place file by file, so a
failed export leaves earlier outputs untouched. Preflight findings stop the export before
anything is rendered.

Cache: a finished export is kept under $XDG_CACHE_HOME/pirack/export/ (when XDG_CACHE_HOME is
set) or ./.cache/pirack/export/, keyed on the cluster file's bytes, the catalog's content, the
code (pirack.__version__ + a hash of pirack/ and rackdesign/ sources), the fabricator and the
format. A hit copies the cached files without parsing the cluster file or importing the CAD
stack. This module imports only the standard library at the top for that reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

FORMATS = ("pdf", "svg", "dxf", "step", "stl", "coupon", "all")
CUT_FORMATS = ("pdf", "svg", "dxf")
CACHE_KEEP = 8  # cached exports kept (newest first)


class PreflightFailed(Exception):
    def __init__(self, findings):
        self.findings = findings
        super().__init__(f"{len(findings)} preflight finding(s)")


@dataclass
class ExportResult:
    root: Path
    files: list[tuple[Path, int]]
    warnings: list[str] = field(default_factory=list)
    cached: bool = False
    seconds: float = 0.0


def bom_files(lc, layout, parts, prof) -> dict[str, bytes]:
    """bom/bom.{csv,md,json,pdf}: the bill of materials and cost table, its acrylic priced by
    the export's fabricator over the plates the export cut."""
    from .bom import build_bom
    from .bom_render import export_files

    return export_files(build_bom(lc, layout, parts, prof))


# --- cache keys (standard library only) ------------------------------------------------------

def _here() -> Path:
    return Path(__file__).resolve().parent


def _tree_digest(root: Path, pattern: str) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob(pattern)):
        if "__pycache__" in p.parts:
            continue
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _cluster_text(file: Path | None) -> tuple[Path | None, str | None]:
    """The file `load_cluster` would read, and its text (None when it cannot be read)."""
    from pirack.paths import default_text, resolve

    p = resolve(file)
    try:
        return p, (p.read_text(encoding="utf-8") if p is not None else default_text())
    except (OSError, UnicodeDecodeError):
        return p, None


def cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path(".cache")) / "pirack" / "export"


def cache_key(text: str, fmt: str, fabricator: str | None, base_dir: Path | None) -> str:
    import pirack
    from pirack.paths import catalog_dir

    h = hashlib.sha256()
    for part in (
        hashlib.sha256(text.encode()).hexdigest(),
        _tree_digest(catalog_dir(), "*.toml"),
        pirack.__version__,
        _tree_digest(_here(), "*.py"),
        _tree_digest(_here().parent / "pirack", "*.py"),
        fmt,
        fabricator or "",
        str(base_dir.resolve()) if base_dir else "",  # a logo path is relative to the cluster file
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _logo_digest(text: str, base: Path) -> str:
    """A logo file's bytes belong in the key too: it is input that is not in the cluster file.
    Read with the TOML parser (any quoting, inline tables, dotted keys), not by pattern."""
    import tomllib

    try:
        logo = tomllib.loads(text)
        for key in ("rack", "engraving", "logo"):
            logo = logo[key]
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        return ""  # no logo, or a file the loader will refuse
    if not isinstance(logo, str):
        return ""
    p = Path(logo)
    p = p if p.is_absolute() else base / p
    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()
    except OSError:
        return "missing"


# --- the export --------------------------------------------------------------------------------

def export(fmt: str, file: Path | None = None, out: Path = Path("exports"), fabricator: str | None = None,
           warn: Callable[[str], None] | None = None, use_cache: bool = True, progress=None,
           kerf: float | None = None) -> ExportResult:
    """Render and write one format (or `all`). Raises InputError (bad input) or PreflightFailed."""
    t0 = time.perf_counter()
    if fmt not in FORMATS:
        from pirack.errors import InputError

        raise InputError(None, "FORMAT", f"'{fmt}' is not one of {', '.join(FORMATS)}")
    path, text = _cluster_text(file)
    key = None
    if use_cache and text is not None:
        base = path.parent if path else Path.cwd()
        key = cache_key(text + _logo_digest(text, base) + f"\0kerf={kerf}", fmt, fabricator, base)
        hit = _cache_read(key)
        if hit is not None:
            name, files, warnings = hit
            for w in warnings:
                (warn or (lambda s: None))(w)
            written = write_tree(Path(out) / name, files)
            return ExportResult(Path(out) / name, written, warnings, cached=True, seconds=time.perf_counter() - t0)

    # The CAD stack takes seconds to import: start it in a worker process now (before even the
    # cluster loader's imports), so it loads while this process reads the cluster file and
    # renders the cut files and floor plans.
    cad = CadWorker.start() if fmt in ("pdf", "svg", "step", "stl", "all") else None
    from pirack.load import DEFAULT_NAME, load_cluster, load_text

    try:
        # the text already read for the cache key; a file that could not be read goes through
        # load_cluster, whose message says why
        lc = load_text(text, str(path) if path else DEFAULT_NAME, path) if text is not None else load_cluster(file)
        warnings: list[str] = []

        def note(msg: str) -> None:
            warnings.append(msg)
            if warn:
                warn(msg)

        files = (render_coupon if fmt == "coupon" else render)(fmt, lc, fabricator, note, progress, cad, kerf)
    finally:
        if cad:
            cad.stop()
    root = Path(out) / lc.spec.cluster.name
    written = write_tree(root, files)
    if key is not None:
        _cache_write(key, lc.spec.cluster.name, files, warnings)
    return ExportResult(root, written, warnings, seconds=time.perf_counter() - t0)


def profile_for(lc, fabricator: str | None):
    from pirack.errors import InputError

    name = fabricator or lc.spec.rack.fabricator
    prof = lc.catalog.get(name, "fabricator")
    if prof is None:
        known = ", ".join(lc.catalog.ids("fabricator"))
        if fabricator:
            raise InputError(None, "--fabricator", f"'{fabricator}' is not a fabricator profile in the catalog (known: {known})")
        raise InputError(lc.display, "rack.fabricator", f"'{name}' is not a fabricator profile in the catalog (known: {known})")
    return prof


def flat_parts_for(lc, layout, warn) -> list:
    """The plates as flat parts with their engraving (labels, logo)."""
    from .engrave import add_engraving
    from .plates import flat_parts

    return add_engraving(flat_parts(layout), lc, warn=warn)


def sheets_for(parts, prof, kerf: float | None = None) -> list:
    """The parts kerf-compensated (--kerf, else the profile's default) and nested on sheets."""
    from pirack.units import mm

    from .kerf import compensated, kerf_for
    from .nesting import nest

    parts = compensated(parts, kerf_for(prof, kerf))
    return nest(parts, mm(prof.sheet_width), mm(prof.sheet_height), mm(prof.spacing))


def render(fmt: str, lc, fabricator: str | None, warn, progress=None, cad=None, kerf=None) -> dict[str, bytes]:
    """Every file of one export as {relative path: bytes}; nothing touches the disk here."""
    from .layout import build_layout
    from .preflight import preflight

    prof = profile_for(lc, fabricator)
    formats = [f for f in FORMATS if f not in ("all", "coupon")] if fmt == "all" else [fmt]
    for f in formats:
        if f in CUT_FORMATS and f not in prof.formats:
            warn(f"'{prof.id}' ({prof.service.split(':')[0]}) does not take {f.upper()} files "
                 f"(it takes {', '.join(x.upper() for x in prof.formats)}): written anyway")
    layout = build_layout(lc)
    parts = flat_parts_for(lc, layout, warn)
    findings = preflight(parts, prof)
    if findings:
        raise PreflightFailed(findings)
    sheets = sheets_for(parts, prof, kerf)
    date = _date()
    cluster = lc.spec.cluster.name

    jobs: list[tuple[str, Callable[[], bytes]]] = []
    memo: dict[str, bytes] = {}

    def once(name, fn):
        def run():
            if name not in memo:
                memo[name] = fn()
            return memo[name]
        return run

    drawings_wanted = [f for f in formats if f in ("pdf", "svg")] + (["png"] if fmt == "all" else [])
    models = [f for f in ("step", "stl") if f in formats]
    if (drawings_wanted or models) and cad is None:
        cad = CadWorker(inline=True)
    if cad:
        cad.send("front" if drawings_wanted else None, layout, models, lc.catalog)

    from concurrent.futures import ThreadPoolExecutor

    from .writers.dxf import sheet_dxf
    from .writers.pdf import drawing_pdf, pdf_to_png, sheet_pdf
    from .writers.svg import drawing_svg, sheet_svg

    cut_writer = {"pdf": sheet_pdf, "svg": sheet_svg, "dxf": sheet_dxf}
    for f in formats:
        if f in CUT_FORMATS:
            for sh in sheets:
                jobs.append((f"cut/{sh.name}.{f}", (lambda sh=sh, w=cut_writer[f]: w(sh, prof))))

    # pdftoppm runs in other processes: PNG previews render while we go on
    png_pool = ThreadPoolExecutor(1) if "png" in drawings_wanted else None
    if drawings_wanted:
        from .floorplan import floor_plan

        plans = [(f"floor-plan-{p.name}", (lambda p=p: floor_plan(p, cluster))) for p in parts]
        plans.append(("front-plan", lambda: cad.result("front")))  # last: the worker needs the most time
        for stem, make in plans:
            dr = once(stem, make)
            pdf = once(stem + ".pdf", lambda dr=dr: drawing_pdf(dr(), cluster, date))
            if "pdf" in drawings_wanted:
                jobs.append((f"drawings/{stem}.pdf", pdf))
            if "svg" in drawings_wanted:
                jobs.append((f"drawings/{stem}.svg", lambda dr=dr: drawing_svg(dr(), cluster, date)))
            if "png" in drawings_wanted:
                jobs.append((f"drawings/{stem}.png", lambda pdf=pdf: png_pool.submit(pdf_to_png, pdf(), 100)))
    for m in models:
        jobs.append((f"model/rack.{m}", lambda m=m: cad.result(m)))
    if fmt == "all":
        jobs.append(("bom/bom.*", lambda: bom_files(lc, layout, parts, prof)))

    files: dict = {}
    bar = progress(len(jobs)) if (progress and len(jobs) > 1) else None
    try:
        for rel, job in jobs:
            if bar:
                bar.step(rel)
            data = job()
            if isinstance(data, dict):  # the BOM's several files
                files.update(data)
            else:
                files[rel] = data
        for rel, data in files.items():
            if hasattr(data, "result"):  # a PNG still rendering
                files[rel] = data.result()
    finally:
        if png_pool:
            png_pool.shutdown(cancel_futures=True)
        if bar:
            bar.done()
    return files


def render_coupon(fmt: str, lc, fabricator: str | None, warn, progress=None, cad=None, kerf=None) -> dict[str, bytes]:
    """`rack export coupon`: the test piece (rackdesign.coupon) instead of the rack, through
    its own preflight."""
    from .coupon import coupon_files, coupon_for
    from .layout import build_layout
    from .preflight import preflight

    prof = profile_for(lc, fabricator)
    coupon = coupon_for(lc, flat_parts_for(lc, build_layout(lc), warn), prof, kerf, warn)
    findings = preflight(coupon.parts, prof)
    if findings:
        raise PreflightFailed(findings)
    return coupon_files(coupon, prof)


# --- the CAD worker ----------------------------------------------------------------------------

class CadWorker:
    """CadQuery work (assembly, front plan, STEP, STL) in a forked process that starts importing
    the CAD stack at once; `inline=True` does the same work in this process instead."""

    def __init__(self, inline: bool = False):
        self.inline = inline
        self.results: dict[str, object] = {}
        self.proc = self.conn = None
        self.job = None

    @classmethod
    def start(cls) -> "CadWorker":
        import multiprocessing as mp

        if "fork" not in mp.get_all_start_methods():
            return cls(inline=True)
        self = cls()
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_cad_worker_main, args=(child,), daemon=True, name="pirack-cad")
        self.proc.start()
        child.close()
        return self

    def send(self, front: str | None, layout, models: list[str], catalog) -> None:
        """The job; the worker process gets the catalog's folder (it reads the part files it
        needs itself), the inline worker the catalog."""
        self.job = (bool(front), layout, list(models), catalog)
        if not self.inline:
            self.conn.send((bool(front), layout, list(models), catalog.root))

    def result(self, what: str):
        if what not in self.results:
            if self.inline:
                self.results.update(_cad_work(*self.job))
            else:
                while what not in self.results:
                    try:
                        kind, payload = self.conn.recv()
                    except EOFError:
                        raise RuntimeError("the CAD worker process died (see its error above)") from None
                    if kind == "error":
                        raise payload
                    self.results[kind] = payload
        return self.results[what]

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(2)


def _cad_work(front: bool, layout, models: list[str], catalog):
    """Yields (name, result): the front plan first (the parent turns it into PDF/SVG/PNG while
    the models are written), then each model file's bytes."""
    from .model import build_assembly

    assy = build_assembly(layout, catalog)
    if front:
        from .frontplan import front_plan

        yield "front", front_plan(layout, assy)
    for kind in models:
        yield kind, _model_bytes(kind, assy)


def _cad_worker_main(conn) -> None:
    try:
        import cadquery  # noqa: F401  (the slow part: done while the parent works)

        from pirack.catalog import load_catalog

        from . import frontplan, model  # noqa: F401

        front, layout, models, catalog_root = conn.recv()
        for item in _cad_work(front, layout, models, load_catalog(catalog_root)):
            conn.send(item)
    except EOFError:
        pass  # the parent gave up (bad input, preflight): nothing to do
    except BaseException as exc:  # hand the failure to the parent, which reports it
        try:
            conn.send(("error", exc))
        except Exception:
            conn.send(("error", RuntimeError(f"CAD worker: {type(exc).__name__}: {exc}")))
    finally:
        conn.close()


def _model_bytes(kind: str, assy) -> bytes:
    import tempfile

    from . import model

    with tempfile.TemporaryDirectory(prefix="pirack-model-") as d:
        p = Path(d) / f"rack.{kind}"
        (model.export_step if kind == "step" else model.export_stl)(assy, p)
        return p.read_bytes()


def _date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return time.strftime("%Y-%m-%d", time.gmtime(int(epoch)) if epoch else time.localtime())


# --- writing -----------------------------------------------------------------------------------

def write_tree(root: Path, files: dict[str, bytes]) -> list[tuple[Path, int]]:
    """Write all files under root: first into a temporary folder beside it, then move each into
    place (os.replace is atomic per file). Stale cut sheets of the same formats are removed."""
    root = Path(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.parent / f".{root.name}.tmp-{os.getpid()}"
    try:
        todo = [rel for rel, data in files.items() if not _same(root / rel, data)]  # unchanged: left alone
        for rel in todo:
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            with open(p, "wb") as fh:
                fh.write(files[rel])
                fh.flush()
                os.fsync(fh.fileno())
        for rel in todo:
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, dst)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    out = [(root / rel, len(files[rel])) for rel in sorted(files)]
    # a design that now needs fewer sheets must not leave an old sheet behind
    new = {root / rel for rel in files}
    exts = {Path(rel).suffix for rel in files if rel.startswith("cut/")}
    cut = root / "cut"
    if cut.is_dir():
        for old in cut.iterdir():
            if old.suffix in exts and old.name.startswith("cut-") and old not in new:
                old.unlink()
    return out


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _cache_read(key: str):
    d = cache_dir() / key
    try:
        manifest = json.loads((d / "manifest.json").read_text())
        files = {rel: (d / "files" / rel).read_bytes() for rel in manifest["files"]}
    except (OSError, ValueError, KeyError):
        return None
    os.utime(d)
    return manifest["cluster"], files, manifest.get("warnings", [])


def _cache_write(key: str, cluster: str, files: dict[str, bytes], warnings: list[str]) -> None:
    base = cache_dir()
    d = base / key
    tmp = base / f".{key}.tmp-{os.getpid()}"
    try:
        for rel, data in files.items():
            p = tmp / "files" / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        (tmp / "manifest.json").write_text(json.dumps({"cluster": cluster, "files": sorted(files), "warnings": warnings}))
        if d.exists():
            shutil.rmtree(d)
        os.replace(tmp, d)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a cache that cannot be written is only slower
        return
    entries = sorted((e for e in base.iterdir() if e.is_dir() and not e.name.startswith(".")),
                     key=lambda e: e.stat().st_mtime, reverse=True)
    for old in entries[CACHE_KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
