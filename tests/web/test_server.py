"""`rack serve`'s start: a port in use, an address that is not one, a missing file, the GLB
tagging, the JavaScript install check: each one clear message."""

from __future__ import annotations

import json
import socket
import struct

import pytest

pytest.importorskip("uvicorn")

from helpers import sh  # noqa: E402
from pirack.errors import InputError  # noqa: E402
from rackdesign.web import assets, server  # noqa: E402
from rackdesign.web.pipeline import tag_nodes  # noqa: E402


def test_a_port_in_use_names_the_option():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(InputError) as exc:
            server.bind("127.0.0.1", port)
    assert exc.value.key == "--port" and "in use" in exc.value.message and "--port 0" in exc.value.message


def test_port_zero_takes_a_free_one():
    sock = server.bind("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
    finally:
        sock.close()


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("0.0.0.0", False), ("192.168.1.5", False)])
def test_hosts(host, loopback):
    assert server.check_host(host) is loopback


@pytest.mark.parametrize("host", ["example.com", "127.0.0.1; rm -rf /", "", "300.1.1.1"])
def test_a_host_that_is_not_an_address_is_refused(host):
    with pytest.raises(InputError) as exc:
        server.check_host(host)
    assert exc.value.key == "--host"


def test_a_missing_cluster_file_is_refused(tmp_path):
    with pytest.raises(InputError) as exc:
        server.resolve_file(tmp_path / "nope.toml")
    assert "no such file" in exc.value.message


def test_the_cli_says_a_port_is_in_use_and_exits_2(tmp_path):
    try:
        assets.node_modules()
    except InputError as exc:
        pytest.skip(f"the viewer's JavaScript is not installed: {exc}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        r = sh("rack", "serve", "--port", str(taken.getsockname()[1]), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "--port" in r.stderr and "in use" in r.stderr and "Traceback" not in r.stderr


def test_missing_javascript_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PIRACK_WEB_ASSETS", str(tmp_path))
    with pytest.raises(InputError) as exc:
        assets.node_modules()
    assert "tools/install.sh" in exc.value.message and str(tmp_path) in exc.value.message
    (tmp_path / "node_modules" / "three").mkdir(parents=True)
    (tmp_path / "node_modules" / "three" / "package.json").write_text(json.dumps({"version": "0.1.0"}))
    with pytest.raises(InputError) as exc:
        assets.node_modules()
    assert "0.1.0" in exc.value.message


def glb(doc: dict, binary: bytes = b"\x00" * 8) -> bytes:
    body = json.dumps(doc).encode()
    body += b" " * (-len(body) % 4)
    total = 12 + 8 + len(body) + 8 + len(binary)
    return (struct.pack("<III", 0x46546C67, 2, total) + struct.pack("<II", len(body), 0x4E4F534A) + body
            + struct.pack("<II", len(binary), 0x004E4942) + binary)


def test_tagging_glb_nodes_keeps_the_container_valid():
    src = glb({"nodes": [{"name": "rack"}, {"name": "spacer-m2.5-ff-11#1", "mesh": 0}]}, b"\x01" * 16)
    out = tag_nodes(src, {"spacer-m2.5-ff-11#1": {"part": "spacer-m2.5-ff-11#1", "kind": "spacer"}})
    magic, _, total = struct.unpack_from("<III", out, 0)
    n, _ = struct.unpack_from("<II", out, 12)
    assert magic == 0x46546C67 and total == len(out) and n % 4 == 0
    doc = json.loads(out[20:20 + n])
    assert doc["nodes"][1]["extras"] == {"part": "spacer-m2.5-ff-11#1", "kind": "spacer"}
    assert "extras" not in doc["nodes"][0]
    assert out.endswith(b"\x01" * 16)  # the binary chunk untouched


def test_the_web_extra_missing_is_one_message(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "watchfiles" else real(name, *a))
    with pytest.raises(InputError) as exc:
        server.check_extra()
    assert "pirack[web]" in exc.value.message and "watchfiles" in exc.value.message


@pytest.mark.cad
def test_sigterm_stops_the_server_as_cleanly_as_ctrl_c(tmp_path):
    """SIGTERM (a service manager, `kill PID`) ends `rack serve` with its workers stopped:
    exit 0, and no leaked-semaphore warning from multiprocessing's resource tracker (the process
    used to die of the signal before it stopped the CAD worker's pool)."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import threading
    import time
    import urllib.request

    try:
        assets.node_modules()
    except InputError as exc:
        pytest.skip(f"the viewer's JavaScript is not installed: {exc}")
    # --port 0: the port it says it took (a port picked here and closed again can be taken by
    # another test before the server binds it)
    proc = subprocess.Popen([sys.executable, "-m", "rackdesign.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "300", "PYTHONUNBUFFERED": "1"})
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.append(proc.stdout.readline()), daemon=True)
    reader.start()
    try:
        reader.join(120)  # "serving ... at URL" (a hang guard: it comes in seconds)
        m = re.search(r"at (http://127\.0\.0\.1:\d+/)", said[0] if said else "")
        assert m, f"rack serve did not say where it listens: {said}"
        end = time.monotonic() + 120  # a hang guard
        while time.monotonic() < end and proc.poll() is None:
            try:  # it answers, and the CAD worker it started has taken work
                with urllib.request.urlopen(f"{m.group(1)}api/state", timeout=5) as res:
                    if json.load(res)["status"] == "ready":
                        break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("rack serve did not answer: " + proc.stderr.read())
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "leaked" not in err and "Traceback" not in err, err
