"""Change-point detection on a series of per-commit medians (pure, numpy only).

Each point is a run, not a number: besides its median it has its own interval (from its own
samples). On a log scale, a point varies around its level by the between-run noise plus its
own sampling error ``s_i`` (from its interval). The noise is first the robust point-to-point
noise (the MAD of first differences, which steps and single outliers barely move), then the
trimmed scatter of the runs around the levels found (refitted up to ``REFITS`` times, never
below ``FLOOR`` times the first estimate). Detection is exact:

1. **Optimal partitioning (PELT)** with a Gaussian cost weighted by each point's own variance
   considers every segmentation, so a bump of any length (a regression fixed a few commits
   later) is split on both sides, which binary segmentation never does.
2. **Spikes**: a single commit off both its neighbours in the same direction is a spike (a
   regression fixed by the next commit, or a disturbed run): reported apart, then left out and
   the rest segmented again, so one outlier is never a step.
3. **Each change is tested** with the runs on both sides: the levels must differ by
   ``MIN_Z`` standard errors (Student-t corrected: short series estimate their noise from few
   points) and ``min_step_pct``; a two-commit segment between changes that do not undo each
   other is a wobble of one step, not two; the weakest failing change is dropped first.
4. **The newest commit** alone on a new level is flagged at once (status ``newest``: its own
   samples against the previous level) and confirmed or retracted as commits arrive; a change
   undone by a later one is linked to it (introduced at X, fixed at Y, lived N commits).

Calibrated with ``bench/detectors.py`` (noise of 3 % per point plus 0-2 outlier runs of
6-8 sd, n = 12-150): 6 false steps in 2,000 noise series; see its output for recall,
precision and commit accuracy next to the old detector and github-action-benchmark's and
Bencher's rules.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Penalty per change point (in units of the weighted Gaussian cost) is
#: ``PENALTY + PENALTY_PER_LOG_N * log(n)``: longer series have more places to fool the search.
PENALTY = 5.0
PENALTY_PER_LOG_N = 2.0
#: |z| a change must reach between its two segments to be kept.
MIN_Z = 3.3
#: |z| the newest commit alone must reach against the previous level to be flagged.
NEWEST_Z = 4.5
#: The noise is estimated from the series itself, about as well as from this share of its
#: points (the MAD has ~40 % of the efficiency of the sd): thresholds follow Student t with
#: that many degrees of freedom, so short series need stronger evidence.
DF_SHARE = 0.5
#: Share of a step the medians of its two segments must show as well.
MEDIAN_SHARE = 0.5
#: Fewest commits before the first step (one or two are no level: an outlier among them
#: would make one).
MIN_FIRST = 3
#: Smallest step (in %) reported.
MIN_STEP_PCT = 1.0
#: Segment, take the (trimmed) scatter of the runs around the levels found as the noise,
#: segment again: at most this many times.
REFITS = 3
#: ... but never below this fraction of the first estimate (the MAD of the differences): on a
#: short series the scatter around fitted levels can be far too small.
FLOOR = 0.8
#: 95 % interval half-width in standard errors (the points' intervals are 95 %).
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class Step:
    """A change point: the series moved at ``index`` (the first point after the step)."""

    index: int
    before: float  # level of the segment before (weighted, on the log scale, exponentiated)
    after: float  # level of the segment after
    ratio: float  # after / before
    ci_low: float
    ci_high: float
    confidence: float
    z: float = 0.0  # the step in standard errors
    status: str = "confirmed"  # or "newest": only the newest commit is on the new level
    fixes: int | None = None  # index of the earlier step this one undoes
    fixed_by: int | None = None  # index of the later step that undoes this one

    @property
    def pct(self) -> float:
        return (self.ratio - 1.0) * 100.0

    @property
    def lived(self) -> int | None:
        """Commits the change lived before a later step undid it."""
        return None if self.fixed_by is None else self.fixed_by - self.index


@dataclass(frozen=True)
class Spike:
    """One commit off both its neighbours (``ratio`` to their level), the rest unchanged."""

    index: int
    value: float
    level: float  # the neighbours' level
    ratio: float
    z: float

    @property
    def pct(self) -> float:
        return (self.ratio - 1.0) * 100.0


@dataclass(frozen=True)
class Detection:
    """What the series did: its steps (in order), its spikes, and its point-to-point noise
    (sd of one point around its level, on the log scale)."""

    steps: tuple[Step, ...]
    spikes: tuple[Spike, ...]
    noise: float


def robust_noise(log_values: Array) -> float:
    """Point-to-point noise (sd) of a series: 1.4826 * MAD of first differences / sqrt 2."""
    diffs = np.diff(log_values)
    if len(diffs) == 0:
        return 0.0
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return float(1.4826 * mad / math.sqrt(2.0))


def own_errors(values: Sequence[float],
               intervals: Sequence[tuple[float, float]] | None) -> Array:
    """Each point's own standard error on the log scale, from its 95 % interval (0 without)."""
    if intervals is None:
        return np.zeros(len(values))
    out = np.zeros(len(values))
    for i, (low, high) in enumerate(intervals):
        if low > 0 and high > 0 and math.isfinite(low) and math.isfinite(high) and high >= low:
            out[i] = (math.log(high) - math.log(low)) / (2 * _Z95)
    return out


