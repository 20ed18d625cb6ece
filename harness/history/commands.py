"""The ``history`` and ``compare`` commands: read files, call the pure parts, write files.
Imported only when one of them runs (pandas, scipy and ruptures stay out of ``--help``)."""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError
from harness.history import store
from harness.history.records import RunRecord, points_of, samples_lines
from harness.history.source import load_run

if TYPE_CHECKING:
    from harness.history.compare import Side


def _warn_problems(history: store.History) -> None:
    for problem in history.problems:
        print(f"warning: skipped a bad line: {problem}", file=sys.stderr)


def cmd_add(args: argparse.Namespace) -> int:
    """history add RUN --store DIR [--commit SHA] [--date ISO] [--ref REF] [--url URL]"""
    saved = load_run(args.run)
    report = saved.report
    commit = args.commit or _revision(report)
    if not commit:
        raise HarnessError(f"{args.run}: no commit to record the run under (no variant with "
                           "role main has a git revision)", "pass --commit SHA")
    date = args.date or report.created
    _check_date(date)
    run = RunRecord(run_id=saved.digest, commit=commit, date=date, measured=report.created,
                    ref=args.ref, title=report.title, tool_version=report.tool_version,
                    url=args.url or "", machine=saved.machine, workloads=report.workloads)
    added = store.add(args.store, run, points_of(report, run.run_id, commit, date),
                      samples_lines(report))
    what = "added" if added else "already in the store (nothing changed):"
    print(f"{what} run {run.run_id} of {commit[:12]} to {args.store}", file=sys.stderr)
    if args.export:
        from harness.export import formats

        formats.write_exports(args.export, formats.RunSamples.from_report(
            report, saved.machine, commit))
    return 0


def _revision(report: object) -> str | None:
    from harness.model import Report

    assert isinstance(report, Report)
    main = report.variant_with_role("main")
    return main.revision if main else None


def _check_date(text: str) -> None:
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HarnessError(f"--date {text!r} is not an ISO 8601 date",
                           "e.g. 2026-11-21T12:00:00+00:00 (git show -s --format=%cI)") from exc


def cmd_show(args: argparse.Namespace) -> int:
    """history show --store DIR: a trend table per workload."""
    from harness.history import trend

    start = time.perf_counter()
    history = store.load(args.store)
    _warn_problems(history)
    order = history.runs[-1].workloads if history.runs else ()
    trend_list = trend.trends(history.points, metric=args.metric, role=args.role,
                              variant=args.variant, order=order)
    text = (trend.markdown(trend_list, args.last) if args.format == "markdown"
            else trend.terminal(trend_list, args.last))
    sys.stdout.write(text)
    _export(args, history=history)
    if args.timing:
        print(f"loaded {len(history.runs)} runs, {len(history.points)} points in "
              f"{time.perf_counter() - start:.3f}s", file=sys.stderr)
    return 0


def cmd_html(args: argparse.Namespace) -> int:
    """history html --store DIR --out SITE: the static dashboard."""
    from harness.history import dashboard
    from harness.report import write_atomic

    history = store.load(args.store)
    _warn_problems(history)
    latest = history.runs[-1] if history.runs else None
    page = dashboard.render(history.runs, history.points, latest=latest, title=args.title,
                            commit_url=args.commit_url, metric=args.metric, role=args.role,
                            variant=args.variant)
    out = Path(args.out)
    write_atomic(out / "index.html", page)
    print(f"wrote {out / 'index.html'}", file=sys.stderr)
    _export(args, history=history)
    return 0


def _export(args: argparse.Namespace, *, history: store.History) -> None:
    if not getattr(args, "export", None):
        return
    from harness.export import formats

    run = history.run("latest")
    report_like = formats.RunSamples.from_history(run, store.load_samples(history, run))
    formats.write_exports(args.export, report_like, history_points=history.points)


def cmd_compare(args: argparse.Namespace) -> int:
    """compare A B: per workload the change from A to B with an unpaired interval."""
    from harness.history import compare as comparing
    from harness.validate import option

    option("--threshold", "threshold_pct", args.threshold)
    option("--confidence", "confidence", args.confidence)
    a, b = _compare_side(args.a), _compare_side(args.b)
    result = comparing.compare_runs(a, b, variant=args.variant, threshold_pct=args.threshold,
                                    confidence=args.confidence)
    sys.stdout.write(comparing.render(result, fmt=args.format))
    if args.format != "markdown":  # the markdown carries its warnings
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    if not args.gate:
        return 0
    return result.exit_code


def _compare_side(spec: str) -> Side:
    """A file (report.json, measurements.json) or ``STORE@COMMIT`` (a history point)."""
    from harness.history.compare import Side

    path = Path(spec)
    if path.is_file():
        saved = load_run(path)
        return Side(spec, saved.report.samples, saved.machine,
                    {v.name: v.role or "" for v in saved.report.variants})
    root, sep, ref = spec.rpartition("@")
    if sep and Path(root).is_dir():
        history = store.load(root)
        _warn_problems(history)
        run = history.run(ref)
        samples = store.load_samples(history, run)
        roles = {}
        for line in history.points[history.points["run_id"] == run.run_id].itertuples():
            roles[line.variant] = line.role
        return Side(f"{root}@{run.commit[:12]}", samples, run.machine, roles)
    if path.is_dir():
        return _compare_side(f"{spec}@latest")
    raise HarnessError(f"{spec}: no such file or history store",
                       "pass a report.json, a measurements.json, or STORE_DIR@COMMIT")


def trend_section(store_dir: str, report: object) -> str:
    """The comment's mermaid trend from a history store (read only); empty without history."""
    from harness.history import trend
    from harness.model import Report
    from harness.render.trend import trend_section as render_section

    assert isinstance(report, Report)
    history = store.load(store_dir)
    _warn_problems(history)
    wanted = [t for t in trend.trends(history.points) if t.workload in report.workloads]
    return render_section(wanted, report)


def after_run(report: object, out: Path, *, exports: Sequence[str], plots: bool,
              history: str | None) -> None:
    """Exports and plots of a finished run."""
    from harness.export import formats
    from harness.history.records import machine_of
    from harness.model import Report

    assert isinstance(report, Report)
    if exports:
        written = formats.write_exports(exports, formats.RunSamples.from_report(
            report, machine_of(report)))
        print(f"exported {', '.join(written)}", file=sys.stderr)
    if plots:
        _plots(report, out / "plots", history)


def _plots(report: object, out: Path, history_dir: str | None) -> None:
    from harness.history import plots

    written = plots.distributions(report, out)  # type: ignore[arg-type]
    written += plots.sweep_curves(report, out)  # type: ignore[arg-type]
    if history_dir:
        from harness.history import trend

        history = store.load(history_dir)
        _warn_problems(history)
        for t in trend.trends(history.points):
            written += plots.trend_with_pr(t, report, out)  # type: ignore[arg-type]
    # ``out`` may be the staging directory a run swaps into place: name where they end up
    where = f"{out.name}/ of the output" if out.parent.name.startswith(".") else str(out)
    print(f"wrote {len(written)} plots to {where}", file=sys.stderr)


def cmd_plot(args: argparse.Namespace) -> int:
    """plot REPORT --out DIR [--history STORE]"""
    _plots(load_run(args.report).report, Path(args.out), args.history)
    return 0
