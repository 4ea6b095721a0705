"""The export cache (rackdesign/cache.py) and the logo check: the cache folder is not trusted,
and a logo is read only once it is known to be a regular SVG file of sensible size."""

import json
import os

import pytest

from helpers import sh, tree_state
from overlay import overlay_text
from rackdesign import cache
from rackdesign.engrave import LOGO_MAX_BYTES

LOGO = """<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10">
<circle cx="5" cy="5" r="5" fill="black"/></svg>"""


def test_cache_folder_is_the_users(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "pirack" / "export"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # the XDG spec: ignore a relative one
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "pirack" / "export"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "pirack" / "export"


GOOD = {"cluster": "seed", "files": ["cut/cut-acrylic-cast-3mm-sheet-1.dxf"], "warnings": []}


@pytest.mark.parametrize("bad", [
    {**GOOD, "cluster": "../../outside"}, {**GOOD, "cluster": "/etc"}, {**GOOD, "cluster": "."},
    {**GOOD, "cluster": "seed\n"}, {**GOOD, "cluster": 5},
    {**GOOD, "files": ["../../../outside.txt"]}, {**GOOD, "files": ["/etc/passwd"]},
    {**GOOD, "files": ["cut/../../x.dxf"]}, {**GOOD, "files": ["cut//x.dxf"]}, {**GOOD, "files": ["cut/x\0.dxf"]},
    {**GOOD, "files": ["cut/x.dxf\n"]}, {**GOOD, "files": [7]}, {**GOOD, "files": []}, {**GOOD, "files": "cut/x.dxf"},
    {**GOOD, "warnings": [1]}, [], "manifest", None,
])
def test_a_manifest_not_as_written_is_a_miss(bad):
    assert cache.checked_manifest(bad) is None
    assert cache.checked_manifest(GOOD) == ("seed", GOOD["files"], [])


def _key_for(text, base, fmt="dxf"):
    return cache.export_key(text, base / "c.toml", fmt, None)


def test_crafted_manifest_writes_nothing_outside_out(rack, in_tmp, monkeypatch):
    """A manifest crafted for the very key of this export, naming paths outside --out: the
    export treats it as a miss, renders afresh, and nothing outside --out changes (the folders
    are deep enough that every '..' in the crafted paths still lands inside the scratch folder)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(in_tmp / "xdg"))
    text = overlay_text({})
    work = in_tmp / "a" / "b" / "c"
    work.mkdir(parents=True)
    (work / "c.toml").write_text(text)
    d = cache.cache_dir() / _key_for(text, work)
    (d / "files").mkdir(parents=True)
    (d / "files" / "evil.txt").write_text("planted")
    crafted = (("..", ["evil.txt"]), ("seed", ["../../../../evil.txt"]), ("seed", [str(in_tmp / "evil.txt")]),
               ("seed/../../..", ["evil.txt"]))
    for name, files in crafted:
        (d / "manifest.json").write_text(json.dumps({"cluster": name, "files": files, "warnings": []}))
        before = tree_state(in_tmp)
        code, out, err = rack("export", "dxf", "a/b/c/c.toml", "--out", "a/b/c/out")
        assert code == 0, err
        assert "from cache" not in out
        after = tree_state(in_tmp)
        changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
        assert all(p.startswith(("a/b/c/out", "xdg")) or p == "a/b/c" for p in changed), changed
        assert [p.relative_to(in_tmp).as_posix() for p in in_tmp.rglob("evil.txt")] == [
            (d / "files" / "evil.txt").relative_to(in_tmp).as_posix()]
        assert (work / "out" / "seed" / "cut").is_dir()


def test_cached_file_that_is_not_a_regular_file_is_a_miss(rack, in_tmp, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(in_tmp / "xdg"))
    (in_tmp / "c.toml").write_text(overlay_text({}))
    code, _, err = rack("export", "dxf", "c.toml")
    assert code == 0, err
    code, out, _ = rack("export", "dxf", "c.toml")
    assert "from cache" in out
    d = cache.cache_dir() / _key_for(overlay_text({}), in_tmp)
    rel = json.loads((d / "manifest.json").read_text())["files"][0]
    (d / "files" / rel).unlink()
    (d / "files" / rel).symlink_to("/dev/zero")
    code, out, err = rack("export", "dxf", "c.toml")
    assert code == 0, err
    assert "from cache" not in out


# --- the logo ----------------------------------------------------------------------------------

def _with_logo(in_tmp, logo: str):
    (in_tmp / "c.toml").write_text(overlay_text({"rack.engraving.logo": logo, "rack.engraving.logo_width": "20 mm"}))


def _assert_logo_refused(code: int, err: str, word: str, before: dict, folder) -> None:
    assert code == 2, err
    assert "rack.engraving.logo" in err and word in err, err
    assert "Traceback" not in err
    assert tree_state(folder) == before


# A FIFO would block forever and /dev/zero read until memory runs out: these run in a real
# process with a timeout, so a regression fails instead of hanging the suite.
@pytest.mark.parametrize("make", [
    lambda d: os.mkfifo(d / "logo.svg"),
    lambda d: (d / "logo.svg").symlink_to("/dev/zero"),
], ids=["fifo", "dev-zero"])
@pytest.mark.parametrize("cached", [True, False])
def test_a_logo_that_would_never_end_is_refused_before_it_is_read(in_tmp, make, cached):
    make(in_tmp)
    _with_logo(in_tmp, "logo.svg")
    before = tree_state(in_tmp)
    r = sh("rack", "export", "pdf", "c.toml", *([] if cached else ["--no-cache"]), cwd=in_tmp, timeout=120)
    _assert_logo_refused(r.returncode, r.stderr, "not a regular file", before, in_tmp)


# The other bad logos could not hang a test: in-process (a real process costs ~0.35 s each).
@pytest.mark.parametrize("make, word", [
    (lambda d: (d / "logo.svg").mkdir(), "folder"),
    (lambda d: (d / "logo.svg").write_bytes(b"<svg>" + b" " * LOGO_MAX_BYTES), "limit"),
    (lambda d: (d / "logo.svg").write_text("PNG, not SVG"), "not an SVG"),
    (lambda d: None, "no such file"),
])
@pytest.mark.parametrize("cached", [True, False])
def test_bad_logo_is_refused_before_it_is_read(rack, in_tmp, monkeypatch, make, word, cached):
    monkeypatch.setenv("COLUMNS", "200")  # as sh() runs a command
    make(in_tmp)
    _with_logo(in_tmp, "logo.svg")
    before = tree_state(in_tmp)
    code, out, err = rack("export", "pdf", "c.toml", *([] if cached else ["--no-cache"]))
    _assert_logo_refused(code, err, word, before, in_tmp)


def test_a_good_logo_is_read_and_keyed(in_tmp):
    (in_tmp / "logo.svg").write_text(LOGO)
    text = overlay_text({"rack.engraving.logo": "logo.svg"})
    one = cache.logo_digest(text, in_tmp, "c.toml")
    (in_tmp / "logo.svg").write_text(LOGO.replace('r="5"', 'r="4"'))
    assert cache.logo_digest(text, in_tmp, "c.toml") not in ("", one)
