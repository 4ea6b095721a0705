"""Every finding code the layout and the checks can emit is declared once (findings.CODES) and
listed, with its meaning, by `rack check --help`, which is generated from that registry.

The emitted codes are read from the source with ast: the code argument of every Finding,
LayoutError and ScrewChoice built anywhere in rackdesign (a string, a conditional of strings, a
local variable assigned strings, or a `.code` handed on from one of those)."""

import ast
import functools
import re
from pathlib import Path

from helpers import ROOT

from rackdesign.findings import CODES

# the constructors that carry a finding code, and the position of their code argument
CODE_ARG = {"Finding": 1, "LayoutError": 0, "ScrewChoice": 5}


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _code_expr(node: ast.Call) -> ast.expr | None:
    for kw in node.keywords:
        if kw.arg == "code":
            return kw.value
    pos = CODE_ARG[_call_name(node)]
    return node.args[pos] if len(node.args) > pos else None


def _assigned(func: ast.AST, name: str) -> list[ast.expr]:
    """The values a function assigns to a local `name`."""
    return [n.value for n in ast.walk(func) if isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]


def _strings(expr: ast.expr, func: ast.AST, where: str) -> set[str]:
    """The code strings an expression can be; a form this cannot read fails the test."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _strings(expr.body, func, where) | _strings(expr.orelse, func, where)
    if isinstance(expr, ast.BoolOp):
        return set().union(*(_strings(v, func, where) for v in expr.values))
    if isinstance(expr, ast.Attribute) and expr.attr == "code":
        return set()  # handed on from a LayoutError or ScrewChoice, whose codes are collected where built
    if isinstance(expr, ast.Name) and _assigned(func, expr.id):
        return set().union(*(_strings(v, func, where) for v in _assigned(func, expr.id)))
    raise AssertionError(f"{where}: cannot tell which finding code {ast.unparse(expr)!r} is")


def _functions(tree: ast.Module):
    """(the enclosing function or the module, a call in it) for every call of the tree."""
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    seen = set()
    for scope in reversed(scopes):  # innermost function first: a call belongs to the closest one
        for node in ast.walk(scope):
            if isinstance(node, ast.Call) and id(node) not in seen:
                seen.add(id(node))
                yield scope, node


@functools.cache  # the two tests below read the same sources: parsed once
def emitted_codes() -> dict[str, frozenset[str]]:
    """Finding code -> the source files that emit it."""
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / "rackdesign").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for func, call in _functions(ast.parse(path.read_text(), rel)):
            if _call_name(call) not in CODE_ARG or (expr := _code_expr(call)) is None:
                continue
            for code in _strings(expr, func, f"{rel}:{call.lineno}"):
                out.setdefault(code, set()).add(rel)
    return {code: frozenset(files) for code, files in out.items()}


def test_every_emitted_code_is_in_the_registry():
    emitted = emitted_codes()
    # the reader finds codes in the layout and in each check module (those the old help left out too)
    assert {"MEASURE", "STABILITY", "SUPPORT_BONDED", "NO_SCREW", "LAYOUT", "SKIPPED"} <= set(emitted)
    assert "rackdesign/checks/measure.py" in emitted["MEASURE"]
    assert "rackdesign/checks/stability.py" in emitted["STABILITY"]
    unknown = {c: sorted(f) for c, f in emitted.items() if c not in CODES}
    assert not unknown, f"codes emitted but not declared in rackdesign.findings.CODES: {unknown}"


def test_every_registered_code_is_emitted_somewhere():
    """No stale entry: a code nothing emits would be documented for nothing."""
    assert sorted(set(CODES) - set(emitted_codes())) == []


def test_check_help_lists_every_code_with_its_meaning(rack, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per code (the help is laid out when asked for)
    code, out, err = rack("check", "--help")
    assert code == 0, err
    lines = {" ".join(line.split()) for line in out.splitlines()}
    missing = [c for c, meaning in CODES.items() if " ".join(f"{c} {meaning}".split()) not in lines]
    assert not missing, f"`rack check --help` does not list: {missing}"
    assert all(meaning and "\n" not in meaning for meaning in CODES.values())  # one line each


def test_check_help_is_generated_from_the_registry(monkeypatch):
    from rackdesign import cli, findings

    monkeypatch.setitem(findings.CODES, "NEW_CODE", "a code declared only in the registry")
    assert re.search(r"^\s+NEW_CODE\s+a code declared only in the registry$", cli._check_help(), re.MULTILINE)


def test_the_reader_rejects_a_code_it_cannot_tell():
    tree = ast.parse("def f(x):\n    return Finding('error', x.name, 'm')\n")
    func = tree.body[0]
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    try:
        _strings(_code_expr(call), func, "t.py:2")
    except AssertionError as exc:
        assert "x.name" in str(exc)
    else:
        raise AssertionError("an unreadable code expression passed")


def test_the_reader_follows_a_local_variable():
    src = Path(ROOT / "rackdesign/stack.py").read_text()
    assert 'code = "SCREW_ENGAGEMENT" if' in src  # the form this test exercises is still there
    tree = ast.parse("def f(a):\n    code = 'A' if a else 'B'\n    return ScrewChoice(1, 2, 3, 4, 5, code)\n")
    func = tree.body[0]
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and _call_name(n) == "ScrewChoice")
    assert _strings(_code_expr(call), func, "t.py:3") == {"A", "B"}
