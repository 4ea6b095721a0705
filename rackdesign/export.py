"""`rack export`: every file a fabricator or a person needs, in one predictable tree.

    exports/<cluster>/cut/cut-<material>-sheet-<n>.<pdf|svg|dxf>    what the laser cuts (1:1 mm)
    exports/<cluster>/drawings/floor-plan-<plate>.<pdf|svg|png>      平面図, per plate
    exports/<cluster>/drawings/front-plan.<pdf|svg|png>              正面図
    exports/<cluster>/model/rack.step, rack.stl                      the CadQuery assembly

Everything is rendered to memory first (pure functions returning bytes); only then are files
written, each atomically (pirack.fsutil.atomic_write), so a failed export leaves earlier
outputs untouched. The design checks (`rack check`) run first: a design with errors is refused
(DesignFailed, exit 1, the errors listed) unless `force`, and then every drawing's title block
says "NOT CHECKED: N errors". Preflight problems (rackdesign.preflight) stop the export before
anything is rendered. The stages it shares with `rack bom` (the fabricator profile, the flat parts,
the sheets) are rackdesign.pipeline's.

Cache (rackdesign/cache.py): a finished export is kept in the user's cache folder, keyed on
everything that made it; a hit copies the cached files without parsing the cluster file or
importing the CAD stack. This module imports only the standard library at the top for that reason.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache

if TYPE_CHECKING:  # the cache path imports only the standard library
    from concurrent.futures import Future, ThreadPoolExecutor
    from multiprocessing.connection import Connection

    import cadquery as cq

    from pirack.catalog import Catalog, Fabricator
    from pirack.load import LoadedCluster

    from .geometry2d import Part2D
    from .layout.placed import Layout
    from .nesting import CutSheet

FORMATS = ("pdf", "svg", "dxf", "step", "stl", "coupon", "all")
CUT_FORMATS = ("pdf", "svg", "dxf")

Job = tuple[str, Callable[[], "bytes | dict[str, bytes] | Future[bytes]"]]  # (relative path, what renders it)


@dataclass
class ExportResult:
    root: Path
    files: list[tuple[Path, int]]
    warnings: list[str] = field(default_factory=list)
    cached: bool = False
    seconds: float = 0.0


def bom_files(lc: LoadedCluster, layout: Layout, parts: list[Part2D], prof: Fabricator) -> dict[str, bytes]:
    """bom/bom.{csv,md,json,pdf}: the bill of materials and cost table, its acrylic priced by
    the export's fabricator over the plates the export cut."""
    from .bom import build_bom
    from .bom_render import export_files

    return export_files(build_bom(lc, layout, parts, prof))


# --- the export --------------------------------------------------------------------------------

def check_format(fmt: str) -> str:
    """The format, lower-cased, or InputError naming the FORMAT argument."""
    if fmt.lower() not in FORMATS:
        from pirack.errors import InputError

        raise InputError(None, "FORMAT", f"'{fmt}' is not one of {' | '.join(FORMATS)}")
    return fmt.lower()


def export(fmt: str, file: Path | None = None, out: Path = Path("exports"), fabricator: str | None = None,
           warn: Callable[[str], None] | None = None, use_cache: bool = True,
           progress: Callable[[int], Progress] | None = None, kerf: float | None = None,
           force: bool = False) -> ExportResult:
    """Render and write one format (or `all`). Raises InputError (bad input), or WorkFailed
    (DesignFailed: the checks found errors and not `force`; PreflightFailed, LayoutError) when
    the design cannot be cut."""
    t0 = time.perf_counter()
    fmt = check_format(fmt)
    path, text = cache.cluster_text(file)
    key = None
    if use_cache and text is not None:
        key = cache.export_key(text, path, fmt, fabricator, kerf, force)
        hit = cache.read(key)
        if hit is not None:
            name, files, warnings = hit
            for w in warnings:
                (warn or (lambda s: None))(w)
            written = write_tree(Path(out), name, files)
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

        if fmt == "coupon":  # a test piece of the sheet and the service, whatever the design
            files = render_coupon(fmt, lc, fabricator, note, progress, cad, kerf)
        else:
            if lc.spec.rack.engraving.logo:  # bad input before seconds of design work
                from .engrave import logo_polygons

                logo_polygons(lc)
            mark = checked(lc, fabricator, force, note, use_cache)
            files = render(fmt, lc, fabricator, note, progress, cad, kerf, mark)
    finally:
        if cad:
            cad.stop()
    root = Path(out) / lc.spec.cluster.name
    written = write_tree(Path(out), lc.spec.cluster.name, files)
    if key is not None:
        cache.write(key, lc.spec.cluster.name, files, warnings)
    return ExportResult(root, written, warnings, seconds=time.perf_counter() - t0)


