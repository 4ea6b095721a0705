"""The hostile-input corpus (tests/hostile/cases.toml, written by tests/hostile/generate.py):
every case through `rack validate`, `rack check`, `rack bom` and `bringup plan --root R --node
master` must exit 2 with exactly one error (an "error:" line, then only "also:" lines) naming the
key the case attacks, never a traceback, and write nothing (the scratch folder, which holds the
cluster file, the --root and the working folder, is the same before and after).

The commands run in-process through the same click commands `rack` and `bringup` build (built
once: typer takes ~20 ms to build them per call); a handful of cases also run as real processes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from helpers import run_main, sh, tree_state
from overlay import load_cases, overlay_text
from pirack.init_template import init_text

HOSTILE = Path(__file__).parent / "hostile"
CASES = load_cases(HOSTILE / "cases.toml")
BASE = init_text(4)
COMMANDS = (("rack", "validate"), ("rack", "check"), ("rack", "bom"), ("bringup", "plan"))


# --- the files recipes make ----------------------------------------------------------------------

def _nodes(count: int) -> list[dict]:
    """`count` valid nodes: the init file's master, then slaves off the DHCP range (.100-.199)."""
    import tomllib

    master = tomllib.loads(BASE)["nodes"][0]
    hosts = [h for h in range(2, 255) if not 100 <= h <= 199]
    return [master] + [{**master, "name": f"slave{i}", "role": "slave", "mac": f"02:00:00:51:{i >> 8:02x}:{i & 255:02x}",
                        "address": f"192.168.50.{hosts[(i - 1) % len(hosts)]}"} for i in range(1, count)]


