"""The verdict's lines shared by the PR comment and the matrix comment (pure): the headline
in bold and the seed's closing line."""

from __future__ import annotations

from harness.model import Report
from harness.render.common import fmt_delta
from harness.render.escape import md_text


def label(report: Report, name: str) -> str:
    """A variant's label (its name when the report does not know it)."""
    try:
        return report.variant(name).label
    except KeyError:
        return name


def bold_verdict(text: str) -> str:
    """A headline in bold up to its threshold (or its explanation)."""
    for cut in (" (threshold", ": within", ": inconclusive", " (no gate)"):
        if cut in text:
            head, sep, tail = text.partition(cut)
            return f"**{head}**{sep}{tail}"
    return f"**{text}**"


def final_line(report: Report) -> str:
    """The seed's closing ✅ / ❌ line, from the gate's decision."""
    g = report.gate
    icon = {"pass": "✅", "regression": "❌", "off": "ℹ️"}.get(g.status, "❌")
    text = f"{icon} {md_text(g.headline)}"
    compared = [c for c in g.comparisons if c.subject == report.gate_config.compare]
    if compared and g.status != "error":
        c = compared[0]
        text += (f": {md_text(label(report, c.subject))} is {fmt_delta(c)} vs "
                 f"{md_text(label(report, c.reference))}")
    return text