def checked(lc: LoadedCluster, fabricator: str | None, force: bool, warn: Callable[[str], None],
            use_cache: bool = True) -> str:
    """The design checks before anything is rendered: errors refuse the export (DesignFailed,
    listing them) unless `force`; then the mark every drawing's title block carries."""
    from . import pipeline
    from .checks import run_checks
    from .checks.report import DesignFailed
    from .findings import LayoutError
    from .layout import build_layout

    try:
        lay = build_layout(lc, pipeline.profile_for(lc, fabricator).id)
    except LayoutError:
        lay = None  # run_checks reports it as an error finding
    report = run_checks(lc, lay, use_cache=use_cache)
    errors = report.counts()["error"]
    if not errors:
        return ""
    if not force:
        raise DesignFailed(report, list_errors=True)
    warn(f"exported with {errors} design error{'s' if errors != 1 else ''} (--force): every drawing is marked "
         "NOT CHECKED")
    return f"NOT CHECKED: {errors} error{'s' if errors != 1 else ''}"


class Progress:
    """What `export` tells a progress display (the CLI's bar)."""

    def step(self, name: str) -> None: ...

    def done(self) -> None: ...


def render(fmt: str, lc: LoadedCluster, fabricator: str | None, warn: Callable[[str], None],
           progress: Callable[[int], Progress] | None = None, cad: CadWorker | None = None,
           kerf: float | None = None, mark: str = "") -> dict[str, bytes]:
    """Every file of one export as {relative path: bytes}; nothing touches the disk here.
    `mark` goes in every drawing's title block (an export forced past its check errors)."""
    from concurrent.futures import ThreadPoolExecutor

    from . import pipeline
    from .layout import build_layout
    from .preflight import PreflightFailed, preflight

    prof = pipeline.profile_for(lc, fabricator)
    formats = [f for f in FORMATS if f not in ("all", "coupon")] if fmt == "all" else [fmt]
    _warn_unaccepted(formats, prof, warn)
    layout = build_layout(lc, prof.id)
    parts = pipeline.flat_parts_for(lc, layout, warn, prof)
    problems = preflight(parts, prof)
    if problems:
        raise PreflightFailed(problems)
    sheets = pipeline.sheets_for(parts, prof, kerf)
    drawings = [f for f in formats if f in ("pdf", "svg")] + (["png"] if fmt == "all" else [])
    models = [f for f in ("step", "stl") if f in formats]
    cad = _cad_for(cad, drawings, models, layout, lc.catalog)
    png_pool = ThreadPoolExecutor(1) if "png" in drawings else None  # pdftoppm runs while we go on
    try:
        jobs = (_cut_jobs(formats, sheets, prof)
                + _drawing_jobs(drawings, parts, cad, lc.spec.cluster.name, png_pool, mark)
                + [(f"model/rack.{m}", functools.partial(cad.result, m)) for m in models])
        if fmt == "all":
            jobs.append(("bom/bom.*", lambda: bom_files(lc, layout, parts, prof)))
        return _run(jobs, progress)
    finally:
        if png_pool:
            png_pool.shutdown(cancel_futures=True)


def render_coupon(fmt: str, lc: LoadedCluster, fabricator: str | None, warn: Callable[[str], None],
                  progress: Callable[[int], Progress] | None = None, cad: CadWorker | None = None,
                  kerf: float | None = None) -> dict[str, bytes]:
    """`rack export coupon`: the test piece (rackdesign.coupon) instead of the rack, through
    its own preflight."""
    from . import pipeline
    from .coupon import coupon_files, coupon_for
    from .layout import build_layout
    from .preflight import PreflightFailed, preflight

    prof = pipeline.profile_for(lc, fabricator)
    coupon = coupon_for(lc, pipeline.flat_parts_for(lc, build_layout(lc, prof.id), warn, prof), prof, kerf, warn)
    problems = preflight(coupon.parts, prof)
    if problems:
        raise PreflightFailed(problems)
    return coupon_files(coupon, prof)


def _warn_unaccepted(formats: list[str], prof: Fabricator, warn: Callable[[str], None]) -> None:
    for f in formats:
        if f in CUT_FORMATS and f not in prof.formats:
            warn(f"'{prof.id}' ({prof.service.split(':')[0]}) does not take {f.upper()} files "
                 f"(it takes {', '.join(x.upper() for x in prof.formats)}): written anyway")


def _cad_for(cad: CadWorker | None, drawings: list[str], models: list[str], layout: Layout,
             catalog: Catalog) -> CadWorker | None:
    """The CAD worker with its job (the front plan, the models), when the export needs one."""
    if not (drawings or models):
        return cad
    cad = cad or CadWorker(inline=True)
    cad.send(bool(drawings), layout, models, catalog)
    return cad