RECIPES = {
    "deep-lists": lambda c: BASE + "\n[zzz]\nx = " + "[" * c["depth"] + "]" * c["depth"] + "\n",
    "deep-inline-tables": lambda c: BASE + "\n[zzz]\nx = " + "{a = " * c["depth"] + "1" + "}" * c["depth"] + "\n",
    "deep-dotted-key": lambda c: BASE + "\n" + "x." * c["depth"] + "y = 1\n",
    "deep-tables-over-lines": lambda c: BASE + "\n[purchases." + ".".join("abcdefghij") + "]\n"
                                        + ".".join("klmnopqrst") + " = 1\n",
    "huge": lambda c: BASE + ("# " + "x" * 98 + "\n") * (c["size"] // 100 + 1),
    "huge-description": lambda c: overlay_text({"cluster.description": "x" * c["size"]}, base=BASE),
    "latin-1": lambda c: BASE.replace("[cluster]", "[cluster]\ndescription = \"caf\u00e9\"").encode("latin-1", "replace"),
    "utf-16": lambda c: BASE.encode("utf-16"),
    "nul-byte": lambda c: BASE + "# \x00\n",
    "many-nodes": lambda c: overlay_text({"nodes": _nodes(c["count"])}, base=BASE),
}


def case_file(case: dict) -> bytes:
    data = RECIPES[case["make"]](case) if "make" in case else overlay_text(case.get("patch"), case.get("delete"), base=BASE)
    return data if isinstance(data, bytes) else data.encode("utf-8")


# --- running the commands -----------------------------------------------------------------------

@pytest.fixture(scope="session")
def clis():
    """main() of each CLI, with its click command built once."""
    import typer

    from bringup.cli import app as bringup_app
    from pirack.cli_common import run_app
    from rackdesign.cli import app as rack_app

    built = {"rack": typer.main.get_command(rack_app), "bringup": typer.main.get_command(bringup_app)}
    return {name: (lambda cmd=cmd: run_app(cmd)) for name, cmd in built.items()}


def argv_for(tool: str, command: str, file: Path, root: Path) -> list[str]:
    extra = ["--root", str(root), "--node", "master"] if tool == "bringup" else []
    return [tool, command, str(file), *extra]


def assert_refused(case: dict, file: Path, code: int, out: str, err: str, what: str) -> None:
    assert "Traceback" not in err + out, f"{what}: {err}"
    assert code == 2, f"{what}: exit {code}\n{err}{out}"
    lines = err.rstrip("\n").split("\n")
    assert lines[0].startswith("error: ") and all(ln.startswith("  also: ") for ln in lines[1:]), f"{what}: {err}"
    target = case["key"] or str(file)
    assert target in lines[0], f"{what}: the error does not name {target!r}: {lines[0]}"
    assert out.strip() == "", f"{what}: printed {out!r}"


@pytest.fixture
def scratch():
    """An empty folder for one case. Not tmp_path: pytest numbers those by listing the folder all
    of them are in, ~1 ms a case more over these 700 (a case itself takes ~7 ms)."""
    with tempfile.TemporaryDirectory(prefix="pirack-hostile-") as d:
        yield Path(d)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_case_is_refused_by_every_command(case, clis, scratch, monkeypatch, capsys):
    file = scratch / "cluster.toml"
    file.write_bytes(case_file(case))
    root = scratch / "root"
    root.mkdir()
    monkeypatch.chdir(scratch)
    before = tree_state(scratch)
    for tool, command in COMMANDS:
        code, out, err = run_main(clis[tool], argv_for(tool, command, file, root), monkeypatch, capsys)
        assert_refused(case, file, code, out, err, f"{case['name']}: {tool} {command}")
    assert tree_state(scratch) == before, f"{case['name']}: something was written"


# A few cases as a user runs them, in real processes (each costs the CLI's imports, ~0.4 s): every
# command above and each of these cases at least once, the deepest file through both programs (a
# fresh interpreter's own recursion limit and stack). Every case meets every command in-process.
REAL = [("file/deep-lists-1000", "rack", "validate"), ("file/deep-lists-1000", "bringup", "plan"),
        ("rack.margin/overflow", "rack", "check"), ("storage.tftp_root/newline-directive", "rack", "bom"),
        ("storage.tftp_root/newline-directive", "bringup", "plan")]


@pytest.mark.parametrize("name, tool, command", REAL, ids=[f"{n}-{t}-{c}" for n, t, c in REAL])
def test_hostile_case_in_a_real_process(name, tool, command, tmp_path):
    case = next(c for c in CASES if c["name"] == name)
    file = tmp_path / "cluster.toml"
    file.write_bytes(case_file(case))
    (tmp_path / "root").mkdir()
    before = tree_state(tmp_path)
    r = sh(*argv_for(tool, command, file, tmp_path / "root"), cwd=tmp_path, timeout=120)
    assert_refused(case, file, r.returncode, r.stdout, r.stderr, f"{name}: {tool} {command}")
    assert tree_state(tmp_path) == before


def test_the_real_processes_cover_every_command():
    assert {(t, c) for _, t, c in REAL} == set(COMMANDS)
    assert {t for n, t, _ in REAL if n.startswith("file/deep-")} == {"rack", "bringup"}


# --- the corpus itself ---------------------------------------------------------------------------

def test_corpus_is_the_generators_output():
    """Nobody edits cases.toml by hand: it is what generate.py writes."""
    sys.path.insert(0, str(HOSTILE))
    try:
        import generate
    finally:
        sys.path.remove(str(HOSTILE))
    assert (HOSTILE / "cases.toml").read_text(encoding="utf-8") == generate.render(), \
        "tests/hostile/cases.toml is stale: run python tests/hostile/generate.py"


def test_corpus_covers_every_class():
    names = [c["name"] for c in CASES]
    assert len(CASES) >= 150
    for part in ("/newline-directive", "/semicolon", "/space-options", "/double-quote", "/hash", "/traversal-",
                 "/nul", "/bidi", "/escape-sequence", "/overflow", "/furlong", "/type-bool", "/type-table",
                 "file/deep-", "file/huge", "file/nodes-", "/arabic-indic-digit", "/fullwidth-digit",
                 "uplink_snat_address/meaning-", "subnet/meaning-", "upstream_dns[0]/meaning-", "mac/meaning-",
                 "exports[1].path/meaning-same-path", "mount_point/traversal-var-lib-misc", "/traversal-home-of-user"):
        assert any(part in n for n in names), part
