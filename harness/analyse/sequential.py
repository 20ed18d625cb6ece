"""When to stop measuring with ``timing: {runs: auto}``: a group-sequential design (pure).

Rounds are timed in batches; after each batch (a *look*) the gated comparisons are computed
from all rounds so far, and timing stops as soon as every one is decisive (verdict regression,
improvement or no change), or when a budget (``max_runs``, ``max_seconds``) is reached.

Looking after every batch at a fixed 95 % interval would give a false alarm (an interval
excluding the truth) up to K times as often as one look does. So each look ``k`` gets its own
share ``alpha_k`` of the total error ``alpha = 1 - confidence`` and uses the interval at
``1 - alpha_k``: the shares are spent in proportion to the rounds added (a Pocock-type, linear
alpha-spending function over the planned looks ``batch, 2 batch, ..., max_runs``), and
``sum(alpha_k) <= alpha``. By the union bound (Bonferroni), the probability that *any* look's
interval misses the true ratio is at most ``alpha``, whatever the correlation between looks:
an A/A "regression" (which needs an interval entirely above 1) has probability at most
``alpha / 2`` over the whole sequence. This is conservative against exact group-sequential
boundaries, which assume independent normal increments; bursty machine noise breaks that
assumption, the union bound does not need it.

A look that is known in advance to be the last one (``max_runs`` reached, or too little time
left for another batch: decided from the clock, never from the data) spends all the alpha
that is left. The report records every look, its alpha and why timing stopped, so the gated
comparison is reproduced from the saved samples: the last look's rounds at its confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness import defaults
from harness.model import Comparison, Look, LookResult, SequentialRecord

RULE = ("group-sequential: linear (Pocock-type) alpha spending over the planned looks, "
        "Bonferroni across looks; the last look spends what is left")

#: Fewest bootstrap resamples per unit of tail probability: a look at ``alpha_k`` uses at least
#: ``TAIL_RESAMPLES / (alpha_k / 2)`` resamples, so each percentile rests on >= 10 replicates.
TAIL_RESAMPLES = 10
MIN_RESAMPLES = defaults.BOOTSTRAP_RESAMPLES


def planned_looks(batch: int, max_runs: int) -> tuple[int, ...]:
    """Runs at each planned look: ``batch, 2 batch, ...``, the last one at ``max_runs``."""
    if batch < 1 or max_runs < batch:
        raise ValueError(f"need 1 <= batch <= max_runs, got {batch}, {max_runs}")
    looks = list(range(batch, max_runs + 1, batch))
    if looks[-1] != max_runs:
        looks.append(max_runs)
    return tuple(looks)


def planned_alphas(looks: Sequence[int], alpha: float) -> tuple[float, ...]:
    """Each look's share of ``alpha``, proportional to the rounds it adds (linear spending)."""
    total = looks[-1]
    previous = 0
    out = []
    for n in looks:
        out.append(alpha * (n - previous) / total)
        previous = n
    return tuple(out)


def look_alpha(planned: Sequence[float], spent: float, index: int, alpha: float,
               last: bool) -> float:
    """Alpha of look ``index``: its planned share, or everything left when it is the last."""
    if last:
        return max(alpha - spent, planned[min(index, len(planned) - 1)])
    return planned[index]


def resamples_for(alpha: float) -> int:
    """Bootstrap resamples for a percentile interval at two-sided level ``alpha``."""
    return max(MIN_RESAMPLES, math.ceil(round(TAIL_RESAMPLES / (alpha / 2), 6)))


def decisive(verdicts: Sequence[str]) -> bool:
    """Every gated comparison has an answer (none inconclusive, at least one)."""
    return bool(verdicts) and all(v != "inconclusive" for v in verdicts)


def look_of(runs: int, seconds: float, alpha: float,
            comparisons: Sequence[Comparison]) -> Look:
    """The record of one look."""
    return Look(runs=runs, seconds=round(seconds, 3), alpha=alpha, results=tuple(
        LookResult(c.workload, c.metric, c.ratio, c.ci_low, c.ci_high, c.verdict)
        for c in comparisons))


def summary(record: SequentialRecord) -> str:
    """``stopped after 120 runs: interval decisive`` or ``budget reached after 300 runs
    (max_runs): inconclusive``."""
    if record.decisive:
        return f"stopped after {record.runs} runs: interval decisive"
    budget = record.stopped.removeprefix("budget reached: ")
    return f"budget reached after {record.runs} runs ({budget}): inconclusive"
