"""Small distribution and rank functions the default analysis needs, without scipy.

Importing ``scipy.stats`` costs about 0.6 s on top of numpy (measured on this project's runner),
more than the rest of a run's analysis; every ``runs: auto`` look and every report paid it for
four numbers: a Student-t quantile, average ranks, Theil-Sen's slope and Kendall's trend test.
These are here, pure and checked against scipy in the tests (``tests/test_rankstats.py``).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

#: Up to this many degrees of freedom the t quantile inverts the exact CDF; beyond, a
#: Cornish-Fisher expansion (error below 1e-7 there).
EXACT_T_DF = 200


def _t_two_sided_mass(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with integer ``df`` (Abramowitz & Stegun 26.7.3-4)."""
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    s = math.sin(theta)
    if df % 2:  # odd
        if df == 1:
            return 2 * theta / math.pi
        term, total = 1.0, 1.0
        for k in range(1, (df - 3) // 2 + 1):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        return 2 / math.pi * (theta + s * math.cos(theta) * total)
    term, total = 1.0, 1.0
    for k in range(1, (df - 2) // 2 + 1):
        term *= c2 * (2 * k - 1) / (2 * k)
        total += term
    return s * total


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with integer ``df >= 1`` (``0.5 < p < 1``)."""
    if not 0.5 < p < 1 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 < p < 1 and df >= 1, got {p}, {df}")
    z = NormalDist().inv_cdf(p)
    if df > EXACT_T_DF:  # Cornish-Fisher (Abramowitz & Stegun 26.7.5)
        g1 = (z ** 3 + z) / 4
        g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
        g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
        return z + g1 / df + g2 / df ** 2 + g3 / df ** 3
    target = 2 * p - 1  # P(|T| <= t)
    low, high = z, max(2 * z, 1.0)
    while _t_two_sided_mass(high, df) < target:
        high *= 2
    for _ in range(100):
        mid = (low + high) / 2
        if _t_two_sided_mass(mid, df) < target:
            low = mid
        else:
            high = mid
        if high - low <= 1e-12 * high:
            break
    return (low + high) / 2


def normal_quantile(p: float) -> float:
    """The ``p`` quantile of the standard normal distribution."""
    return NormalDist().inv_cdf(p)


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x``, ties sharing their mean rank (scipy's ``rankdata``)."""
    _, inverse, counts = np.unique(np.asarray(x), return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]


def theil_sen_slope(y: np.ndarray, x: np.ndarray) -> float:
    """The median of the slopes of every pair of points with different ``x`` (Theil-Sen;
    quadratic: keep ``n`` to a few thousand)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    dx = x[:, None] - x[None, :]
    dy = y[:, None] - y[None, :]
    keep = dx > 0
    return float(np.median(dy[keep] / dx[keep]))


def _tie_sums(v: np.ndarray) -> tuple[float, float, float]:
    """Over groups of ``t`` equal values: sum t(t-1)/2, sum t(t-1)(t-2), sum t(t-1)(2t+5)."""
    _, counts = np.unique(v, return_counts=True)
    t = counts[counts > 1].astype(float)
    return (float((t * (t - 1) / 2).sum()), float((t * (t - 1) * (t - 2)).sum()),
            float((t * (t - 1) * (2 * t + 5)).sum()))


def kendall_trend_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided p-value of Kendall's tau-b between ``x`` and ``y`` (the normal approximation
    with the tie corrections scipy uses; quadratic: keep ``n`` to a few thousand)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if n < 3:
        return 1.0
    i, j = np.triu_indices(n, 1)
    s = float(np.sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])))
    xt, x2, x1 = _tie_sums(x)
    yt, y2, y1 = _tie_sums(y)
    m = n * (n - 1.0)
    var = (m * (2 * n + 5) - x1 - y1) / 18 + 2 * xt * yt / m + x2 * y2 / (9 * m * (n - 2))
    if var <= 0:
        return 1.0
    return math.erfc(abs(s) / math.sqrt(var) / math.sqrt(2))
