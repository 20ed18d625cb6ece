"""Pure statistics over timing samples: summaries, paired ratio comparisons with confidence
intervals, and noise diagnostics. No processes, no files, no clock; every random draw is seeded,
so the same samples always give the same answer.

The comparison follows the measurement design. Interleaved timing runs one run of every variant
per round, so values with the same round number were taken milliseconds apart under the same
machine load: the pair is the unit, not the single run. Two consequences:

* The estimate can use the pairing. Statistic ``paired`` (recommended) is the Hodges-Lehmann
  estimate of the per-round log ratios ``log(subject_i / reference_i)``, i.e. the pseudo-median
  of per-round ratios: a burst that slows both runs of a round cancels in their ratio. On this
  project's 2-core runner it has 2-4x less A/A spread than the ratio of medians (``median``),
  which compares the two marginal distributions and so keeps every burst. ``median`` and
  ``mean`` remain available (ratio of medians / of means).
* Machine noise comes in bursts lasting seconds (many rounds), so neighbouring rounds are not
  independent either. The confidence interval is a *paired block bootstrap over rounds*: blocks
  of consecutive rounds (both variants' values together) are resampled with replacement
  (circular blocks, fixed seed) and the ratio is recomputed on every resample (percentile
  interval). Blocks of two rounds keep each AB/BA order pair together.
* The percentile interval is too narrow when it rests on few blocks (on this machine's load
  profiles it missed an A/A ratio of 1 in 6.5 % of 600 trials at 95 %), so its half-widths on
  the log scale are widened by ``t(B - 1) / z`` (:func:`small_sample_factor`) and by the square
  root of the variance inflation that dependence between neighbouring blocks causes
  (:func:`serial_inflation`, about 1 when they are independent).

Cost: every statistic costs ``O(n_resamples * n)`` per comparison. The Hodges-Lehmann point
estimate is exact (all ``n (n + 1) / 2`` Walsh averages, up to 2000 rounds); each bootstrap
replicate uses all Walsh averages up to 54 rounds and beyond that a fixed random sample of
``max(1501, 5 n + 1)`` of them (an incomplete U-statistic), which widens the interval by at
most ~7 % (measured: +7.6 % at 300 rounds, same width at 50). ``bench/analysis_speed.py``
prints the times.

Samples without common rounds (blocks order) are resampled independently, and ``paired`` falls
back to the ratio of medians. A deterministic metric (every value equal) gets an exact,
zero-width interval. The verdict rule is :func:`verdict` (documented in
:mod:`harness.analyse.gate`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from harness import defaults
from harness.analyse.levels import level_text
from harness.analyse.rankstats import (
    average_ranks,
    kendall_trend_p,
    normal_quantile,
    t_quantile,
    theil_sen_slope,
)
from harness.model import Comparison, NoiseFinding, Samples, Summary

#: The exact Hodges-Lehmann point estimate uses every Walsh average up to this many (2000
#: rounds); beyond, a fixed-seed uniform sample of this many (its error is < 1 % of the
#: estimate's own standard error there).
EXACT_WALSH_LIMIT = 2_001_000

#: Walsh averages per bootstrap resample: all of them while there are at most this many (the
#: default 50 runs: 1275, exact), else a fixed-seed uniform sample of ``max(this, 5 n + 1)``
#: position pairs, the same in every resample (an incomplete U-statistic, Blom 1976). The
#: sample adds at most ``0.75 n / M`` <= 15 % to the variance of the bootstrap replicates,
#: so the interval is at most ~7 % wider than the exact one (conservative), at a cost of
#: ``O(n_resamples * n)`` per comparison instead of ``O(n_resamples * n^2)``.
BOOTSTRAP_WALSH = 1501

#: Seed of the Walsh-pair samples (independent of the bootstrap seed).
_WALSH_SEED = 20_260_421


def walsh_pairs(n: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Position pairs ``(i, j)`` whose averages ``(x_i + x_j) / 2`` form the Walsh averages of
    ``n`` values: all ``i <= j`` while there are at most ``limit``, else ``limit`` (made odd)
    pairs drawn uniformly with a fixed seed (``i``, ``j`` independent: the V-statistic form)."""
    if n * (n + 1) // 2 <= limit:
        i, j = np.triu_indices(n)
        return i, j
    rng = np.random.default_rng(_WALSH_SEED + n)
    m = limit | 1  # odd: the median is one order statistic
    return rng.integers(0, n, m), rng.integers(0, n, m)


