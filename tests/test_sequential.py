"""The group-sequential stopping rule of ``runs: auto`` (pure)."""

from __future__ import annotations

import math

import pytest

from harness.analyse import sequential, stats
from harness.model import Look, SequentialRecord


def test_planned_looks_end_at_max_runs():
    assert sequential.planned_looks(15, 300) == tuple(range(15, 301, 15))
    assert sequential.planned_looks(20, 50) == (20, 40, 50)
    with pytest.raises(ValueError):
        sequential.planned_looks(20, 10)


def test_alpha_is_spent_linearly_and_sums_to_alpha():
    looks = sequential.planned_looks(20, 50)
    alphas = sequential.planned_alphas(looks, 0.05)
    assert alphas == pytest.approx((0.02, 0.02, 0.01))
    assert math.fsum(alphas) == pytest.approx(0.05)


def test_a_last_look_spends_what_is_left():
    alphas = sequential.planned_alphas((10, 20, 30, 40), 0.04)
    assert sequential.look_alpha(alphas, 0.0, 0, 0.04, last=False) == pytest.approx(0.01)
    assert sequential.look_alpha(alphas, 0.01, 1, 0.04, last=True) == pytest.approx(0.03)


def test_resamples_keep_ten_replicates_in_each_tail():
    assert sequential.resamples_for(0.05) == 1000  # the default
    assert sequential.resamples_for(0.0025) == 8000
    assert sequential.resamples_for(1 - (1 - 0.0025)) == 8000  # float round trip


def test_decisive_needs_an_answer_for_every_gated_comparison():
    assert sequential.decisive(["no change", "regression"])
    assert not sequential.decisive(["no change", "inconclusive"])
    assert not sequential.decisive([])


def test_summary_says_why_it_stopped():
    def record(stopped: str) -> SequentialRecord:
        return SequentialRecord(sequential.RULE, 0.05, 15, 300, 300.0, (15, 30), (0.025, 0.025),
                                (Look(15, 1.0, 0.0025), Look(120, 9.0, 0.0025)), stopped)

    assert sequential.summary(record("interval decisive")) == \
        "stopped after 120 runs: interval decisive"
    assert sequential.summary(record("budget reached: max_seconds")) == \
        "budget reached after 120 runs (max_seconds): inconclusive"
    assert record("interval decisive").confidence == pytest.approx(0.9975)


def test_a_look_with_few_blocks_gets_a_wider_interval():
    """The percentile bootstrap is too narrow on few blocks, worst in a look's far tail: the
    half-widths grow by t(B - 1) / z (x1.52 for 15 rounds = 8 blocks at 99.75 %)."""
    assert stats.small_sample_factor(8, 0.9975) == pytest.approx(1.52, abs=0.01)
    assert stats.small_sample_factor(150, 0.9975) == pytest.approx(1.017, abs=0.002)
    assert stats.small_sample_factor(25, 0.95) == pytest.approx(1.053, abs=0.002)
    assert stats.widen(1.04, 1.01, 1.07, 1.0) == (1.01, 1.07)
    low, high = stats.widen(1.04, 1.01, 1.07, 1.52)
    assert math.log(high / 1.04) == pytest.approx(1.52 * math.log(1.07 / 1.04))
    assert low < 1.01
