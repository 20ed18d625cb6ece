"""Pure statistics over timing samples: summaries and paired ratio-of-medians comparisons."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from harness.model import Comparison, Samples, Summary


def summarize(values: Sequence[float]) -> Summary:
    """Descriptive statistics of ``values`` (sample stddev; 0 for a single value)."""
    if not values:
        raise ValueError("no values to summarize")
    return Summary(
        n=len(values), mean=statistics.fmean(values), median=statistics.median(values),
        stddev=statistics.stdev(values) if len(values) > 1 else 0.0,
        min=min(values), max=max(values),
    )


def compare(subject: Samples, reference: Samples, *, statistic: str = "median",
            threshold_pct: float = 10.0, confidence: float = 0.95) -> Comparison:
    """subject vs reference: ratio of ``statistic`` and a verdict at ``threshold_pct``."""
    pick = statistics.median if statistic == "median" else statistics.fmean
    ratio = pick(subject.values) / pick(reference.values)
    limit = threshold_pct / 100.0
    if ratio > 1 + limit:
        verdict = "regression"
    elif ratio < 1 - limit:
        verdict = "improvement"
    else:
        verdict = "no change"
    return Comparison(
        subject=subject.variant, reference=reference.variant, workload=subject.workload,
        metric=subject.metric, statistic=statistic, ratio=ratio, ci_low=None, ci_high=None,
        confidence=confidence, threshold_pct=threshold_pct, verdict=verdict,
        method="point estimate", n_pairs=0,
    )