def penalty_for(n: int) -> float:
    return PENALTY + PENALTY_PER_LOG_N * math.log(max(n, 2))


def optimal_partition(y: Array, weights: Array, penalty: float) -> list[int]:
    """The change points (first index of each new segment) minimising the weighted squared
    error plus ``penalty`` per change, over every segmentation (PELT: exact)."""
    n = len(y)
    cw = np.concatenate([[0.0], np.cumsum(weights)])
    cwy = np.concatenate([[0.0], np.cumsum(weights * y)])
    cwyy = np.concatenate([[0.0], np.cumsum(weights * y * y)])
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    last = np.zeros(n + 1, dtype=int)
    candidates = np.array([0])
    for t in range(1, n + 1):
        s = candidates
        w = cw[t] - cw[s]
        wy = cwy[t] - cwy[s]
        cost = (cwyy[t] - cwyy[s]) - wy * wy / np.where(w > 0, w, 1.0)
        total = best[s] + cost + penalty
        k = int(np.argmin(total))
        best[t], last[t] = total[k], s[k]
        candidates = np.append(s[best[s] + cost <= best[t] + 1e-9], t)
    points = []
    t = n
    while t > 0:
        t = int(last[t])
        if t > 0:
            points.append(t)
    return sorted(points)


def _level(y: Array, weights: Array) -> tuple[float, float]:
    """Weighted mean and its variance."""
    total = float(np.sum(weights))
    return float(np.sum(weights * y) / total), 1.0 / total


def _segments(n: int, points: Sequence[int]) -> list[tuple[int, int]]:
    bounds = [0, *points, n]
    return list(itertools.pairwise(bounds))


