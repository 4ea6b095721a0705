"""Fixtures for the bringup tests: the two clusters (the seed's, and `rack init --nodes 4` with one
slave net-booting) and the SNMP secret in the environment."""

import pytest

from bringup_helpers import SECRET, four_node_text


@pytest.fixture(scope="session")
def clusters(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("clusters")
    four = d / "four.toml"
    four.write_text(four_node_text())
    return {"seed": None, "four": four}


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("PIRACK_SNMP_COMMUNITY", SECRET)
    return SECRET
