"""The gate: the one place that turns comparisons and errors into pass/fail and an exit code.

Verdict rule
------------
Each gated comparison carries a ratio ``r = stat(subject) / stat(reference)`` (ratio of medians
by default) and a confidence interval ``[lo, hi]`` at ``confidence`` from a paired block
bootstrap over interleaved rounds (:func:`harness.analyse.stats.compare`).
With ``t = threshold_pct/100``
the verdict is (:func:`harness.analyse.stats.verdict`):

==============  ==========================================================================
regression      ``lo > 1`` and ``r >= 1 + t``: a real slowdown (the interval excludes 1) that
                is estimated at least as large as the threshold
improvement     ``hi < 1`` and ``r <= 1 - t``: the mirror image
no change       ``1 - t < lo`` and ``hi < 1 + t``: any change is smaller than the threshold
inconclusive    anything else: the interval reaches past the threshold but the data do not
                show a significant change of at least the threshold (noisy run, too few
                runs)
error           no interval (fewer than ``MIN_PAIRS`` = 6 paired runs): a point estimate
                never passes the gate
==============  ==========================================================================

Why both conditions for a regression: the interval alone (``lo > 1``) flags every real but
tiny difference, and on a shared runner its nominal 2.5 % one-sided error is too often exceeded
when noise comes in bursts; the threshold alone (``r >= 1 + t``) fires on noise whenever the
run is noisy. Together, a false alarm needs a noise excursion beyond the threshold *and* a
tight interval, and the threshold keeps its plain meaning: "the smallest slowdown we want to
hear about". An effect exactly at the threshold is caught about half of the time; effects
twice the run's noise above it almost always. The interval is reported in the comment
("+4.1 % [+2.9, +5.3]") so a reader sees how sure the verdict is.

Calibration (``bench/gate_calibration.py``, ``bench/gate_calibration_results.md`` Run 8:
``python -c pass`` = 11 ms in twin venvs, this 2-core runner under five load profiles: quiet,
1-3 CPU hogs, bursty): with the defaults (``runs: auto`` on CPU time, balanced order, paired
statistic, 2 % threshold) 1 false regression in 262 A/A trials, 0.8 % inconclusive, +3 % and +5 %
caught in 145 of 145 trials. Fixed 50 runs: false regressions at 2 % 0.5 % of 911 trials on
either metric, but 35 % (CPU) and 47 % (wall) inconclusive; at 5 % none in 911. So the defaults
are ``runs: auto``, ``metric: auto`` and 2 % (:mod:`harness.defaults`); with fixed runs on wall
time (the hyperfine timer) use 5 %. A deterministic metric can use 1 %.

A deterministic metric (instructions) has a zero-width interval ``lo = hi = r``: it regresses
when ``r >= 1 + t`` (and ``r > 1``).

Exit codes: 0 pass, 1 regression (or inconclusive when ``inconclusive: fail``), 2 error.
Inconclusive passes by default, with a warning that says what to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.analyse.levels import level_text
from harness.analyse.stats import verdict as judge
from harness.defaults import MIN_PAIRS
from harness.model import Comparison, GatePolicy, GateResult


def fmt_change(c: Comparison) -> str:
    """``+4.1 % [+2.9, +5.3]`` (the interval only when there is one)."""
    text = f"{c.delta_pct:+.1f} %"
    if c.ci_low is not None and c.ci_high is not None:
        text += f" [{(c.ci_low - 1) * 100:+.1f}, {(c.ci_high - 1) * 100:+.1f}]"
    return text


def remedies(metric: str, *, auto: bool = False) -> str:
    """What to do about an unclear timed comparison; never the metric already gated on, nor
    ``runs: auto`` when the run used it (``auto``)."""
    others = {"wall": "`metric: cpu` (less sensitive to machine load) or `metric: instructions`",
              "cpu": "`metric: instructions`"}.get(metric)
    text = ("rerun with a larger `runs: auto` budget (timing.max_runs, timing.max_seconds), "
            "on a quieter runner" if auto else
            "rerun with `runs: auto` or more runs, on a quieter runner")
    return text + (f", or gate on {others}" if others else "")


def _where(c: Comparison) -> str:
    return f"{c.workload}" + ("" if c.metric == "wall" else f" ({c.metric})")


def decide(policy: GatePolicy, comparisons: Sequence[Comparison],
           errors: Sequence[str] = (), *, auto: bool = False) -> GateResult:
    """Pass (0), regression (1) or error (2) from the gated comparisons and any errors.

    ``comparisons`` are the gated ones (policy.compare vs policy.against on policy.metric);
    each is re-judged at the policy's threshold so the gate alone decides. The headline names
    the workload but no numbers: renderers add the change and its interval
    (:func:`fmt_change`)."""
    comparisons = tuple(comparisons)
    if not policy.enabled:
        if errors:
            return GateResult("error", 2, "Error: " + errors[0], (), (), tuple(errors))
        return GateResult("off", 0, "Measured; no gate (gate: off)", ())
    if errors:
        return GateResult("error", 2, "Error: " + errors[0], comparisons, (), tuple(errors))
    if not comparisons:
        message = (f"nothing to gate: no {policy.metric} comparison of {policy.compare!r} "
                   f"with {policy.against!r}")
        return GateResult("error", 2, "Error: " + message, (), (), (message,))
    too_few = [c for c in comparisons if c.ci_low is None or c.ci_high is None]
    if too_few:
        c = too_few[0]
        message = (f"{c.subject} vs {c.reference} on {_where(c)}: too few runs for a "
                   f"confidence interval (at least {MIN_PAIRS} paired runs are needed) "
                   f"(hint: set timing.runs to {MIN_PAIRS} or more)")
        return GateResult("error", 2, "Error: " + message, comparisons, (), (message,))
    verdicts = [(c, judge(c.ratio, c.ci_low, c.ci_high, policy.threshold_pct))
                for c in comparisons]
    regressions = [c for c, v in verdicts if v == "regression"]
    unclear = [c for c, v in verdicts if v == "inconclusive"]
    warnings = tuple(
        f"inconclusive: {c.subject} vs {c.reference} on {_where(c)}: {fmt_change(c)} — the "
        f"{level_text(c.confidence)} interval reaches past the ±{policy.threshold_pct:g} % "
        f"threshold; {remedies(c.metric, auto=auto)}" for c in unclear)
    if regressions:
        worst = max(regressions, key=lambda c: c.ratio)
        return GateResult("regression", 1, f"Regression detected in {_where(worst)}",
                          comparisons, warnings)
    if unclear and policy.inconclusive == "fail":
        first = max(unclear, key=lambda c: c.ratio)
        return GateResult("inconclusive", 1,
                          f"Inconclusive in {_where(first)} (the gate fails on inconclusive)",
                          comparisons, warnings)
    if unclear:
        return GateResult("pass", 0, "No regression detected (inconclusive: see warnings)",
                          comparisons, warnings)
    if any(v == "improvement" for _, v in verdicts):
        return GateResult("pass", 0, "No regression detected (improvement)", comparisons,
                          warnings)
    return GateResult("pass", 0, "No regression detected", comparisons, warnings)
