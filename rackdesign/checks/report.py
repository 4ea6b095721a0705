"""`rack check` output: a rich table grouped by severity, or JSON for machines."""

from __future__ import annotations

import json

from . import SEVERITIES, Report

STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
MAX_INFO = 12  # info rows shown in the table; --json has all


def _measured(f) -> str:
    if f.value is None:
        return ""
    v = f"{f.value:g} {f.unit or ''}".strip()
    if f.limit is not None:
        v += f" (limit {f.limit:g})"
    return v


def render_table(report: Report, console) -> None:
    from rich.table import Table

    counts = report.counts()
    for sev in SEVERITIES:
        rows = [f for f in report.findings if f.severity == sev]
        if not rows:
            continue
        title = {"error": "errors", "warning": "warnings"}.get(sev, sev)
        t = Table(title=f"{title} ({len(rows)})", title_style=STYLE[sev], show_lines=sev != "info", expand=True,
                  title_justify="left")
        t.add_column("code", style=STYLE[sev], no_wrap=True)
        t.add_column("finding", ratio=3)
        t.add_column("measured", no_wrap=True)
        if sev != "info":
            t.add_column("what to do", ratio=2)
        shown = rows if sev != "info" else rows[:MAX_INFO]
        for f in shown:
            msg = f.message + (f"  [dim](×{f.count})[/]" if f.count > 1 else "")
            cells = [f.code, msg, _measured(f)]
            if sev != "info":
                cells.append(f.fix)
            t.add_row(*cells)
        if len(shown) < len(rows):
            t.add_row("…", f"{len(rows) - len(shown)} more (see --json)", "")
        console.print(t)
    if report.heights:
        hs = ", ".join(f"{k} {v:g}" for k, v in report.heights.items())
        console.print(f"[dim]plate heights (z of the bottom face, mm): {hs}[/]")
    secs = report.stats.get("seconds", {}).get("total")
    verdict = "[bold red]FAIL[/]" if report.exit_code else "[bold green]ok[/]"
    console.print(f"{verdict}: {report.file} — {counts['error']} errors, {counts['warning']} warnings, "
                  f"{counts['info']} info" + (f" ({secs:.2f} s)" if secs is not None else ""))


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
