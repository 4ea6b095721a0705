"""The design kept warm in the server: every stage runs again only when its inputs changed.

A builder thread reads the cluster file when the watcher (or the editor) says it changed and
runs the fast stages in this process — load, layout, flat parts, plate SVGs, the 3D scene, the
BOM — each cached by the digest of what it reads (a comment edit reuses everything; a network
edit reuses the layout, the plates and the scene). The page gets the new design as soon as the
3D and the plates are ready. The slow stages — front plan, checks, export files — run in a CAD
worker process (its own warm CAD stack), so their long OCCT calls never hold up this process's
event loop; they arrive as they finish and a newer design supersedes what is still queued.

A file that fails to load becomes the error of the state; the last good design stays.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from pirack.errors import InputError

from . import names
from . import pipeline as P
from .views import ErrorView, LegendEntry, PartView, PlateView

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger("pirack.web")

SLOW_KINDS = ("front", "checks", "exports")  # in the order the worker takes them


class StageCache:
    """stage -> {key: value}, the newest few per stage; counts what was reused."""

    def __init__(self, keep: int = 4):
        self.keep = keep
        self.entries: dict[str, OrderedDict] = {}

    def get(self, stage: str, key: str, make: Callable, reused: list[str] | None = None):
        entries = self.entries.setdefault(stage, OrderedDict())
        if key in entries:
            entries.move_to_end(key)
            if reused is not None:
                reused.append(stage)
            return entries[key]
        value = entries[key] = make()
        while len(entries) > self.keep:
            entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self.entries.clear()


@dataclass
class Slow:
    """A slow stage's result for one design."""

    key: str
    status: str = "pending"  # pending | ready | failed
    data: object = None
    message: str = ""


@dataclass
class Design:
    version: int
    text: str
    name: str
    nodes: int
    model_rev: str  # changes when the 3D scene does (the page reloads it only then)
    plates_rev: str
    parts: list[PartView]
    plates: list[PlateView]
    glb: bytes
    bom: dict
    warnings: list[str]
    timings: dict[str, float]
    reused: list[str]
    update_seconds: float
    slow: dict[str, Slow] = field(default_factory=dict)
    choices: dict = field(default_factory=dict)
    legend: list[LegendEntry] = field(default_factory=list)  # what the plates' colours mean


