"""Cases as data (tests/bringup/cases/*.json): facts in (files under the root), the command,
and the changes, recorded commands or messages expected out."""

import json
from pathlib import Path

import pytest

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case(case, clusters, bringup_cli, tmp_path, secret_env):
    c = json.loads(case.read_text())
    write_facts(tmp_path, c["files"])
    f = clusters[c["cluster"]]
    code, out, err = bringup_cli(c["args"][0], *([str(f)] if f else []), *c["args"][1:], "--root", str(tmp_path))
    e = c["expect"]
    assert code == e["exit"], err
    check_text(e, out, err)
    if "--json" in c["args"]:
        check_json(e, json.loads(out))
    for path, text in e.get("file_equals", {}).items():
        assert (tmp_path / path.lstrip("/")).read_text() == text


def write_facts(root: Path, files: dict[str, str]) -> None:
    """The case's files under the root, as the host would have them."""
    for path, text in files.items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def check_text(e: dict, out: str, err: str) -> None:
    for s in e.get("stdout_contains", []):
        assert s in out
    for s in e.get("stdout_lacks", []):
        assert s not in out
    for s in e.get("stderr_contains", []):
        assert s in err


def check_json(e: dict, res: dict) -> None:
    """The --json result: what changed (exactly, at least, never), what was recorded, the node."""
    if "changed" in e:
        assert res["changed"] == e["changed"]
    assert set(e.get("changed_includes", [])) <= set(res["changed"])
    assert not set(e.get("not_changed", [])) & set(res["changed"])
    for s in e.get("recorded_contains", []):
        assert any(s in r for r in res["recorded"]), s
    if "node" in e:
        assert res["node"] == e["node"]
