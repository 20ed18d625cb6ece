"""compare A B: saved runs of the demo (reports/example) and history points."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.history_fixtures import build_history, commit_of, stepped_medians

EXAMPLE = Path(__file__).resolve().parent.parent / "reports" / "example" / "report.json"


def _slower_copy(tmp_path: Path, factor: float, platform: str | None = None) -> Path:
    """The demo's saved report with the PR's samples scaled by ``factor``."""
    data = json.loads(EXAMPLE.read_text())
    for s in data["samples"]:
        if s["variant"] == "pr":
            s["values"] = [v * factor for v in s["values"]]
    if platform:
        data["timing"]["platform"] = platform
    data["created"] = "2026-11-22T00:00:00+00:00"
    path = tmp_path / f"b-{factor}.json"
    path.write_text(json.dumps(data))
    return path


def test_compare_two_saved_demo_runs(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    b = _slower_copy(tmp_path, 1.2, platform="Linux aarch64, 8 CPUs")
    assert main(["compare", str(EXAMPLE), str(b)]) == 0
    captured = capsys.readouterr()
    pr_line = next(line for line in captured.out.splitlines() if line.startswith("pr "))
    assert "+20.0% [" in pr_line and "regression" in pr_line
    main_line = next(line for line in captured.out.splitlines() if line.startswith("main "))
    assert "+0.0% [-" in main_line and "no change" in main_line  # unpaired: never zero-width
    assert "unpaired" in captured.err and "weaker than the paired" in captured.err
    assert "machine records differ" in captured.err and "aarch64" in captured.err


def test_compare_gate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    same = _slower_copy(tmp_path, 1.0)
    assert main(["compare", str(EXAMPLE), str(same), "--gate"]) == 0
    assert "machine records differ" not in capsys.readouterr().err
    slower = _slower_copy(tmp_path, 1.2)
    assert main(["compare", str(EXAMPLE), str(slower), "--gate"]) == 1
    assert main(["compare", str(EXAMPLE), str(slower), "--gate", "--variant", "main"]) == 0
    assert main(["compare", str(EXAMPLE), str(slower), "--variant", "nope"]) == 2
    assert "no variant 'nope' in common" in capsys.readouterr().err
    assert main(["compare", str(EXAMPLE), str(tmp_path / "missing.json")]) == 2


def test_compare_history_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = build_history(tmp_path, stepped_medians(8, {4: 1.3}, noise=0.001))
    capsys.readouterr()
    assert main(["compare", f"{root}@{commit_of(1)[:8]}", f"{root}@latest", "--variant",
                 "main", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "| main" in out and ("+30." in out or "+29." in out)
    assert f"A: {root}@{commit_of(1)[:12]}" in out.replace("\\", "")