def _cut_jobs(formats: list[str], sheets: list[CutSheet], prof: Fabricator) -> list[Job]:
    from .writers.dxf import sheet_dxf
    from .writers.pdf import sheet_pdf
    from .writers.svg import sheet_svg

    writer = {"pdf": sheet_pdf, "svg": sheet_svg, "dxf": sheet_dxf}
    jobs = [(f"cut/{sh.name}.{f}", functools.partial(writer[f], sh, prof))
            for f in formats if f in CUT_FORMATS for sh in sheets]
    if jobs:  # what the service must do besides cutting (the bend), beside the cut files
        from .writers.order_note import NAME, order_note

        files = [name.removeprefix("cut/") for name, _ in jobs]
        jobs.append((f"cut/{NAME}", functools.partial(order_note, sheets, prof, files)))
    return jobs


def _drawing_jobs(wanted: list[str], parts: list[Part2D], cad: CadWorker | None, cluster: str,
                  png_pool: ThreadPoolExecutor | None, mark: str = "") -> list[Job]:
    """Floor plans of every flat part and the front plan (last: the CAD worker needs the most
    time), each as PDF, SVG and PNG as wanted; each drawing and PDF made once."""
    if not wanted:
        return []
    from .floorplan import floor_plan
    from .writers.pdf import drawing_pdf, pdf_to_png
    from .writers.svg import drawing_svg

    date = _date()
    plans = [(f"floor-plan-{p.name}", functools.partial(floor_plan, p, cluster)) for p in parts]
    plans.append(("front-plan", functools.partial(cad.result, "front")))
    jobs: list[Job] = []
    for stem, make in plans:
        drawing = functools.cache(make)
        pdf = functools.cache(lambda drawing=drawing: drawing_pdf(drawing(), cluster, date, mark))
        if "pdf" in wanted:
            jobs.append((f"drawings/{stem}.pdf", pdf))
        if "svg" in wanted:
            jobs.append((f"drawings/{stem}.svg", lambda drawing=drawing: drawing_svg(drawing(), cluster, date, mark)))
        if "png" in wanted:
            jobs.append((f"drawings/{stem}.png", lambda pdf=pdf: png_pool.submit(pdf_to_png, pdf(), 100)))
    return jobs


def _run(jobs: list[Job], progress: Callable[[int], Progress] | None) -> dict[str, bytes]:
    """Each job in order (a progress bar when there are several); the BOM's job gives several files."""
    files: dict = {}
    bar = progress(len(jobs)) if (progress and len(jobs) > 1) else None
    try:
        for rel, job in jobs:
            if bar:
                bar.step(rel)
            data = job()
            if isinstance(data, dict):
                files.update(data)
            else:
                files[rel] = data
        for rel, data in files.items():
            if hasattr(data, "result"):  # a PNG still rendering
                files[rel] = data.result()
    finally:
        if bar:
            bar.done()
    return files


# --- the CAD worker ----------------------------------------------------------------------------

class CadWorker:
    """CadQuery work (assembly, front plan, STEP, STL) in a forked process that starts importing
    the CAD stack at once; `inline=True` does the same work in this process instead."""

    def __init__(self, inline: bool = False):
        self.inline = inline
        self.results: dict[str, object] = {}
        self.proc = self.conn = None
        self.job: tuple | None = None

    @classmethod
    def start(cls) -> CadWorker:
        import multiprocessing as mp
        import sys

        # a process that has run OpenCascade (the design checks' collisions, in a test or a
        # server) may hold its thread pool's locks: a forked child would wait on them forever
        if "fork" not in mp.get_all_start_methods() or "OCP" in sys.modules:
            return cls(inline=True)
        self = cls()
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_cad_worker_main, args=(child,), daemon=True, name="pirack-cad")
        self.proc.start()
        child.close()
        return self

    def send(self, front: bool, layout: Layout, models: list[str], catalog: Catalog) -> None:
        """The job; the worker process gets the catalog's folder (it reads the part files it
        needs itself), the inline worker the catalog."""
        self.job = (front, layout, list(models), catalog)
        if not self.inline:
            try:
                self.conn.send((front, layout, list(models), catalog.root, catalog.user_dir))
            except (BrokenPipeError, ConnectionResetError):
                self._received()  # the worker failed before it read the job (the CAD stack missing): why

    def result(self, what: str) -> object:
        """"front" (the front plan's Drawing), "step" or "stl" (the file's bytes). The worker's
        own failure is raised here as it was raised there (an OSError keeps its path)."""
        if what not in self.results:
            if self.inline:
                try:
                    self.results.update(_cad_work(*self.job))
                except ImportError as exc:
                    from pirack.errors import Interrupt

                    Interrupt.raise_if_seen()
                    if not _is_cad_stack(exc):
                        raise
                    raise cad_missing(exc) from None
            else:
                while what not in self.results:
                    self._received()
        return self.results[what]

    def _received(self) -> None:
        """One message from the worker: a result kept, or its failure raised here."""
        try:
            kind, payload = self.conn.recv()
        except (EOFError, ConnectionResetError):
            from pirack.errors import WorkFailed

            raise WorkFailed("the CAD worker process died (see its error above)") from None
        if kind == "error":
            raise payload
        self.results[kind] = payload

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(2)


