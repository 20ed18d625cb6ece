"""Confidence levels as labels show them (pure, standard library only, so renderers can use
it without numpy): every interval is labelled with its own level — with ``runs: auto`` the
gated interval is at the last look's level (e.g. 99.75 %), the others at the policy's (95 %).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.model import Comparison


def level_text(confidence: float, sep: str = " ") -> str:
    """``95 %`` or ``99.75 %``: an interval's own confidence level, as every label shows it."""
    return f"{confidence * 100:.4g}{sep}%"


def levels_text(comparisons: Sequence[Comparison], sep: str = " ",
                label: Callable[[str], str] = str) -> str:
    """The confidence level of a set of intervals, each with its own: ``95 %``, or ``95 %
    (This PR vs main: 99.75 %)`` when some (the gated one of ``runs: auto``) differ from the
    rest (variants named by ``label``; the metric too when the set mixes metrics); ``""``
    without intervals."""
    with_ci = [c for c in comparisons if c.ci_low is not None and c.ci_high is not None]
    if not with_ci:
        return ""
    levels = [c.confidence for c in with_ci]
    common = max(dict.fromkeys(levels), key=levels.count)
    mixed = len({c.metric for c in with_ci}) > 1
    others = dict.fromkeys(f"{label(c.subject)} vs {label(c.reference)}"
                           f"{f' {c.metric}' if mixed else ''}: {level_text(c.confidence, sep)}"
                           for c in with_ci if c.confidence != common)
    text = level_text(common, sep)
    return text + (f" ({'; '.join(others)})" if others else "")
