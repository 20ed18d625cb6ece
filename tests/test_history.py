"""The history store, trends and change points, on synthetic runs (no processes)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.history import store
from harness.history.changepoints import detect
from harness.history.trend import trend
from tests.history_fixtures import (
    build_history,
    commit_of,
    stepped_medians,
    synthetic_report,
    write_report,
)

STEPS = {12: 1.06, 24: 0.95}


def test_two_known_steps_are_found_exactly_and_an_outlier_is_not_one() -> None:
    medians = stepped_medians(36, STEPS, outliers={5: 1.12, 30: 1.10})
    steps = detect(medians)
    assert [s.index for s in steps] == [12, 24]
    assert steps[0].pct == pytest.approx(6, abs=2)
    assert steps[0].ci_low > 1 and steps[1].ci_high < 1


@pytest.mark.parametrize("seed", range(12))
def test_pure_noise_has_no_step(seed: int) -> None:
    outliers = {seed % 30 + 3: 1.1} if seed % 2 else None
    assert detect(stepped_medians(40, {}, seed=seed, outliers=outliers)) == ()


def test_short_or_constant_series() -> None:
    assert detect([0.05] * 4) == ()
    assert detect([0.05] * 20) == ()
    assert [s.index for s in detect([1.0] * 10 + [2.0] * 10)] == [10]


def test_history_of_36_runs_shows_exactly_the_two_steps(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    medians = stepped_medians(36, STEPS, outliers={5: 1.12})
    root = build_history(tmp_path, medians)
    history = store.load(root)
    assert len(history.runs) == 36 and history.problems == ()
    t = trend(history.points, "import")
    assert [t.points[s.index].commit for s in t.steps] == [commit_of(12), commit_of(24)]
    capsys.readouterr()
    assert main(["history", "show", "--store", str(root), "--last", "40",
                 "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    marked = [line for line in text.splitlines() if "| step " in line]
    assert [line.split("|")[1].strip(" `") for line in marked] == [commit_of(12)[:12],
                                                                   commit_of(24)[:12]]
    assert main(["history", "show", "--store", str(root)]) == 0
    terminal = capsys.readouterr().out
    assert "last 20 of 36 commits" in terminal and "introduced at" in terminal
    assert "wall time ÷ baseline (paired)" in terminal  # the load-proof series by default


def test_pure_noise_history_marks_nothing(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    root = build_history(tmp_path, stepped_medians(32, {}, outliers={9: 1.15}, seed=7))
    capsys.readouterr()
    assert main(["history", "show", "--store", str(root), "--last", "40"]) == 0
    assert "step" not in capsys.readouterr().out


def test_add_is_idempotent_and_keeps_raw_samples(tmp_path: Path) -> None:
    report = synthetic_report({"main": 0.05, "pr": 0.051}, revision="ab" * 20)
    path = write_report(tmp_path / "report.json", report)
    root = tmp_path / "store"
    assert main(["history", "add", str(path), "--store", str(root)]) == 0
    before = {p.name: p.read_bytes() for p in root.rglob("*.jsonl")}
    assert main(["history", "add", str(path), "--store", str(root)]) == 0
    assert {p.name: p.read_bytes() for p in root.rglob("*.jsonl")} == before
    history = store.load(root)
    assert [r.commit for r in history.runs] == ["ab" * 20]
    samples = store.load_samples(history, history.runs[0])
    assert {s.variant: s.values for s in samples} == {s.variant: s.values
                                                      for s in report.samples}
    assert (root / ".gitattributes").read_text() == "*.jsonl merge=union\n"


def test_add_without_a_commit_is_one_line_error(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write_report(tmp_path / "r.json", synthetic_report({"main": 0.05}))
    assert main(["history", "add", str(path), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "--commit" in err and "\n" not in err


def test_a_bad_line_is_reported_with_its_number_and_the_rest_loads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = build_history(tmp_path, stepped_medians(4, {}))
    points = root / "points" / "import.jsonl"
    lines = points.read_text().splitlines()
    lines[2] = lines[2][:40]  # truncated JSON
    lines.insert(4, json.dumps({"v": 1, "run_id": 3}))
    points.write_text("\n".join(lines) + "\n")
    history = store.load(root)
    assert len(history.problems) == 2
    assert history.problems[0].endswith("import.jsonl:3: not JSON (Unterminated string "
                                        "starting at)") or ":3: not JSON" in history.problems[0]
    assert ":5: missing field" in history.problems[1] or ":5: field" in history.problems[1]
    assert len(history.points) == len(lines) - 2
    capsys.readouterr()
    assert main(["history", "show", "--store", str(root)]) == 0
    err = capsys.readouterr().err
    assert "import.jsonl:3:" in err and "import.jsonl:5:" in err


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    """Eight `history add` processes at once on one store."""
    commands = []
    for i in range(8):
        report = synthetic_report({"main": 0.05}, seed=i,
                                  created=f"2026-01-01T00:00:{i:02d}+00:00")
        path = write_report(tmp_path / f"{i}.json", report)
        commands.append([sys.executable, "-m", "harness", "history", "add", str(path),
                         "--store", str(tmp_path / "store"), "--commit", commit_of(i)])
    running = [subprocess.Popen(c, stderr=subprocess.PIPE, text=True) for c in commands]
    for proc in running:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    history = store.load(tmp_path / "store")
    assert sorted(r.commit for r in history.runs) == sorted(commit_of(i) for i in range(8))
    assert len(history.points) == 8 and history.problems == ()


def test_missing_store_is_one_line_error(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "show", "--store", str(tmp_path / "nope")]) == 2
    assert "no history store there" in capsys.readouterr().err


def test_history_and_compare_help_stay_light() -> None:
    """--help of the new commands imports neither pandas, numpy, scipy nor ruptures."""
    for args in (["history", "--help"], ["history", "show", "--help"], ["compare", "--help"],
                 ["plot", "--help"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "harness", *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0
        loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
        heavy = {m for m in loaded if m.split(".")[0] in ("numpy", "scipy", "pandas",
                                                          "ruptures", "matplotlib")}
        assert heavy == set(), (args, sorted(heavy)[:5])


def test_a_load_burst_that_moved_the_control_is_the_machine_not_main(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Wall time of main and of the baseline both double for four commits (the runner was
    loaded): main's wall series is not called a regression, each commit says the control
    moved, and the paired ratio (the default series) has no step at all."""
    root = tmp_path / "store"
    burst = {i: 2.0 for i in range(10, 14)}
    noise = stepped_medians(24, {}, seed=3)
    for i, median in enumerate(noise):
        load = burst.get(i, 1.0)
        report = synthetic_report({"baseline": 0.1 * load * median / 0.05, "main": median * load},
                                  seed=200 + i, created=f"2026-01-01T00:00:{i:02d}+00:00",
                                  noise=0.004)
        path = write_report(tmp_path / "runs" / f"{i}.json", report)
        assert main(["history", "add", str(path), "--store", str(root),
                     "--commit", commit_of(i)]) == 0
    history = store.load(root)
    wall = trend(history.points, "import", metric="wall")
    assert [s.index for s in wall.steps] == [10, 14]
    assert wall.machine_steps == {10, 14}
    assert {p.commit for p in wall.points if p.control_pct is not None} >= {
        commit_of(10), commit_of(14)}
    capsys.readouterr()
    assert main(["history", "show", "--store", str(root), "--metric", "wall", "--last", "30"]) == 0
    text = capsys.readouterr().out
    assert all(len(line) <= 80 for line in text.splitlines())
    assert re.search(r"machine \+\d+(\.\d)?%", text)  # the rows of the two steps
    text = " ".join(text.split())
    assert "the control moved too" in text and "the machine changed" in text
    assert "introduced at" not in text
    assert main(["history", "show", "--store", str(root), "--last", "30"]) == 0
    text = capsys.readouterr().out
    assert "wall time ÷ baseline (paired)" in text and "step" not in text