class Live:
    """The state the page shows, and the threads that keep it current."""

    def __init__(self, path: Path | None, slow_lane: bool = True):
        self.path = path
        self.display = str(path) if path else P.default_display()
        self.cache = StageCache()
        self.shapes = P.ShapeStore()
        self.lock = threading.RLock()
        self.design: Design | None = None
        self.error: ErrorView | None = None
        self.status = "starting"
        self.version = 0
        self.catalog_generation = 0
        self.listeners: set[Callable[[], None]] = set()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.seen_at = time.perf_counter()
        self.last_key: str | None = None
        # The logo file the last design engraved (it is input the cluster file only names), and
        # who is told when that changes (`rack serve` watches the file's folder).
        self.logo: Path | None = None
        self.logo_seen: Callable[[Path], None] | None = None
        self.slow = SlowLane(self.deliver) if slow_lane else None
        self.thread = threading.Thread(target=self.run, name="pirack-builder", daemon=True)

    # --- control ----------------------------------------------------------------------------

    def start(self) -> None:
        if self.slow:
            self.slow.start()
        self.thread.start()
        self.changed()

    def closing(self) -> None:
        """The server is shutting down: end the event streams (they wake up and see it)."""
        self.stopping.set()
        self.publish()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        if self.thread.is_alive():  # not when a stop came before the start
            self.thread.join(5)
        if self.slow:
            self.slow.stop()

    def changed(self, seen_at: float | None = None) -> None:
        """The file may have changed (thread-safe): build again if its content did."""
        self.seen_at = seen_at or time.perf_counter()
        self.wake.set()

    def catalog_changed(self, seen_at: float | None = None) -> None:
        P.reload_catalog()
        with self.lock:
            self.catalog_generation += 1
            self.cache.clear()
            self.last_key = None
        self.changed(seen_at)

    def request_exports(self) -> None:
        with self.lock:
            d = self.design
            if d is None or self.slow is None:
                return
            s = d.slow.get("exports")
            if s is not None and s.status != "failed":
                return
            d.slow["exports"] = Slow(self._slow_key(d, "exports"))
        self.slow.request("exports", d.slow["exports"].key, P.worker_exports, self._slow_args(d))
        self.publish()

    # --- listeners ----------------------------------------------------------------------------

    def subscribe(self, notify: Callable[[], None]) -> None:
        with self.lock:
            self.listeners.add(notify)

    def unsubscribe(self, notify: Callable[[], None]) -> None:
        with self.lock:
            self.listeners.discard(notify)

    def publish(self) -> None:
        with self.lock:
            listeners = list(self.listeners)
        for notify in listeners:
            notify()

    # --- the builder thread ---------------------------------------------------------------------

    def run(self) -> None:
        try:
            P.import_cad_stack()
        except ImportError as exc:
            self.fail(ErrorView(f"the CAD stack could not be imported: {exc}", kind="internal",
                                fix="pip install 'pirack[rack]'"))
            return
        while not self.stopping.is_set():
            self.wake.wait()
            self.wake.clear()
            if self.stopping.is_set():
                return
            self.step(self.seen_at)

    def step(self, seen_at: float) -> None:
        """Read the file and build what changed; every failure becomes the state's error."""
        try:
            text = self.read()
            # the logo's bytes belong in the key: a saved logo changes the plates, not the text
            key = P.digest(text, str(self.catalog_generation), P.logo_stamp(self.logo))
            if key == self.last_key:
                return
            with self.lock:
                self.status = "building"
            self.publish()
            design = self.build(text, seen_at)
        except InputError as exc:
            return self.fail(P.input_error_view(exc))
        except P.DesignError as exc:
            return self.fail(exc.view)
        except Exception as exc:  # a bug: say so on the page and in the log, keep serving
            log.error("building the design failed:\n%s", traceback.format_exc())
            return self.fail(ErrorView(f"{type(exc).__name__}: {exc}", self.display, kind="internal",
                                       fix="this is a bug in pirack: the server log has the traceback"))
        with self.lock:
            self.design, self.error, self.status, self.last_key = design, None, "ready", key
        self.publish()
        log.info("design %d: %d plates, %d parts, ready %.2f s after the change (%s)", design.version,
                 len(design.plates), len(design.parts), design.update_seconds,
                 ", ".join(f"{k} {v:.2f}" for k, v in design.timings.items() if k not in design.reused))
        self.request_slow(design)

    def read(self) -> str:
        if self.path is None:
            return P.default_text()
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise _missing(self.path) from None
        except IsADirectoryError:
            raise InputError(self.path, None, "is a folder, not a cluster file") from None
        except UnicodeDecodeError as exc:
            raise InputError(self.path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    def fail(self, error: ErrorView) -> None:
        with self.lock:
            self.error, self.status, self.last_key = error, "error", None
        log.warning("%s", _error_line(error))
        self.publish()

    def build(self, text: str, seen_at: float) -> Design:
        """The fast stages, each from the cache when its inputs are unchanged."""
        t: dict[str, float] = {}
        reused: list[str] = []
        get = self.cache.get

        def timed(stage: str, key: str, make: Callable[[], object]):
            t0 = time.perf_counter()
            value = get(stage, key, make, reused)
            t[stage] = round(time.perf_counter() - t0, 4)
            return value

        gen = str(self.catalog_generation)
        lc = timed("load", P.digest(text, gen), lambda: P.load(text, self.display, self.path))
        self._note_logo(P.logo_path(lc))
        spec = P.spec_key(lc)
        lay = timed("layout", P.digest(spec, gen), lambda: P.layout(lc))
        lay_key = P.layout_key(lay)
        flat_key = P.digest(lay_key, P.engraving_key(lc))
        parts2d, warnings = timed("flat", flat_key, lambda: P.flat_parts(lc, lay))
        prof = P.fabricator(lc)
        plates = timed("plates", P.digest(flat_key, prof.id), lambda: P.plates(parts2d, prof))
        parts = timed("parts", lay_key, lambda: P.parts(lay, lc.catalog))
        glb = timed("scene", lay_key, lambda: P.scene_glb(lay, lc.catalog, self.shapes, parts))
        bom = timed("bom", P.digest(spec, flat_key, prof.id), lambda: P.bom(lc, lay, parts2d, prof))
        choices = timed("choices", gen, lambda: P.choices(lc))
        with self.lock:
            self.version += 1
            version = self.version
        return Design(version, text, P.cluster_name(lc), P.node_count(lc), lay_key, P.digest(flat_key, prof.id),
                      parts, plates, glb, bom, warnings, t, reused, round(time.perf_counter() - seen_at, 4),
                      slow={k: Slow(self._slow_key_for(k, spec, lay_key, text)) for k in ("front", "checks")},
                      choices=choices, legend=P.legend(parts2d, prof))

    def _note_logo(self, path: Path | None) -> None:
        """The design's logo file; the watcher learns of a new one (thread-safe)."""
        if path is not None and path != self.logo and self.logo_seen is not None:
            self.logo_seen(path)
        self.logo = path

    # --- the slow stages --------------------------------------------------------------------------

    def _slow_key_for(self, kind: str, spec: str, lay_key: str, text: str) -> str:
        gen = str(self.catalog_generation)
        return {"front": P.digest("front", lay_key, gen), "checks": P.digest("checks", spec, gen),
                "exports": P.digest("exports", text, gen)}[kind]

    def _slow_key(self, d: Design, kind: str) -> str:
        # exports: the text and the plates, whose key holds the logo's bytes (the cut files engrave it)
        return self._slow_key_for(kind, "", d.model_rev, d.text + "\0" + d.plates_rev) if kind == "exports" \
            else d.slow[kind].key

    def _slow_args(self, d: Design) -> tuple:
        return (d.text, self.display, str(self.path) if self.path else None)

    def request_slow(self, d: Design) -> None:
        if self.slow is None:
            return
        self.slow.request("front", d.slow["front"].key, P.worker_front_plan, self._slow_args(d))
        self.slow.request("checks", d.slow["checks"].key, P.worker_checks, self._slow_args(d))

    def deliver(self, kind: str, key: str, data: object, message: str) -> None:
        """A slow result (or its failure) for whichever design still wants it."""
        with self.lock:
            d = self.design
            slot = d.slow.get(kind) if d else None
            if slot is None or slot.key != key:
                return  # superseded
            if message:
                slot.status, slot.message = "failed", message
            else:
                slot.status, slot.data = "ready", (self._with_targets(d, data) if kind == "checks" else data)
        self.publish()

    def _with_targets(self, d: Design, report: dict) -> dict:
        report = dict(report)
        report["findings"] = [{**f, "targets": names.finding_targets(f, d.parts, d.plates)}
                              for f in report.get("findings", [])]
        return report


def _missing(path: Path) -> InputError:
    return InputError(path, None, "the file is gone (deleted or renamed?): the page keeps the last good design "
                      "and updates when the file is back")


def _error_line(e: ErrorView) -> str:
    return ": ".join(x for x in (e.file, e.key, e.message) if x)


class SlowLane:
    """Runs the slow stages one at a time in a CAD worker process (spawned once, CAD stack
    imported once). For each kind only the newest request waits; results are cached by key."""

    def __init__(self, deliver: Callable[[str, str, object, str], None]):
        self.deliver = deliver
        self.pending: dict[str, tuple] = {}
        self.results: dict[str, OrderedDict] = {k: OrderedDict() for k in SLOW_KINDS}
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.pool = None
        self.thread = threading.Thread(target=self.run, name="pirack-slow-lane", daemon=True)

    def start(self) -> None:
        self.pool = self._new_pool()
        self.pool.submit(int)  # start the worker (and its CAD import) now, not at the first edit
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        if self.pool is not None:
            _stop_pool(self.pool)  # first: a job in progress ends at once
        self.thread.join(2)

    @staticmethod
    def _new_pool():
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=_worker_start,
                                   initargs=(os.getpid(),))

    def request(self, kind: str, key: str, fn: Callable[..., object], args: tuple) -> None:
        with self.lock:
            self.pending[kind] = (key, fn, args)
        self.wake.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait()
            self.wake.clear()
            while not self.stopping.is_set():
                job = self._next()
                if job is None:
                    break
                self._do(*job)

    def _submit(self, fn: Callable[..., object], args: tuple):
        """Run one job; a worker that died (OCCT can crash a process) is replaced and the job tried
        once more."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self.pool.submit(fn, *args).result()
        except BrokenProcessPool:
            if self.stopping.is_set():
                raise
            log.warning("the CAD worker process stopped; starting a new one")
            self.pool = self._new_pool()
            try:
                return self.pool.submit(fn, *args).result()
            except BrokenProcessPool:
                self.pool = self._new_pool()
                raise

    def _next(self):
        with self.lock:
            for kind in SLOW_KINDS:
                if kind in self.pending:
                    return (kind, *self.pending.pop(kind))
        return None

    def _do(self, kind: str, key: str, fn: Callable[..., object], args: tuple) -> None:
        from concurrent.futures.process import BrokenProcessPool

        cached = self.results[kind]
        if key in cached:
            return self.deliver(kind, key, cached[key], "")
        try:
            data = self._submit(fn, args)
        except BrokenProcessPool:
            if self.stopping.is_set():
                return None
            return self.deliver(kind, key, None, "the CAD worker process stopped twice on this design (see the "
                                "server log); it is restarted for the next edit")
        except (InputError, P.DesignError) as exc:
            return self.deliver(kind, key, None, str(exc))
        except Exception as exc:
            log.error("%s failed:\n%s", kind, "".join(traceback.format_exception(exc)))
            return self.deliver(kind, key, None, f"{type(exc).__name__}: {exc}")
        cached[key] = data
        while len(cached) > 3:
            cached.popitem(last=False)
        self.deliver(kind, key, data, "")


def _worker_start(server_pid: int) -> None:
    """In the CAD worker process: leave when the server is gone (even killed: a pool's worker
    would otherwise wait for work forever), give the server and the browser the CPU first, and
    import the CAD stack once."""

    def watch() -> None:
        while os.getppid() == server_pid:
            time.sleep(1)
        os._exit(0)

    import signal

    # Ctrl-C reaches the whole process group: the server stops the pool; the worker says nothing
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=watch, name="pirack-worker-watch", daemon=True).start()
    os.nice(5)
    P.import_cad_stack()


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Shut the worker down without waiting for a long job: end our own worker process by its
    pid (it is ours: the pool started it)."""
    procs = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(2)
