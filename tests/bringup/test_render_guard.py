"""The renderers' own defence (bringup/render/guard.py): a value with a newline or another control
character never becomes a line of a daemon's configuration, whatever field it comes in by."""

from pathlib import Path

import pytest

from bringup.render import RenderOptions, Secrets, render_node
from overlay import load_cases, overlay_text, split_key
from pirack.errors import InputError
from pirack.load import load_text

from bringup_helpers import SECRET

CASES = load_cases(Path(__file__).parent / "cases" / "hostile-values.toml")


def set_value(model, steps, value):
    """A copy of the description with one value replaced, without validation (the loader's
    grammar would refuse it first; here the renderers must refuse it on their own)."""
    head, rest = steps[0], steps[1:]
    if isinstance(head, int):
        items = list(model)
        items[head] = set_value(items[head], rest, value) if rest else value
        return items
    return model.model_copy(update={head: set_value(getattr(model, head), rest, value) if rest else value})


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_renderers_refuse_it_naming_the_key(case):
    lc = load_text(overlay_text(case.get("patch")), "hostile.toml")
    spec = set_value(lc.spec, split_key(case["key"]), case["value"])
    for node in spec.nodes:
        with pytest.raises(InputError) as exc:
            render_node(spec, node.name, secrets=Secrets(SECRET))
        assert exc.value.key == case["key"] and "U+" in exc.value.message
        assert case["value"] not in exc.value.render()  # the value itself is never printed


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_plan_refuses_the_file(case, bringup_cli, tmp_path, secret_env):
    """The same value in a cluster file: `bringup plan` exits 2 naming the key (at load, or in the
    renderers), plans nothing and writes nothing. (How the loader's message shows the value is
    the loader's business; the renderers' never shows it, see above.)"""
    f = tmp_path / "cluster.toml"
    f.write_text(overlay_text({**case.get("patch", {}), case["key"]: case["value"]}))
    root = tmp_path / "root"
    root.mkdir()
    code, out, err = bringup_cli("plan", str(f), "--node", "master", "--root", str(root))
    assert code == 2 and "Traceback" not in err, err
    assert case["key"] in err
    assert out == ""  # not one line of a plan
    assert list(root.iterdir()) == []


def test_a_secret_with_a_newline_is_refused_unseen():
    from pirack.load import load_cluster

    community = "abcdefgh\nrwcommunity owned 0.0.0.0/0"
    with pytest.raises(InputError) as exc:
        render_node(load_cluster(None), "master", secrets=Secrets(community))
    assert exc.value.file == "secrets" and exc.value.key == "snmp_community"
    assert "owned" not in exc.value.render()


def test_render_options_are_checked_too():
    from pirack.load import load_cluster

    with pytest.raises(InputError) as exc:
        render_node(load_cluster(None), "master", secrets=Secrets(SECRET),
                    options=RenderOptions(path_prefix="/tmp/lab\nlog-queries"))
    assert exc.value.key == "path_prefix"


def test_what_comes_out_is_checked_as_well(monkeypatch):
    """A value from anywhere else (here a renderer that adds a carriage return): the rendered
    file is refused before anything is written."""
    import bringup.render.chrony as chrony
    from pirack.load import load_cluster

    real = chrony.config
    monkeypatch.setattr(chrony, "config", lambda spec, node, opts: real(spec, node, opts) + "makestep 1 3\r\n")
    with pytest.raises(InputError, match=r"/etc/chrony/chrony.conf.*U\+000D"):
        render_node(load_cluster(None), "slave1")


def test_free_text_that_is_never_rendered_is_not_the_renderers_business():
    """The rack's design and the description are never rendered by bring-up: whatever the loader
    thinks of them, the renderers do not refuse a node's plan for them."""
    from pirack.load import load_cluster

    spec = load_cluster(None).spec
    spec = set_value(spec, split_key("cluster.description"), "two Pis\nin an acrylic rack")
    spec = set_value(spec, split_key("rack.fabricator"), "any\nthing")
    assert render_node(spec, "slave1").file("/etc/hostname").content == "slave1\n"
