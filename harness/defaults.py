"""The one table of defaults: the config loader, the schema's descriptions and the analysis
read them from here, so a default is written once. Chosen from the calibration in
``bench/gate_calibration_results.md``."""

from __future__ import annotations

#: Gate: the paired statistic (Hodges-Lehmann of per-round ratios), 2 % threshold, 95 % interval,
#: CPU time (``auto``) with ``runs: auto``: over five load profiles (quiet, 1-3 CPU hogs, bursty;
#: Run 8) 1 false regression in 262 A/A trials, 0.8 % inconclusive, +3 % and +5 % caught in
#: 145 of 145 trials; fixed 50 runs on wall time left 47 % of A/A trials inconclusive at 2 %.
STATISTIC = "paired"
THRESHOLD_PCT = 2.0
#: `startup-harness compare` of two saved runs: unpaired (no shared rounds, other times and
#: machines), so the fixed design's threshold.
COMPARE_THRESHOLD_PCT = 5.0
CONFIDENCE = 0.95
INCONCLUSIVE = "pass"
#: Carry-over: "report" the model (the balanced order cancels it), or "adjust" wall times by it.
CARRYOVER = "report"
#: Gated metric: ``auto`` is CPU time where the timer measured it run by run (the spawn
#: timer), else wall time (:func:`harness.analyse.analysis.resolved_metric`).
GATE_METRIC = "auto"
GATE_METRICS = ("auto", "wall", "cpu", "instructions")

#: Timing: 5 warmup runs and 50 timed runs per command, carry-over-balanced rounds (every
#: command preceded by every command equally often, harness.measure.orders), spawn timer.
WARMUP = 5
RUNS = 50
#: timing.runs when the config gives none: ``auto`` where it can run (spawn timer, paired
#: rounds), else :data:`RUNS` fixed runs.
TIMING_RUNS = "auto"
ORDER = "balanced"
ORDERS = ("balanced", "interleaved", "shuffled", "duet", "blocks")
TIMER = "spawn"
#: ``runs: auto``: a look every 15 rounds, at most 300 rounds or 300 s of timing.
AUTO_BATCH = 15
AUTO_MAX_RUNS = 300
AUTO_MAX_SECONDS = 300.0
#: Seconds one timer call may take (see the timer for what a call covers).
TIMING_TIMEOUT_S = 600.0
INSTRUCTION_RUNS = 3
#: The fewest paired rounds for a confidence interval: fewer, and a wall or CPU gate is refused.
MIN_PAIRS = 6

#: Seconds one build may take.
BUILD_TIMEOUT_S = 1800.0

#: Import-time diff: runs of ``-X importtime`` per workload, and what counts as slower.
IMPORTTIME_RUNS = 5
IMPORTTIME_SLOWER_PCT = 20.0
IMPORTTIME_SLOWER_MS = 1.0

#: Bootstrap resamples per confidence interval (fixed seed: the same samples give the same
#: interval).
BOOTSTRAP_RESAMPLES = 1000
