"""The analysis's scipy-free distribution and rank functions agree with scipy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from harness.analyse import rankstats


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 8, 24, 25, 99, 150, 200, 201, 1000, 50000])
@pytest.mark.parametrize("p", [0.6, 0.975, 0.99875, 0.9999])
def test_t_quantile_is_scipys(df: int, p: float) -> None:
    assert rankstats.t_quantile(p, df) == pytest.approx(sps.t.ppf(p, df), rel=1e-7, abs=1e-9)


def test_t_quantile_refuses_what_it_cannot_answer() -> None:
    for p, df in ((0.5, 3), (1.0, 3), (0.9, 0)):
        with pytest.raises(ValueError):
            rankstats.t_quantile(p, df)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=40))
def test_average_ranks_are_scipys_with_ties(values: list[int]) -> None:
    x = np.array(values, dtype=float)
    assert np.allclose(rankstats.average_ranks(x), sps.rankdata(x))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=3, max_size=60),
       st.integers(0, 2 ** 31 - 1))
def test_kendall_and_theil_sen_are_scipys(values: list[int], seed: int) -> None:
    """Ties in y (integer values) and, shuffled, ties in x too: the asymptotic p-value with
    scipy's tie corrections (scipy's exact method differs below 50 points without ties)."""
    y = np.array(values, dtype=float)
    x = np.random.default_rng(seed).integers(0, len(values) // 2 + 2, len(values)).astype(float)
    expected = sps.kendalltau(x, y, method="asymptotic").pvalue
    got = rankstats.kendall_trend_p(x, y)
    if np.isnan(expected):
        assert got == 1.0
    else:
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    rounds = np.arange(len(values), dtype=float)
    assert rankstats.theil_sen_slope(y, rounds) == pytest.approx(
        sps.theilslopes(y, rounds).slope)


def test_the_default_analysis_does_not_import_scipy() -> None:
    """scipy.stats costs ~0.6 s to import, more than the analysis itself: comparing,
    widening and diagnosing a 50-run pair must not pay it (a runs: auto look neither)."""
    code = ("import sys, numpy as np\n"
            "from harness.analyse import stats\n"
            "from harness.model import Samples\n"
            "r = np.random.default_rng(1)\n"
            "a = Samples('pr', 'w', 'wall', tuple(0.01 * np.exp(r.normal(0, .02, 50))),"
            " tuple(range(50)))\n"
            "b = Samples('main', 'w', 'wall', tuple(0.01 * np.exp(r.normal(0, .02, 50))),"
            " tuple(range(50)))\n"
            "stats.compare(a, b); stats.diagnose(a); stats.drift(a)\n"
            "sys.exit('scipy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
