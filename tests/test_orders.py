"""Run orders (pure): the balanced order gives every command every predecessor equally often."""

from __future__ import annotations

import itertools
import sys

import pytest

from harness.measure import orders, timers
from harness.measure.timing import TimedCommand


def cyclic_counts(rounds: list[list[int]], k: int) -> list[list[int]]:
    sequence = [c for r in rounds for c in r]
    return orders.transition_counts(sequence + sequence[:1], k)


@pytest.mark.parametrize("k", range(1, 13))
@pytest.mark.parametrize("seed", [0, 1, 17])
def test_balanced_order_every_predecessor_equally_often(k: int, seed: int) -> None:
    period = 1 if k == 1 else (2 if k == 2 else 2 * k)
    rounds = orders.balanced_rounds(k, 3 * period, seed)
    assert all(sorted(r) == list(range(k)) for r in rounds)  # rounds stay rounds
    assert all(a[-1] == b[0] for a, b in itertools.pairwise(rounds))
    counts = cyclic_counts(rounds, k)
    assert {c for row in counts for c in row} == {3 * period // k}


def test_balanced_order_is_seeded_and_varies() -> None:
    assert orders.balanced_rounds(4, 40, seed=3) == orders.balanced_rounds(4, 40, seed=3)
    assert len({str(orders.balanced_rounds(3, 6, seed=s)) for s in range(30)}) > 5
    assert orders.balanced_rounds(0, 2) == [[], []]


def test_alternating_order_is_not_balanced_for_three() -> None:
    """The old default: in ABC CBA the middle command never follows itself and the outer ones
    never follow each other within a round."""
    counts = cyclic_counts(orders.round_orders(3, 6, "interleaved"), 3)
    assert counts[1][1] == 0 and counts[0][2] == 0 and counts[2][0] == 0
    assert counts[2][1] == 3 and counts[1][0] == 3


def test_near_balance_for_runs_off_the_period() -> None:
    rounds = orders.balanced_rounds(3, 50, seed=5)  # 8 periods of 6 and 2 rounds
    counts = cyclic_counts(rounds, 3)
    flat = [c for row in counts for c in row]
    assert max(flat) - min(flat) <= 2


def test_balanced_schedule_warms_up_ending_with_the_first_timed_command() -> None:
    plan = timers.schedule(3, warmup=2, runs=6, order="balanced", seed=4)
    warm = [i for r, i in plan if r < 0]
    timed = [(r, i) for r, i in plan if r >= 0]
    assert sorted(warm) == [0, 0, 1, 1, 2, 2]
    assert warm[-1] == timed[0][1]
    assert [r for r, _ in timed] == [r for r in range(6) for _ in range(3)]
    counts = orders.transition_counts([warm[-1]] + [i for _, i in timed], 3)
    assert {c for row in counts for c in row} == {2}


def test_other_orders_by_name_are_unchanged() -> None:
    assert orders.round_orders(3, 2, "interleaved") == [[0, 1, 2], [2, 1, 0]]
    assert orders.round_orders(4, 3, "shuffled", seed=2) == \
        orders.round_orders(4, 3, "shuffled", seed=2)
    with pytest.raises(ValueError):
        orders.round_orders(2, 2, "blocks")


def test_spawn_timer_records_positions(tmp_path) -> None:
    """Every timed value knows its place in the execution order, so its predecessor is known."""
    commands = [TimedCommand(name, "w", (sys.executable, "-S", "-c", "pass"))
                for name in ("a", "b", "c")]
    samples = timers.measure(commands, warmup=1, runs=6, order="balanced",
                             env={"PATH": "/usr/bin:/bin"}, raw_dir=tmp_path, seed=1)
    plan = timers.schedule(3, warmup=1, runs=6, order="balanced", seed=1)
    for index, s in enumerate(samples):
        assert len(s.positions) == 6
        assert all(plan[p] == (r, index) for p, r in zip(s.positions, s.rounds, strict=True))
