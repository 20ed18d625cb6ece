"""How start-up grows with what is installed: a robust slope per unit and a curvature flag.

Pure: values in, a frozen :class:`GrowthFit` out. The slope is Theil–Sen's (the median of the
slopes between every pair of points, with its confidence interval), so a few noisy runs do not
tilt it. Curvature is judged by comparing the slopes through the level medians of the lower and
the upper half of the swept values: quadratic growth (``site.addsitedir`` with many ``.pth``
files that each import a module) makes the upper slope a clear multiple of the lower one, and
steeper in (nearly) every bootstrap of the runs, while a straight line gives two slopes about
equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.model import GrowthFit

#: The upper half's slope must be at least this multiple of the lower half's (and steeper in
#: the bootstrap's lower bound) before growth is called faster than linear.
CURVATURE_RATIO = 1.5
#: ... in at least 90 % of the bootstraps of the runs (a flag for a reader, not a gate: one
#: slow run among a handful at a level must not hide a clear curve)
CURVATURE_QUANTILE = 0.10

def _theil_sen(x: Sequence[float], y: Sequence[float],
               confidence: float) -> tuple[float, float, float, float]:
    from scipy import stats

    fit = stats.theilslopes(y, x, alpha=confidence)
    return float(fit.slope), float(fit.intercept), float(fit.low_slope), float(fit.high_slope)


def _pairwise_slope(x: Any, y: Any) -> float:
    """Theil–Sen slope of a few points (the medians of a half of the levels)."""
    import numpy as np

    i, j = np.triu_indices(len(x), k=1)
    return float(np.median((y[j] - y[i]) / (x[j] - x[i])))


def _half_slopes(levels: Sequence[int], samples: Sequence[Sequence[float]],
                 resamples: int = 400) -> tuple[float, float, float]:
    """Slopes through the level medians of the lower and the upper half of the levels (they
    share the middle level), and the lower bound of ``upper - lower`` from a bootstrap of the
    runs within each level (fixed seed; :data:`CURVATURE_QUANTILE`)."""
    import numpy as np

    x = np.asarray(levels, dtype=float)
    middle = len(levels) // 2
    lo, hi = slice(0, middle + 1), slice(middle, len(levels))

    def slopes(medians: Any) -> tuple[float, float]:
        return _pairwise_slope(x[lo], medians[lo]), _pairwise_slope(x[hi], medians[hi])

    runs = [np.asarray(s, dtype=float) for s in samples]
    lower, upper = slopes(np.asarray([np.median(r) for r in runs]))
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(resamples):
        medians = np.asarray([np.median(rng.choice(r, size=len(r))) for r in runs])
        a, b = slopes(medians)
        diffs.append(b - a)
    return lower, upper, float(np.quantile(diffs, CURVATURE_QUANTILE))


def fit_growth(quantity: str, levels: Sequence[int], samples: Sequence[Sequence[float]],
               confidence: float = 0.95, *, variant: str = "", workload: str = "",
               detail: str = "") -> GrowthFit:
    """Fit start-up seconds ``samples[i]`` (the runs at ``levels[i]``) against the levels.

    Needs at least three distinct levels; curvature needs four."""
    import numpy as np

    if len(levels) != len(samples):
        raise ValueError("one list of samples per level")
    order = sorted(range(len(levels)), key=lambda i: levels[i])
    levels_sorted = [int(levels[i]) for i in order]
    samples_sorted = [list(samples[i]) for i in order]
    if len(set(levels_sorted)) < 3 or any(not s for s in samples_sorted):
        raise ValueError("a sweep needs at least three distinct levels, each with samples")
    xs = [float(x) for x, s in zip(levels_sorted, samples_sorted, strict=True) for _ in s]
    ys = [float(v) for s in samples_sorted for v in s]
    slope, intercept, low, high = _theil_sen(xs, ys, confidence)
    curved = False
    lower = upper = slope
    if len(levels_sorted) >= 4:
        lower, upper, steeper_low = _half_slopes(levels_sorted, samples_sorted)
        # a real growth, an upper slope clearly steeper, and steeper beyond the runs' noise
        curved = low > 0 and upper > CURVATURE_RATIO * max(lower, 0.0) and steeper_low > 0
    return GrowthFit(
        variant=variant, workload=workload, quantity=quantity, detail=detail,
        levels=tuple(levels_sorted),
        medians_s=tuple(float(np.median(s)) for s in samples_sorted),
        slope_s=slope, slope_low_s=low, slope_high_s=high, intercept_s=intercept,
        confidence=confidence, lower_slope_s=lower, upper_slope_s=upper, curved=curved,
        n_samples=len(ys))