def test_add_takes_a_full_sha_or_resolves_a_ref_in_repo(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "one"],
                 ["tag", "v1"], ["commit", "-q", "--allow-empty", "-m", "two"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD~1"], check=True,
                          env=env, capture_output=True, text=True).stdout.strip()
    path = write_report(tmp_path / "r.json", synthetic_report({"main": 0.05}))
    root = tmp_path / "store"
    capsys.readouterr()
    for bad, hint in (("abc", "not a full commit SHA"), ("ab" * 19, "not a full commit SHA")):
        assert main(["history", "add", str(path), "--store", str(root), "--commit", bad]) == 2
        err = capsys.readouterr().err.strip()
        assert hint in err and "--repo" in err and "\n" not in err
    assert main(["history", "add", str(path), "--store", str(root), "--commit", "nope",
                 "--repo", str(repo)]) == 2
    assert "no such commit in" in capsys.readouterr().err
    assert main(["history", "add", str(path), "--store", str(root), "--commit=--all",
                 "--repo", str(repo)]) == 2
    assert "is not a ref" in capsys.readouterr().err
    assert not (root / "runs.jsonl").exists()
    assert main(["history", "add", str(path), "--store", str(root), "--commit", "v1",
                 "--repo", str(repo)]) == 0
    assert [r.commit for r in store.load(root).runs] == [head]


