"""Fixtures for `rack serve`: a cluster file made by `rack init`, a Live state built on it (the
builder's stages run in the test's thread: no watcher, no worker process), the app over it."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def cluster_file(tmp_path):
    from pirack.init_template import init_text

    p = tmp_path / "cluster.toml"
    p.write_text(init_text(2), encoding="utf-8")
    return p


@pytest.fixture
def live(cluster_file):
    pytest.importorskip("cadquery")
    pytest.importorskip("starlette")
    from rackdesign.web.live import Live

    lv = Live(cluster_file, slow_lane=False)
    lv.step(time.perf_counter())
    assert lv.design is not None, lv.error
    return lv


@pytest.fixture
def client(live):
    from starlette.testclient import TestClient

    from rackdesign.web.app import create_app

    with TestClient(create_app(live, None)) as c:
        yield c
