"""The gate: verdicts to pass/fail, exit codes, warnings and headlines."""

from __future__ import annotations

import dataclasses

import pytest

from harness.analyse.gate import decide, fmt_change
from harness.model import Comparison, GatePolicy

#: The default threshold the calibration chose (bench/gate_calibration_results.md).
THRESHOLD_DEFAULT = 2.0


def comparison(ratio, low=None, high=None, *, workload="import", metric="wall",
               verdict="no change"):
    return Comparison(subject="pr", reference="main", workload=workload, metric=metric,
                      statistic="median", ratio=ratio, ci_low=low, ci_high=high,
                      confidence=0.95, threshold_pct=2.0, verdict=verdict, n_pairs=50)


POLICY = GatePolicy(threshold_pct=2.0)


def test_policy_defaults():
    policy = GatePolicy()
    assert (policy.compare, policy.against, policy.metric, policy.statistic) == \
        ("pr", "main", "auto", "paired")
    assert policy.threshold_pct == THRESHOLD_DEFAULT
    assert policy.inconclusive == "pass"
    assert 0.5 < policy.confidence < 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.threshold_pct = 1.0  # type: ignore[misc]


def test_no_change_passes():
    g = decide(POLICY, [comparison(1.004, 0.995, 1.012)])
    assert (g.status, g.exit_code, g.headline) == ("pass", 0, "No regression detected")
    assert g.warnings == () and g.errors == ()


def test_regression_fails_and_names_the_worst_workload():
    g = decide(POLICY, [comparison(1.03, 1.01, 1.05, workload="a"),
                        comparison(1.08, 1.06, 1.10, workload="b"),
                        comparison(1.0, 0.99, 1.01, workload="c")])
    assert (g.status, g.exit_code) == ("regression", 1)
    assert g.headline == "Regression detected in b"
    assert len(g.comparisons) == 3


def test_gate_rejudges_at_its_own_threshold():
    """A comparison computed at another threshold is judged by the policy's threshold."""
    c = comparison(1.05, 1.03, 1.07, verdict="no change")
    assert decide(POLICY, [c]).status == "regression"
    assert decide(GatePolicy(threshold_pct=10.0), [c]).status == "pass"


def test_inconclusive_passes_with_a_warning_by_default():
    g = decide(POLICY, [comparison(1.03, 0.99, 1.07)])
    assert (g.status, g.exit_code) == ("pass", 0)
    assert "inconclusive" in g.headline
    assert len(g.warnings) == 1
    assert "+3.0 % [-1.0, +7.0]" in g.warnings[0]
    assert "instructions" in g.warnings[0]


def test_inconclusive_can_fail():
    g = decide(dataclasses.replace(POLICY, inconclusive="fail"),
               [comparison(1.03, 0.99, 1.07)])
    assert (g.status, g.exit_code) == ("inconclusive", 1)
    assert g.headline.startswith("Inconclusive in import")


def test_regression_beats_inconclusive():
    g = decide(dataclasses.replace(POLICY, inconclusive="fail"),
               [comparison(1.03, 0.99, 1.07, workload="a"),
                comparison(1.05, 1.03, 1.07, workload="b")])
    assert (g.status, g.headline) == ("regression", "Regression detected in b")
    assert len(g.warnings) == 1


def test_improvement_passes():
    g = decide(POLICY, [comparison(0.9, 0.88, 0.92)])
    assert (g.status, g.exit_code) == ("pass", 0)
    assert "improvement" in g.headline


def test_errors_win():
    g = decide(POLICY, [comparison(1.5, 1.4, 1.6)], errors=["build of 'pr' failed"])
    assert (g.status, g.exit_code) == ("error", 2)
    assert g.headline == "Error: build of 'pr' failed"
    assert g.errors == ("build of 'pr' failed",)


def test_nothing_to_gate_is_an_error():
    g = decide(POLICY, [])
    assert (g.status, g.exit_code) == ("error", 2)
    assert "nothing to gate" in g.headline


def test_deterministic_instructions_gate():
    g = decide(dataclasses.replace(POLICY, metric="instructions"),
               [comparison(1.025, 1.025, 1.025, metric="instructions")])
    assert (g.status, g.headline) == ("regression", "Regression detected in import "
                                      "(instructions)")
    assert decide(POLICY, [comparison(1.01, 1.01, 1.01, metric="instructions")]).status == \
        "pass"


def test_no_interval_is_an_error_never_a_pass():
    """Too few runs for an interval: even a +460 % point estimate must not pass silently."""
    g = decide(POLICY, [comparison(5.6)])
    assert (g.status, g.exit_code) == ("error", 2)
    assert "at least 6 paired runs" in g.errors[0] and "\n" not in g.errors[0]


def test_fmt_change():
    assert fmt_change(comparison(1.041, 1.029, 1.053)) == "+4.1 % [+2.9, +5.3]"
    assert fmt_change(comparison(0.95)) == "-5.0 %"


def test_metric_auto_gates_cpu_time_where_it_was_measured_else_wall_time() -> None:
    from harness.analyse.analysis import resolved_metric
    from harness.model import GatePolicy, Samples

    def s(variant: str, metric: str) -> Samples:
        return Samples(variant, "w", metric, (0.01,) * 6, tuple(range(6)))

    auto = GatePolicy(compare="pr", against="main")
    assert auto.metric == "auto"
    both = [s("pr", "wall"), s("main", "wall"), s("pr", "cpu"), s("main", "cpu")]
    assert resolved_metric(auto, both).metric == "cpu"
    assert resolved_metric(auto, both[:3]).metric == "wall"  # main has no CPU time
    assert resolved_metric(auto, both[:2]).metric == "wall"  # hyperfine, an old record
    explicit = GatePolicy(compare="pr", against="main", metric="wall")
    assert resolved_metric(explicit, both) is explicit


def test_a_wall_regression_the_cpu_gate_cannot_see_is_a_warning() -> None:
    """Gated on CPU time (metric: auto), a PR that sleeps or waits at start-up is a wall-time
    regression only: the gate passes it, so a warning says what CPU time cannot see."""
    from harness.analyse.analysis import waiting_notes

    def c(metric: str, ratio: float, low: float, high: float, verdict: str) -> Comparison:
        return Comparison("pr", "main", "w", metric, "paired", ratio, low, high, 0.95, 2.0,
                          verdict, n_pairs=50)

    cpu = c("cpu", 1.002, 0.995, 1.009, "no change")
    wall = c("wall", 1.31, 1.28, 1.34, "regression")
    (note,) = waiting_notes([cpu], [cpu, wall])
    assert note.kind == "waiting" and note.severity == "warning" and note.metric == "wall"
    assert "wall time +31.0 % [+28.0, +34.0]" in note.message and "waits" in note.message
    assert "metric: wall" in note.advice
    assert waiting_notes([cpu], [cpu, c("wall", 1.01, 0.99, 1.03, "inconclusive")]) == ()
    assert waiting_notes([wall], [wall]) == ()  # gated on wall: the gate itself fails it
    regressed = c("cpu", 1.3, 1.2, 1.4, "regression")
    assert waiting_notes([regressed], [regressed, wall]) == ()
