"""The ``history`` and ``compare`` commands: read files, call the pure parts, write files.
Imported only when one of them runs (pandas and scipy stay out of ``--help``)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError
from harness.history import store
from harness.history.records import RunRecord, points_of, samples_lines
from harness.history.source import load_run

if TYPE_CHECKING:
    from harness.export.formats import RunSamples
    from harness.history.compare import Side


def _warn_problems(history: store.History) -> None:
    for problem in history.problems:
        print(f"warning: skipped a bad line: {problem}", file=sys.stderr)


def _loaded(store_dir: str | Path) -> store.History:
    """The store, its bad lines warned about, with main's paired ratio to the baseline
    computed from the raw samples for runs added before the store kept it."""
    import pandas as pd

    from harness.history.records import RATIO, points_from_samples

    history = store.load(store_dir)
    _warn_problems(history)
    frame = history.points
    if frame.empty or not (frame["role"] == "baseline").any():
        return history
    has_ratio = set(frame.loc[frame["metric"].str.endswith(RATIO), "run_id"])
    has_base = set(frame.loc[frame["role"] == "baseline", "run_id"])
    extra = []
    for run in history.runs:
        if run.run_id in has_base and run.run_id not in has_ratio:
            try:
                samples = store.load_samples(history, run)
            except HarnessError:
                continue  # no raw samples: no ratio for this run
            rows = frame[frame["run_id"] == run.run_id]
            roles = dict(zip(rows["variant"], rows["role"], strict=True))
            extra += [vars(p) for p in points_from_samples(samples, roles, run.run_id,
                                                           run.commit, run.date)
                      if p.metric.endswith(RATIO)]
    if not extra:
        return history
    order = {r.run_id: i for i, r in enumerate(history.runs)}
    added = pd.DataFrame.from_records(extra)
    added["seq"] = added["run_id"].map(order)
    frame = pd.concat([frame, added], ignore_index=True).sort_values(
        ["seq", "variant", "workload", "metric", "scenario"], kind="stable")
    return dataclasses.replace(history, points=frame.reset_index(drop=True))


def cmd_add(args: argparse.Namespace) -> int:
    """history add RUN --store DIR [--commit SHA|REF --repo DIR] [--date ISO] [--ref REF]
    [--url URL] [--replace] [--export FORMAT=PATH --export-variant NAME]"""
    saved = load_run(args.run)
    report = saved.report
    if args.commit:
        commit = resolve_commit(args.commit, args.repo)
    else:
        revision = _revision(report)
        if not revision:
            raise HarnessError(f"{args.run}: no commit to record the run under (no variant "
                               "with role main has a git revision)", "pass --commit SHA")
        commit = resolve_commit(revision, args.repo, what=f"{args.run}: main's revision")
    date = args.date or report.created
    _check_date(date)
    run = RunRecord(run_id=saved.digest, commit=commit, date=date, measured=report.created,
                    ref=args.ref, title=report.title, tool_version=report.tool_version,
                    url=args.url or "", machine=saved.machine, workloads=report.workloads)
    exports = _export_run(args, report, saved.machine, commit) if args.export else None
    held = store.commit_of_run(args.store, run.run_id)
    if held is not None and held != commit and not args.replace:
        raise HarnessError(f"{args.store}: run {run.run_id} is already in the store under "
                           f"commit {held[:12]}, not {commit[:12]}",
                           "add --replace to record it under the new commit instead")
    added = store.add(args.store, run, points_of(report, run.run_id, commit, date),
                      samples_lines(report), replace=args.replace and held is not None)
    what = ("replaced" if args.replace and held is not None else "added" if added
            else "already in the store (nothing changed):")
    print(f"{what} run {run.run_id} of {commit[:12]} to {args.store}", file=sys.stderr)
    if exports is not None:
        exports()
    return 0


#: A full commit id: SHA-1 (40 hex digits) or SHA-256 (64).
FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def resolve_commit(commit: str, repo: str | None, *, what: str = "--commit") -> str:
    """A full commit SHA as is (lower case), or a ref resolved in ``repo``; anything else is a
    one-line error."""
    from harness import proc

    text = commit.strip().lower() if FULL_SHA.fullmatch(commit.strip().lower()) else commit
    if FULL_SHA.fullmatch(text):
        return text
    shown = repr(commit[:60] + ("..." if len(commit) > 60 else ""))
    if repo is None:
        raise HarnessError(f"{what} {shown} is not a full commit SHA",
                           "pass the 40-hex SHA (git rev-parse HEAD), or a ref with --repo DIR "
                           "to resolve it there")
    if not commit or commit.startswith("-") or len(commit) > 255 or any(
            c.isspace() or ord(c) < 32 for c in commit):
        raise HarnessError(f"{what} {shown} is not a ref", "e.g. HEAD, main, v1.2 or a SHA")
    done = proc.run(["git", "-C", repo, "rev-parse", "--verify", "--quiet",
                     f"{commit}^{{commit}}"], env=proc.scrubbed_env(), check=False,
                    what="git rev-parse", timeout=60)
    resolved = done.stdout.strip()
    if done.returncode != 0 or not FULL_SHA.fullmatch(resolved):
        raise HarnessError(f"{what} {shown}: no such commit in {repo}",
                           "pass a full SHA, or a branch, tag or HEAD~N that exists there")
    return resolved


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
    history = _loaded(args.store)
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

    if not dashboard.safe_commit_url(args.commit_url):
        raise HarnessError(f"--commit-url {args.commit_url[:60]!r} is not an http(s) link",
                           "e.g. https://github.com/OWNER/REPO/commit/{commit}")
    history = _loaded(args.store)
    latest = history.runs[-1] if history.runs else None
    out = Path(args.out)
    # the page asked for, and wall time one click away from the load-proof series
    pages = [("index.html", args.metric)]
    if args.metric == "auto":
        pages.append(("wall.html", "wall"))
    names = {"index.html": "load-proof series (CPU time, paired ratio)" if args.metric == "auto"
             else f"{args.metric}", "wall.html": "wall time"}
    for name, metric in pages:
        links = [(names[other], other) for other, _ in pages if other != name]
        page = dashboard.render(history.runs, history.points, latest=latest, title=args.title,
                                commit_url=args.commit_url, metric=metric, role=args.role,
                                variant=args.variant, links=links)
        write_atomic(out / name, page)
    print(f"wrote {', '.join(str(out / name) for name, _ in pages)}", file=sys.stderr)
    _export(args, history=history)
    return 0


def _export(args: argparse.Namespace, *, history: store.History) -> None:
    if not getattr(args, "export", None):
        return
    from harness.export import formats

    run = history.run("latest")
    roles = {}
    for row in history.points[history.points["run_id"] == run.run_id].itertuples():
        roles[row.variant] = row.role
    report_like = formats.RunSamples(run.title, run.commit, run.measured,
                                     tuple(store.load_samples(history, run)), roles, run.machine)
    formats.write_exports(args.export, _chosen(report_like, args.export_variant),
                          history_points=history.points)


def _export_run(args: argparse.Namespace, report: object, machine: dict[str, object],
                commit: str) -> Callable[[], None]:
    """The exports of ``history add``, checked now (a bad spec or variant is an error before
    the store changes) and written by the returned function."""
    from harness.export import formats
    from harness.model import Report

    assert isinstance(report, Report)
    for spec in args.export:
        formats.parse_spec(spec)
    chosen = _chosen(formats.RunSamples.from_report(report, machine, commit),
                     args.export_variant)

    def write() -> None:
        written = formats.write_exports(args.export, chosen)
        print(f"exported {', '.join(written)}", file=sys.stderr)

    return write


def _chosen(run: RunSamples, variants: Sequence[str] | None) -> RunSamples:
    """Only the samples of the variants named (by name or role) with --export-variant."""
    if not variants:
        return run
    known = {s.variant for s in run.samples}
    wanted = {v for v in known if v in variants or run.roles.get(v, "") in variants}
    unknown = [v for v in variants if v not in known and v not in
               {run.roles.get(k, "") for k in known}]
    if unknown:
        raise HarnessError(f"--export-variant {unknown[0]!r}: no such variant or role in the run",
                           f"one of {', '.join(sorted(known))}")
    return dataclasses.replace(run, samples=tuple(s for s in run.samples
                                                  if s.variant in wanted))


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
    from harness.history.trend_chart import trend_section as render_section
    from harness.model import Report

    assert isinstance(report, Report)
    history = _loaded(store_dir)
    metrics = trend.load_proof_metrics(history.points)
    wanted = [t for t in trend.trends(history.points, metric=metrics[0])
              if t.workload in report.workloads]
    return render_section(wanted, report)


def after_run(report: object, out: Path, *, exports: Sequence[str], plots: bool,
              history: str | None, export_variants: Sequence[str] = ()) -> list[str]:
    """Exports (of the variants chosen, default all) and plots of a finished run; the export
    files written (the caller names them where they end up)."""
    from harness.export import formats
    from harness.history.records import machine_of
    from harness.model import Report

    assert isinstance(report, Report)
    written = formats.write_exports(exports, _chosen(formats.RunSamples.from_report(
        report, machine_of(report)), export_variants)) if exports else []
    if plots:
        _plots(report, out / "plots", history)
    return written


def _plots(report: object, out: Path, history_dir: str | None) -> None:
    from harness.history import plots

    written = plots.distributions(report, out)  # type: ignore[arg-type]
    written += plots.sweep_curves(report, out)  # type: ignore[arg-type]
    if history_dir:
        from harness.history import trend

        history = _loaded(history_dir)
        seen: set[str] = set()
        for t in trend.trends(history.points, metric="auto"):
            stem = f"trend-{plots._safe(t.workload)}"
            stem += f"-{t.metric}" if t.workload in seen else ""  # the first series: plain
            seen.add(t.workload)
            written += plots.trend_with_pr(t, report, out, stem)  # type: ignore[arg-type]
    # ``out`` may be the staging directory a run swaps into place: name where they end up
    where = f"{out.name}/ of the output" if out.parent.name.startswith(".") else str(out)
    print(f"wrote {len(written)} plots to {where}", file=sys.stderr)


def cmd_plot(args: argparse.Namespace) -> int:
    """plot REPORT --out DIR [--history STORE]"""
    _plots(load_run(args.report).report, Path(args.out), args.history)
    return 0
