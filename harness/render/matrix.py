"""A matrix run as a comment and a terminal table: the compact matrix first, each cell's own
report folded below it (pure)."""

from __future__ import annotations

from collections.abc import Callable

from harness.github.wire import MARKER
from harness.model import Comparison, Report
from harness.render.common import bold_verdict, final_line, fit, fmt_change, headline, md_table
from harness.render.escape import MESSAGE_LIMIT, clip, html_text, md_cell, md_code, md_text, size

#: A cell's folded report gets at least this many bytes, else it is left out whole.
MIN_CELL = 600
#: The matrix table lists this many cells when all of them do not fit.
FEW_ROWS = 40


def cell_verdict(cell: Report) -> str:
    """``❌ regression`` / ``✅ no change`` / ``❌ error`` for one cell."""
    g = cell.gate
    if g.status == "error":
        return "❌ error"
    gated = g.comparisons
    verdicts = {c.verdict for c in gated}
    for verdict, icon in (("regression", "❌"), ("inconclusive", "⚠️"),
                          ("improvement", "✅"), ("no change", "✅")):
        if verdict in verdicts:
            return f"{icon} {verdict}"
    return "✅ pass" if g.exit_code == 0 else "❌ fail"


def _gated(cell: Report) -> Comparison | None:
    gated = sorted(cell.gate.comparisons, key=lambda c: -c.ratio)
    return gated[0] if gated else None


def _vs_baseline(cell: Report) -> Comparison | None:
    baseline = cell.variant_with_role("baseline")
    compare = cell.gate_config.compare
    if baseline is None or compare is None:
        return None
    return next((c for c in cell.comparisons if c.subject == compare
                 and c.reference == baseline.name and c.metric == "wall"), None)


def matrix_rows(report: Report, text: Callable[[str], str], detail: bool = True
                ) -> tuple[list[str], list[list[str]]]:
    """Headers and one row per cell: change vs the gate's reference, verdict (with the first
    error when ``detail``), vs baseline."""
    against = report.gate_config.against
    label = next((v.label for v in report.variants if v.name == against), against)
    with_baseline = any(_vs_baseline(c) for c in report.cells)
    headers = ["Cell", f"vs {text(label)} (gated)", "Verdict"]
    if with_baseline:
        headers.append("vs baseline")
    rows = []
    for cell in report.cells:
        gated = _gated(cell)
        change = fmt_change(gated) if gated else "—"
        verdict = cell_verdict(cell)
        if detail and cell.gate.status == "error" and cell.errors:
            verdict += ": " + text(clip(cell.errors[0], 160))
        row = [text(cell.cell), change, verdict]
        if with_baseline:
            base = _vs_baseline(cell)
            row.append(fmt_change(base) if base else "—")
        rows.append(row)
    return headers, rows


def render_markdown(report: Report, render_body: Callable[[Report, int], str],
                    budget: int) -> str:
    """The matrix comment within ``budget`` UTF-8 bytes: verdict, the matrix table, then
    each cell's report folded (each fitted whole-block to its share by ``render_body``),
    the closing line last. Nothing is cut inside a table, a code span or a ``<details>``."""
    headers, rows = matrix_rows(report, md_cell)
    head = "\n".join([MARKER, bold_verdict(_headline(report, md_code, md_text))])
    final = final_line(report, lambda t: md_text(t, MESSAGE_LIMIT))
    title = f"### {md_text(report.title)}"
    explain = (f"Each cell is built, timed (interleaved within itself) and judged on its own; "
               f"rounds never pair across cells or jobs. The gate is the worst cell's "
               f"(threshold {report.gate_config.threshold_pct:g} %).")
    tables = [md_table(headers, rows)]
    if len(rows) > FEW_ROWS:
        order = sorted(range(len(rows)), key=lambda i: report.cells[i].gate.exit_code == 0)
        few = [rows[i] for i in sorted(order[:FEW_ROWS])]
        tables.append(md_table(headers, few) + f"\n\n… and {len(rows) - FEW_ROWS} more "
                      "cells (report.json)")
    room = budget - size(head) - size(final) - 8
    top = fit([[title], tables, [explain]], room, names=["title", "matrix", "explanation"])
    left = room - size(top) - 202  # 200: the line saying which cells were left out
    blocks: list[list[str]] = []
    share = left // max(len(report.cells), 1) - 120
    for cell in report.cells:
        summary = f"<details><summary>{html_text(cell.cell)} — {cell_verdict(cell)}</summary>"
        if share < MIN_CELL:
            blocks.append([])
            continue
        body = render_body(cell, share - size(summary) - 20).strip("\n")
        blocks.append([f"{summary}\n\n{body}\n\n</details>"])
    names = [f"cell {i + 1}" for i in range(len(report.cells))]
    cells = fit([b for b in blocks if b], left, names=[n for n, b in zip(names, blocks,
                                                                        strict=True) if b])
    if any(not b for b in blocks):
        cells = "\n\n".join(x for x in (cells, f"_{sum(not b for b in blocks)} cells' details "
                                          "left out to fit GitHub's comment limit; "
                                          "report.json has them._") if x)
    return "\n\n".join(x for x in (head, top, cells, final) if x) + "\n"


def _headline(report: Report, code: Callable[[str], str], text: Callable[[str], str]) -> str:
    worst = next((c for c in report.cells if c.gate.exit_code == report.gate.exit_code),
                 None)
    if worst is None:
        return headline(report, code=code, text=text)
    same = [c.cell for c in report.cells if c.gate.status == worst.gate.status]
    where = text(", ".join(same)) if worst.gate.exit_code else text(worst.cell)
    count = (f" ({len(same)} of {len(report.cells)} cells)" if worst.gate.exit_code
             else f" (worst of {len(report.cells)} cells)")
    return f"{headline(worst, code=code, text=text)} — in {where}" + (
        count if len(report.cells) > 1 else "")


def render_terminal(report: Report, width: int,
                    fit: Callable[[list[str], list[list[str]], int], str]) -> str:
    """The matrix as a terminal table, the verdict last."""
    import textwrap

    headers, rows = matrix_rows(report, lambda s: clip(s, 200), detail=False)
    title = clip(report.title, width)
    out = [title, "=" * min(len(title), width), "", fit(headers, rows, width), ""]
    for error in report.errors[:20]:
        out += textwrap.wrap(f"error: {clip(error, MESSAGE_LIMIT)}", width, subsequent_indent="  ")
    out += textwrap.wrap(_headline(report, clip, clip), width,
                         subsequent_indent="  ")
    return "\n".join(out) + "\n"
