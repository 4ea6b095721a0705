"""`--version` on both CLIs, the `rack init` template's commented examples, its wording, and
`rack validate` read at 80 columns."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

import pytest

from helpers import CLIS, run_main, sh

EXAMPLE = re.compile(r"^#\s?(\s*[A-Za-z_][\w-]*\s*=\s*\S.*)$")


@pytest.mark.parametrize("cli", ["rack", "bringup"])
def test_version_from_the_distribution(cli, in_tmp, monkeypatch, capsys):
    """In-process, with argv[0] the module's file as under `python -m`: the name printed is the
    CLI's own, not its program file's."""
    import importlib

    module = importlib.import_module(CLIS[cli])
    code, out, err = run_main(module.main, [module.__file__, "--version"], monkeypatch, capsys)
    assert code == 0, err
    assert out.strip() == f"{cli} {version('pirack')} (pirack)"


def uncommented(text: str, only: int | None = None) -> str:
    """The template with its commented examples uncommented (all, or only the n-th)."""
    out, n = [], 0
    for line in text.splitlines():
        m = EXAMPLE.match(line)
        if m:
            if only is None or only == n:
                line = m.group(1)
            n += 1
        out.append(line)
    return "\n".join(out) + "\n"


def examples(text: str) -> list[str]:
    return [m.group(1).strip() for m in map(EXAMPLE.match, text.splitlines()) if m]


@pytest.mark.parametrize("nodes", [1, 2, 4])
def test_every_commented_example_is_valid_when_uncommented(nodes, in_tmp):
    from pirack.init_template import init_text
    from pirack.load import load_text

    def parse_cluster(text, name):  # the schema and the catalog checks, as `rack validate` does
        return load_text(text, name)

    text = init_text(nodes)
    found = examples(text)
    assert {e.split("=")[0].strip() for e in found} >= {"logo", "logo_width", "acrylic_quote", "owned",
                                                         "price_overrides"}
    for i in range(len(found)):  # each one alone...
        parse_cluster(uncommented(text, i), f"example {i}: {found[i]}")
    data = tomllib.loads(uncommented(text))  # ...and all together
    parse_cluster(uncommented(text), "all examples")
    assert data["purchases"]["owned"] == {"screw-m3-pan-6": 10}
    assert data["purchases"]["price_overrides"] == {"tl-sg1005p": 5980}
    assert data["purchases"]["acrylic_quote"] == 7370


@pytest.mark.parametrize("nodes, phrase", [(1, "1 master."), (2, "1 master + 1 slave."), (4, "1 master + 3 slaves.")])
def test_init_says_how_many_nodes_in_words(rack, in_tmp, nodes, phrase):
    code, out, err = rack("init", "--nodes", str(nodes), "c.toml")
    assert code == 0, err
    assert phrase in " ".join(out.split())


def test_unknown_switch_lists_known_switches(rack, in_tmp):
    from overlay import overlay_text

    (in_tmp / "c.toml").write_text(overlay_text({"rack.switch": "no-such-switch"}))
    code, out, err = rack("validate", "c.toml")
    assert code == 2 and "known switches:" in err and "switchs" not in err


def test_validate_reads_at_80_columns(in_tmp, rack):
    """No line wider than 80 columns, and no MAC or address cut short."""
    from pirack.load import load_cluster

    assert rack("init", "--nodes", "6", "c.toml")[0] == 0
    r = sh("rack", "validate", "c.toml", cwd=in_tmp, env={"COLUMNS": "80"})  # a real process at 80 columns
    assert r.returncode == 0, r.stderr
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    assert "…" not in r.stdout
    spec = load_cluster(in_tmp / "c.toml").spec
    for n in spec.nodes:
        assert re.search(rf"\b{re.escape(n.mac)}\b", r.stdout), n.mac
        assert re.search(rf"{re.escape(str(n.address))}\s", r.stdout), n.address
    for words in (f"DHCP {spec.network.dhcp_range[0]} - {spec.network.dhcp_range[1]}", "SNAT 192.168.11.211"):
        assert words in r.stdout