def analyse(values: Sequence[float], intervals: Sequence[tuple[float, float]] | None = None,
            *, penalty: float | None = None, min_step_pct: float = MIN_STEP_PCT,
            confidence: float = 0.99) -> Detection:
    """The steps and spikes of ``values`` (one median per commit, oldest first), with each
    point's own 95 % interval when known."""
    n = len(values)
    raw = np.asarray(values, dtype=float)
    if n < 3 or not np.all(np.isfinite(raw)) or not np.all(raw > 0):
        return Detection((), (), 0.0)  # no log scale: nothing can be said
    y_all = np.log(raw)
    own = own_errors(values, intervals)
    noise = robust_noise(y_all)
    if noise == 0.0:  # a constant or deterministic series: any move is a step
        noise = max(float(np.std(y_all)) / 10.0, float(np.max(own)), 1e-9)
    pen = penalty_for(n) if penalty is None else penalty
    # the MAD of a few differences can be far too small: the runs' scatter around the levels
    # found is a second estimate, and the larger one is kept
    floor = FLOOR * noise
    for _ in range(REFITS):
        y, w, kept, points, spikes, spread = _segmented(y_all, own, noise, pen, min_step_pct)
        spread = max(spread, floor)
        if abs(spread / noise - 1) < 0.01:
            break
        noise = spread
    if len(kept) < 3:
        return Detection((), tuple(sorted(spikes, key=lambda s: s.index)), noise)
    z_conf = _z_of(confidence)
    newest_z = _t_like(NEWEST_Z, len(kept) - len(points) - 1)

    steps: list[Step] = []
    segments = _segments(len(kept), points)
    for (a, b), (_, c) in itertools.pairwise(segments):
        before, v_before = _level(y[a:b], w[a:b])
        after, v_after = _level(y[b:c], w[b:c])
        diff, se = after - before, math.sqrt(v_before + v_after)
        newest = c - b == 1 and c == len(kept) and b > 1
        if newest and abs(diff) / se < newest_z:
            continue
        # the step's commit: the first kept point after it, or a spike just before that
        # which already sat on the new level
        index = int(kept[b])
        previous = int(kept[b - 1])
        for s in spikes:
            if previous < s.index < index and (s.ratio - 1) * diff > 0:
                index = s.index
        steps.append(Step(index, math.exp(before), math.exp(after), math.exp(diff),
                          math.exp(diff - z_conf * se), math.exp(diff + z_conf * se),
                          confidence, diff / se, "newest" if newest else "confirmed"))
    return Detection(_linked(steps), tuple(sorted(spikes, key=lambda s: s.index)), noise)


def detect(values: Sequence[float], intervals: Sequence[tuple[float, float]] | None = None,
           **options: float) -> tuple[Step, ...]:
    """The significant steps of ``values`` (in order), each with its size and interval."""
    return analyse(values, intervals, **options).steps


def _segmented(y_all: Array, own: Array, noise: float, penalty: float, min_step_pct: float
               ) -> tuple[Array, Array, NDArray[np.int64], list[int], list[Spike], float]:
    """Segment the series with ``noise`` as its point-to-point noise, taking out spikes one by
    one: (values kept, their weights, their indices, change points among them, the spikes,
    the residual scatter around the segments' levels)."""
    between = math.sqrt(max(noise ** 2 - float(np.median(own ** 2)), (noise / 2) ** 2))
    weights_all = 1.0 / (between ** 2 + own ** 2)
    kept = np.arange(len(y_all))  # indices still in the series (spikes are taken out)
    spikes: list[Spike] = []
    while True:
        y, w = y_all[kept], weights_all[kept]
        df = max(int(DF_SHARE * (len(y) - 2)), 1)
        factor = (_t_like(MIN_Z, df) / MIN_Z) ** 2
        points = _tested(y, w, optimal_partition(y, w, penalty * factor),
                         min_step_pct, _t_like(MIN_Z, df))
        spike = _first_spike(y, w, points)
        if spike is None or len(kept) <= 3:
            break
        position, level, z = spike
        index = int(kept[position])
        spikes.append(Spike(index, float(math.exp(y[position])), float(math.exp(level)),
                            float(math.exp(y[position] - level)), z))
        kept = np.delete(kept, position)
    residuals = np.concatenate([y[a:b] - np.mean(y[a:b]) for a, b in _segments(len(y), points)])
    return y, w, kept, points, spikes, _trimmed_sd(residuals, len(points) + 1)


def _trimmed_sd(residuals: Array, levels: int) -> float:
    """The sd of residuals beyond 3 robust sd left out (an outlier the segmentation kept
    must not inflate the noise), corrected for the trimming of a normal sample."""
    scale = 1.4826 * float(np.median(np.abs(residuals)))
    inside = residuals[np.abs(residuals) <= 3 * scale] if scale > 0 else residuals
    dof = len(inside) - levels
    if dof < 2:
        return 0.0
    return float(np.sqrt(np.sum(inside ** 2) / dof)) / 0.9866


