"""What `rack` does where the CAD stack is not installed (as on a Pi without the [rack] extra).
These tests are not marked `cad`, so conftest blocks CadQuery and OCP in this process and in the
commands they start: the fallbacks below are what a user without the stack gets."""

import pytest
from helpers import sh, tree_state
from rich.console import Console


def test_the_stack_is_blocked_here():
    with pytest.raises(ImportError):
        import cadquery  # noqa: F401
    r = sh("python3", "-c", "import OCP")
    assert r.returncode == 1 and "ModuleNotFoundError" in r.stderr


def test_export_that_needs_cad_says_what_to_install_and_writes_nothing(in_tmp):
    before = tree_state(in_tmp)
    r = sh("rack", "export", "pdf", "-o", "out", cwd=in_tmp, timeout=120)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "pip install 'pirack[rack]'" in errors[0], r.stderr
    assert tree_state(in_tmp) == before


def test_dxf_export_and_check_work_without_cad_and_say_the_collisions_were_skipped(in_tmp, rack, monkeypatch):
    """In-process, the stack blocked here as in the real process above. A cache folder of its own:
    a CAD test in this worker may have measured the default's collisions and kept them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(in_tmp / "xdg"))
    code, out, err = rack("export", "dxf", "-o", "out")
    assert code == 0, err
    assert list((in_tmp / "out").rglob("*.dxf"))
    code, out, err = rack("check", "--json")
    import json

    skipped = [f for f in json.loads(out)["findings"] if f["code"] == "SKIPPED"]
    assert len(skipped) == 1 and skipped[0]["fix"] == "pip install 'pirack[rack]'"


def test_check_table_prints_finding_text_as_text_not_markup():
    """Rich reads "[rack]" as a style tag: the install hint lost its extra before it was escaped."""
    from rackdesign.checks.report import Report, render_table
    from rackdesign.findings import Finding

    report = Report("a[b].toml", [Finding("warning", "SKIPPED", "skipped: [bold]no[/bold] CAD", fix="pip install 'pirack[rack]'")])
    console = Console(record=True, width=300)
    render_table(report, console)
    text = console.export_text()
    assert "pip install 'pirack[rack]'" in text
    assert "[bold]no[/bold] CAD" in text
    assert "a[b].toml" in text


@pytest.fixture(scope="module")
def imported_in_a_module_fixture():
    """A module-scoped fixture is set up before any function-scoped one: the block must hold here too."""
    try:
        import cadquery  # noqa: F401
    except ImportError:  # "blocked", or "halted" when a cad test of this process imported it first
        return "refused"
    return "imported"


def test_the_stack_is_blocked_in_shared_fixtures_too(imported_in_a_module_fixture):
    assert imported_in_a_module_fixture == "refused"