def _cad_work(front: bool, layout: Layout, models: list[str], catalog: Catalog) -> Iterator[tuple[str, object]]:
    """Yields (name, result): the front plan first (the parent turns it into PDF/SVG/PNG while
    the models are written), then each model file's bytes."""
    from .model import build_assembly

    assy = build_assembly(layout, catalog)
    if front:
        from .frontplan import front_plan

        yield "front", front_plan(layout, assy)
    for kind in models:
        yield kind, _model_bytes(kind, assy)


def _cad_worker_main(conn: Connection) -> None:
    import signal

    # Ctrl-C reaches the whole process group: the parent stops the export (and this daemonic
    # process with it) and says "interrupted"; a worker of its own would print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import cadquery  # noqa: F401  (the slow part: done while the parent works)

        from pirack.catalog import load_catalog

        from . import frontplan, model  # noqa: F401

        front, layout, models, catalog_root, user_dir = conn.recv()  # the user's parts/ joins, as in the parent
        for item in _cad_work(front, layout, models, load_catalog(catalog_root, user_dir)):
            conn.send(item)
    except EOFError:
        pass  # the parent gave up (bad input, preflight): nothing to do
    except ImportError as exc:  # the [rack] extra is not installed; any other import error is a bug
        conn.send(("error", cad_missing(exc) if _is_cad_stack(exc) else _portable(exc)))
    except BaseException as exc:  # hand the failure to the parent, which reports it
        conn.send(("error", _portable(exc)))
    finally:
        conn.close()


def _is_cad_stack(exc: ImportError) -> bool:
    return (exc.name or "").split(".")[0] in ("cadquery", "OCP")


def cad_missing(exc: ImportError):
    """The one message for an export that needs CadQuery where it is not installed."""
    from pirack.errors import WorkFailed

    return WorkFailed(f"the front plan and the 3D model need the CAD stack ({exc}): pip install 'pirack[rack]'; "
                      "`rack export dxf` and `rack export coupon` work without it")


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives the trip through the pipe (an OSError does, path and
    all), else a WorkFailed with its text: the parent must never fail on unpickling it."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        from pirack.errors import WorkFailed

        return WorkFailed(f"CAD worker: {type(exc).__name__}: {exc}")


def _model_bytes(kind: str, assy: cq.Assembly) -> bytes:
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

def write_tree(out: Path, name: str, files: dict[str, bytes]) -> list[tuple[Path, int]]:
    """Write every file under OUT/NAME, each atomically (pirack.fsutil.atomic_write); a file
    whose bytes are already there is left alone. Everything was rendered before the first write,
    so a failed render leaves earlier outputs untouched. Stale cut sheets of the same formats are
    removed: a design that now needs fewer sheets must not leave an old sheet behind. Nothing is
    written or removed outside OUT: a symbolic link below it (OUT/NAME, its cut/ ...) is refused
    before anything is written (OUT itself may be a link: it is the folder the person named)."""
    from pirack.fsutil import atomic_write

    root = Path(out) / name
    for rel in files:
        _no_link_below(Path(out), Path(name) / rel)
    for rel, data in files.items():
        if not _same(root / rel, data):
            atomic_write(root / rel, data, mode=0o644)
    new = {root / rel for rel in files}
    exts = {Path(rel).suffix for rel in files if rel.startswith("cut/")}
    cut = root / "cut"
    if cut.is_dir():
        for old in cut.iterdir():
            if old.suffix in exts and old.name.startswith("cut-") and old not in new and not old.is_symlink():
                old.unlink()
    return [(root / rel, len(files[rel])) for rel in sorted(files)]


def _no_link_below(out: Path, rel: Path) -> None:
    """LinkRefused (an OSError naming the path: exit 1, one line) for a link on the way from OUT
    to OUT/rel, the file included; a missing part is fine (it will be made)."""
    from pirack.fsutil import LinkRefused

    here = out
    for part in rel.parts:
        here = here / part
        if here.is_symlink():
            raise LinkRefused(str(here), os.readlink(here))


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
