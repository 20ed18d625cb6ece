"""Plots (matplotlib) and the comment's mermaid trend."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from harness.cli import main
from harness.history import store, trend
from harness.history.trend_chart import trend_section
from harness.render import markdown
from tests.history_fixtures import (
    build_history,
    commit_of,
    stepped_medians,
    synthetic_report,
    write_report,
)


@pytest.fixture(scope="module")
def history_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_history(tmp_path_factory.mktemp("h"), stepped_medians(30, {15: 1.08}))


def test_plot_writes_distributions_and_trend(history_root: Path, tmp_path: Path) -> None:
    report = synthetic_report({"baseline": 0.1, "main": 0.05, "pr": 0.055}, runs=40)
    path = write_report(tmp_path / "report.json", report)
    assert main(["plot", str(path), "--out", str(tmp_path / "plots"), "--history",
                 str(history_root)]) == 0
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["distribution-import.png", "distribution-import.svg", "trend-import.png",
                     "trend-import.svg"]
    for name in names:
        assert (tmp_path / "plots" / name).stat().st_size > 5000
    assert (tmp_path / "plots" / "distribution-import.png").read_bytes()[:4] == b"\x89PNG"


def test_mermaid_trend_in_the_comment(history_root: Path) -> None:
    report = synthetic_report({"main": 0.054, "pr": 0.055})
    history = store.load(history_root)
    block = trend_section(trend.trends(history.points), report)
    assert block.startswith("#### Trend on main\n\n```mermaid\nxychart-beta\n")
    lines = block.splitlines()
    x_axis = next(line for line in lines if line.strip().startswith("x-axis"))
    values = next(line for line in lines if line.strip().startswith("line"))
    assert x_axis.count(",") == values.count(",") == 20  # 20 commits + the PR
    assert x_axis.rstrip().endswith('"PR"]')
    assert 'title "import: wall time of main, last 20 commits + PR"' in block
    assert float(values.rstrip("] ").rsplit(",", 1)[1]) == pytest.approx(55, rel=0.01)
    assert re.search(rf"\+[78]\.\d% \\\[[^]]*\\\] at {commit_of(15)[:12]}", block)
    comment = markdown.render(report, trend=block)
    fences = [t for t in MarkdownIt().parse(comment) if t.type == "fence"]
    assert [t.info for t in fences if t.info == "mermaid"] == ["mermaid"]
    # under the start-up table, before the notes on how it was measured
    assert comment.index("| Version") < comment.index("```mermaid") < comment.index(
        "Measured with")


def test_no_history_no_block() -> None:
    assert trend_section([], synthetic_report({"main": 0.05, "pr": 0.05})) == ""


def test_mermaid_trend_of_the_paired_ratio_names_its_series(history_root: Path) -> None:
    report = synthetic_report({"baseline": 0.1, "main": 0.05, "pr": 0.06})
    history = store.load(history_root)
    (t,) = trend.trends(history.points, metric="wall-ratio")
    block = trend_section([t], report)
    assert 'title "import: wall time / baseline (paired) of main, last 20 commits + PR"' in block
    values = next(line for line in block.splitlines() if line.strip().startswith("line"))
    assert float(values.rstrip("] ").rsplit(",", 1)[1]) == pytest.approx(0.6, rel=0.03)
