"""Carry-over: how a run's time depends on the command that ran right before it (pure).

A run right after a heavy run is slower (caches, CPU frequency, memory). Every timed value
records its place in the execution order (``Samples.positions``), so its predecessor is known.
The model, on log time, by least squares (numpy)::

    log t = round effect + command effect + predecessor effect + noise

Round effects (machine load that moves from round to round) are removed by centring within
each round; command and predecessor effects are sum-to-zero coded, so a predecessor effect is
how much slower (in %) a run is after that command than after the average command. One pass of
outlier trimming (residuals beyond 5 robust standard deviations are dropped and the model is
refitted) keeps a burst from dominating the fit.

With the balanced order every command follows every command equally often, so the effects
cancel in the paired comparison; with the alternating ``interleaved`` order they do not (one
variant follows the heavy one more often). :func:`adjusted` divides each value by its
predecessor's estimated effect, so a comparison can be made as if every run had an average
predecessor; :func:`diagnose` turns a large effect into a noise note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from harness.model import NoiseFinding, Samples

#: A predecessor effect is worth a note when it is at least this large (% of the run time)
#: and at least NOTE_Z standard errors from zero. bench/gate_calibration.py --carryover
#: (bench/gate_calibration_results.md, run 3): 0 notes in 90 three-variant trials at load ~6
#: on 2 cores, 30 of them three identical twins; on simulated runs (tests/test_carryover.py)
#: a +5 % effect after one of three commands is reported as +3.3 % and noted every time.
NOTE_PCT = 1.5
NOTE_Z = 4.0

#: Residuals beyond this many robust standard deviations are dropped before the final fit.
TRIM_SD = 5.0


@dataclass(frozen=True)
class PredecessorEffect:
    """How much slower (%) a run is when ``predecessor`` ran right before it, than after the
    average command (the effects of all predecessors sum to zero on the log scale)."""

    predecessor: str  # command key "variant/workload[@scenario]"
    effect_pct: float
    stderr_pct: float
    n_runs: int  # runs that followed it


@dataclass(frozen=True)
class CarryOver:
    """The carry-over model of one run: its predecessor effects and how well it fits."""

    metric: str
    effects: tuple[PredecessorEffect, ...]
    n_runs: int  # runs in the fit (with a known predecessor, after trimming)
    residual_sd_pct: float

    def effect_of(self, key: str) -> float:
        """The log-scale effect of predecessor ``key`` (0 when it was not in the fit)."""
        for e in self.effects:
            if e.predecessor == key:
                return float(np.log1p(e.effect_pct / 100.0))
        return 0.0

    @property
    def spread_pct(self) -> float:
        """Largest minus smallest predecessor effect (%)."""
        values = [e.effect_pct for e in self.effects]
        return max(values) - min(values) if values else 0.0


def command_key(s: Samples) -> str:
    """``variant/workload`` plus ``@scenario`` when not the default one."""
    suffix = "" if s.scenario == "default" else f"@{s.scenario}"
    return f"{s.variant}/{s.workload}{suffix}"


def _runs(samples: Sequence[Samples]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray]:
    """(command keys, command index, predecessor index, round, log value) of every run with a
    known predecessor; runs are identified by position across ``samples``."""
    keys = [command_key(s) for s in samples]
    at: dict[int, int] = {}
    for c, s in enumerate(samples):
        for q in s.positions:
            at[q] = c
    cmd, pred, rnd, logv = [], [], [], []
    for c, s in enumerate(samples):
        for q, r, v in zip(s.positions, s.rounds, s.values, strict=True):
            if q - 1 in at and v > 0:
                cmd.append(c)
                pred.append(at[q - 1])
                rnd.append(r)
                logv.append(np.log(v))
    return (keys, np.asarray(cmd, dtype=int), np.asarray(pred, dtype=int),
            np.asarray(rnd, dtype=int), np.asarray(logv, dtype=float))


def _effect_coded(index: np.ndarray, k: int) -> np.ndarray:
    """``(n, k - 1)`` sum-to-zero coding of ``index`` (level ``k - 1`` is minus the others)."""
    out = np.zeros((len(index), k - 1))
    rows = np.arange(len(index))
    last = index == k - 1
    out[rows[~last], index[~last]] = 1.0
    out[last] = -1.0
    return out


def _within_rounds(matrix: np.ndarray, rounds: np.ndarray) -> np.ndarray:
    """``matrix`` with each round's column means subtracted (round fixed effects)."""
    _, group = np.unique(rounds, return_inverse=True)
    sums = np.zeros((group.max() + 1, matrix.shape[1]))
    np.add.at(sums, group, matrix)
    counts = np.bincount(group)[:, None]
    return matrix - (sums / counts)[group]


