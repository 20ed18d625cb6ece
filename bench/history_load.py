"""How fast the history loads, trends and renders as it grows.

Builds a synthetic store of N runs (three variants, two workloads, 50 samples each; main's
series steps +6 % at 40 % and -5 % at 70 % of the commits), then times: ``history add`` of one
more run, ``store.load`` (every line validated, pandas), the trends with change-point
detection, and the dashboard. ``--screenshot PNG`` also renders the dashboard in headless
Chromium (the README's picture).

    .venv/bin/python bench/history_load.py [--runs 100 300 1000] [--screenshot docs/dashboard.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import proc
from harness.history import dashboard, store, trend
from harness.history.records import RunRecord, points_of, run_digest, samples_lines
from tests.history_fixtures import commit_of, stepped_medians, synthetic_report


def build(root: Path, n: int) -> None:
    medians = stepped_medians(n, {int(n * 0.4): 1.06, int(n * 0.7): 0.95}, outliers={3: 1.1})
    for i, median in enumerate(medians):
        report = synthetic_report({"baseline": 0.080, "main": median, "pr": median},
                                  seed=i, runs=50, noise=0.01, workloads=("import", "cli"),
                                  created=f"2026-01-{1 + i // 1440:02d}T{i // 60 % 24:02d}:"
                                          f"{i % 60:02d}:00+00:00")
        run = RunRecord(run_digest(report), commit_of(i), report.created, report.created,
                        title="bench", machine={"platform": "Linux x86_64, 2 CPUs"})
        store.add(root, run, points_of(report, run.run_id, run.commit, run.date),
                  samples_lines(report))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--screenshot", help="PNG of the dashboard (needs chromium)")
    args = parser.parse_args()
    for n in args.runs:
        with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp:
            root = Path(tmp) / "store"
            start = time.perf_counter()
            build(root, n - 1)
            built = time.perf_counter() - start
            start = time.perf_counter()
            build_one = synthetic_report({"main": 0.05}, seed=99999, created="2027-01-01T00:00Z")
            run = RunRecord(run_digest(build_one), "f" * 40, build_one.created, build_one.created)
            store.add(root, run, points_of(build_one, run.run_id, run.commit, run.date),
                      samples_lines(build_one))
            add_s = time.perf_counter() - start
            start = time.perf_counter()
            history = store.load(root)
            load_s = time.perf_counter() - start
            start = time.perf_counter()
            trends = trend.trends(history.points)
            trend_s = time.perf_counter() - start
            start = time.perf_counter()
            page = dashboard.render(history.runs, history.points, latest=history.runs[-1],
                                    commit_url="https://github.com/OWNER/REPO/commit/{commit}")
            html_s = time.perf_counter() - start
            size = sum(p.stat().st_size for p in root.rglob("*.jsonl"))
            steps = [len(t.steps) for t in trends]
            print(f"{n:5d} runs ({len(history.points)} points, store {size / 1e6:.1f} MB): "
                  f"add one {add_s * 1000:.0f} ms, load {load_s * 1000:.0f} ms, trends + "
                  f"change points {trend_s * 1000:.0f} ms (steps {steps}), dashboard "
                  f"{html_s * 1000:.0f} ms ({len(page) / 1e3:.0f} kB); building took "
                  f"{built:.1f} s")
            if args.screenshot and n == args.runs[0]:
                site = Path(tmp) / "index.html"
                site.write_text(page)
                shoot(site, Path(args.screenshot))
    return 0


def shoot(page: Path, png: Path) -> None:
    browser = shutil.which("chromium")
    if not browser:
        print("no chromium: no screenshot", file=sys.stderr)
        return
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
                  "--window-size=860,1000", f"--screenshot={png.resolve()}", page.as_uri()],
                 env=os.environ, timeout=120, what="chromium screenshot")
    print(f"wrote {png}")


if __name__ == "__main__":
    sys.exit(main())
