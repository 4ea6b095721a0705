"""Facts that parse live command output, on output recorded in the VM lab (cases/livefacts.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bringup.engine import livefacts

CASES = json.loads((Path(__file__).parent / "facts/livefacts.json").read_text())


@pytest.mark.parametrize("case", CASES["parsers"], ids=lambda c: c["why"][:60])
def test_parser(case):
    assert livefacts.PARSERS[case["parser"]](case["output"]) == case["want"]


@pytest.mark.parametrize("case", CASES["unit_start"], ids=lambda c: c["why"])
def test_unit_start(case):
    assert list(livefacts.unit_start(case["output"])) == case["want"]


def test_satisfied_needs_every_item_among_the_parsed_values():
    up = next(c["output"] for c in CASES["parsers"] if "with the SNAT" in c["why"])
    assert livefacts.satisfied("ip_addresses", up, "192.168.11.211/24")
    # A prefix of an address is not the address: the raw-text match would have said yes.
    assert not livefacts.satisfied("ip_addresses", up, "192.168.11.21/24")
    assert livefacts.satisfied(None, up, "192.168.11.21")
    nft = next(c["output"] for c in CASES["parsers"] if c["parser"] == "nft_table" and c["output"])
    assert livefacts.satisfied("nft_table", nft, ("chain input", "snat 192.168.11.211"))
    assert not livefacts.satisfied("nft_table", "", ("chain input",))
