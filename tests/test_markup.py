"""What a person wrote (a path, a part's name) or a daemon said is printed as it is: rich reads
`[word]` as a style and `[/]` as a closing tag, so an unescaped value lost its brackets or
stopped the command with a MarkupError traceback."""

import dataclasses

from rich.console import Console

HOSTILE = "Fan [40 mm] [/] [bold]x"


def _text(renderable) -> str:
    c = Console(width=400, record=True, color_system=None)
    c.print(renderable)
    return c.export_text()


def test_init_prints_the_path_it_wrote(rack, in_tmp):
    code, out, err = rack("init", "a[x]b.toml")
    assert code == 0 and (in_tmp / "a[x]b.toml").is_file(), err
    assert "a[x]b.toml" in " ".join(out.split()), out


def test_init_with_a_closing_tag_in_the_path_does_not_stop(rack, in_tmp):
    code, out, err = rack("init", "c[/]d.toml")
    assert code == 0 and "MarkupError" not in out + err, err
    assert (in_tmp / "c[" / "]d.toml").is_file()
    assert "c[/]d.toml" in " ".join(out.split())


def test_bom_names_its_output_as_given(rack, in_tmp):
    code, _out, err = rack("bom", "--format", "csv", "--out", "bom[b].csv")
    assert code == 0 and (in_tmp / "bom[b].csv").is_file(), err
    assert "wrote bom[b].csv" in err


def test_bom_table_keeps_a_part_name_with_brackets():
    from pirack.load import load_cluster
    from rackdesign.bom import build_bom
    from rackdesign.bom_render import render_table
    from rackdesign.layout import build_layout

    lc = load_cluster(None)
    b = build_bom(lc, build_layout(lc))
    b = dataclasses.replace(b, lines=[dataclasses.replace(b.lines[0], name=HOSTILE, name_ja=HOSTILE,
                                                          note_en=HOSTILE, note_ja=HOSTILE), *b.lines[1:]])
    for lang in ("en", "ja"):
        assert _text(render_table(b, lang)).count(HOSTILE) == 2


def test_lab_checks_table_keeps_what_a_probe_said():
    from bringup.lab.checks import Check
    from bringup.lab.cli import checks_table

    text = _text(checks_table("x", [Check("DNS", "slave1", False, HOSTILE)], 1.0))
    assert HOSTILE in text and "FAIL" in text


def test_fleet_summary_keeps_ansibles_message():
    from bringup.fleet.cli import _summary_table
    from bringup.fleet.driver import NodeResult

    text = _text(_summary_table([NodeResult("slave1", "failed", None, 0, "[WARNING]: " + HOSTILE)], False, 1.0))
    assert "[WARNING]: " + HOSTILE in text and "failed" in text
