"""A matrix run as a comment and a terminal table: the compact matrix first, each cell's own
report folded below it (pure)."""

from __future__ import annotations

from collections.abc import Callable

from harness.github.wire import MARKER
from harness.model import Comparison, Report
from harness.render.common import fmt_change, headline, md_table
from harness.render.escape import md_cell, md_code, md_text
from harness.render.verdict import bold_verdict, final_line

#: What the cells' folded details may take of the comment in all (GitHub's limit is 65,536).
DETAILS_BUDGET = 52_000


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
            verdict += ": " + text(_clip(cell.errors[0], 160))
        row = [text(cell.cell), change, verdict]
        if with_baseline:
            base = _vs_baseline(cell)
            row.append(fmt_change(base) if base else "—")
        rows.append(row)
    return headers, rows


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_markdown(report: Report, render_cell: Callable[[Report], str]) -> str:
    """The matrix comment: verdict, the matrix table, then each cell's report folded."""
    headers, rows = matrix_rows(report, md_cell)
    parts = [MARKER, bold_verdict(_headline(report, md_code, md_text)), "",
             f"### {md_text(report.title)}", "", md_table(headers, rows), "",
             f"Each cell is built, timed (interleaved within itself) and judged on its own; "
             f"rounds never pair across cells or jobs. The gate is the worst cell's "
             f"(threshold {report.gate_config.threshold_pct:g} %).", ""]
    share = DETAILS_BUDGET // max(len(report.cells), 1)
    for cell in report.cells:
        body = render_cell(cell).removeprefix(MARKER).strip("\n").replace(
            f"\n### {md_text(report.title)}\n", "\n", 1)
        if len(body) > share:
            body = body[: share - 120] + "\n\n_This cell's details were cut to fit GitHub's " \
                "limit; see report.json._"
        parts += [f"<details><summary>{md_text(cell.cell)} — {cell_verdict(cell)}</summary>",
                  "", body, "", "</details>", ""]
    parts.append(final_line(report))  # the seed's closing line, for the whole matrix
    return "\n".join(parts).rstrip("\n") + "\n"


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

    headers, rows = matrix_rows(report, lambda s: " ".join(s.split()), detail=False)
    title = " ".join(report.title.split())
    out = [title, "=" * min(len(title), width), "", fit(headers, rows, width), ""]
    for error in report.errors:
        out += textwrap.wrap(f"error: {error}", width, subsequent_indent="  ")
    out += textwrap.wrap(_headline(report, lambda s: s, lambda s: s), width,
                         subsequent_indent="  ")
    return "\n".join(out) + "\n"