def _median_last(values: np.ndarray) -> np.ndarray:
    """Median along the last axis by partition (no NaN handling)."""
    m = values.shape[-1]
    half = m // 2
    if m % 2:
        return np.partition(values, half, axis=-1)[..., half]
    part = np.partition(values, (half - 1, half), axis=-1)
    return (part[..., half - 1] + part[..., half]) / 2.0


def pseudo_median(x: np.ndarray, *, limit: int = EXACT_WALSH_LIMIT) -> np.ndarray:
    """Hodges-Lehmann estimate along the last axis (no NaN): exact up to ``limit`` Walsh
    averages, else the median of a fixed-seed sample of ``limit`` of them."""
    x = np.asarray(x)
    i, j = walsh_pairs(x.shape[-1], limit)
    return _median_last((x[..., i] + x[..., j]) / 2.0)


def block_resamples(n: int, size: int, n_resamples: int, seed: int) -> np.ndarray:
    """``(n_resamples, n)`` indices of a circular block bootstrap (Politis & Romano 1992):
    ``ceil(n / size)`` runs of ``size`` consecutive rounds, each starting at a random round,
    wrapping around, cut to ``n``."""
    rng = np.random.default_rng(seed)
    n_blocks = math.ceil(n / size)
    starts = rng.integers(0, n, (n_resamples, n_blocks, 1))
    return ((starts + np.arange(size)) % n).reshape(n_resamples, -1)[:, :n]


#: Bootstrap replicates are computed in chunks of at most this many cells (memory bound).
_CHUNK_CELLS = 2_000_000


