"""The Starlette app: the page, the JSON it reads, the event stream that tells it what changed,
the settings editor's endpoint and the downloads.

    GET  /                       the page (Jinja2)
    GET  /api/state              everything the page shows, as JSON (blobs by URL)
    GET  /api/events             server-sent events: the same JSON whenever it changes
    GET  /api/model.glb          the 3D scene (binary glTF)
    GET  /api/plates             every plate's cut geometry (SVG) in one JSON
    GET  /api/plates/{name}.svg  one plate's;  GET /api/front-plan.svg  the front plan
    GET  /api/targets?part=NAME  what a part picked in 3D marks on the plates
    GET  /api/settings           the editable settings, their choices and the file's digest
    POST /api/settings           write settings into cluster.toml (validated first; 409 if the
                                 file changed meanwhile, 422 with the error if it would not load)
    POST /api/exports            render every export file (in the CAD worker)
    GET  /exports/{path}         one export file;  GET /exports.zip  all of them
    /vendor/<package>/...        the npm packages;  /static/...  our own JS and CSS
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from pirack.errors import InputError

from . import editor, names
from . import pipeline as P
from .live import Design, Live

if TYPE_CHECKING:
    from .views import PartView

log = logging.getLogger("pirack.web")
HERE = Path(__file__).resolve().parent
NO_STORE = {"Cache-Control": "no-store"}


def state_json(live: Live) -> dict:
    with live.lock:
        d, error, status = live.design, live.error, live.status
        return {
            "file": live.display,
            "editable": live.path is not None,
            "status": status,
            "error": error.to_json() if error else None,
            "design": design_json(d) if d else None,
        }


def design_json(d: Design) -> dict:
    slow = {k: {"status": s.status, "message": s.message} for k, s in d.slow.items()}
    out = {
        "version": d.version, "name": d.name, "nodes": d.nodes, "update_seconds": d.update_seconds,
        "timings": d.timings, "reused": d.reused, "warnings": d.warnings,
        "model": {"rev": d.model_rev, "url": f"/api/model.glb?rev={d.model_rev}", "count": len(d.parts),
                  "parts": [_part_json(p) for p in d.parts]},
        "plates_rev": d.plates_rev,
        "plates_url": f"/api/plates?rev={d.plates_rev}",
        "plates": [{**p.to_json(), "url": f"/api/plates/{p.name}.svg?rev={d.plates_rev}"} for p in d.plates],
        "legend": [e.to_json() for e in d.legend],
        "bom": d.bom,
        "front": {**slow["front"], "url": f"/api/front-plan.svg?v={d.version}"},
        "checks": {**slow["checks"], "report": d.slow["checks"].data},
        "exports": _exports_json(d),
        "settings": {"values": editor.current(d.text), "choices": d.choices, "limits": editor.limits(),
                     "base": P.digest(d.text)},
    }
    return out


def _part_json(p: PartView) -> dict:
    return {"name": p.name, "part_id": p.part_id, "kind": p.kind, "node": p.node, "column": p.column,
            "label": p.label}


def _exports_json(d: Design) -> dict:
    s = d.slow.get("exports")
    if s is None:
        return {"status": "idle", "files": []}
    data = s.data or {}
    files = [{"path": rel, "size": len(b)} for rel, b in sorted((data.get("files") or {}).items())]
    return {"status": s.status, "message": s.message, "files": files, "refused": data.get("refused", []),
            "warnings": data.get("warnings", [])}


def _no_design() -> JSONResponse:
    return JSONResponse({"error": "no design yet (still loading, or the file has never loaded)"}, 503)


def create_app(live: Live, vendor: Path | None, allowed_hosts: list[str] | None = None) -> Starlette:
    """The app over a Live state; `vendor` is the node_modules folder (None: no /vendor, for tests).
    `allowed_hosts`: the Host header names it answers (a web page elsewhere that points its own
    name at 127.0.0.1 gets nothing); None: any (tests)."""
    routes = [
        Route("/", page),
        Route("/api/state", state),
        Route("/api/events", events),
        Route("/api/model.glb", model),
        Route("/api/plates", all_plates),
        Route("/api/plates/{name}.svg", plate),
        Route("/api/front-plan.svg", front),
        Route("/api/targets", targets),
        Route("/api/settings", settings, methods=["GET", "POST"]),
        Route("/api/exports", exports, methods=["GET", "POST"]),
        Route("/exports.zip", exports_zip),
        Route("/exports/{path:path}", export_file),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    for package in P_VENDOR_PACKAGES if vendor is not None else ():
        routes.append(Mount(f"/vendor/{package}", StaticFiles(directory=str(vendor / package)),
                            name=f"vendor-{package}"))
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)] if allowed_hosts else []
    app = Starlette(routes=routes, middleware=middleware)
    app.state.live = live
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    return app


async def page(request: Request):
    live: Live = request.app.state.live
    context = {"file": live.display, "editable": live.path is not None, "limits": editor.limits()}
    return request.app.state.templates.TemplateResponse(request, "index.html", context, headers=NO_STORE)


async def state(request: Request):
    return JSONResponse(state_json(request.app.state.live), headers=NO_STORE)


async def model(request: Request):
    d = request.app.state.live.design
    if d is None:
        return _no_design()
    return Response(d.glb, media_type="model/gltf-binary", headers={**NO_STORE, "X-Model-Rev": d.model_rev})


async def all_plates(request: Request):
    d = request.app.state.live.design
    if d is None:
        return _no_design()
    body = {"rev": d.plates_rev, "plates": [{"name": p.name, "svg": p.svg.decode()} for p in d.plates]}
    return JSONResponse(body, headers=NO_STORE)


async def plate(request: Request):
    d = request.app.state.live.design
    if d is None:
        return _no_design()
    name = request.path_params["name"]
    for p in d.plates:
        if p.name == name:
            return Response(p.svg, media_type="image/svg+xml", headers=NO_STORE)
    return JSONResponse({"error": f"no plate named '{name}'"}, 404)


async def front(request: Request):
    d = request.app.state.live.design
    s = d.slow.get("front") if d else None
    if s is None or s.status != "ready":
        return JSONResponse({"error": "the front plan is not ready", "status": s.status if s else None}, 404)
    return Response(s.data, media_type="image/svg+xml", headers=NO_STORE)


P_VENDOR_PACKAGES = ("three", "svg-pan-zoom")


async def targets(request: Request):
    """What to light up for parts picked in 3D: ?part=NAME (repeatable), through names.py."""
    d = request.app.state.live.design
    if d is None:
        return _no_design()
    picked = request.query_params.getlist("part")
    known = {p.name for p in d.parts}
    unknown = [n for n in picked if n not in known]
    if unknown:
        return JSONResponse({"error": f"no part named {', '.join(unknown)} in the model"}, 404)
    marks = names.plate_marks(picked, d.parts, d.plates)
    return JSONResponse({"scene": picked, "plates": {k: m.to_json() for k, m in marks.items()}}, headers=NO_STORE)


# --- the event stream --------------------------------------------------------------------------

async def events(request: Request):
    """The state as JSON now and after every change; a browser that goes away is one log line."""
    live: Live = request.app.state.live
    from sse_starlette.sse import EventSourceResponse

    loop = asyncio.get_running_loop()
    changed = asyncio.Event()

    def notify() -> None:  # called from the builder's threads
        loop.call_soon_threadsafe(changed.set)

    async def stream():
        live.subscribe(notify)
        client = request.client.host if request.client else "?"
        try:
            while not live.stopping.is_set():
                changed.clear()
                yield {"event": "state", "data": _dumps(state_json(live))}
                await changed.wait()
        finally:
            live.unsubscribe(notify)
            log.info("a browser (%s) disconnected from the live updates", client)

    return EventSourceResponse(stream(), ping=15, headers=NO_STORE)


def _dumps(data: object) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# --- the settings editor -------------------------------------------------------------------------

async def settings(request: Request):
    live: Live = request.app.state.live
    d = live.design
    if request.method == "GET":
        if d is None:
            return _no_design()
        body = {"editable": live.path is not None, **design_json(d)["settings"]}
        return JSONResponse(body, headers=NO_STORE)
    refused = _cross_site(request)
    if refused:
        return refused
    try:
        body = await request.json()
    except ValueError:
        return _error(400, InputError(None, None, "the request body is not JSON"))
    if not isinstance(body, dict) or not isinstance(body.get("settings"), dict):
        return _error(400, InputError(None, None, 'expected {"base": ..., "settings": {...}}'))
    if live.path is None:
        return _error(409, InputError(None, None, "this is the built-in default cluster, which has no file to "
                                      "write: run `rack init` and `rack serve cluster.toml` to edit your own"))
    return await run_in_threadpool(write_settings, live, body)


def _cross_site(request: Request) -> JSONResponse | None:
    """A write must come from this page: JSON (another site's form cannot send it without the
    browser asking first) and, when the browser names an origin, this server's."""
    from urllib.parse import urlsplit

    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _error(415, InputError(None, None, "send the settings as application/json"))
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        return _error(403, InputError(None, None, f"a page from {origin} may not write the cluster file"))
    return None


