"""The change-point detector (pure): bumps, spikes, the newest commit, linked steps."""

from __future__ import annotations

from harness.history.changepoints import analyse, detect

STORY = [16.4, 16.9, 17.0, 100.7, 110.4, 113.3, 18.6, 17.6, 17.1, 17.0, 15.8]


def test_a_bump_is_two_linked_steps() -> None:
    steps = detect([17.0] * 7 + [100.0] * 6 + [17.0] * 7)
    assert [s.index for s in steps] == [7, 13]
    assert steps[0].fixed_by == 13 and steps[1].fixes == 7 and steps[0].lived == 6
    assert steps[0].pct > 400 and steps[1].pct < -80
    assert steps[0].ci_low > 1 and steps[1].ci_high < 1


def test_the_issue_story_regress_then_fix_lived_three_commits() -> None:
    steps = detect(STORY)
    assert [(s.index, s.fixed_by, s.lived) for s in steps] == [(3, 6, 3), (6, None, None)]


def test_the_newest_commit_is_flagged_at_once_then_confirmed_or_retracted() -> None:
    quiet = [16.4, 16.9, 17.0, 16.7, 17.4, 17.3, 16.6, 17.6, 17.1, 17.0]
    (flag,) = detect([*quiet, 105.8])
    assert flag.index == 10 and flag.status == "newest" and flag.pct > 500
    (confirmed,) = detect([*quiet, 105.8, 104.1])
    assert confirmed.index == 10 and confirmed.status == "confirmed"
    retracted = analyse([*quiet, 105.8, 17.2, 16.9])
    assert retracted.steps == () and [s.index for s in retracted.spikes] == [10]


def test_a_single_outlier_is_a_spike_not_a_step() -> None:
    values = [17.0, 17.2, 16.9, 17.1, 30.0, 17.0, 16.8, 17.1, 17.2, 16.9]
    found = analyse(values)
    assert found.steps == () and [(s.index, round(s.pct)) for s in found.spikes] == [(4, 76)]


def test_own_intervals_weigh_the_points() -> None:
    """A commit off its neighbours whose own samples are wildly spread (a disturbed run) is
    not flagged as the newest step; the same median with a tight interval is."""
    quiet = [17.0, 17.2, 16.9, 17.1, 17.0, 16.8, 17.1, 17.2, 16.9, 17.0]
    tight = [(v * 0.995, v * 1.005) for v in quiet]
    assert detect([*quiet, 19.5], [*tight, (19.4, 19.6)])[0].status == "newest"
    assert detect([*quiet, 19.5], [*tight, (12.0, 30.0)]) == ()


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

positive = st.floats(min_value=1e-4, max_value=1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(positive, max_size=60), st.integers(0, 2))
def test_any_series_gives_consistent_findings_on_any_scale(values: list[float],
                                                           shape: int) -> None:
    if shape == 1:  # plateaus: repeated values, steps between them
        values = [v for v in values[:6] for _ in range(5)]
    elif shape == 2:  # points with their own intervals
        pass
    intervals = [(v * 0.99, v * 1.01) for v in values] if shape == 2 else None
    found = analyse(values, intervals)
    n = len(values)
    assert [s.index for s in found.steps] == sorted({s.index for s in found.steps})
    for s in found.steps:
        assert 0 < s.index < n and s.ci_low <= s.ratio <= s.ci_high
        assert s.fixed_by is None or s.index < s.fixed_by < n
        assert s.status in ("confirmed", "newest")
    assert all(0 <= s.index < n for s in found.spikes)
    scaled = analyse([v * 1000 for v in values],
                     [(lo * 1000, hi * 1000) for lo, hi in intervals] if intervals else None)
    assert [s.index for s in scaled.steps] == [s.index for s in found.steps]


@given(st.lists(st.one_of(positive, st.sampled_from(
    [0.0, -1.0, float("nan"), float("inf")])), min_size=1, max_size=30))
def test_non_positive_or_non_finite_values_give_nothing_not_an_error(values: list[float]) -> None:
    found = analyse(values)
    if not all(v > 0 and v < float("inf") for v in values):
        assert found.steps == () and found.spikes == ()