def _replicates(reduce: Callable[[np.ndarray], np.ndarray], data: np.ndarray,
                idx: np.ndarray, width: int) -> np.ndarray:
    """``reduce(data[idx_chunk])`` over chunks of resamples (``width``: cells per resample)."""
    step = max(1, _CHUNK_CELLS // max(1, width))
    return np.concatenate([reduce(data[idx[k:k + step]]) for k in range(0, len(idx), step)])


def _percentile(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [alpha, 1.0 - alpha])
    return float(low), float(high)


#: Statistics of one sample: name -> reducer along the last axis. The ratio is
#: ``stat(subject) / stat(reference)``.
STATISTICS: dict[str, Callable[..., Any]] = {"median": np.median, "mean": np.mean}

#: Statistics of the per-round log ratios ``log(subject_i / reference_i)``; the ratio is
#: ``exp(stat)``. ``paired``: their Hodges-Lehmann estimate, the pseudo-median of per-round
#: ratios (robust like a median, about as efficient as a mean, and it uses the pairing).
PAIRED_STATISTICS: dict[str, Callable[..., Any]] = {"paired": pseudo_median}

#: Below this many pairs (or values) no interval is computed; the gate refuses such a comparison.
MIN_PAIRS = defaults.MIN_PAIRS

#: 1 / Phi^-1(3/4): the MAD of a normal sample times this is its standard deviation.
_MAD_TO_SD = 1.482602218505602

#: |ratio - 1| of a variant's odd rounds vs its even rounds above which it is "noisy" (A/A test).
NOISY_SELF_RATIO = 0.02


def summarize(values: Sequence[float]) -> Summary:
    """Descriptive statistics of ``values`` (sample stddev; 0 for a single value)."""
    if not values:
        raise ValueError("no values to summarize")
    arr = np.asarray(values, dtype=float)
    return Summary(
        n=len(arr), mean=float(arr.mean()), median=float(np.median(arr)),
        stddev=float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        min=float(arr.min()), max=float(arr.max()),
    )


def paired_values(subject: Samples, reference: Samples) -> tuple[np.ndarray, np.ndarray]:
    """The values of the rounds both Samples measured, in round order (subject, reference)."""
    s_by, r_by = subject.by_round(), reference.by_round()
    common = sorted(set(s_by) & set(r_by))
    return (np.array([s_by[k] for k in common], dtype=float),
            np.array([r_by[k] for k in common], dtype=float))


def ratio_ci(subject: np.ndarray, reference: np.ndarray, *, statistic: str = "median",
             confidence: float = 0.95, block_rounds: int = 2,
             n_resamples: int = defaults.BOOTSTRAP_RESAMPLES,
             seed: int = 0) -> tuple[float, float, float]:
    """The ratio of ``statistic`` and its paired block-bootstrap percentile interval.

    ``subject[i]`` and ``reference[i]`` must come from the same round; blocks of
    ``block_rounds`` consecutive rounds are resampled together (circular block bootstrap).
    Cost: ``O(n_resamples * n)`` for every statistic (see :data:`BOOTSTRAP_WALSH`).
    Returns (ratio, low, high)."""
    subject = np.asarray(subject, dtype=float)
    reference = np.asarray(reference, dtype=float)
    n = len(subject)
    if statistic in PAIRED_STATISTICS:
        logs = np.log(subject / reference)
        ratio = float(np.exp(pseudo_median(logs)))
    else:
        reduce = STATISTICS[statistic]
        ratio = float(reduce(subject) / reduce(reference))
    if np.ptp(subject) == 0 and np.ptp(reference) == 0:  # deterministic metric: exact
        return ratio, ratio, ratio
    size = block_size(n, block_rounds)
    idx = block_resamples(n, size, n_resamples, seed)
    if statistic in PAIRED_STATISTICS:
        i, j = walsh_pairs(n, max(BOOTSTRAP_WALSH, 5 * n + 1))
        logs32 = logs.astype(np.float32)  # replicates only: a third faster

        def replicate(chunk: np.ndarray) -> np.ndarray:
            return _median_last(chunk[:, i] + chunk[:, j])  # 2x the Walsh average

        boot = np.exp(_replicates(replicate, logs32, idx, len(i)).astype(float) / 2.0)
    else:
        pairs = np.stack([subject, reference], axis=-1)

        def replicate(chunk: np.ndarray) -> np.ndarray:
            return cast(np.ndarray,
                        reduce(chunk[..., 0], axis=-1) / reduce(chunk[..., 1], axis=-1))

        boot = _replicates(replicate, pairs, idx, 2 * n)
    low, high = _percentile(boot, confidence)
    return ratio, low, high


def block_size(n: int, block_rounds: int) -> int:
    """Rounds per bootstrap block for ``n`` pairs: ``block_rounds``, but at least
    :data:`MIN_PAIRS` blocks."""
    return max(1, min(block_rounds, n // MIN_PAIRS or 1))


#: Bounds of the serial-dependence inflation: at most this factor on the variance (a
#: stronger dependence than this is reported as the cause of a wide interval, not modelled).
MAX_INFLATION = 4.0


def serial_inflation(logs: np.ndarray, size: int) -> float:
    """How much dependence between neighbouring bootstrap blocks inflates the variance of
    their mean (>= 1): ``1 + 2 sum_k w_k rho_k`` over lags ``k = 1..L`` of the block means'
    rank autocorrelations ``rho_k``, Bartlett weights ``w_k = 1 - k / (L + 1)``,
    ``L = round(B ** (1/3))`` for ``B`` blocks (the Newey-West long-run variance, on ranks so
    one burst cannot dominate it). Dependence *within* a block is already in the bootstrap;
    independent blocks give about 1. Clipped to ``[1, MAX_INFLATION]``."""
    m = len(logs) // size
    if m < 4:
        return 1.0
    means = np.asarray(logs[:m * size], dtype=float).reshape(m, size).mean(axis=1)
    ranks = average_ranks(means) - (m + 1) / 2.0  # ties share their mean rank
    denominator = float(np.dot(ranks, ranks))
    if denominator == 0:
        return 1.0
    lags = max(1, round(m ** (1 / 3)))
    total = sum((1 - k / (lags + 1)) * float(np.dot(ranks[:-k], ranks[k:])) / denominator
                for k in range(1, lags + 1))
    return float(min(MAX_INFLATION, max(1.0, 1.0 + 2.0 * total)))


def small_sample_factor(n_blocks: int, confidence: float) -> float:
    """``t(1 - a/2, B - 1) / z(1 - a/2)``: how much wider a Student-t interval on ``B``
    resampled blocks is than the normal one the percentile bootstrap approximates (the
    percentile interval is too narrow when it rests on few blocks, and more so far in the
    tails: x1.05 for 25 blocks at 95 %, x1.52 for 8 blocks at 99.75 %)."""
    alpha = 1.0 - confidence
    if n_blocks < 2 or not 0 < alpha < 1:
        return 1.0
    return t_quantile(1 - alpha / 2, n_blocks - 1) / normal_quantile(1 - alpha / 2)


def widen(ratio: float, low: float, high: float, factor: float) -> tuple[float, float]:
    """The interval with its half-widths on the log scale multiplied by ``factor``."""
    return ratio * (low / ratio) ** factor, ratio * (high / ratio) ** factor


def unpaired_ratio_ci(subject: np.ndarray, reference: np.ndarray, *, statistic: str = "median",
                      confidence: float = 0.95, n_resamples: int = defaults.BOOTSTRAP_RESAMPLES,
                      seed: int = 0) -> tuple[float, float, float]:
    """Like :func:`ratio_ci` for samples without common rounds (independent resampling)."""
    reduce = STATISTICS[statistic]
    subject = np.asarray(subject, dtype=float)
    reference = np.asarray(reference, dtype=float)
    ratio = float(reduce(subject) / reduce(reference))
    if np.ptp(subject) == 0 and np.ptp(reference) == 0:
        return ratio, ratio, ratio
    rng = np.random.default_rng(seed)
    s = reduce(subject[rng.integers(0, len(subject), (n_resamples, len(subject)))], axis=-1)
    r = reduce(reference[rng.integers(0, len(reference), (n_resamples, len(reference)))],
               axis=-1)
    low, high = _percentile(s / r, confidence)
    return ratio, low, high


def verdict(ratio: float, low: float | None, high: float | None, threshold_pct: float) -> str:
    """The verdict rule (documented in :mod:`harness.analyse.gate`):

    * regression: the interval lies above 1 (a real slowdown) and the estimate is at least
      ``1 + threshold``;
    * improvement: the mirror image (interval below 1, estimate at most ``1 - threshold``);
    * no change: the interval lies inside ``(1 - threshold, 1 + threshold)``;
    * inconclusive: anything else: the interval reaches past the threshold without a
      significant change of at least the threshold, or there is no interval.
    """
    if low is None or high is None:
        return "inconclusive"
    limit = threshold_pct / 100.0
    if low > 1.0 and ratio >= 1.0 + limit:
        return "regression"
    if high < 1.0 and ratio <= 1.0 - limit:
        return "improvement"
    if high < 1.0 + limit and low > 1.0 - limit:
        return "no change"
    return "inconclusive"


def compare(subject: Samples, reference: Samples, *, statistic: str = defaults.STATISTIC,
            threshold_pct: float = defaults.THRESHOLD_PCT,
            confidence: float = defaults.CONFIDENCE, block_rounds: int = 2,
            n_resamples: int = defaults.BOOTSTRAP_RESAMPLES, seed: int = 0) -> Comparison:
    """subject vs reference: ratio of ``statistic``, its confidence interval and a verdict.

    Values are paired by round when the two Samples share rounds (interleaved timing);
    otherwise they are resampled independently."""
    known = {**STATISTICS, **PAIRED_STATISTICS}
    if statistic not in known:
        raise ValueError(f"unknown statistic {statistic!r}; use one of {sorted(known)}")
    s, r = paired_values(subject, reference)
    paired = len(s) >= MIN_PAIRS
    if not paired:
        s = np.asarray(subject.values, dtype=float)
        r = np.asarray(reference.values, dtype=float)
        if statistic in PAIRED_STATISTICS:  # nothing to pair: fall back to the medians
            statistic = "median"
    low: float | None
    high: float | None
    if min(len(s), len(r)) == 0:
        raise ValueError(f"nothing to compare: {subject.variant} has {len(subject.values)} "
                         f"values, {reference.variant} has {len(reference.values)}")
    if paired:
        ratio, low, high = ratio_ci(s, r, statistic=statistic, confidence=confidence,
                                    block_rounds=block_rounds, n_resamples=n_resamples,
                                    seed=seed)
        what = ("Hodges-Lehmann estimate of per-round ratios" if statistic == "paired"
                else f"ratio of {statistic}s")
        size = block_size(len(s), block_rounds)
        n_blocks = math.ceil(len(s) / size)
        small = small_sample_factor(n_blocks, confidence)
        inflation = serial_inflation(np.log(s / r), size)
        if low != high:
            low, high = widen(ratio, low, high, small * math.sqrt(inflation))
        method = (f"{what}; paired block bootstrap over rounds (blocks of {size}, "
                  f"{n_resamples} resamples, percentile), widened x{small:.3f} for "
                  f"{n_blocks} blocks (Student t) and x{math.sqrt(inflation):.3f} for "
                  f"serial dependence (variance inflation {inflation:.2f})")
    elif min(len(s), len(r)) >= MIN_PAIRS or (np.ptp(s) == 0 and np.ptp(r) == 0):
        ratio, low, high = unpaired_ratio_ci(s, r, statistic=statistic, confidence=confidence,
                                             n_resamples=n_resamples, seed=seed)
        method = f"unpaired bootstrap ({n_resamples} resamples, percentile)"
    elif subject.metric == "instructions":  # a few nearly equal counts: their full range
        reduce = STATISTICS[statistic]
        ratio = float(reduce(s) / reduce(r))
        low, high = float(s.min() / r.max()), float(s.max() / r.min())
        method = "range of counts (min/max over max/min)"
    else:
        reduce = STATISTICS[statistic]
        ratio, low, high = float(reduce(s) / reduce(r)), None, None
        method = f"point estimate (fewer than {MIN_PAIRS} values: no interval)"
    if low is not None and low == high:
        method = "exact (deterministic metric)"
    return Comparison(
        subject=subject.variant, reference=reference.variant, workload=subject.workload,
        metric=subject.metric, statistic=statistic, ratio=ratio, ci_low=low, ci_high=high,
        confidence=confidence, threshold_pct=threshold_pct,
        verdict=verdict(ratio, low, high, threshold_pct), method=method,
        n_pairs=len(s) if paired else 0,
    )


# -- noise diagnostics ------------------------------------------------------------------------


def robust_cv(values: Sequence[float]) -> float:
    """1.4826 * MAD / median: the coefficient of variation a normal sample would have."""
    arr = np.asarray(values, dtype=float)
    med = float(np.median(arr))
    if med == 0:
        return 0.0
    return float(_MAD_TO_SD * np.median(np.abs(arr - med)) / abs(med))


def outliers(values: Sequence[float], *, k: float = 3.0) -> tuple[int, ...]:
    """Indices of values outside ``Q1 - k*IQR .. Q3 + k*IQR`` (Tukey's far-out fences)."""
    arr = np.asarray(values, dtype=float)
    if len(arr) < 4:
        return ()
    q1, q3 = np.percentile(arr, [25, 75])
    iqr = q3 - q1
    if iqr == 0:
        return tuple(int(i) for i in np.flatnonzero(arr != q1)) if np.ptp(arr) else ()
    return tuple(int(i) for i in np.flatnonzero((arr < q1 - k * iqr) | (arr > q3 + k * iqr)))


def self_ratio(samples: Samples) -> float | None:
    """An A/A comparison of a variant with itself: the median of rounds 2-3, 6-7, ... over the
    median of rounds 0-1, 4-5, ... (pairs of rounds, so both halves ran first and second in a
    round equally often). Its distance from 1 is noise this run cannot tell from a change."""
    by = samples.by_round()
    odd = [v for k, v in by.items() if (k // 2) % 2]
    even = [v for k, v in by.items() if not (k // 2) % 2]
    if len(odd) < MIN_PAIRS // 2 or len(even) < MIN_PAIRS // 2:
        return None
    return float(np.median(odd) / np.median(even))


#: Theil-Sen takes every pair of points (quadratic: 75,000 runs took minutes and gigabytes);
#: above this many runs it is taken over the medians of this many consecutive groups.
DRIFT_POINTS = 1000


def drift(samples: Samples) -> tuple[float, float]:
    """(relative change over the run, p-value): Theil-Sen slope of value vs round times the
    span of rounds, over the median; Kendall's tau p-value for a monotone trend. Above
    :data:`DRIFT_POINTS` runs the slope is taken over the medians of consecutive groups of
    runs (linear time; a drift is a slow change, which group medians keep)."""
    rounds = np.asarray(samples.rounds, dtype=float)
    values = np.asarray(samples.values, dtype=float)
    if len(values) < MIN_PAIRS or np.ptp(rounds) == 0 or np.ptp(values) == 0:
        return 0.0, 1.0
    x, y = rounds, values
    if len(values) > DRIFT_POINTS:
        order = np.argsort(rounds, kind="stable")
        groups = np.array_split(order, DRIFT_POINTS)
        x = np.array([np.median(rounds[g]) for g in groups])
        y = np.array([np.median(values[g]) for g in groups])
    change = float(theil_sen_slope(y, x) * np.ptp(rounds) / np.median(values))
    if len(values) > DRIFT_POINTS:  # Kendall's test on every run: scipy's O(n log n) one
        from scipy import stats as sps  # ~0.6 s to import: only for such long runs

        return change, float(sps.kendalltau(rounds, values).pvalue)
    return change, kendall_trend_p(rounds, values)


def relative_half_width(c: Comparison) -> float | None:
    """Half the width of the ratio interval relative to the ratio, in percent: what a change
    this run can resolve (a 4.83x [4.73, 4.94] is ±2.2 %, a 0.50x [0.42, 0.58] ±16 %)."""
    if c.ci_low is None or c.ci_high is None or c.ratio <= 0:
        return None
    return (c.ci_high - c.ci_low) / 2 / c.ratio * 100


#: The verdicts an interval settles: a resolution note beside them would contradict them.
DECISIVE = ("regression", "improvement", "no change")


def diagnose_comparison(comparison: Comparison, *, auto: bool = False
                        ) -> tuple[NoiseFinding, ...]:
    """A finding when the comparison's interval is too wide for its threshold: the run cannot
    resolve a change of the size the gate is asked about. None when the verdict is decisive
    (the interval settled the question, however wide), and no advice the run already follows
    (``auto``: it used ``runs: auto``)."""
    c = comparison
    if c.ci_low is None or c.ci_high is None:
        return (NoiseFinding(
            "noisy", c.subject, c.workload, c.metric, "warning",
            f"{c.subject} vs {c.reference}: too few paired runs for a confidence interval",
            f"measure at least {MIN_PAIRS} interleaved rounds"),)
    half = relative_half_width(c)
    if half is None or half <= c.threshold_pct / 2 or c.verdict in DECISIVE:
        return ()
    more = ("raise the `runs: auto` budget (timing.max_runs, timing.max_seconds)" if auto else
            "use `runs: auto` or raise timing.runs")
    return (NoiseFinding(
        "noisy", c.subject, c.workload, c.metric, "warning" if half > c.threshold_pct else "info",
        (f"{c.subject} vs {c.reference}: this run resolves ±{half:.1f} % at "
         f"{level_text(c.confidence)} confidence; the threshold is {c.threshold_pct:g} %"),
        f"{more} (the interval narrows with the square root of the runs), "
        "use a quieter runner" + ("" if c.metric == "instructions" else
                                  ", or gate on `metric: cpu` or `metric: instructions`"
                                  if c.metric == "wall" else ", or gate on "
                                  "`metric: instructions`"), value=half),)


def split_z(samples: Samples) -> tuple[float, float] | None:
    """(ratio, z) of the self A/A split (:func:`self_ratio`): z is the log ratio over its
    standard error ``1.2533 * robust CV * sqrt(1/n1 + 1/n2)`` (the median's, for a normal
    sample). A stable variant has |z| below 2.6 in 99 % of runs, whatever its spread."""
    aa = self_ratio(samples)
    if aa is None:
        return None
    by = samples.by_round()
    n_odd = sum(1 for k in by if (k // 2) % 2)
    n_even = len(by) - n_odd
    rcv = robust_cv(list(by.values()))
    if rcv == 0:
        return aa, 0.0
    return aa, math.log(aa) / (1.2533 * rcv * math.sqrt(1 / n_odd + 1 / n_even))


#: |z| of the self A/A split above which the variant's timings changed during the run (two-sided
#: p < 0.01 for a stable variant), and the robust CV above which its spread alone is noted.
NOISY_SPLIT_Z = 2.576
NOISY_SPREAD = 0.10


def noisy_variant(samples: Samples, limit: float, busy: str = "", *, auto: bool = False
                  ) -> tuple[NoiseFinding, ...]:
    """A "noisy" note when the variant's own timings changed during the run by more than the
    sampling noise explains (significant self A/A split) and by more than half the threshold,
    or when its spread is very large. ``busy`` names the machine load seen during timing, if
    any: then that is the cause named, and the note is informational (the machine note warns)."""
    where = dict(variant=samples.variant, workload=samples.workload, metric=samples.metric,
                 scenario=samples.scenario)
    rcv = robust_cv(samples.values)
    split = split_z(samples)
    shifted = split is not None and abs(split[1]) > NOISY_SPLIT_Z and abs(
        split[0] - 1) > max(NOISY_SELF_RATIO, limit / 2)
    if not shifted and rcv <= NOISY_SPREAD:
        return ()
    parts = [f"spread {rcv * 100:.1f} % of the median"]
    if shifted and split is not None:
        parts.append(f"its own rounds shifted by {(split[0] - 1) * 100:+.1f} % during the run")
    cause = (f"cause: {busy}" if busy else
             "no machine load was seen: the workload itself varies (caches, I/O, ASLR)")
    return (NoiseFinding(
        "noisy", severity="info" if busy else "warning", value=rcv,
        message=f"noisy measurements: {', '.join(parts)}; {cause}",
        advice=("rounds are paired, so load that hits both variants cancels; " + (
            "use a quieter runner" if auto else "use `runs: auto` to measure until the "
            "interval is clear, or a quieter runner")), **where),)


def diagnose(samples: Samples, *, threshold_pct: float = defaults.THRESHOLD_PCT,
             busy: str = "", auto: bool = False) -> tuple[NoiseFinding, ...]:
    """Noise findings for one variant's samples: failed runs, outliers, a noisy machine (large
    spread, or an A/A split of the variant against itself that differs by more than a
    fraction of the threshold) and drift across rounds."""
    found: list[NoiseFinding] = []
    values = samples.values
    where = dict(variant=samples.variant, workload=samples.workload, metric=samples.metric,
                 scenario=samples.scenario)
    if not values:
        return ()
    failed = sum(1 for c in samples.exit_codes if c != 0)
    if failed:
        found.append(NoiseFinding(
            "failures", severity="warning", value=failed,
            message=f"{failed} of {len(samples.exit_codes)} runs exited non-zero",
            advice="the timings include failed runs; run the workload by hand to see why it "
                   "fails", **where))
    if np.ptp(values) == 0:
        return tuple(found)
    out = outliers(values)
    if out:
        med = float(np.median(values))
        worst = max(values[i] for i in out)
        share = len(out) / len(values)
        found.append(NoiseFinding(
            "outliers", severity="warning" if share > 0.05 else "info", value=len(out),
            message=(f"{len(out)} of {len(values)} runs were outliers (worst "
                     f"{(worst / med - 1) * 100:+.0f} % from the median)"),
            advice=("the median ignores a few outliers; many of them mean other work competed "
                    "for the CPU: use a quieter runner or more runs"), **where))
    limit = threshold_pct / 100.0
    found += noisy_variant(samples, limit, busy, auto=auto)
    change, p = drift(samples)
    if p < 0.01 and abs(change) > max(0.02, limit / 4):
        found.append(NoiseFinding(
            "drift", severity="info", value=change,
            message=f"timings drifted {change * 100:+.1f} % from the first round to the last",
            advice=("machine load changed during the run; interleaved rounds keep the "
                    "comparison fair, but blocks order would not"), **where))
    return tuple(found)