def test_re_adding_a_run_under_another_commit_is_an_error_unless_replaced(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_report(tmp_path / "r.json", synthetic_report({"main": 0.05}))
    root = tmp_path / "store"
    assert main(["history", "add", str(path), "--store", str(root), "--commit", "a" * 40]) == 0
    before = {p.name: p.read_bytes() for p in root.rglob("*.jsonl")}
    capsys.readouterr()
    assert main(["history", "add", str(path), "--store", str(root), "--commit", "b" * 40]) == 2
    err = capsys.readouterr().err.strip()
    assert "already in the store under commit aaaaaaaaaaaa" in err and "--replace" in err
    assert {p.name: p.read_bytes() for p in root.rglob("*.jsonl")} == before
    assert main(["history", "add", str(path), "--store", str(root), "--commit", "b" * 40,
                 "--replace"]) == 0
    history = store.load(root)
    assert [r.commit for r in history.runs] == ["b" * 40]
    assert set(history.points["commit"]) == {"b" * 40}


def test_export_limited_to_chosen_variants(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    report = synthetic_report({"baseline": 0.1, "main": 0.05, "pr": 0.051})
    path = write_report(tmp_path / "r.json", report)
    root = tmp_path / "store"
    gab, bmf = tmp_path / "gab.json", tmp_path / "bmf.json"
    assert main(["history", "add", str(path), "--store", str(root), "--commit", "c" * 40,
                 "--export", f"gab={gab}", "--export", f"bmf={bmf}",
                 "--export-variant", "main"]) == 0
    assert [e["name"] for e in json.loads(gab.read_text())] == ["main/import"]
    assert list(json.loads(bmf.read_text())) == ["main/import"]
    capsys.readouterr()
    assert main(["history", "show", "--store", str(root), "--export", f"gab={gab}",
                 "--export-variant", "baseline", "--export-variant", "pr"]) == 0
    assert [e["name"] for e in json.loads(gab.read_text())] == ["baseline/import", "pr/import"]
    assert main(["history", "add", str(path), "--store", str(tmp_path / "s2"), "--commit",
                 "c" * 40, "--export", f"gab={gab}", "--export-variant", "nightly"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--export-variant 'nightly'" in err and "baseline, main, pr" in err
    assert not (tmp_path / "s2").exists()


def test_the_newest_commit_is_flagged_in_show_then_confirmed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    medians = [*stepped_medians(10, {}, seed=5), 0.05 * 6.2]
    root = build_history(tmp_path, medians)
    capsys.readouterr()
    assert main(["history", "show", "--store", str(root), "--format", "markdown"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert re.search(rf"\+5\d\d\.\d% \\\[[^]]*\\\] at {commit_of(10)[:12]}, the newest commit "
                     r"\(to be confirmed by the next commit\)", text), text
    assert "| newest +5" in text
