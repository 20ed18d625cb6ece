"""Fault injection: failing and hanging workloads, crashes, full disks, signals, hostile input.

Each test names the case of issue 13 it covers. Variants use ``python:`` sources (nothing is
built) and tiny workloads, so most of these run in a second or two."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.cli import main

#: pr's workload (its interpreter is the symlink ``pr-python``) fails quickly on every other run
#: from its third run on (after the smoke test and the warmup), for a while: the "flaky PR" of
#: case 1. main's never fails.
FLAKY = ("import pathlib, sys; p = pathlib.Path(sys.argv[1]); "
         "n = int(p.read_text()) if p.exists() else 0; "
         "pr = sys.argv[2].endswith('pr-python'); pr and p.write_text(str(n + 1)); "
         "sys.exit(3 if pr and 2 <= n <= 15 and n % 2 else 0)")

#: pr's workload sleeps ``argv[3]`` seconds from its ``argv[4]``-th run on.
LATE_SLEEP = ("import pathlib, sys, time; p = pathlib.Path(sys.argv[1]); "
              "n = int(p.read_text()) if p.exists() else 0; "
              "pr = sys.argv[2].endswith('pr-python'); pr and p.write_text(str(n + 1)); "
              "time.sleep(float(sys.argv[3]) if pr and n >= int(sys.argv[4]) else 0)")


def python_config(path: Path, command: list[str], *, runs: int = 6, warmup: int = 1,
                  extra: str = "", workload_extra: str = "") -> Path:
    """Two ``python:`` variants of the running interpreter (nothing is built): main, and pr
    through a symlink named ``pr-python`` so a workload can tell them apart; one workload."""
    pr_python = path.parent / "pr-python"
    if not pr_python.exists():
        pr_python.symlink_to(sys.executable)
    lines = ["variants:",
             f"  - {{name: main, role: main, source: {{python: {json.dumps(sys.executable)}}}}}",
             f"  - {{name: pr, role: pr, source: {{python: {json.dumps(str(pr_python))}}}}}",
             "workloads:",
             f"  - {{name: w, command: {json.dumps(command)}, importtime: false"
             f"{workload_extra}}}",
             f"timing: {{warmup: {warmup}, runs: {runs}{extra}}}",
             "gate: {threshold_pct: 50}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(config: Path, out: Path, *more: str) -> int:
    return main(["run", "--config", str(config), "--out", str(out), "--quiet", *more])


@pytest.mark.slow
def test_case1_failing_runs_make_the_variant_an_error(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    counter = tmp_path / "counter"
    config = python_config(tmp_path / "c.yaml",
                           ["{python}", "-c", FLAKY, str(counter), "{python}"], runs=8)
    out = tmp_path / "out"
    assert run(config, out) == 2
    err = capsys.readouterr().err
    assert "failed" in err and "exit 3" in err
    data = json.loads((out / "report.json").read_text())
    assert data["gate"]["status"] == "error"
    assert any("exit 3" in e for e in data["errors"])
    assert "exit 3" in (out / "comment.md").read_text()


@pytest.mark.slow
def test_case1_allow_failure_keeps_timing(tmp_path: Path) -> None:
    config = python_config(tmp_path / "c.yaml", ["{python}", "-c", "raise SystemExit(4)"],
                           workload_extra=", allow_failure: true")
    assert run(config, tmp_path / "out") in (0, 1)
    assert json.loads((tmp_path / "out" / "report.json").read_text())["errors"] == []


@pytest.mark.slow
def test_case4_timeout_bounds_one_run_not_the_schedule(tmp_path: Path) -> None:
    """Each run takes 0.3 s, the schedule about 4 s; a 1.5 s timeout must not fail it."""
    config = python_config(tmp_path / "c.yaml",
                           ["{python}", "-c", "import time; time.sleep(0.3)"],
                           runs=3, warmup=0, extra=", timeout_s: 1.5")
    assert run(config, tmp_path / "out") in (0, 1)
    assert json.loads((tmp_path / "out" / "report.json").read_text())["errors"] == []


@pytest.mark.slow
def test_case4_hanging_run_is_that_variants_error(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """pr's workload hangs from its third run on (after the smoke test and the warmup): pr is an
    error naming the timeout, main is still measured and reported."""
    config = python_config(tmp_path / "c.yaml", ["{python}", "-c", LATE_SLEEP,
                                                 str(tmp_path / "n"), "{python}", "60", "2"],
                           runs=4, warmup=1, extra=", timeout_s: 2")
    out = tmp_path / "out"
    assert run(config, out) == 2
    data = json.loads((out / "report.json").read_text())
    assert any("timed out" in e and "'pr'" in e for e in data["errors"]), data["errors"]
    assert "w/wall" in data["summaries"]["main"]
