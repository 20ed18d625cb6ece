"""Renderers are pure: a report in, the same text out; golden files pin the comment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import report
from harness.render import markdown, terminal
from tests.mdtables import tables
from tests.sample_report import sample_report

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text()


@pytest.mark.parametrize("status", ["pass", "regression"])
def test_comment_golden(status: str) -> None:
    check_golden(f"comment-{status}.md", markdown.render(sample_report(status=status)))


def test_terminal_golden() -> None:
    check_golden("terminal.txt", terminal.render(sample_report()))


def test_hostile_label_cannot_break_tables_or_ping() -> None:
    text = markdown.render(sample_report(pr_label="evil | x\n| y <script>@octocat"))
    parsed = tables(text)
    assert len(parsed) >= 2
    for table in parsed:
        widths = {len(row) for row in table}
        assert len(widths) == 1, table
    assert "<script>" not in text
    assert "@octocat" not in text
    assert text.startswith(markdown.MARKER + "\n")


def test_seed_sections_present() -> None:
    text = markdown.render(sample_report())
    (startup, syspath, *_rest) = tables(text)
    assert startup[0] == ["Version", "Mean (ms)", "Median (ms)", "± stddev", "vs baseline",
                          "vs main", "Build (s)"]
    assert syspath[0] == ["Version", "sys.path entries", "distinct site-packages roots",
                          "duplicate realpaths"]
    assert "Gate:" in text and "threshold: 10%" in text
    assert text.rstrip().splitlines()[-1].startswith("✅ No regression detected")
    assert "-1.8% [-3.0, -0.5]" in text


def test_regression_final_line() -> None:
    text = markdown.render(sample_report(status="regression"))
    assert text.rstrip().splitlines()[-1].startswith("❌ Regression detected")


def test_render_roundtrip_through_json(tmp_path: Path) -> None:
    original = sample_report()
    path = tmp_path / "report.json"
    report.write_atomic(path, report.dumps(original))
    loaded = report.load(path)
    assert loaded == original
    assert markdown.render(loaded) == markdown.render(original)


def test_comment_stays_under_github_limit() -> None:
    huge = ["<details><summary>x</summary>\n\n" + "y" * 5000 + "\n</details>"] * 40
    text = markdown.render(sample_report(), extra_sections=huge)
    assert len(text) < markdown.GITHUB_LIMIT
    assert "truncated" in text
    assert text.rstrip().splitlines()[-1].startswith("✅")


def test_noise_warnings_fold_into_details() -> None:
    text = markdown.render(sample_report(status="regression"))
    assert "<summary>⚠️ Measurement notes (1)</summary>" in text
    assert "- This PR \\| feat/x next: 3 of 50 runs were outliers — use a quieter runner" in text
    assert "no drift" not in text  # info-level findings stay in the JSON
