"""Command line: ``startup-harness run | analyse | probe | probe-script | render | schema |
comment | history | compare | plot``.

``main(argv)`` is callable from tests and is the one place where errors become a one-line
message and exit code 2. The exit code of ``run`` is the gate's, never the renderer's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from harness import __version__, defaults
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.model import Report

DEMO_CONFIG = "demo.yaml"


def demo_config_path() -> Path:
    """The demo config, shipped inside the package (the only copy in the repository)."""
    return Path(__file__).with_name(DEMO_CONFIG)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="startup-harness",
        description="Did this change make Python programs start slower, and why?")
    parser.add_argument("--version", action="version", version=f"startup-harness {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="build every variant, time start-up, inspect, gate")
    run.add_argument("--config", help="YAML config (default: the bundled demo)")
    run.add_argument("--out", default="reports/latest",
                     help="output directory (default: reports/latest)")
    run.add_argument("--work-dir", help="scratch directory for environments (default: a temp "
                     "dir, removed afterwards)")
    run.add_argument("--keep-work", action="store_true", help="keep the scratch directory")
    run.add_argument("--runs", type=_runs, help="override timing.runs (a number, or auto)")
    run.add_argument("--warmup", type=int, help="override timing.warmup")
    run.add_argument("--job-id", help="name of this job in measurements.json (default: "
                     "runner or host name and the UTC time)")
    run.add_argument("--cell", action="append", default=[], metavar="AXIS=VALUE",
                     help="matrix: measure only this cell (repeatable; a CI job names its own "
                     "value of every axis but python, e.g. --cell os=ubuntu-latest)")
    run.add_argument("--quiet", action="store_true", help="no progress or table on stderr/stdout")
    _add_outputs(run)
    run.add_argument("--verbose", action="store_true",
                     help="every step as a line (also when stdout is not a terminal)")

    merge = sub.add_parser("merge", help="merge the measurements.json of a CI matrix's jobs "
                           "into one record, report and comment")
    merge.add_argument("parts", nargs="+", help="measurements.json files or directories "
                       "holding them (downloaded artifacts)")
    merge.add_argument("--out", default="reports/merged",
                       help="output directory (default: reports/merged)")
    merge.add_argument("--quiet", action="store_true", help="no table on stdout")
    _add_outputs(merge)

    analyse = sub.add_parser("analyse", aliases=["analyze"],
                             help="re-judge a saved measurements.json without timing anything")
    analyse.add_argument("measurements", help="path of measurements.json")
    analyse.add_argument("--threshold-pct", type=float, help="override gate.threshold_pct")
    analyse.add_argument("--statistic", choices=["paired", "median", "mean"],
                         help="override gate.statistic")
    analyse.add_argument("--gate-metric", choices=list(defaults.GATE_METRICS),
                         help="override gate.metric")
    analyse.add_argument("--out", help="output directory (default: the directory of "
                         "MEASUREMENTS; a copy of it is written there otherwise)")
    analyse.add_argument("--quiet", action="store_true", help="no table on stdout")
    _add_outputs(analyse)

    timecmd = sub.add_parser(
        "time", help="time one command across interpreters, no config file",
        description="Time `python ARGS` with each --python, interleaved, and compare them (the "
                    "first is the reference, the last the subject). Example: startup-harness "
                    "time --python .venv-a/bin/python --python .venv-b/bin/python -- -c "
                    "'import rich'")
    timecmd.add_argument("--python", action="append", required=True, metavar="PATH",
                         help="an interpreter (repeat; a name on PATH works too)")
    timecmd.add_argument("--label", action="append", default=[],
                         help="label of the interpreter at the same position (default: the "
                              "shortest part of its path that tells it from the others)")
    timecmd.add_argument("--title", help="the table's title (default: python ARGS)")
    timecmd.add_argument("--json", action="store_true",
                         help="print report.json on stdout instead of the table")
    timecmd.add_argument("--runs", type=_runs, default=None,
                         help="timed runs each, or auto (default: auto when two or more "
                              "interpreters are gated, else 30)")
    timecmd.add_argument("--warmup", type=int, default=3, help="warmup runs each (default 3)")
    timecmd.add_argument("--threshold-pct", type=float,
                         help="gate threshold (default: the config default)")
    timecmd.add_argument("--no-gate", action="store_true", help="compare, decide nothing")
    timecmd.add_argument("--out", help="also write comment.md, report.json and the record here")
    timecmd.add_argument("--quiet", action="store_true", help="no progress or table")
    timecmd.add_argument("--verbose", action="store_true", help="every step as a line")
    timecmd.add_argument("args", nargs=argparse.REMAINDER,
                         help="-- then the interpreter's arguments (e.g. -- -c 'import x')")

    probe = sub.add_parser("probe", help="run the sys.path probe inside an interpreter")
    probe.add_argument("--python", required=True, help="interpreter to inspect")

    sub.add_parser("probe-script", help="print the stdlib-only probe, to use as the main of "
                   "an inspection target (e.g. a py_binary //:bench_syspath)")

    render = sub.add_parser("render", help="re-render a saved report.json")
    render.add_argument("report", help="path of report.json")
    render.add_argument("--format", choices=["markdown", "terminal"], default="markdown")

    schema = sub.add_parser("schema", help="print the config's JSON Schema")
    schema.add_argument("--measurements", action="store_true",
                        help="print the JSON Schema of measurements.json instead")

    comment = sub.add_parser("comment", help="create or update the sticky PR comment")
    from harness.github.args import add_comment_arguments

    add_comment_arguments(comment)
    _history_parsers(sub)
    return parser


def _add_outputs(parser: argparse.ArgumentParser) -> None:
    """--history, --plots and --export of run and analyse."""
    parser.add_argument("--history", metavar="STORE",
                        help="history store (read only): adds main's trend to the comment")
    parser.add_argument("--plots", action="store_true",
                        help="write sample distributions (and the trend, with --history) as "
                        "PNG and SVG into OUT/plots (needs the 'plots' extra: matplotlib)")
    _add_export(parser)


def _add_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--export", action="append", default=[], metavar="FORMAT=PATH",
                        help="also write FORMAT (csv, gab, bmf, pyperf) to PATH; repeatable")
    _add_export_variant(parser)


def _add_export_variant(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--export-variant", action="append", default=[], metavar="NAME",
                        help="export only this variant (a name or a role, e.g. main); "
                        "repeatable (default: every variant)")


def _history_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    history = sub.add_parser("history", help="a history of runs on main: add, show, html")
    hsub = history.add_subparsers(dest="history_command", required=True)
    add = hsub.add_parser("add", help="add a saved run (report.json) to the store")
    add.add_argument("run", help="report.json (or measurements.json) of the run")
    add.add_argument("--store", required=True, help="the history directory")
    add.add_argument("--commit", help="commit measured: a full SHA, or a ref resolved in "
                     "--repo (default: the main variant's revision)")
    add.add_argument("--repo", help="git repository that resolves --commit (a branch, tag, "
                     "HEAD~N)")
    add.add_argument("--replace", action="store_true",
                     help="replace the run if the store holds it (e.g. under another commit)")
    add.add_argument("--date", help="ISO date ordering the run (default: when it was measured; "
                     "the workflow passes the commit date)")
    add.add_argument("--ref", default="main", help="branch the commit is on (default: main)")
    add.add_argument("--url", help="link to the run's log or artifact")
    _add_export(add)
    for name, text in (("show", "trend table per workload"),
                       ("html", "static dashboard (one self-contained page)")):
        cmd = hsub.add_parser(name, help=text)
        cmd.add_argument("--store", required=True, help="the history directory")
        cmd.add_argument("--metric", default="auto", choices=[
            "auto", "wall", "cpu", "instructions", "wall-ratio", "cpu-ratio"],
            help="series: auto (default) = the load-proof ones, CPU time where recorded and "
            "main's paired ratio to the baseline (wall-ratio); wall = wall time")
        cmd.add_argument("--role", default="main", help="series: the variant with this role "
                         "(default: main)")
        cmd.add_argument("--variant", help="series: this variant name instead of a role")
        _add_export(cmd)
        if name == "show":
            cmd.add_argument("--last", type=_count, default=20,
                             help="commits shown (default 20)")
            cmd.add_argument("--format", choices=["terminal", "markdown"], default="terminal")
            cmd.add_argument("--timing", action="store_true", help="print the load time")
        else:
            cmd.add_argument("--out", required=True, help="directory for index.html")
            cmd.add_argument("--title", default="Python start-up history")
            cmd.add_argument("--commit-url", default="",
                             help="commit link with {commit}, e.g. "
                             "https://github.com/OWNER/REPO/commit/{commit}")

    compare = sub.add_parser("compare", help="compare two saved runs (unpaired)")
    compare.add_argument("a", help="report.json, measurements.json or STORE@COMMIT")
    compare.add_argument("b", help="the same, compared against A")
    compare.add_argument("--variant", help="only this variant (default: every common one)")
    compare.add_argument("--threshold", type=float, default=defaults.COMPARE_THRESHOLD_PCT,
                         help="threshold in %% (default %(default)g)")
    compare.add_argument("--confidence", type=float, default=0.95)
    compare.add_argument("--format", choices=["terminal", "markdown"], default="terminal")
    compare.add_argument("--gate", action="store_true",
                         help="exit 1 on a regression, like run (default: always 0)")

    plot = sub.add_parser("plot", help="sample distributions (and trend) as PNG and SVG")
    plot.add_argument("report", help="report.json (or measurements.json)")
    plot.add_argument("--out", required=True, help="directory for the images")
    plot.add_argument("--history", metavar="STORE", help="also plot main's trend with this run")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the command, return its exit code (2 for any error)."""
    args = _parser().parse_args(argv)
    interrupts = _Interrupts()
    previous = signal.signal(signal.SIGTERM, interrupts)
    previous_int = signal.signal(signal.SIGINT, interrupts)
    try:
        return _dispatch(args)
    except HarnessError as exc:
        print(exc.one_line(), file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`... | head -1`): not an error to report
        _silence_stdout()
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        print("error: interrupted; temporary worktrees and environments were removed",
              file=sys.stderr)
        return 130
    except (UnicodeError, RecursionError) as exc:  # input the specific checks missed
        print(f"error: unreadable input: {type(exc).__name__}: {_first_line(exc)} (hint: "
              "check the file's encoding (UTF-8) and nesting)", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc} (hint: check the path, its permissions "
              "and the free space)", file=sys.stderr)
        return 2
    except Exception as exc:  # the error boundary: never exit 1 (the regression code)
        log = _write_error_log(args, exc)
        print(f"error: internal error: {type(exc).__name__}: {_first_line(exc)} — details in "
              f"{log}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced (tests) or already closed
        pass
    finally:
        os.close(devnull)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "(no message)"


def _write_error_log(args: argparse.Namespace, exc: BaseException) -> str:
    """The traceback in ``OUT/error.log``; for a command without OUT (or when OUT cannot take
    it) in one file of the user's cache, overwritten each time (never a new file in the
    system temp dir per failure)."""
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    text = f"startup-harness {__version__}: {' '.join(sys.argv)}\n\n{text}"
    out = getattr(args, "out", None)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    candidates = [Path(out) / "error.log"] if out else []
    for path in [*candidates, cache / "startup-harness" / "error.log"]:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return str(path)
        except OSError:
            continue
    return "no log (neither OUT nor the cache directory is writable)"


class _Interrupts:
    """SIGINT and SIGTERM: the first interrupts the run (KeyboardInterrupt, so every clean-up
    runs: process groups stopped, bytecode restored, worktrees and scratch removed); a second
    one while that clean-up runs is only acknowledged, so the clean-up finishes."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt
        os.write(2, b"startup-harness: still cleaning up after the interruption; "
                    b"the run stops when that is done\n")


def terminal_width() -> int:
    """Columns of the terminal (``COLUMNS`` wins; 80 when not a terminal)."""
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


def _count(text: str) -> int:
    """A positive whole number (``--last``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def _runs(text: str) -> int | str:
    """``--runs``: a number, or ``auto``."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or auto") from None


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return cmd_run(args)
    if args.command in ("analyse", "analyze"):
        return cmd_analyse(args)
    if args.command == "merge":
        return cmd_merge(args)
    if args.command == "probe":
        return cmd_probe(args)
    if args.command == "time":
        return cmd_time(args)
    if args.command == "probe-script":
        from harness.inspection import runner

        sys.stdout.write(runner.probe_source())
        return 0
    if args.command == "render":
        return cmd_render(args)
    if args.command == "schema":
        if args.measurements:
            from harness.measurements import SCHEMA as schema
        else:
            from harness.config import SCHEMA as schema
        print(json.dumps(schema, indent=2))
        return 0
    if args.command == "comment":
        from harness.github import bot

        return bot.comment_command(args)
    if args.command in ("history", "compare", "plot"):
        from harness.history import commands

        if args.command == "history":
            return {"add": commands.cmd_add, "show": commands.cmd_show,
                    "html": commands.cmd_html}[args.history_command](args)
        return commands.cmd_compare(args) if args.command == "compare" else commands.cmd_plot(
            args)
    raise AssertionError(args.command)


def cmd_run(args: argparse.Namespace) -> int:
    """Load the config, check and lock --out, measure, write measurements.json, analyse, write
    report.json and comment.md (and raw/) into a staging directory swapped in as a whole
    (:mod:`harness.outputs`), then print the terminal table."""
    import dataclasses

    from harness import measurements, outputs, pipeline, report
    from harness.cells import parse_selection
    from harness.config import check_override, check_runs, load_config

    config = load_config(args.config or demo_config_path())
    extra = _outputs(args)
    _check_export_variants(args.export_variant,
                           {v.name for v in config.variants} | {
                               v.role for v in config.variants if v.role})
    overrides: dict[str, Any] = {
        k: v for k, v in (("runs", args.runs), ("warmup", args.warmup)) if v is not None}
    if overrides.get("runs") == "auto":
        overrides.update(runs=config.timing.runs, auto=True)
    elif "runs" in overrides:
        overrides["auto"] = False
    if overrides:
        for key in ("runs", "warmup"):
            if key in overrides:
                check_override(key, int(overrides[key]))
        config = dataclasses.replace(config, timing=dataclasses.replace(config.timing,
                                                                        **overrides))
        check_runs(config.timing, config.gate, "--runs")
    out = Path(args.out)
    from harness import progress as bar

    progress = bar.choose(quiet=args.quiet, verbose=args.verbose)
    with outputs.claim(out, say=progress) as staging:
        try:
            record = pipeline.measure_cells(config, staging / "raw", parse_selection(args.cell),
                                            work_dir=args.work_dir, keep_work=args.keep_work,
                                            progress=progress, job_id=args.job_id)
        finally:
            progress.close()
        report.write_atomic(staging / measurements.FILE_NAME, measurements.dumps(record))
        from harness.analyse.analysis import analyse  # numpy: only once there is something

        result = analyse(record)
        exported = write_outputs(result, staging, **staged(extra, out, staging))
    say_exported(exported, staging, out)
    return announce(result, out, quiet=args.quiet,
                    chatty=isinstance(progress, (bar.Live, bar.Lines)))


def cmd_merge(args: argparse.Namespace) -> int:
    """Merge the jobs' records, then analyse and write the outputs like ``run``."""
    from harness import measurements, outputs, report
    from harness.analyse.analysis import analyse
    from harness.merge import find_records, merge

    extra = _outputs(args)
    paths = find_records(args.parts)
    record = merge([measurements.load(p) for p in paths], [str(p) for p in paths])
    out = Path(args.out)
    result = analyse(record)
    with outputs.claim(out) as staging:
        report.write_atomic(staging / measurements.FILE_NAME, measurements.dumps(record))
        exported = write_outputs(result, staging, **staged(extra, out, staging))
    say_exported(exported, staging, out)
    return announce(result, out, quiet=args.quiet)


def _outputs(args: argparse.Namespace) -> dict[str, Any]:
    """The history, plots and exports asked for, checked before any work."""
    if args.export:
        from harness.export.formats import parse_spec

        for spec in args.export:
            parse_spec(spec)  # a bad --export is an error before any work
    return {"history": args.history, "plots": args.plots, "exports": args.export,
            "export_variants": args.export_variant}


def _check_export_variants(wanted: Sequence[str], known: set[str]) -> None:
    """--export-variant names a variant or role of the config: checked before any work."""
    for name in wanted:
        if name not in known:
            raise HarnessError(f"--export-variant {name[:60]!r}: no such variant or role in "
                               "the config", f"one of {', '.join(sorted(known))}")


def staged(extra: dict[str, Any], out: Path, staging: Path) -> dict[str, Any]:
    """``extra`` with exports aimed inside ``out`` written into ``staging`` instead."""
    from harness import outputs

    specs = []
    for spec in extra.get("exports") or ():
        fmt, sep, path = spec.partition("=")
        specs.append(f"{fmt}={outputs.redirect(path, out, staging)}" if sep else spec)
    return {**extra, "exports": specs}


def history_trend(store_dir: str, result: Report) -> str:
    """Main's trend from a history store (read only), as the comment's mermaid block."""
    from harness.history import commands

    return commands.trend_section(store_dir, result)


def write_outputs(result: Report, out: Path, *, history: str | None = None,
                  plots: bool = False, exports: Sequence[str] = (),
                  export_variants: Sequence[str] = ()) -> list[str]:
    """Write report.json and comment.md into ``out`` (with main's trend when a history store is
    given), exports and plots; the export files written."""
    from harness import report
    from harness.render import markdown

    report.write_atomic(out / "report.json", report.dumps(result))
    trend = history_trend(history, result) if history else ""
    report.write_atomic(out / "comment.md", markdown.render(result, trend=trend))
    if exports or plots:
        from harness.history import commands

        return commands.after_run(result, out, exports=exports, plots=plots, history=history,
                                   export_variants=export_variants)
    return []


def say_exported(paths: Sequence[str], staging: Path, out: Path) -> None:
    """Name the exports where they are now: a file staged inside ``out`` by its final path."""
    if not paths:
        return
    final = []
    for path in paths:
        try:
            final.append(str(out / Path(path).relative_to(staging)))
        except ValueError:
            final.append(path)
    print(f"exported {', '.join(final)}", file=sys.stderr)


def announce(result: Report, out: Path, *, quiet: bool, chatty: bool = False) -> int:
    """Print the table (its verdict last) and the gate's errors, once the output is in place;
    the gate's exit code. ``chatty``: say where the files went (on stderr)."""
    from harness.render import terminal

    if chatty:
        print(f"wrote {out / 'comment.md'} and {out / 'report.json'}", file=sys.stderr)
    if not quiet:
        sys.stdout.flush()
        print(terminal.render(result, width=terminal_width()), end="")
    for error in result.gate.errors:
        print(f"error: {error}", file=sys.stderr)
    return result.gate.exit_code


def cmd_analyse(args: argparse.Namespace) -> int:
    """Judge a saved measurement record (no process, no timing) and write the report."""
    import dataclasses

    from harness import measurements, outputs, report
    from harness.analyse.analysis import analyse

    source = Path(args.measurements)
    record = measurements.load(source)
    gate = record.gate
    if args.threshold_pct is not None:
        from harness.validate import option

        option("--threshold-pct", "threshold_pct", args.threshold_pct)
    policy = dataclasses.replace(
        gate, statistic=args.statistic or gate.statistic, metric=args.gate_metric or gate.metric,
        threshold_pct=(gate.threshold_pct if args.threshold_pct is None
                       else float(args.threshold_pct)))
    out = Path(args.out) if args.out else source.parent
    extra = _outputs(args)
    same = out.resolve() == source.parent.resolve()
    result = analyse(record, policy)
    # the record's own directory keeps its raw/ and measurements.json; elsewhere, a copy
    with outputs.claim(out, carry=("raw", measurements.FILE_NAME) if same else ()) as staging:
        if not same:
            report.write_atomic(staging / measurements.FILE_NAME,
                                source.read_text(encoding="utf-8"))
        exported = write_outputs(result, staging, **staged(extra, out, staging))
    say_exported(exported, staging, out)
    return announce(result, out, quiet=args.quiet)


def short_labels(paths: Sequence[str], limit: int = 28) -> list[str]:
    """A short label per interpreter path that tells it from the others: the path components
    where the paths differ (``venv-3.11/bin/python`` vs ``venv-3.12/bin/python``:
    ``venv-3.11``, ``venv-3.12``), clipped in the middle to ``limit`` characters; numbered
    when that still leaves two alike (the same interpreter twice)."""
    parts = [Path(p).parts for p in paths]
    shortest = min((len(p) for p in parts), default=0)
    if len(parts) == 1:
        head, tail = 0, 0
        labels = [str(Path(*parts[0][-3:]))]
    else:
        head = next((i for i in range(shortest) if len({p[i] for p in parts}) > 1), shortest)
        tail = next((i for i in range(shortest - head)
                     if len({p[len(p) - 1 - i] for p in parts}) > 1), shortest - head)
        labels = ["/".join(p[head:len(p) - tail]) or p[-1] for p in parts]

    from harness.render.escape import clip

    labels = [clip(label, limit) for label in labels]
    if len(set(labels)) < len(labels):
        labels = [f"{label} #{i + 1}" for i, label in enumerate(labels)]
    return labels


def time_config_data(pythons: Sequence[str], labels: Sequence[str], args: Sequence[str], *,
                     runs: int | str | None, warmup: int, threshold_pct: float | None,
                     gate: bool, title: str | None = None) -> dict[str, Any]:
    """The config ``startup-harness time`` runs: one variant per interpreter (the first is
    main, the last the PR), one workload ``{python} ARGS``."""
    import re
    import shlex
    import shutil

    if not args:
        raise HarnessError("time: nothing to run", "give the interpreter's arguments after "
                           "--, e.g. -- -c 'import json'")
    found_paths = []
    for python in pythons:
        found = shutil.which(python) if os.sep not in python else python
        if not found:
            raise HarnessError(f"time: --python {python!r} not found",
                               "give a path to an interpreter or a name on PATH")
        found_paths.append(os.path.abspath(found))
    shown_labels = short_labels(found_paths)
    variants = []
    for i, found in enumerate(found_paths):
        role = ("main" if i == 0 else "pr" if i == len(pythons) - 1 else None)
        entry: dict[str, Any] = {"name": f"python{i + 1}",
                                 "label": labels[i] if i < len(labels) else shown_labels[i],
                                 "source": {"python": found}}
        if len(pythons) > 1 and role:
            entry["role"] = role
        variants.append(entry)
    shown = shlex.join(args)
    what = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-c", "-m")),
                next((os.path.basename(a) for a in args if not a.startswith("-")), shown))
    name = re.sub(r"[^A-Za-z0-9_.]+", "-", what).strip("-.")[:40] or "command"
    data: dict[str, Any] = {
        "title": title or f"python {shown}", "variants": variants,
        "workloads": [{"name": name, "command": ["{python}", *args]}],
        "timing": {"warmup": warmup}}
    gated = gate and len(pythons) > 1
    if runs is not None or not gated:  # else the default: auto, stopping on the gate
        data["timing"]["runs"] = runs if runs is not None else 30
    if not gated:
        data["gate"] = False
    elif threshold_pct is not None:
        data["gate"] = {"threshold_pct": threshold_pct}
    return data


def cmd_time(args: argparse.Namespace) -> int:
    """Time one command across interpreters without a config file; print the comparison."""
    import contextlib
    import tempfile

    from harness import measurements, outputs, pipeline, report
    from harness import progress as bar
    from harness.analyse.analysis import analyse
    from harness.config import parse_config

    extra = list(args.args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    config = parse_config(time_config_data(
        args.python, args.label, extra, runs=args.runs, warmup=args.warmup,
        threshold_pct=args.threshold_pct, gate=not args.no_gate, title=args.title))
    progress = bar.choose(quiet=args.quiet, verbose=args.verbose)
    chatty = isinstance(progress, (bar.Live, bar.Lines))
    out = Path(args.out) if args.out else None
    with contextlib.ExitStack() as stack:
        # --out: staged and swapped in whole, like `run` (raw/ and the record included)
        where = (stack.enter_context(outputs.claim(out, say=progress)) if out is not None
                 else Path(stack.enter_context(
                     tempfile.TemporaryDirectory(prefix="startup-harness-time-"))))
        try:
            record = pipeline.measure(config, where / "raw", progress=progress)
        finally:
            progress.close()
        result = analyse(record)
        if out is not None:
            report.write_atomic(where / measurements.FILE_NAME, measurements.dumps(record))
            write_outputs(result, where)
    if args.json:  # the report is the output: no table, the exit code is still the gate's
        sys.stdout.write(report.dumps(result))
    if out is not None:
        return announce(result, out, quiet=args.quiet or args.json, chatty=chatty)
    if not (args.quiet or args.json):
        from harness.render import terminal

        print(terminal.render(result, width=terminal_width()), end="")
    for error in result.gate.errors:
        print(f"error: {error}", file=sys.stderr)
    return result.gate.exit_code


def cmd_probe(args: argparse.Namespace) -> int:
    from harness import proc
    from harness.inspection import runner
    from harness.serial import to_data

    probe = runner.run_probe(args.python, env=proc.controlled_env())
    print(json.dumps(to_data(probe), indent=2))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from harness import report
    from harness.render import markdown, terminal

    loaded = report.load(args.report)
    text = (markdown.render(loaded) if args.format == "markdown"
            else terminal.render(loaded, width=terminal_width()))
    sys.stdout.write(text)
    return 0
