"""The CI path with real processes (existing interpreters, nothing built): runs on main go into
the history; a PR run reads it for the comment's trend, plots and exports; the dashboard."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from harness.cli import main
from harness.history import store
from tests import browser
from tests.test_pipeline import BUSY_50MS, config


def test_runs_into_history_then_a_pr_reads_it(tmp_path: Path) -> None:
    root = tmp_path / "store"
    for i in range(3):  # three "pushes to main"
        (tmp_path / f"m{i}").mkdir()
        cfg = config(tmp_path / f"m{i}", "pass", "pass")
        out = tmp_path / f"main-{i}"
        assert main(["run", "--config", str(cfg), "--out", str(out), "--quiet"]) in (0, 1)
        assert main(["history", "add", str(out / "measurements.json"), "--store", str(root),
                     "--commit", f"{i:040x}", "--date", f"2026-11-2{i}T00:00:00Z"]) == 0
    history = store.load(root)
    assert [r.commit[-1] for r in history.runs] == ["0", "1", "2"]
    assert history.runs[0].machine["cores"] >= 1 and history.runs[0].workloads == ("start",)

    (tmp_path / "pr").mkdir()
    cfg = config(tmp_path / "pr", "pass", BUSY_50MS)
    out = tmp_path / "pr-run"
    code = main(["run", "--config", str(cfg), "--out", str(out), "--quiet", "--history",
                 str(root), "--plots", "--export", f"pyperf={out}/pyperf-{{variant}}.json",
                 "--export", f"gab={out / 'gab.json'}"])
    assert code == 1  # the PR burns 50 ms of CPU: a regression
    comment = (out / "comment.md").read_text()
    chart = comment[comment.index("```mermaid"):]
    assert re.search(r'x-axis \["0000000", "0000000", "0000000", "PR"\]', chart)
    assert {p.name for p in (out / "plots").iterdir()} == {
        "distribution-start.png", "distribution-start.svg", "trend-start.png",
        "trend-start.svg"}
    assert json.loads((out / "gab.json").read_text())[0]["unit"] == "ms"
    done = subprocess.run([sys.executable, "-m", "pyperf", "compare_to",
                           str(out / "pyperf-main.json"), str(out / "pyperf-pr.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "slower" in done.stdout, done.stderr

    assert main(["history", "html", "--store", str(root), "--out", str(tmp_path / "site")]) == 0
    dom, console = browser.load(tmp_path / "site" / "index.html")
    assert console == [] and dom.count('<svg class="trend"') == 1
