"""How start-up grows with what is installed: a robust slope per unit and a curvature flag.

Pure: values in, a frozen :class:`GrowthFit` out. The slope is Theil–Sen's (the median of the
slopes between every pair of points, with its confidence interval), so a few noisy runs do not
tilt it. Curvature is judged by comparing the Theil–Sen slopes of the lower and the upper half
of the swept values: quadratic growth (``site.addsitedir`` with many ``.pth`` files that each
import a module) makes the upper slope a clear multiple of the lower one, while a straight line
gives two slopes whose intervals overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The upper half's slope must be at least this multiple of the lower half's (and their
#: intervals apart) before growth is called faster than linear.
CURVATURE_RATIO = 1.25

#: What one unit of each swept quantity is called in a sentence.
UNITS = {
    "sys_path_entries": "sys.path entry",
    "site_roots": "site-packages root",
    "distributions": "installed distribution",
    "pth_files": ".pth file",
}


@dataclass(frozen=True)
class GrowthFit:
    """Start-up time against a swept quantity: slope per unit (seconds) with its interval."""

    quantity: str
    levels: tuple[int, ...]  # the swept values, ascending
    medians_s: tuple[float, ...]  # median start-up at each level
    slope_s: float  # seconds per unit (Theil–Sen over every sample)
    slope_low_s: float
    slope_high_s: float
    intercept_s: float
    confidence: float
    lower_slope_s: float  # Theil–Sen slope over the lower half of the levels
    upper_slope_s: float  # ... and over the upper half
    curved: bool  # growth clearly faster than linear
    n_samples: int

    @property
    def unit(self) -> str:
        return UNITS.get(self.quantity, self.quantity)

    def cost_s(self, count: float) -> float:
        """Estimated start-up cost of ``count`` units (linear; see :attr:`curved`)."""
        return self.slope_s * count

    def sentence(self) -> str:
        """``each sys.path entry costs 0.29 ms [0.27, 0.31]`` (plus the curvature warning)."""
        text = (f"each {self.unit} costs {self.slope_s * 1e3:.3g} ms "
                f"[{self.slope_low_s * 1e3:.3g}, {self.slope_high_s * 1e3:.3g}]")
        if self.curved:
            text += (f"; growth is faster than linear (the slope over the upper half is "
                     f"{self.upper_slope_s / self.lower_slope_s:.1f}× the lower half's)"
                     if self.lower_slope_s > 0 else "; growth is faster than linear")
        return text


def _theil_sen(x: Sequence[float], y: Sequence[float],
               confidence: float) -> tuple[float, float, float, float]:
    from scipy import stats

    fit = stats.theilslopes(y, x, alpha=confidence)
    return float(fit.slope), float(fit.intercept), float(fit.low_slope), float(fit.high_slope)


def fit_growth(quantity: str, levels: Sequence[int], samples: Sequence[Sequence[float]],
               confidence: float = 0.95) -> GrowthFit:
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
    middle = len(levels_sorted) // 2
    lower_levels = set(levels_sorted[:middle + 1])
    upper_levels = set(levels_sorted[middle:])
    curved = False
    lower = upper = slope
    if len(levels_sorted) >= 4:
        lx = [x for x in xs if x in lower_levels]
        ly = [y for x, y in zip(xs, ys, strict=True) if x in lower_levels]
        ux = [x for x in xs if x in upper_levels]
        uy = [y for x, y in zip(xs, ys, strict=True) if x in upper_levels]
        lower, _, _, lower_high = _theil_sen(lx, ly, confidence)
        upper, _, upper_low, _ = _theil_sen(ux, uy, confidence)
        curved = upper_low > lower_high and upper > CURVATURE_RATIO * max(lower, 0.0) and \
            upper > 0
    return GrowthFit(
        quantity=quantity, levels=tuple(levels_sorted),
        medians_s=tuple(float(np.median(s)) for s in samples_sorted),
        slope_s=slope, slope_low_s=low, slope_high_s=high, intercept_s=intercept,
        confidence=confidence, lower_slope_s=lower, upper_slope_s=upper, curved=curved,
        n_samples=len(ys))