def write_settings(live: Live, body: dict) -> JSONResponse:
    """Apply the settings to the file's current text, validate, write atomically, rebuild."""
    from pirack.fsutil import atomic_write

    seen = time.perf_counter()
    try:
        text = live.read()
    except InputError as exc:
        return _error(409, exc)
    if body.get("base") and body["base"] != P.digest(text):
        return _error(409, InputError(live.path, None, "the file changed on disk since the form was filled in: "
                                      "the form now shows the file as it is; apply your change again"))
    try:
        new = editor.apply(text, body["settings"])
        P.load(new, live.display, live.path)  # as `rack validate` would: nothing written if it fails
    except InputError as exc:
        return _error(422, exc)
    if new != text:
        atomic_write(live.path, new)
        live.changed(seen)
    return JSONResponse({"ok": True, "written": new != text, "file": live.display})


def _error(status: int, exc: InputError) -> JSONResponse:
    return JSONResponse({"error": P.input_error_view(exc).to_json()}, status)


# --- downloads ------------------------------------------------------------------------------------

def _export_files(live: Live) -> dict[str, bytes] | None:
    d = live.design
    s = d.slow.get("exports") if d else None
    if s is None or s.status != "ready":
        return None
    return s.data.get("files") or {}


async def exports(request: Request):
    live: Live = request.app.state.live
    origin = request.headers.get("origin")
    if request.method == "POST" and origin and origin.split("//", 1)[-1] != request.headers.get("host"):
        return _error(403, InputError(None, None, f"a page from {origin} may not start an export"))
    if request.method == "POST":
        await run_in_threadpool(live.request_exports)
    d = live.design
    if d is None:
        return _no_design()
    return JSONResponse(_exports_json(d), 202 if request.method == "POST" else 200)


async def export_file(request: Request):
    live: Live = request.app.state.live
    files = _export_files(live)
    rel = request.path_params["path"]
    if files is None or rel not in files:
        return JSONResponse({"error": f"no export file '{rel}' (render them first)"}, 404)
    name = rel.rsplit("/", 1)[-1]
    return Response(files[rel], media_type=_media_type(rel), headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'})


async def exports_zip(request: Request):
    live: Live = request.app.state.live
    files = _export_files(live)
    if not files:
        return JSONResponse({"error": "no export files yet (render them first)"}, 404)
    buf = io.BytesIO()
    root = live.design.name
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, data in sorted(files.items()):
            z.writestr(f"{root}/{rel}", data)
    return Response(buf.getvalue(), media_type="application/zip",
                    headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{root}-exports.zip"'})


def _media_type(rel: str) -> str:
    import mimetypes

    known = {".dxf": "image/vnd.dxf", ".step": "model/step", ".stl": "model/stl", ".md": "text/markdown"}
    suffix = Path(rel).suffix.lower()
    return known.get(suffix) or mimetypes.guess_type(rel)[0] or "application/octet-stream"
