"""`rack check`'s report: its findings and the plates' heights, as a rich table grouped by
severity, or JSON for machines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from pirack.errors import WorkFailed

from ..findings import SEVERITIES, Finding

if TYPE_CHECKING:  # rich's tables are imported when a table is drawn
    from rich.table import Table

STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
MAX_INFO = 12  # info rows shown in the table; --json has all


@dataclass
class Report:
    file: str
    findings: list[Finding]
    heights: dict[str, float] = field(default_factory=dict)  # plate -> z of its bottom face (mm)
    stats: dict = field(default_factory=dict)  # timings and counts

    @property
    def to_measure(self) -> list[Finding]:
        """The warnings that hang on a figure to measure (each says what to measure)."""
        return [f for f in self.findings if f.severity == "warning" and f.measure]

    @property
    def design_warnings(self) -> list[Finding]:
        """The warnings about the design itself (not about a figure to measure)."""
        return [f for f in self.findings if f.severity == "warning" and not f.measure]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    @property
    def failed(self) -> bool:
        """The design has errors."""
        return any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        fs = sorted(self.findings, key=lambda f: order[f.severity])
        return {"file": self.file, "findings": [f.to_dict() for f in fs],
                "summary": {**self.counts(), "exit": int(self.failed)}, "heights": self.heights, "stats": self.stats}


class DesignFailed(WorkFailed):
    """The design has errors: exit 1. `rack check` has printed them already; a caller that has
    not (an export refusing the design) passes `list_errors=True` to have them listed."""

    def __init__(self, report: Report, list_errors: bool = False):
        errors = [f for f in report.findings if f.severity == "error"]
        super().__init__(f"{report.file}: the design has {len(errors)} error{'s' if len(errors) != 1 else ''}",
                         details=[f"{f.code}: {f.sentence}" + (f" — {f.fix}" if f.fix else "") for f in errors]
                         if list_errors else [],
                         data=report.to_dict())
        self.report = report


def _measured(f: Finding) -> str:
    if f.value is None:
        return ""
    v = f"{f.value:g} {f.unit or ''}".strip()
    if f.limit is not None:
        v += f" (limit {f.limit:g})"
    return v


def render_table(report: Report, console: Console) -> None:
    for sev in SEVERITIES:
        rows = [f for f in report.findings if f.severity == sev]
        if rows:
            console.print(_severity_table(sev, rows))
    _print_summary(report, console)


def _severity_table(sev: str, rows: list[Finding]) -> Table:
    """One severity's findings as a table (info rows cut at MAX_INFO: --json has all)."""
    from rich.table import Table

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
        # finding text is data, not markup: "pip install 'pirack[rack]'" must keep its [rack]
        msg = escape(f.sentence) + (f"  [dim](×{f.count})[/]" if f.count > 1 else "")
        cells = [escape(f.code), msg, escape(_measured(f))]
        if sev != "info":
            cells.append(escape(_what_to_do(f)))
        t.add_row(*cells)
    if len(shown) < len(rows):
        t.add_row("…", f"{len(rows) - len(shown)} more (see --json)", "")
    return t


def _what_to_do(f: Finding) -> str:
    return f"measure: {f.measure}" + (f"; {f.fix}" if f.fix else "") if f.measure else f.fix


def _print_summary(report: Report, console: Console) -> None:
    """The plates' heights and the verdict line with the counts."""
    counts = report.counts()
    if report.heights:
        hs = ", ".join(f"{k} {v:g}" for k, v in report.heights.items())
        console.print(f"[dim]plate heights (z of the bottom face, mm): {escape(hs)}[/]")
    secs = report.stats.get("seconds", {}).get("total")
    verdict = "[bold red]FAIL[/]" if report.failed else "[bold green]ok[/]"
    console.print(f"{verdict}: {escape(str(report.file))} — {counts['error']} errors, {counts['warning']} warnings, "
                  f"{counts['info']} info" + (f" ({secs:.2f} s)" if secs is not None else ""))


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
