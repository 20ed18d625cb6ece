"""The carry-over model on synthetic runs with a known predecessor effect (pure)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from harness.analyse import carryover, stats
from harness.measure import timers
from harness.model import Samples

NAMES = ("baseline", "main", "pr")


def simulate(order: str, seed: int, *, after_pr: float = 0.05, runs: int = 60,
             noise: float = 0.01) -> tuple[Samples, ...]:
    """Twins (baseline, main) and a 4x heavier pr; a run right after pr is ``after_pr``
    slower (log scale); a shared burst per round; warmups are in the sequence."""
    rng = np.random.default_rng(seed)
    base = np.log([0.01, 0.01, 0.04])
    burst = rng.normal(0, 0.03, runs)
    plan = timers.schedule(3, warmup=2, runs=runs, order=order, seed=seed)
    values: list[list[float]] = [[], [], []]
    rounds: list[list[int]] = [[], [], []]
    positions: list[list[int]] = [[], [], []]
    previous = None
    for q, (r, i) in enumerate(plan):
        log_t = base[i] + (after_pr if previous == 2 else 0.0) + rng.normal(0, noise)
        if r >= 0:
            values[i].append(float(np.exp(log_t + burst[r])))
            rounds[i].append(r)
            positions[i].append(q)
        previous = i
    return tuple(Samples(name, "import", "wall", tuple(values[i]), tuple(rounds[i]),
                         positions=tuple(positions[i])) for i, name in enumerate(NAMES))


def test_fit_recovers_the_predecessor_effects():
    model = carryover.fit(simulate("balanced", 1))
    assert model is not None and model.metric == "wall"
    effects = {e.predecessor: e for e in model.effects}
    # +5 % after pr, 0 after the twins; relative to the average predecessor: +3.3, -1.6, -1.6
    assert effects["pr/import"].effect_pct == pytest.approx(100 * (np.exp(0.05 * 2 / 3) - 1),
                                                            abs=0.6)
    assert effects["main/import"].effect_pct == pytest.approx(-1.65, abs=0.6)
    assert all(0 < e.stderr_pct < 0.5 for e in model.effects)
    assert model.spread_pct == pytest.approx(5.0, abs=1.0)
    assert carryover.fit(simulate("balanced", 1)) == model  # deterministic


def test_no_effect_gives_small_estimates_and_no_note():
    model = carryover.fit(simulate("balanced", 2, after_pr=0.0))
    assert model is not None
    assert all(abs(e.effect_pct) < 0.6 for e in model.effects)
    assert carryover.diagnose(model, order="balanced") == ()


def test_alternating_order_biases_the_twins_and_adjustment_removes_it():
    biased, fixed = [], []
    for seed in range(8):
        samples = simulate("interleaved", seed)
        biased.append(stats.compare(samples[1], samples[0]).ratio)
        model = carryover.fit(samples)
        assert model is not None
        adjusted = carryover.adjusted(samples, model)
        fixed.append(stats.compare(adjusted[1], adjusted[0]).ratio)
    assert np.median(biased) > 1.015  # main follows pr every other round, baseline never
    assert abs(np.median(fixed) - 1) < 0.005


def test_balanced_order_is_unbiased_without_adjustment():
    ratios = [stats.compare(s[1], s[0]).ratio
              for s in (simulate("balanced", seed) for seed in range(8))]
    assert abs(np.median(ratios) - 1) < 0.005


def test_note_is_a_warning_only_when_the_order_does_not_balance():
    model = carryover.fit(simulate("interleaved", 3))
    assert model is not None
    (warning,) = carryover.diagnose(model, order="interleaved")
    assert (warning.kind, warning.variant, warning.severity) == ("carryover", "pr", "warning")
    assert "balanced" in warning.advice
    (info,) = carryover.diagnose(model, order="balanced")
    assert info.severity == "info"


def test_without_positions_there_is_no_model():
    samples = tuple(dataclasses.replace(s, positions=()) for s in simulate("balanced", 1))
    assert carryover.fit(samples) is None
    assert carryover.fit(simulate("balanced", 1)[:1]) is None


def test_analyse_reports_the_carry_over_from_recorded_positions():
    """A saved record whose samples know their positions: the report carries the model and a
    warning names the heavy predecessor when the order does not balance it."""
    from harness.analyse.analysis import analyse
    from tests.sample_measurements import sample_measurements

    record = sample_measurements()
    (job,) = record.jobs
    simulated = {s.variant: s for s in simulate("interleaved", 4)}
    samples = tuple(dataclasses.replace(s, values=simulated[s.variant].values,
                                        rounds=simulated[s.variant].rounds,
                                        positions=simulated[s.variant].positions)
                    if s.metric == "wall" and s.variant in simulated else s
                    for s in job.samples)
    timing = dataclasses.replace(job.timing, order="interleaved")
    record = dataclasses.replace(
        record, jobs=(dataclasses.replace(job, samples=samples, timing=timing),))
    report = analyse(record)
    effects = {e["predecessor"]: e["effect_pct"] for e in report.extras["carryover"]["effects"]}
    assert effects["pr/import"] > 2.0
    (note,) = [n for n in report.noise if n.kind == "carryover"]
    assert (note.variant, note.severity) == ("pr", "warning")
    assert "carryover" not in analyse(sample_measurements()).extras  # no positions: no model


def test_gate_carryover_adjust_removes_the_bias_of_an_unbalanced_order():
    from harness.analyse.analysis import analyse
    from tests.sample_measurements import sample_measurements

    record = sample_measurements()
    (job,) = record.jobs
    simulated = {s.variant: s for s in simulate("interleaved", 6)}
    samples = tuple(dataclasses.replace(s, values=simulated[s.variant].values,
                                        rounds=simulated[s.variant].rounds,
                                        positions=simulated[s.variant].positions)
                    if s.metric == "wall" and s.variant in simulated else s
                    for s in job.samples)
    record = dataclasses.replace(record, jobs=(dataclasses.replace(job, samples=samples),))

    def twins(report):
        (c,) = [c for c in report.comparisons if (c.subject, c.reference, c.metric) ==
                ("main", "baseline", "wall")]
        return c

    plain = twins(analyse(record))
    fixed = twins(analyse(record, dataclasses.replace(record.gate, carryover="adjust")))
    assert plain.ratio > 1.01 and abs(fixed.ratio - 1) < 0.006
    assert "carry-over" in fixed.method and "carry-over" not in plain.method
