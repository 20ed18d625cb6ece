"""The gate: the one place that turns comparisons and errors into pass/fail and an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.model import Comparison, GateResult


@dataclass(frozen=True)
class GatePolicy:
    """What is compared with what, and how strictly."""

    compare: str = "pr"  # variant name
    against: str = "main"  # variant name
    workload: str | None = None  # None: every workload
    metric: str = "wall"
    statistic: str = "median"
    threshold_pct: float = 10.0
    confidence: float = 0.95
    inconclusive: str = "pass"  # "pass" (with a warning) or "fail"


def decide(policy: GatePolicy, comparisons: Sequence[Comparison],
           errors: Sequence[str] = ()) -> GateResult:
    """Pass (0), regression (1) or error (2) from the gated comparisons and any errors."""
    if errors:
        return GateResult("error", 2, "Error: " + errors[0], tuple(comparisons), (), tuple(errors))
    regressions = [c for c in comparisons if c.verdict == "regression"]
    if regressions:
        worst = max(regressions, key=lambda c: c.ratio)
        return GateResult("regression", 1,
                          f"Regression detected ({worst.workload}: {worst.delta_pct:+.1f}%)",
                          tuple(comparisons))
    return GateResult("pass", 0, "No regression detected", tuple(comparisons))
