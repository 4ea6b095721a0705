"""`rack init|validate|schema` and the exit codes, as a user meets them."""

import json
import tomllib

import pytest

from helpers import sh


def test_validate_default(rack, in_tmp):
    code, out, err = rack("validate")
    assert code == 0, err
    assert "master" in out and "192.168.50.1" in out and "slave1" in out


def test_init_then_validate(rack, in_tmp):
    code, out, err = rack("init", "--nodes", "4", "c4.toml")
    assert code == 0, err
    data = tomllib.loads((in_tmp / "c4.toml").read_text())
    assert [n["role"] for n in data["nodes"]] == ["master", "slave", "slave", "slave"]
    code, out, err = rack("validate", "c4.toml")
    assert code == 0, err
    assert "slave3" in out


def test_init_never_overwrites(rack, in_tmp):
    p = in_tmp / "cluster.toml"
    p.write_text("# mine\n")
    code, out, err = rack("init", str(p))
    assert code == 2 and "--force" in err
    assert p.read_text() == "# mine\n"
    code, out, err = rack("init", "--force", str(p))
    assert code == 0 and "[[nodes]]" in p.read_text()


@pytest.mark.parametrize("n", ["500", "65", "0", "-1"])
def test_init_bad_node_count(rack, in_tmp, n):
    """One line naming the option and the range, whichever side it is out on (0 and -1 got
    typer's boxed usage error, 65 our line)."""
    code, out, err = rack("init", f"--nodes={n}", "x.toml")
    assert code == 2 and not (in_tmp / "x.toml").exists()
    assert err.strip() == f"error: --nodes: {n}: must be between 1 and 64", err


def test_written_files_get_the_mode_a_person_expects(rack, in_tmp):
    """`rack init`, `rack schema --out` and `rack bom --out` wrote 0600 whatever the umask, and
    `init --force` turned a 0640 cluster file into 0600: a new file gets 0666 less the umask,
    a replaced one keeps its mode."""
    import os

    old = os.umask(0o027)
    try:
        assert rack("init", "c.toml")[0] == 0
        assert rack("schema", "--out", "s.json")[0] == 0
        assert rack("bom", "c.toml", "--format", "csv", "--out", "b.csv")[0] == 0
        (in_tmp / "kept.toml").write_text("# mine\n")
        os.chmod(in_tmp / "kept.toml", 0o604)
        assert rack("init", "--force", "kept.toml")[0] == 0
    finally:
        os.umask(old)
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in in_tmp.iterdir()}
    assert modes == {"c.toml": "0o640", "s.json": "0o640", "b.csv": "0o640", "kept.toml": "0o604"}


def test_schema_is_json(rack, in_tmp):
    code, out, err = rack("schema")
    assert code == 0
    schema = json.loads(out)
    assert "nodes" in schema["properties"]


def test_bad_input_exit_2_without_traceback(in_tmp, rack):
    """A real process for a bad file; a missing one in-process (the same handler)."""
    (in_tmp / "bad.toml").write_text('[cluster]\nname = "x"\n[[nodes]]\nname = 5\n')
    r = sh("rack", "validate", "bad.toml", cwd=in_tmp)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "bad.toml" in r.stderr
    code, out, err = rack("validate", "missing.toml")
    assert code == 2 and "missing.toml" in err and "Traceback" not in err


def test_usage_error_exit_2(in_tmp, bringup_cli):
    """A real process for the usage error; the help in-process."""
    r = sh("rack", "validate", "--no-such-option", cwd=in_tmp)
    assert r.returncode == 2
    code, out, err = bringup_cli("--help")
    assert code == 0 and "bringup" in out


@pytest.mark.parametrize("name", ['x"\nengrave = false\n#', 'a"b', "a b", "ü", "-x", "x" * 64])
def test_init_name_is_a_cluster_name_before_it_reaches_the_file(rack, in_tmp, name):
    """--name goes into the template's `name = "..."`: a quote and a newline would add a line
    of the person's choosing (one the schema accepts, like `engrave = false`)."""
    code, out, err = rack("init", "--name", name, "c.toml")
    assert code == 2 and err.startswith("error: --name: expected a cluster name"), err
    assert not (in_tmp / "c.toml").exists()