def _t_like(z: float, df: int) -> float:
    """The Student t quantile with ``df`` degrees of freedom at the normal tail of ``z``
    (Cornish-Fisher): small series estimate their noise from few points."""
    df = max(df, 1)
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def _z_of(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _tested(y: Array, w: Array, points: list[int], min_step_pct: float,
            min_z: float = MIN_Z) -> list[int]:
    """Keep the change points whose step is significant against the segments on both sides,
    dropping the weakest first (a dropped point merges its two segments)."""
    points = list(points)
    while points:
        weakest: tuple[float, int] | None = None
        for i, (a, b, c) in enumerate(zip([0, *points[:-1]], points,
                                          [*points[1:], len(y)], strict=True)):
            if c - b == 1 and c == len(y):  # the newest commit alone: judged later
                continue
            before, v_before = _level(y[a:b], w[a:b])
            after, v_after = _level(y[b:c], w[b:c])
            z = abs(after - before) / math.sqrt(v_before + v_after)
            pct = abs(math.expm1(after - before)) * 100
            strength = min(z / min_z, pct / min_step_pct if min_step_pct > 0 else math.inf)
            # the medians must move too (a mean pulled by one outlier run is no step)
            if after == before:
                strength = 0.0
            else:
                moved = (float(np.median(y[b:c])) - float(np.median(y[a:b]))) / (after - before)
                strength = min(strength, moved / MEDIAN_SHARE)
            if strength < 1 and (weakest is None or strength < weakest[0]):
                weakest = (strength, i)
        if weakest is None and 1 < points[0] < MIN_FIRST:
            weakest = (0.0, 0)  # too few commits before it to say what the level was
        if weakest is None:
            weakest = _short_non_bump(y, w, points)
        if weakest is None:
            return points
        del points[weakest[1]]
    return points


def _short_non_bump(y: Array, w: Array, points: list[int]) -> tuple[float, int] | None:
    """A segment of two commits between two changes that do not undo each other is a step
    with a wobble, not two steps: (strength, position) of its weaker change, if any."""
    bounds = [0, *points, len(y)]
    levels = [_level(y[a:b], w[a:b]) for a, b in itertools.pairwise(bounds)]
    for k in range(1, len(levels) - 1):
        if bounds[k + 1] - bounds[k] > 2:
            continue
        first = levels[k][0] - levels[k - 1][0]
        second = levels[k + 1][0] - levels[k][0]
        if first * second < 0 and abs(second) >= 0.5 * abs(first):
            continue  # a bump: regressed and fixed
        z_first = abs(first) / math.sqrt(levels[k][1] + levels[k - 1][1])
        z_second = abs(second) / math.sqrt(levels[k + 1][1] + levels[k][1])
        return (z_first, k - 1) if z_first < z_second else (z_second, k)
    return None


def _first_spike(y: Array, w: Array, points: list[int]) -> tuple[int, float, float] | None:
    """(position, level of its neighbours, z) of the first one-point segment that sits off
    both neighbours in the same direction (or is the oldest point), if any."""
    segments = _segments(len(y), points)
    for k, (a, b) in enumerate(segments):
        if b - a != 1 or k == len(segments) - 1:
            continue
        if k == 0:
            level, _ = _level(y[1:segments[1][1]], w[1:segments[1][1]])
            return a, level, 0.0
        (pa, pb), (na, nb) = segments[k - 1], segments[k + 1]
        before, _ = _level(y[pa:pb], w[pa:pb])
        after, _ = _level(y[na:nb], w[na:nb])
        if (y[a] - before) * (y[a] - after) > 0:  # above both or below both
            level = before if abs(y[a] - before) < abs(y[a] - after) else after
            return a, level, float((y[a] - level) * math.sqrt(w[a]))
    return None


def _linked(steps: list[Step]) -> tuple[Step, ...]:
    """Link each change to a later one that undoes at least half of it (a regression and its
    fix, or an improvement and its loss)."""
    out = list(steps)
    for i in range(len(out) - 1):
        first, second = out[i], out[i + 1]
        if first.fixed_by is not None or second.status != "confirmed":
            continue
        up, down = math.log(first.ratio), math.log(second.ratio)
        if up * down < 0 and abs(down) >= 0.5 * abs(up):
            out[i] = replace(first, fixed_by=second.index)
            out[i + 1] = replace(second, fixes=first.index)
    return tuple(out)
