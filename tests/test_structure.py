"""The shape of the code: short functions, low complexity, no import cycles.

Measured here so that CI keeps it: a function is at most MAX_LINES long (its whole `def`,
docstring included) and its McCabe complexity (ruff's C901, the same count flake8's mccabe
makes) is at most MAX_COMPLEXITY. Imports anywhere in a module, inside functions too, make
an edge of the import graph, and the graph of our own packages has no cycle.

KNOWN lists the offenders this rule was written against; it may only shrink (an entry that
is fixed must be removed, an entry that grows fails).
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pirack", "rackdesign", "bringup")
TREES = (*PACKAGES, "tests", "bench", "tools")
MAX_LINES = 60
MAX_COMPLEXITY = 15

# path:function -> the measure when the rule came in (lines or complexity). Shrink only.
KNOWN_LONG: dict[str, int] = {
}
KNOWN_COMPLEX: dict[str, int] = {
}
# Cycles (as sorted module lists) known when the rule came in. Shrink only.
KNOWN_CYCLES: list[list[str]] = [
]


def _py_files():
    for tree in TREES:
        yield from sorted((ROOT / tree).rglob("*.py"))


def _functions():
    for path in _py_files():
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{rel}:{node.name}", node.end_lineno - node.lineno + 1


def _judge(measured: dict[str, int], known: dict[str, int], limit: int, what: str) -> list[str]:
    bad = [f"{k}: {v} {what} (limit {limit})" for k, v in measured.items() if v > limit and k not in known]
    bad += [f"{k}: grew to {measured[k]} {what} (was {known[k]})" for k in known if measured.get(k, 0) > known[k]]
    bad += [f"{k}: now within the limit: remove it from the known list" for k in known
            if measured.get(k, 0) <= limit]
    return bad


def test_functions_are_short():
    measured: dict[str, int] = {}
    for key, n in _functions():
        measured[key] = max(n, measured.get(key, 0))
    assert not _judge(measured, KNOWN_LONG, MAX_LINES, "lines")


def test_functions_are_simple():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (the test extra brings it)")
    r = subprocess.run([ruff, "check", "--isolated", "--select", "C901", "--config",
                        f"lint.mccabe.max-complexity={MAX_COMPLEXITY}", "--output-format", "json", *TREES],
                       cwd=ROOT, capture_output=True, text=True)
    measured: dict[str, int] = {}
    for item in json.loads(r.stdout or "[]"):
        name, n = item["message"].split("`")[1], int(item["message"].rsplit("(", 1)[1].split(" ")[0])
        key = f"{Path(item['filename']).resolve().relative_to(ROOT).as_posix()}:{name}"
        measured[key] = max(n, measured.get(key, 0))
    assert not _judge(measured, KNOWN_COMPLEX, MAX_COMPLEXITY, "complexity")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Our own modules that `path` imports (anywhere in it); `from pkg import name` counts
    as pkg.name when that is a module, else pkg (its __init__ holds the name)."""
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_pkg else 0)]
                base = ".".join(anchor + ([base] if base else []))
            subs = {f"{base}.{a.name}" for a in node.names} & known
            out.update(subs if len(subs) == len(node.names) else subs | {base})
    return {m for m in out if m.split(".")[0] in PACKAGES}


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph = {}
    for mod, path in files.items():
        graph[mod] = {m for m in _imports(path, mod, set(files)) if m in files and m != mod}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_no_import_cycles():
    cycles = _cycles(import_graph())
    new = [c for c in cycles if c not in KNOWN_CYCLES]
    fixed = [c for c in KNOWN_CYCLES if c not in cycles]
    assert not new, f"import cycles: {new}"
    assert not fixed, f"cycles now gone: remove them from KNOWN_CYCLES: {fixed}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