def fit(samples: Sequence[Samples]) -> CarryOver | None:
    """The carry-over model of samples taken in one sequence (one metric; samples of several
    jobs must have been pooled so positions do not overlap). None without positions, with
    fewer than two commands, or too few runs to fit."""
    samples = [s for s in samples if s.values and len(s.positions) == len(s.values)]
    if len(samples) < 2 or len({s.metric for s in samples}) != 1:
        return None
    keys, cmd, pred, rnd, logv = _runs(samples)
    k = len(keys)
    n_params = 2 * (k - 1)
    if len(logv) < n_params + len(np.unique(rnd)) + 4:
        return None
    design = np.hstack([_effect_coded(cmd, k), _effect_coded(pred, k), logv[:, None]])
    keep = np.ones(len(logv), dtype=bool)
    for attempt in range(2):  # fit; trim outliers and refit once
        centred = _within_rounds(design[keep], rnd[keep])
        x, y = centred[:, :-1], centred[:, -1]
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ coef
        robust_sd = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        inside = np.abs(resid) <= TRIM_SD * robust_sd
        if attempt or robust_sd == 0 or inside.all() or inside.sum() < n_params + 4:
            break
        keep[np.flatnonzero(keep)[~inside]] = False
    dof = max(1, int(keep.sum()) - n_params - len(np.unique(rnd[keep])))
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.pinv(x.T @ x)
    # predecessor effects: the last k - 1 coefficients, and the k-th as minus their sum
    contrast = np.zeros((k, x.shape[1]))
    contrast[: k - 1, k - 1:] = np.eye(k - 1)
    contrast[k - 1, k - 1:] = -1.0
    beta = contrast @ coef
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", contrast, cov, contrast), 0.0))
    followers = np.bincount(pred[keep], minlength=k)
    effects = tuple(
        PredecessorEffect(keys[i], float(np.expm1(beta[i]) * 100), float(se[i] * 100),
                          int(followers[i]))
        for i in range(k))
    return CarryOver(metric=samples[0].metric, effects=effects, n_runs=int(keep.sum()),
                     residual_sd_pct=float(np.sqrt(sigma2) * 100))


def adjusted(samples: Sequence[Samples], model: CarryOver) -> tuple[Samples, ...]:
    """``samples`` with every value divided by its predecessor's estimated effect (as if each
    run had followed the average command); values without a known predecessor unchanged."""
    at: dict[int, str] = {}
    for s in samples:
        for q in s.positions:
            at[q] = command_key(s)
    factor = {key: float(np.exp(model.effect_of(key))) for key in set(at.values())}
    out = []
    for s in samples:
        if len(s.positions) != len(s.values):
            out.append(s)
            continue
        values = tuple(v / factor[at[q - 1]] if q - 1 in at else v
                       for q, v in zip(s.positions, s.values, strict=True))
        out.append(replace(s, values=values))
    return tuple(out)


def diagnose(model: CarryOver, *, order: str) -> tuple[NoiseFinding, ...]:
    """A note when a predecessor slows the next run by at least :data:`NOTE_PCT` % (and
    :data:`NOTE_Z` standard errors): a warning when the order does not balance predecessors
    (the comparison may be biased), else information (the balanced order shares it evenly)."""
    found = []
    for e in model.effects:
        if e.effect_pct < NOTE_PCT or e.effect_pct < NOTE_Z * e.stderr_pct:
            continue
        variant, _, rest = e.predecessor.partition("/")
        workload, _, scenario = rest.partition("@")
        balanced = order == "balanced"
        found.append(NoiseFinding(
            "carryover", variant, workload, model.metric, "info" if balanced else "warning",
            (f"a run right after {e.predecessor} is {e.effect_pct:+.1f} % "
             f"(± {1.96 * e.stderr_pct:.1f}) slower than after the average command"),
            ("the balanced order gives every variant this predecessor equally often, so it "
             "cancels in the comparison" if balanced else
             f"order {order!r} does not give every variant this predecessor equally often, so "
             "the comparison may be biased: use `timing.order: balanced` (the default)"),
            value=e.effect_pct, scenario=scenario or "default"))
    return tuple(found)
