"""Issue 19's story from real runs: a package with 11 commits on main, one `run` per commit
added to the history; commit 4 adds eager imports of eight standard-library packages, commit 7
makes them lazy. The CPU-time history (and the paired ratio) shows the regression and its fix
as two linked steps, at the right commits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.history import store
from harness.history.trend import trend

EAGER = ("import email.mime.multipart, http.client, xml.dom.minidom, logging.handlers, "
         "asyncio, decimal, argparse, sqlite3\n")
LAZY = "def parse():\n    " + EAGER


def body(commit: int) -> str:
    """The package's __init__.py at commit 1..11."""
    code = f"VERSION = {commit}\n"
    return code + (EAGER if 4 <= commit < 7 else LAZY if commit >= 7 else "")


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PATH": os.environ["PATH"], "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, env=env,
                          capture_output=True, text=True).stdout.strip()


def env_dir(root: Path, name: str, package: str) -> Path:
    """An "environment": a link to this interpreter, the package, and work.py importing it."""
    home = root / name
    (home / "fixturepkg").mkdir(parents=True)
    (home / "python").symlink_to(os.path.realpath(sys.executable))
    (home / "fixturepkg" / "__init__.py").write_text(package)
    (home / "work.py").write_text(f"import sys\nsys.path.insert(0, {str(home)!r})\n"
                                  "import fixturepkg\n")
    return home / "python"


@pytest.mark.slow
def test_eleven_real_runs_give_the_regression_and_its_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    (repo / "fixturepkg").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    root = tmp_path / "store"
    release = env_dir(tmp_path, "release", body(1))  # the baseline: the last release
    shas = []
    for commit in range(1, 12):
        (repo / "fixturepkg" / "__init__.py").write_text(body(commit))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"commit {commit}",
            f"--date=2026-11-{commit:02d}T12:00:00+00:00")
        shas.append(git(repo, "rev-parse", "HEAD"))
        work = tmp_path / f"c{commit}"
        main_py = env_dir(work, "main-env", (repo / "fixturepkg" / "__init__.py").read_text())
        cfg = work / "c.yaml"
        cfg.write_text(
            "title: story\nvariants:\n"
            f"  - {{name: release, role: baseline, source: {{python: '{release}'}}}}\n"
            f"  - {{name: main, role: main, source: {{python: '{main_py}'}}}}\n"
            "workloads:\n  - {name: start, command: ['{python}', '-I', '-S', '{bin}/work.py']}\n"
            "timing: {warmup: 1, runs: 12}\n"
            "gate: {compare: main, against: release}\n")
        out = work / "out"
        assert main(["run", "--config", str(cfg), "--out", str(out), "--quiet"]) in (0, 1)
        assert main(["history", "add", str(out / "measurements.json"), "--store", str(root),
                     "--commit", "HEAD", "--repo", str(repo),
                     "--date", f"2026-11-{commit:02d}T12:00:00+00:00"]) == 0
    history = store.load(root)
    assert [r.commit for r in history.runs] == shas
    for metric in ("cpu", "wall-ratio"):
        t = trend(history.points, "start", metric=metric)
        got = [(s.index, s.fixed_by, s.status) for s in t.steps]
        medians = [round(p.median * (1000 if t.unit == "s" else 1), 2) for p in t.points]
        print(metric, medians, [round(s.pct) for s in t.steps])  # shown with pytest -s
        assert got == [(3, 6, "confirmed"), (6, None, "confirmed")], (metric, medians)
        assert t.steps[0].pct > 50 and t.steps[1].pct < -30
    capsys.readouterr()
    assert main(["history", "show", "--store", str(root), "--last", "11"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # the terminal wraps the lines
    assert f"introduced at {shas[3][:12]}, fixed at {shas[6][:12]}, lived 3 commits" in text
    assert "CPU time (ms) of role main" in text and "wall time ÷ baseline (paired)" in text
