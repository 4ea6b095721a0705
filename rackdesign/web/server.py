"""`rack serve`: bind the port, start the builder, the watchers and uvicorn; --open a browser.

Bound to 127.0.0.1 unless --host says otherwise (then with a warning: the settings form writes
the cluster file). The socket is bound here, before anything else starts, so a port in use is
one clear message (exit 2) rather than a server that half started.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pirack.errors import InputError

if TYPE_CHECKING:
    from types import FrameType

    import uvicorn

    from .live import Live
    from .watch import Watcher

WEB_MODULES = ("starlette", "uvicorn", "jinja2", "tomlkit", "watchfiles", "sse_starlette")
DEFAULT_PORT = 8350


def check_extra() -> None:
    import importlib.util

    missing = [m for m in WEB_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(None, None, f"`rack serve` needs the web extra ({', '.join(missing)} missing): "
                         "pip install 'pirack[web]' (bash tools/install.sh installs it)")


def check_host(host: str) -> bool:
    """True for a loopback address. Anything but an IP address or 'localhost' is refused."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise InputError(None, "--host", f"'{host}' is not an IP address (like 127.0.0.1, ::1 or 0.0.0.0)") from None


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InputError(None, "--port", f"{port} is already in use on {host} (another `rack serve`?): "
                             "choose another with --port N, or --port 0 for any free port") from None
        if exc.errno == errno.EACCES:
            raise InputError(None, "--port", f"{port}: not allowed to bind it (ports below 1024 need root)") from None
        raise InputError(None, "--host", f"cannot listen on {host}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def resolve_file(file: Path | None) -> Path | None:
    from pirack.paths import resolve

    path = resolve(file)
    if path is None:
        return None
    if not path.exists():
        raise InputError(path, None, "no such file (create one with `rack init`)")
    if path.is_dir():
        raise InputError(path, None, "is a folder, not a cluster file")
    return path  # as typed: the page and the messages name it the way the person did


def serve(file: Path | None, host: str = "127.0.0.1", port: int = DEFAULT_PORT, open_browser: bool = False,
          say: Callable[[str], None] = print) -> None:
    """Run until interrupted. `say` prints a line for the person at the terminal."""
    check_extra()
    from . import assets

    vendor = assets.node_modules()
    loopback = check_host(host)
    path = resolve_file(file)
    sock = bind(host, port)
    url = _url(host, sock.getsockname()[1])
    if not loopback:
        say(f"warning: listening on {host}: anyone who can reach this machine sees the design and can "
            f"write {path or 'the cluster file'} through the settings form")
    _logging()
    run(sock, path, vendor, url, open_browser, say, allowed_hosts(host))


def run(sock: socket.socket, path: Path | None, vendor: Path, url: str, open_browser: bool,
        say: Callable[[str], None], hosts: list[str] | None) -> None:
    import uvicorn

    from .app import create_app
    from .live import Live
    from .watch import Watcher

    live = Live(path)
    watcher = Watcher()
    watch(live, watcher, path)
    class Server(uvicorn.Server):
        # Ctrl-C or SIGTERM: let the open event streams end first
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            live.closing()
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(create_app(live, vendor, hosts), log_level="warning", access_log=False,
                                   timeout_graceful_shutdown=2))
    say(f"serving {path or 'the built-in default cluster'} at {url}  (Ctrl-C to stop)")
    if open_browser:
        threading.Thread(target=_open_when_up, args=(server, url, say), daemon=True).start()
    # After its shutdown uvicorn raises the signal it caught again, with the handler that was there
    # before. SIGTERM's default action would end the process on the spot: the finally below would
    # not stop the CAD worker, and the resource tracker would report the pool's semaphores as leaked.
    previous = signal.signal(signal.SIGTERM, _stop_asked)
    try:
        live.start()  # the CAD worker's pool: from here on, a stop must go through the finally
        server.run(sockets=[sock])
    finally:
        watcher.stop()
        live.stop()
        sock.close()
        signal.signal(signal.SIGTERM, previous)


def _stop_asked(sig: int, frame: FrameType | None) -> None:
    """SIGTERM (a service manager, `kill PID`): a stop that was asked for, so a normal end (exit 0)
    once the workers are stopped, through Python's own exit (its atexit hooks free the semaphores)."""
    raise SystemExit(0)


def watch(live: Live, watcher: Watcher, path: Path | None) -> None:
    """What a save anywhere changes: the cluster file, the parts catalog (ours, and the user's
    parts/ beside the cluster file when it is there at the start), and the logo file the design
    engraves (watched once the builder has read its name; a logo named later, or renamed, is
    watched from then on)."""
    folders = _catalog_dirs()
    if path is not None:
        watcher.watch_file(path, live.changed)
        user_parts = path.resolve().parent / "parts"  # the user's own parts (pirack/catalog.py)
        if user_parts.is_dir():
            folders.append(user_parts)
    for folder in folders:
        watcher.watch_tree(folder, ".toml", live.catalog_changed)
    watched: set[Path] = set()
    lock = threading.Lock()

    def logo_seen(logo: Path) -> None:
        logo = logo.resolve()
        with lock:
            if logo in watched:
                return
            watched.add(logo)
        watcher.watch_file(logo, live.changed)

    live.logo_seen = logo_seen


def allowed_hosts(host: str) -> list[str] | None:
    """Host names the page may be reached by: loopback ones and the address listened on, or any
    when listening on all addresses (the person asked for that, and was warned)."""
    if host in ("0.0.0.0", "::"):
        return None
    return sorted({"127.0.0.1", "localhost", "::1", "[::1]", host, f"[{host}]" if ":" in host else host})


def _catalog_dirs() -> list[Path]:
    from . import pipeline

    return pipeline.catalog_dirs()


def _url(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _open_when_up(server: uvicorn.Server, url: str, say: Callable[[str], None]) -> None:
    import time
    import webbrowser

    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    if not webbrowser.open(url):
        say(f"no browser could be started here: open {url} yourself")


def _logging() -> None:
    """The server's own lines (a file that failed to load, a browser that left) on stderr."""
    log = logging.getLogger("pirack.web")
    if not log.handlers:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(h)
        log.setLevel(logging.INFO)
        log.propagate = False
