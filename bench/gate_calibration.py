"""Calibrate the regression gate on this machine: false alarms and detection rates.

It builds identical twin venvs and variants with a known injected start-up cost (a ``.pth``
file imports ``_inject``, which spins a fixed number of loop iterations sized to +N % of the
base start-up; the reference imports an empty ``_inject`` so the hook's own cost cancels), then
runs many trials of the harness's own timing and comparison and prints, per design:

* A/A false-alarm rate (twin vs twin, should be 0) and the sd of the A/A median ratio;
* detection rate per injected effect size;
* wall time per trial.

Designs: ``interleaved`` (the default: one run per variant per round, alternating order, the
harness's paired CI and verdict rule) and ``blocks`` (the seed's method: a hyperfine block per
variant, "regression" when the mean ratio exceeds +10 %); ``interleaved-spawn`` times the same
schedule with the spawn-and-wait timer of :mod:`harness.measure.timers` instead of one
hyperfine call
per round, and also records each run's CPU time (user + system, from ``wait4``), judged in an
extra "(cpu time)" row. The row ``interleaved+seed-rule`` judges the interleaved samples with
the seed's rule. Every trial's samples go to a JSON-lines file,
so ``--reanalyze FILE`` recomputes the table under another threshold or confidence without
timing anything again.

    .venv/bin/python bench/gate_calibration.py --trials-aa 100 --trials 40 --runs 50
    .venv/bin/python bench/gate_calibration.py --reanalyze cal.jsonl --threshold-pct 2

``--carryover`` runs another design: three variants, identical twins as baseline and main and a
PR with +0 (a third twin), +100 or +300 % start-up cost, timed together with the spawn timer in
each order (``interleaved``, ``balanced``, ``shuffled``); it reports the twins' ratio, how often
its interval excludes 1 (as measured, and with the carry-over model adjusted out), pr / main,
the model's effect of pr as a predecessor and how often the carry-over note fires, with the
load average (``--reanalyze FILE --carryover`` re-judges saved trials):

    .venv/bin/python bench/gate_calibration.py --carryover --trials 10 --runs 50 --save co.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from harness import defaults, proc
from harness.analyse import busy, stats
from harness.analyse.analysis import gated_comparisons
from harness.measure import adaptive, timers, timing
from harness.measure.builders.uv import default_python
from harness.measure.instructions import measure_instructions
from harness.measure.load import LoadMonitor
from harness.measure.timing import TimedCommand
from harness.measure.tools import find_tool
from harness.measurements import WorkloadInfo
from harness.model import GatePolicy, Samples

BASE_PYTHON = default_python()  # the real interpreter, not a venv link or a pyenv shim
SEED_THRESHOLD = 1.10  # the seed's gate: mean ratio > +10 %

INJECT_TEMPLATE = """\
# start-up cost injected by bench/gate_calibration.py: {iterations} loop iterations
_x = 0
for _i in range({iterations}):
    _x += _i
"""

LOOP_TIMER = """\
import sys, time
code = compile(sys.argv[1], "_inject", "exec")
best = min(
    (lambda t0: (exec(code, {}), time.perf_counter() - t0)[1])(time.perf_counter())
    for _ in range(7))
print(best)
"""


@dataclasses.dataclass(frozen=True)
class Design:
    """How one trial is timed and judged."""

    name: str
    order: str  # "interleaved" or "blocks"
    timer: str  # "hyperfine" or "spawn"
    rule: str  # "harness" (stats.compare), "seed" (mean ratio > +10 %) or "auto" (runs: auto)
    metric: str = "wall"  # what runs: auto gates on


DESIGNS = {
    "interleaved": Design("interleaved", "interleaved", "hyperfine", "harness"),
    "interleaved-spawn": Design("interleaved-spawn", "interleaved", "spawn", "harness"),
    "blocks": Design("blocks", "blocks", "hyperfine", "seed"),
    "auto-spawn": Design("auto-spawn", "interleaved", "spawn", "auto"),
    "auto-spawn-cpu": Design("auto-spawn-cpu", "interleaved", "spawn", "auto", "cpu"),
    "balanced-spawn": Design("balanced-spawn", "balanced", "spawn", "harness"),
    "duet-spawn": Design("duet-spawn", "duet", "spawn", "harness"),
}


def log(message: str) -> None:
    print(f"[calibration] {message}", file=sys.stderr, flush=True)


# -- environments ------------------------------------------------------------------------------


def make_env(root: Path, name: str, iterations: int, uv: str, base_python: str) -> Path:
    """A uv venv whose site-packages has ``_inject.pth`` -> ``import _inject`` spinning
    ``iterations`` loop iterations (0: an empty module). Returns its python."""
    env_dir = root / name
    proc.run([uv, "venv", "-q", "--python", base_python, str(env_dir)],
             env=proc.scrubbed_env(), what=f"uv venv {name}")
    python = env_dir / "bin" / "python"
    site = next((env_dir / "lib").glob("python*/site-packages"))
    body = INJECT_TEMPLATE.format(iterations=iterations) if iterations else "# empty twin\n"
    (site / "_inject.py").write_text(body, encoding="utf-8")
    (site / "_inject.pth").write_text("import _inject\n", encoding="utf-8")
    proc.run([str(python), "-m", "compileall", "-q", str(site / "_inject.py")],
             env=proc.controlled_env(), what="compileall _inject")
    return python


def seconds_per_iteration(python: Path) -> float:
    """Best-of-7 time of a 2M-iteration injected loop, per iteration, in ``python``."""
    n = 2_000_000
    done = proc.run([str(python), "-c", LOOP_TIMER, INJECT_TEMPLATE.format(iterations=n)],
                    env=proc.controlled_env(), what="loop timer")
    return float(done.stdout.strip()) / n


def calibrate_cost(workdir: Path, reference: Path, uv: str,
                   env: dict[str, str]) -> tuple[float, float]:
    """(base start-up seconds, seconds per injected iteration at start-up). The loop is timed
    in-process first, then a +20 % probe env is timed against the reference (paired rounds,
    spawn timer), because a cold loop at start-up runs slower than a warm one."""
    guess = seconds_per_iteration(reference)
    ref_cmd = TimedCommand("ref", "pass", (str(reference), "-c", "pass"))
    base = timers.measure([ref_cmd], warmup=10, runs=100, order="interleaved", env=env,
                          raw_dir=workdir / "raw-base")[0]
    base_s = statistics.median(base.values)
    n = round(0.20 * base_s / guess)
    probe = make_env(workdir, "probe", n, uv, BASE_PYTHON)
    ref, prb = timers.measure([ref_cmd, TimedCommand("probe", "pass", (str(probe), "-c", "pass"))],
                              warmup=10, runs=200, order="interleaved", env=env,
                              raw_dir=workdir / "raw-probe")
    extra = statistics.median(p - r for p, r in zip(prb.values, ref.values, strict=True))
    return statistics.median(ref.values), extra / n


# -- trials ------------------------------------------------------------------------------------


def run_trial(design: Design, subject: Path, reference: Path, *, warmup: int, runs: int,
              env: dict[str, str], raw_dir: Path, hyperfine: str,
              seed: int) -> tuple[Samples, Samples, float, tuple[Samples, ...]]:
    """Time reference and subject once with ``design``: (subject, reference, seconds, and
    (subject, reference) CPU-time samples when the timer reports them)."""
    commands = [TimedCommand("reference", "pass", (str(reference), "-c", "pass")),
                TimedCommand("subject", "pass", (str(subject), "-c", "pass"))]
    start = time.perf_counter()
    cpu: tuple[Samples, ...] = ()
    if design.timer == "spawn":
        rows = timers.run_schedule(commands, warmup=warmup, runs=runs, order=design.order,
                                   env=env, raw_dir=raw_dir, seed=seed)
        ref, subj = timers.samples_from_results(commands, rows, "spawn-times.json")
        if all(len(row) > 4 for row in rows):
            cpu = timers.samples_from_results(commands, rows, "spawn-times.json", "cpu")[::-1]
    else:
        ref, subj = timing.measure(commands, warmup=warmup, runs=runs, order=design.order,
                                   env=env, raw_dir=raw_dir, hyperfine=hyperfine, seed=seed)
    return subj, ref, time.perf_counter() - start, cpu


def _spin() -> None:
    """A busy loop: one CPU of background load."""
    while True:
        pass


#: Load profiles: ``quiet`` (nothing started by the script), ``hogN`` (N busy processes, one
#: CPU each; a bare number N means the same) and ``bursty`` (two busy processes, each switched
#: on and off, SIGCONT / SIGSTOP, at random intervals of 0.2-3 s).
PROFILES = ("quiet", "hog1", "hog2", "hog3", "bursty")
BURSTY_HOGS = 2
BURSTY_INTERVAL_S = (0.2, 3.0)


def profile_name(level: str | int) -> str:
    """``quiet``, ``hog2``, ``bursty``: a profile by name, or a number of hogs."""
    text = str(level)
    if text.isdigit():
        return "quiet" if int(text) == 0 else f"hog{int(text)}"
    if text not in PROFILES and not (text.startswith("hog") and text[3:].isdigit()):
        raise SystemExit(f"unknown load profile {text!r} (known: {', '.join(PROFILES)})")
    return text


def _switch(procs: Sequence[Any], stop: Any, seed: int) -> None:
    """Switch each hog on and off at random intervals until ``stop`` is set; leave them on."""
    import signal as sig

    rng = random.Random(seed)
    now = time.monotonic()
    due = [now + rng.uniform(*BURSTY_INTERVAL_S) for _ in procs]
    running = [True] * len(procs)
    while not stop.is_set():
        k = min(range(len(procs)), key=due.__getitem__)
        if stop.wait(max(0.0, due[k] - time.monotonic())):
            break
        running[k] = not running[k]
        with contextlib.suppress(ProcessLookupError):
            os.kill(procs[k].pid, sig.SIGCONT if running[k] else sig.SIGSTOP)
        due[k] = time.monotonic() + rng.uniform(*BURSTY_INTERVAL_S)
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, sig.SIGCONT)


@contextlib.contextmanager
def background_load(level: str | int, seed: int = 0) -> Iterator[None]:
    """The load ``profile`` for the duration of the block (hogs always stopped afterwards)."""
    import threading

    profile = profile_name(level)
    n = BURSTY_HOGS if profile == "bursty" else int(profile[3:] or 0) if profile != "quiet" \
        else 0
    procs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    stop = threading.Event()
    switcher = (threading.Thread(target=_switch, args=(procs, stop, seed), daemon=True)
                if profile == "bursty" else None)
    if switcher:
        switcher.start()
    try:
        time.sleep(1.0 if n else 0.0)  # let the scheduler see them before timing starts
        yield
    finally:
        stop.set()
        if switcher:
            switcher.join(5)
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(5)


def run_auto_trial(subject: Path, reference: Path, *, warmup: int, env: dict[str, str],
                   raw_dir: Path, seed: int, threshold_pct: float, confidence: float,
                   batch: int, max_runs: int, max_seconds: float,
                   metric: str = "wall") -> dict[str, Any]:
    """One ``runs: auto`` trial exactly as the pipeline runs it (batches, looks, stopping
    rule): the verdict of the last look, runs and seconds used, every look."""
    commands = [TimedCommand("reference", "pass", (str(reference), "-c", "pass")),
                TimedCommand("subject", "pass", (str(subject), "-c", "pass"))]
    policy = GatePolicy(compare="subject", against="reference", threshold_pct=threshold_pct,
                        confidence=confidence, metric=metric)
    workloads = [WorkloadInfo("pass")]

    def look(samples: Sequence[Samples], conf: float, n_resamples: int) -> list[Any]:
        return gated_comparisons(policy, workloads, samples, conf, n_resamples)

    start = time.perf_counter()
    timed = adaptive.measure(commands, warmup=warmup, runs=max_runs, order=defaults.ORDER,
                             env=env, raw_dir=raw_dir, seed=seed,
                             auto=adaptive.AutoRuns(batch, max_runs, max_seconds,
                                                    1.0 - confidence), look=look)
    seconds = time.perf_counter() - start
    record = timed.sequential
    assert record is not None
    last = record.looks[-1].results[0] if record.looks[-1].results else None
    wall = {s.variant: s for s in timed.samples if s.metric == "wall"}
    cpu = {s.variant: s for s in timed.samples if s.metric == "cpu"}
    return {
        "verdict": last.verdict if last else "error", "ratio": last.ratio if last else None,
        "ci": [last.ci_low, last.ci_high] if last else None, "seconds": seconds,
        "runs": record.runs, "stopped": record.stopped,
        "looks": [[lk.runs, lk.alpha, lk.results[0].verdict if lk.results else ""]
                  for lk in record.looks],
        "subject": list(wall["subject"].values), "rounds_s": list(wall["subject"].rounds),
        "reference": list(wall["reference"].values), "rounds_r": list(wall["reference"].rounds),
        "subject_cpu": list(cpu["subject"].values) if cpu else [],
        "reference_cpu": list(cpu["reference"].values) if cpu else [],
        **load_fields(timed.load)}


def load_fields(load: Any) -> dict[str, Any]:
    """What the load monitor saw during one trial (for the noise-note calibration)."""
    return {"others_cpus": load.others_cpus, "steal_pct": load.steal_pct,
            "loadavg_max": load.max_loadavg}


def judge(design: Design, subj: Samples, ref: Samples, *, threshold_pct: float,
          confidence: float, statistic: str) -> dict[str, object]:
    """Verdicts of one trial: the design's own rule, plus both rules for comparison."""
    cmp = stats.compare(subj, ref, threshold_pct=threshold_pct, confidence=confidence,
                        statistic=statistic)
    mean_ratio = statistics.fmean(subj.values) / statistics.fmean(ref.values)
    seed_verdict = "regression" if mean_ratio > SEED_THRESHOLD else "no change"
    return {"verdict": cmp.verdict if design.rule == "harness" else seed_verdict,
            "harness_verdict": cmp.verdict, "seed_verdict": seed_verdict,
            "ratio": cmp.ratio, "mean_ratio": mean_ratio,
            "median_ratio": statistics.median(subj.values) / statistics.median(ref.values),
            "ci": [cmp.ci_low, cmp.ci_high]}


# -- table -------------------------------------------------------------------------------------


def table(records: Sequence[dict], *, threshold_pct: float, confidence: float,
          statistic: str = "paired") -> str:
    """The calibration table from saved trial records (re-judged at the given settings)."""
    rows: dict[tuple[str, str], list[dict]] = {}
    for rec in records:
        design = DESIGNS[rec["design"]]
        subj = Samples("subject", "pass", "wall", tuple(rec["subject"]), tuple(rec["rounds_s"]))
        ref = Samples("reference", "pass", "wall", tuple(rec["reference"]),
                      tuple(rec["rounds_r"]))
        judged = judge(design, subj, ref, threshold_pct=threshold_pct, confidence=confidence,
                       statistic=statistic)
        rows.setdefault((rec["design"], rec["effect"]), []).append({**rec, **judged})
        if rec.get("subject_cpu"):  # the same trial judged on CPU time instead of wall time
            cpu_s = dataclasses.replace(subj, values=tuple(rec["subject_cpu"]))
            cpu_r = dataclasses.replace(ref, values=tuple(rec["reference_cpu"]))
            judged_cpu = judge(design, cpu_s, cpu_r, threshold_pct=threshold_pct,
                               confidence=confidence, statistic=statistic)
            rows.setdefault((rec["design"] + " (cpu time)", rec["effect"]), []).append(
                {**rec, **judged_cpu})
        if design.rule == "harness" and rec["design"] == "interleaved":
            seed_on_same = {**rec, **judged, "verdict": judged["seed_verdict"]}
            rows.setdefault(("interleaved+seed-rule", rec["effect"]), []).append(seed_on_same)
    effects = sorted({e for _, e in rows}, key=float)
    lines = [f"statistic {statistic}, threshold {threshold_pct:g} %, confidence {confidence:g}; "
             "cells: share of trials with verdict 'regression' (n trials); sd A/A ratio: sd "
             "of the gated ratio (and of the ratio of medians) over A/A trials", ""]
    header = ["design", *[("A/A" if float(e) == 0 else f"+{float(e):g} %") for e in effects],
              "sd A/A ratio", "inconcl. A/A", "s/trial"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for design_name in sorted({d for d, _ in rows}):
        cells = [design_name]
        all_secs: list[float] = []
        sd_text, inc_text = "—", "—"
        for effect in effects:
            trials = rows.get((design_name, effect), [])
            if not trials:
                cells.append("—")
                continue
            hits = sum(1 for t in trials if t["verdict"] == "regression")
            cells.append(f"{hits / len(trials) * 100:.1f} % ({len(trials)})")
            all_secs += [t["seconds"] for t in trials]
            if float(effect) == 0:
                if len(trials) > 1:
                    sd = statistics.stdev(t["ratio"] for t in trials)
                    sd_med = statistics.stdev(t["median_ratio"] for t in trials)
                    sd_text = f"{sd:.4f} ({sd_med:.4f})"
                inc = sum(1 for t in trials if t["verdict"] == "inconclusive")
                inc_text = f"{inc / len(trials) * 100:.1f} %"
        cells += [sd_text, inc_text, f"{statistics.fmean(all_secs):.1f}" if all_secs else "—"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("measured effect (median over trials of the gated ratio, interleaved):")
    for effect in effects:
        trials = rows.get(("interleaved", effect)) or rows.get(("interleaved-spawn", effect)) or []
        if trials:
            med = statistics.median(t["ratio"] for t in trials)
            lines.append(f"  nominal +{float(effect):g} % -> measured {(med - 1) * 100:+.2f} %")
    return "\n".join(lines)


# -- carry-over: identical twins next to a heavy PR, per order ---------------------------------

CARRYOVER_ORDERS = ("interleaved", "balanced", "shuffled")


def carryover_trial(order: str, pythons: Sequence[Path], *, warmup: int, runs: int,
                    env: dict[str, str], raw_dir: Path, seed: int) -> dict[str, object]:
    """One three-variant trial (baseline and main identical twins, pr heavy) with the spawn
    timer in ``order``: every sample with its rounds and execution positions."""
    commands = [TimedCommand(name, "pass", (str(py), "-c", "pass"))
                for name, py in zip(("baseline", "main", "pr"), pythons, strict=True)]
    start = time.perf_counter()
    samples = timers.measure(commands, warmup=warmup, runs=runs, order=order, env=env,
                             raw_dir=raw_dir, seed=seed)
    return {"seconds": time.perf_counter() - start,
            "samples": {s.variant: {"values": list(s.values), "rounds": list(s.rounds),
                                    "positions": list(s.positions)} for s in samples}}


def judge_carryover(rec: dict, *, confidence: float) -> dict[str, float | bool]:
    """Twins' ratio (main / baseline) and whether its interval excludes 1, as measured and with
    the carry-over adjusted out; pr / main; the model's effect of pr as a predecessor."""
    from harness.analyse import carryover

    samples = tuple(Samples(name, "pass", "wall", tuple(d["values"]), tuple(d["rounds"]),
                            positions=tuple(d["positions"]))
                    for name, d in rec["samples"].items())
    base, main_, pr = samples
    twins = stats.compare(main_, base, confidence=confidence)
    out: dict[str, float | bool] = {
        "twins": twins.ratio, "twins_excl": not (twins.ci_low <= 1 <= twins.ci_high),
        "pr_main": stats.compare(pr, main_, confidence=confidence).ratio}
    model = carryover.fit(samples)
    if model is not None:
        adj_base, adj_main, adj_pr = carryover.adjusted(samples, model)
        adj = stats.compare(adj_main, adj_base, confidence=confidence)
        out.update(adj_twins=adj.ratio, adj_excl=not (adj.ci_low <= 1 <= adj.ci_high),
                   adj_pr_main=stats.compare(adj_pr, adj_main, confidence=confidence).ratio,
                   after_pr=model.effects[2].effect_pct,
                   max_twin_effect=max(abs(e.effect_pct) for e in model.effects[:2]),
                   note=bool(carryover.diagnose(model, order=rec["order"])))
    return out


def carryover_table(records: Sequence[dict], *, confidence: float) -> str:
    """Per heavy effect and order: the twins' ratio and interval, as measured and adjusted."""
    rows: dict[tuple[float, str], list[dict]] = {}
    for rec in records:
        rows.setdefault((rec["effect"], rec["order"]), []).append(
            judge_carryover(rec, confidence=confidence))
    lines = ["twins: main / baseline (identical venvs), statistic paired; excl.: trials whose "
             f"{confidence:g} interval excludes 1; adj.: carry-over adjusted out; after pr: "
             "the model's effect of pr as predecessor (vs the average predecessor); note: "
             "trials with a carry-over note", "",
             "| PR | order | trials | twins median | median abs(twins - 1) | excl. | "
             "adj. median abs(twins - 1) | adj. excl. | pr/main | adj. pr/main | after pr | "
             "note |", "|" + "---|" * 12]
    for (effect, order), judged in sorted(rows.items()):
        med = statistics.median
        cells = [f"+{effect:g} %", order, str(len(judged)),
                 f"{(med(j['twins'] for j in judged) - 1) * 100:+.2f} %",
                 f"{med(abs(j['twins'] - 1) for j in judged) * 100:.2f} %",
                 f"{sum(bool(j['twins_excl']) for j in judged)}/{len(judged)}"]
        if all("adj_twins" in j for j in judged):
            cells += [f"{med(abs(j['adj_twins'] - 1) for j in judged) * 100:.2f} %",
                      f"{sum(bool(j['adj_excl']) for j in judged)}/{len(judged)}",
                      f"{med(j['pr_main'] for j in judged):.3f}",
                      f"{med(j['adj_pr_main'] for j in judged):.3f}",
                      f"{med(j['after_pr'] for j in judged):+.1f} %",
                      f"{sum(bool(j['note']) for j in judged)}/{len(judged)}"]
        else:
            cells += ["—"] * 6
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def carryover_main(args: argparse.Namespace) -> int:
    """Build twins and heavy PRs, run the trials (orders and effects shuffled in time), print
    the table; ``--reanalyze`` re-judges saved trials."""
    if args.reanalyze:
        records = [json.loads(line) for line in args.reanalyze.read_text().splitlines() if line]
        print(carryover_table(records, confidence=args.confidence))
        return 0
    effects = [float(e) for e in args.carryover_effects.split(",") if e]
    order_names = args.orders.split(",")
    uv = find_tool("uv")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="carryover-calibration-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = proc.controlled_env()
    log(f"building envs in {workdir}; load average {os.getloadavg()}")
    baseline = make_env(workdir, "twin-a", 0, uv, BASE_PYTHON)
    main_twin = make_env(workdir, "twin-b", 0, uv, BASE_PYTHON)
    base_s, per_iter = calibrate_cost(workdir, baseline, uv, env)
    heavy = {0.0: make_env(workdir, "twin-c", 0, uv, BASE_PYTHON)}
    for effect in effects:
        if effect:
            heavy[effect] = make_env(workdir, f"heavy{effect:g}",
                                     round(effect / 100 * base_s / per_iter), uv, BASE_PYTHON)
    jobs = [(e, o, i) for e in effects for o in order_names for i in range(args.trials)]
    random.Random(args.seed).shuffle(jobs)
    log(f"{len(jobs)} trials; samples -> {args.save}")
    records, loads = [], []
    started = time.perf_counter()
    with args.save.open("a", encoding="utf-8") as out:
        for n, (effect, order, i) in enumerate(jobs):
            rec = {"design": "carryover", "effect": effect, "order": order, "trial": i,
                   "runs": args.runs, "warmup": args.warmup, "load": os.getloadavg()[0],
                   **carryover_trial(order, (baseline, main_twin, heavy[effect]),
                                     warmup=args.warmup, runs=args.runs, env=env,
                                     raw_dir=workdir / "raw" / f"{n:05d}", seed=args.seed + n)}
            out.write(json.dumps(rec) + "\n")
            out.flush()
            records.append(rec)
            loads.append(rec["load"])
            if n % 10 == 0:
                log(f"trial {n + 1}/{len(jobs)} ({(time.perf_counter() - started) / 60:.1f} "
                    f"min, load {rec['load']:.2f})")
    print(f"load average (1 min) during the trials: median {statistics.median(loads):.2f}, "
          f"range {min(loads):.2f}-{max(loads):.2f}; {os.cpu_count()} CPUs; "
          f"{(time.perf_counter() - started) / 60:.1f} min")
    print(carryover_table(records, confidence=args.confidence))
    return 0


# -- runs: auto, background load, noise notes, replicas ---------------------------------------


def _pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f} %" if whole else "—"


def upper_bound(part: int, whole: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound of a rate seen ``part`` times in ``whole``."""
    from scipy import stats as sps

    return 1.0 if part >= whole else float(sps.beta.ppf(confidence, part + 1, whole - part))


def _pct_bound(part: int, whole: int) -> str:
    """``0.0 % (< 1.5 %)``: the rate and its 95 % upper bound (what ``whole`` trials can read)."""
    if not whole:
        return "—"
    return f"{part / whole * 100:.1f} % (< {upper_bound(part, whole) * 100:.1f} %)"


def _samples_of(rec: dict[str, Any], metric: str = "wall") -> tuple[Samples, Samples]:
    suffix = "_cpu" if metric == "cpu" else ""
    subj = Samples("subject", "pass", metric, tuple(rec["subject" + suffix]),
                   tuple(rec["rounds_s"]))
    ref = Samples("reference", "pass", metric, tuple(rec["reference" + suffix]),
                  tuple(rec["rounds_r"]))
    return subj, ref


def peek_verdict(rec: dict[str, Any], *, batch: int, threshold_pct: float) -> tuple[str, int]:
    """The wrong way, replayed on an auto trial's samples: look after every batch at a fixed
    95 % interval and stop at the first decisive verdict. (verdict, runs)"""
    subj, ref = _samples_of(rec, DESIGNS[rec["design"]].metric)
    n_max = len(subj.values)
    n = batch
    while True:
        n = min(n, n_max)
        s = dataclasses.replace(subj, values=subj.values[:n], rounds=subj.rounds[:n])
        r = dataclasses.replace(ref, values=ref.values[:n], rounds=ref.rounds[:n])
        verdict = stats.compare(s, r, threshold_pct=threshold_pct, confidence=0.95).verdict
        if verdict != "inconclusive" or n >= n_max:
            return verdict, n
        n += batch


def auto_table(records: Sequence[dict[str, Any]], args: argparse.Namespace) -> str:
    """runs: auto per effect: verdict shares, runs and seconds to a verdict."""
    lines = ["| effect | trials | regression | no change | inconclusive | improvement | "
             "interval excludes 1 | median runs | median s | budget reached |",
             "|" + "---|" * 10]
    for effect in sorted({r["effect"] for r in records}):
        rows = [r for r in records if r["effect"] == effect]
        verdicts = [r["verdict"] for r in rows]
        n = len(rows)
        budget = sum(1 for r in rows if r["stopped"].startswith("budget"))
        name = "A/A" if effect == 0 else f"{effect:+g} %"
        excludes = sum(1 for r in rows if r.get("ci") and not r["ci"][0] <= 1 <= r["ci"][1])
        lines.append(
            f"| {name} | {n} | {_pct_bound(verdicts.count('regression'), n)} | "
            f"{_pct(verdicts.count('no change'), n)} | {_pct(verdicts.count('inconclusive'), n)}"
            f" | {_pct(verdicts.count('improvement'), n)} | "
            f"{_pct_bound(excludes, n) if effect == 0 else '—'} | "
            f"{statistics.median(r['runs'] for r in rows):g} | "
            f"{statistics.median(r['seconds'] for r in rows):.2f} | {_pct(budget, n)} |")
    aa = [r for r in records if r["effect"] == 0]
    if aa and not args.no_peek:
        peeks = [peek_verdict(r, batch=args.batch, threshold_pct=args.threshold_pct)
                 for r in aa]
        regressions = sum(1 for v, _ in peeks if v == "regression")
        alarms = sum(1 for v, _ in peeks if v in ("regression", "improvement"))
        ours_regr = sum(1 for r in aa if r["verdict"] == "regression")
        ours_alarm = sum(1 for r in aa if r["verdict"] in ("regression", "improvement"))
        lines += ["", f"Peeking at a fixed 95 % interval after every batch (replayed on the "
                  f"same A/A samples, up to where the trial stopped): 'regression' "
                  f"{_pct(regressions, len(peeks))}, regression or improvement "
                  f"{_pct(alarms, len(peeks))} of {len(peeks)}; with the stopping rule: "
                  f"'regression' {_pct(ours_regr, len(aa))}, regression or improvement "
                  f"{_pct(ours_alarm, len(aa))}."]
    return "\n".join(lines)


def noise_table(records: Sequence[dict[str, Any]], threshold_pct: float) -> str:
    """How often each noise note would fire, per load level: the old per-variant rule
    (robust CV > 5 % or self-split > max(2 %, t/2)), the spread statistics' 95th percentiles,
    and what the load monitor saw (other processes' CPUs, load average)."""
    lines = ["| load | variant-trials | old 'noisy' note fires | new 'noisy' note fires | "
             "machine note fires (of trials) | robust CV p50 / p95 | self-split p50 / p95 | "
             "others' CPUs p5 / p50 / p95 | load avg p50 |", "|" + "---|" * 9]
    for load in sorted({profile_name(r.get("load", 0)) for r in records}):
        rows = [r for r in records if profile_name(r.get("load", 0)) == load]
        rcvs, splits, fired, fired_new = [], [], 0, 0
        for rec in rows:
            for s in _samples_of(rec):
                fired_new += bool(stats.noisy_variant(s, threshold_pct / 100))
                rcv = stats.robust_cv(s.values)
                aa = stats.self_ratio(s)
                split = abs(aa - 1) if aa is not None else 0.0
                rcvs.append(rcv)
                splits.append(split)
                fired += rcv > 0.05 or split > max(0.02, threshold_pct / 200)
        others = sorted(r["others_cpus"] for r in rows if r.get("others_cpus") is not None)
        loadavg = [r["loadavg_max"] for r in rows if r.get("loadavg_max") is not None]

        def q(values: Sequence[float], p: float) -> float:
            values = sorted(values)
            return values[min(len(values) - 1, int(p * len(values)))] if values else math.nan

        machine = sum(1 for r in rows
                      if (r.get("others_cpus") or 0.0) > busy.BUSY_OTHERS_CPUS
                      or (r.get("steal_pct") or 0.0) > busy.BUSY_STEAL_PCT)
        lines.append(
            f"| {load} | {len(rcvs)} | {_pct(fired, len(rcvs))} | "
            f"{_pct(fired_new, len(rcvs))} | {_pct(machine, len(rows))} | "
            f"{q(rcvs, .5) * 100:.1f} / {q(rcvs, .95) * 100:.1f} % | "
            f"{q(splits, .5) * 100:.2f} / {q(splits, .95) * 100:.2f} % | "
            f"{q(others, .05):.2f} / {q(others, .5):.2f} / {q(others, .95):.2f} | "
            f"{statistics.median(loadavg) if loadavg else math.nan:.2f} |")
    return "\n".join(lines)


def replica_experiment(workdir: Path, uv: str, env: dict[str, str], args: argparse.Namespace,
                       out: Any) -> list[dict[str, Any]]:
    """Build ``args.replicas`` identical envs and time them all interleaved, again and again:
    does a replica stay faster or slower than another across re-timings (the environment) or
    not (time)?"""
    pythons = [make_env(workdir, f"replica{k}", 0, uv, BASE_PYTHON) for k in range(args.replicas)]
    commands = [TimedCommand(f"r{k}", "pass", (str(py), "-c", "pass"))
                for k, py in enumerate(pythons)]
    records = []
    for trial in range(args.replica_trials):
        with LoadMonitor() as monitor:
            done = timers.run_schedule_full(commands, warmup=args.warmup, runs=args.runs,
                                            order="interleaved", env=env,
                                            raw_dir=workdir / "raw" / f"replicas-{trial:03d}")
        samples = timers.samples_from_results(commands, done["results"], "spawn-times.json")
        rec = {"kind": "replicas", "trial": trial, "values": [list(s.values) for s in samples],
               "rounds": [list(s.rounds) for s in samples], **load_fields(monitor.record)}
        out.write(json.dumps(rec) + "\n")
        out.flush()
        records.append(rec)
        log(f"replicas: trial {trial + 1}/{args.replica_trials}")
    return records


def replica_table(records: Sequence[dict[str, Any]]) -> str:
    """Each replica vs replica 0 (paired ratio) per trial; is the replica effect persistent?
    One-way ANOVA of the per-trial log ratios grouped by replica, and variance components."""
    from scipy import stats as sps

    k_count = len(records[0]["values"])
    logs: list[list[float]] = [[] for _ in range(k_count)]
    widths = []
    for rec in records:
        base = Samples("r0", "pass", "wall", tuple(rec["values"][0]), tuple(rec["rounds"][0]))
        for k in range(1, k_count):
            other = Samples(f"r{k}", "pass", "wall", tuple(rec["values"][k]),
                            tuple(rec["rounds"][k]))
            c = stats.compare(other, base)
            logs[k].append(math.log(c.ratio))
            if c.ci_low and c.ci_high:
                widths.append((c.ci_high - c.ci_low) / 2)
    groups = [g for g in logs[1:] if g]
    trials = len(groups[0])
    f_stat, p_value = sps.f_oneway(*groups) if len(groups) > 1 else (math.nan, math.nan)
    within = statistics.fmean(statistics.variance(g) for g in groups)
    means = [statistics.fmean(g) for g in groups]
    between = statistics.variance(means) if len(means) > 1 else 0.0
    replica_var = max(0.0, between - within / trials)
    lines = ["| replica vs r0 | mean ratio over trials | sd over trials | se of the mean |",
             "|---|---|---|---|"]
    for k, g in enumerate(groups, start=1):
        lines.append(f"| r{k} | {math.exp(statistics.fmean(g)):.4f} | "
                     f"{statistics.stdev(g):.4f} | {statistics.stdev(g) / math.sqrt(len(g)):.4f} |")
    # a persistent effect of r0 itself shifts every ratio alike: test the per-trial mean
    per_trial = [statistics.fmean(g[i] for g in groups) for i in range(trials)]
    r0_test = sps.ttest_1samp(per_trial, 0.0) if trials > 1 else None
    r0_text = (f"r0 against the others: mean ratio {math.exp(-statistics.fmean(per_trial)):.4f}"
               f", t = {r0_test.statistic:.2f}, p = {r0_test.pvalue:.3g}. " if r0_test else "")
    lines += ["", f"{trials} re-timings of {k_count} identical envs (interleaved, "
              f"{len(records[0]['values'][0])} rounds each). One-way ANOVA of the per-trial log "
              f"ratios by replica: F = {f_stat:.2f}, p = {p_value:.3g}. Variance of the ratio: "
              f"between re-timings (time) {within:.2e} (sd {math.sqrt(within):.4f}); persistent "
              f"replica component {replica_var:.2e} (sd {math.sqrt(replica_var):.4f}); median "
              f"half-width of one trial's 95 % interval {statistics.median(widths):.4f}. "
              f"{r0_text}"]
    return "\n".join(lines)


def simulate_looks(n_trials: int, *, sd: float, batch: int, max_runs: int, threshold_pct: float,
                   confidence: float, effect: float = 0.0, seed: int = 0) -> dict[str, tuple]:
    """Simulated paired log ratios (Student t, 3 degrees of freedom: heavy tails, scaled to
    ``sd``; ``effect`` added): per looking scheme, (share 'regression', share 'improvement',
    share whose final interval excludes the true ratio, mean runs). The interval is the
    normal-theory one of the mean log ratio, the same for every scheme, so the table isolates
    what repeated looks do to the verdict rule."""
    import numpy as np
    from scipy import stats as sps

    from harness.analyse import sequential

    rng = np.random.default_rng(seed)
    x = rng.standard_t(3, size=(n_trials, max_runs)) * sd / math.sqrt(3.0) + math.log1p(effect)
    looks = sequential.planned_looks(batch, max_runs)
    alpha = 1.0 - confidence
    spent = sequential.planned_alphas(looks, alpha)
    t = threshold_pct / 100
    schemes = {"one look after 50 runs": ([50], [alpha]),
               f"peek at {confidence:g} after every {batch} runs": (list(looks),
                                                                     [alpha] * len(looks)),
               "alpha spending (runs: auto)": (list(looks), list(spent))}
    out = {}
    for name, (ns, alphas) in schemes.items():
        verdict = np.full(n_trials, "inconclusive", dtype=object)
        missed = np.zeros(n_trials, dtype=bool)
        runs = np.full(n_trials, ns[-1])
        open_ = np.ones(n_trials, dtype=bool)
        for n, a in zip(ns, alphas, strict=True):
            mean = x[:, :n].mean(axis=1)
            se = x[:, :n].std(axis=1, ddof=1) / math.sqrt(n)
            z = sps.norm.ppf(1 - a / 2)
            r, lo, hi = np.exp(mean), np.exp(mean - z * se), np.exp(mean + z * se)
            reg = (lo > 1) & (r >= 1 + t)
            imp = (hi < 1) & (r <= 1 - t)
            nc = (hi < 1 + t) & (lo > 1 - t)
            decided = open_ & (reg | imp | nc)
            last = n == ns[-1]
            stop = decided | (open_ & last)
            verdict[open_ & reg] = "regression"
            verdict[open_ & imp & ~reg] = "improvement"
            verdict[open_ & nc & ~reg & ~imp] = "no change"
            truth = math.log1p(effect)
            missed[stop] = ((mean - z * se > truth) | (mean + z * se < truth))[stop]
            runs[stop] = n
            open_ &= ~stop
        out[name] = (float(np.mean(verdict == "regression")),
                     float(np.mean(verdict == "improvement")), float(np.mean(missed)),
                     float(np.mean(runs)))
    return out


def simulation_table(args: argparse.Namespace) -> str:
    """Repeated looks on simulated A/A trials: peeking inflates, alpha spending does not."""
    lines = [f"simulated A/A, {args.simulate} trials per row (paired log ratios, Student t with "
             f"3 df; sd per pair as given; batch {args.batch}, max_runs {args.max_runs}, "
             f"threshold {args.threshold_pct:g} %)", "",
             "| sd per pair | scheme | 'regression' | 'improvement' | interval misses the truth "
             "| mean runs |", "|---|---|---|---|---|---|"]
    for sd in (0.05, 0.1, 0.2):
        res = simulate_looks(args.simulate, sd=sd, batch=args.batch, max_runs=args.max_runs,
                             threshold_pct=args.threshold_pct, confidence=args.confidence,
                             seed=args.seed)
        for name, (reg, imp, miss, runs) in res.items():
            lines.append(f"| {sd:g} | {name} | {reg * 100:.2f} % | {imp * 100:.2f} % | "
                         f"{miss * 100:.2f} % | {runs:.0f} |")
    return "\n".join(lines)


# -- load profiles: coverage, false regressions, inconclusive, detection (issue 22) ----------

#: Thresholds and effects the load-profile table reports.
PROFILE_THRESHOLDS = (2.0, 5.0)
PROFILE_EFFECTS = (3.0, 5.0)


def pair_log_ratios(rec: dict[str, Any], metric: str = "wall") -> list[tuple[int, float]]:
    """(round, log(subject / reference)) of every round of a trial: the per-pair sample."""
    subj, ref = _samples_of(rec, metric)
    by_ref = ref.by_round()
    return [(r, math.log(v / by_ref[r])) for r, v in subj.by_round().items()
            if r in by_ref and v > 0 and by_ref[r] > 0]


def profile_rows(records: Sequence[dict[str, Any]], *, confidence: float,
                 statistic: str) -> list[dict[str, Any]]:
    """One row per (profile, design, metric): A/A interval coverage, false-regression and
    inconclusive rates per threshold, detection per effect and threshold, the per-pair ratio's
    bias and sd of its log, and the load seen."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for rec in records:
        if DESIGNS[rec["design"]].rule == "auto":
            continue
        metrics = ["wall"] + (["cpu"] if rec.get("subject_cpu") else [])
        for metric in metrics:
            key = (profile_name(rec.get("load", 0)), rec["design"], metric)
            groups.setdefault(key, []).append(rec)
    rows = []
    for (profile, design, metric), recs in sorted(groups.items()):
        judged: dict[tuple[float, float], list[str]] = {}
        covered, covered_raw = [], []
        logs: list[float] = []
        first_side: dict[str, list[float]] = {"reference first": [], "subject first": []}
        for rec in recs:
            subj, ref = _samples_of(rec, metric)
            for threshold in PROFILE_THRESHOLDS:
                c = stats.compare(subj, ref, threshold_pct=threshold, confidence=confidence,
                                  statistic=statistic)
                judged.setdefault((rec["effect"], threshold), []).append(c.verdict)
                if rec["effect"] == 0 and threshold == PROFILE_THRESHOLDS[0]:
                    covered.append(c.ci_low is not None and c.ci_high is not None
                                   and c.ci_low <= 1.0 <= c.ci_high)
                    if c.n_pairs:  # the percentile interval before its widening
                        s, r = stats.paired_values(subj, ref)
                        _, low, high = stats.ratio_ci(s, r, statistic=statistic,
                                                      confidence=confidence)
                        covered_raw.append(low <= 1.0 <= high)
            if rec["effect"] == 0:
                pairs = pair_log_ratios(rec, metric)
                logs += [x for _, x in pairs]
                if design.startswith("duet"):  # round r even: the reference runs on CPU 0
                    for r, x in pairs:
                        first_side["reference first" if r % 2 == 0 else "subject first"] \
                            .append(x)
        row: dict[str, Any] = {
            "profile": profile, "design": design, "metric": metric,
            "aa_trials": sum(1 for r in recs if r["effect"] == 0),
            "coverage": statistics.fmean(covered) if covered else math.nan,
            "coverage_raw": statistics.fmean(covered_raw) if covered_raw else math.nan,
            "pairs": len(logs),
            "bias": math.exp(statistics.median(logs)) if logs else math.nan,
            "sd_log": statistics.stdev(logs) if len(logs) > 1 else math.nan,
            "split": {k: math.exp(statistics.median(v)) for k, v in first_side.items() if v},
            "loadavg": statistics.median([r["loadavg_max"] for r in recs
                                          if r.get("loadavg_max") is not None] or [math.nan]),
            "others": statistics.median([r["others_cpus"] for r in recs
                                         if r.get("others_cpus") is not None] or [math.nan]),
        }
        for threshold in PROFILE_THRESHOLDS:
            aa = judged.get((0.0, threshold), [])
            row[f"fr{threshold:g}"] = (aa.count("regression"), len(aa))
            row[f"inc{threshold:g}"] = (aa.count("inconclusive"), len(aa))
            for effect in PROFILE_EFFECTS:
                hit = judged.get((effect, threshold), [])
                row[f"det{effect:g}@{threshold:g}"] = (hit.count("regression"), len(hit))
        rows.append(row)
    return rows


def profile_table(records: Sequence[dict[str, Any]], *, confidence: float,
                  statistic: str = "paired") -> str:
    """The load-profile table (markdown): per profile, design (order) and metric."""
    def share(pair: tuple[int, int]) -> str:
        hits, n = pair
        return f"{hits / n * 100:.1f} % ({n})" if n else "—"

    header = ["profile", "design", "metric", "A/A coverage", "unwidened", "pairs",
              "A/A ratio (median)",
              "sd log ratio", "FR 2 %", "inconcl. 2 %", "FR 5 %", "inconcl. 5 %",
              "+3 % @2", "+5 % @2", "+5 % @5", "load avg", "others' CPUs"]
    lines = [f"{confidence * 100:g} % intervals, statistic {statistic}; FR: A/A trials judged "
             "'regression'; +N % @T: detection of an injected +N % at threshold T %; load: "
             "medians over the profile's trials (the load average counts the script's own "
             "hogs and every other process on the machine)", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in profile_rows(records, confidence=confidence, statistic=statistic):
        split = "".join(f"; {k}: {v:.3f}" for k, v in row["split"].items())
        cells = [row["profile"], row["design"], row["metric"],
                 f"{row['coverage'] * 100:.1f} % ({row['aa_trials']})",
                 f"{row['coverage_raw'] * 100:.1f} %", str(row["pairs"]),
                 f"{row['bias']:.4f}{split}", f"{row['sd_log']:.4f}",
                 share(row["fr2"]), share(row["inc2"]), share(row["fr5"]), share(row["inc5"]),
                 share(row["det3@2"]), share(row["det5@2"]), share(row["det5@5"]),
                 f"{row['loadavg']:.2f}", f"{row['others']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pooled_table(records: Sequence[dict[str, Any]], *, confidence: float,
                 statistic: str = "paired") -> str:
    """Every profile together, per design and metric: the A/A rates with their 95 % upper
    bounds (what the number of trials can read: 0 of 300 bounds a rate below 1 %)."""
    lines = ["| design | metric | A/A trials | interval excludes 1 | unwidened | FR 2 % | "
             "inconcl. 2 % | FR 5 % |", "|" + "---|" * 8]
    totals: dict[tuple[str, str], list[int]] = {}
    for row in profile_rows(records, confidence=confidence, statistic=statistic):
        t = totals.setdefault((row["design"], row["metric"]), [0, 0, 0, 0, 0, 0])
        n = row["aa_trials"]
        t[0] += n
        t[1] += round((1 - row["coverage"]) * n) if n else 0
        t[2] += round((1 - row["coverage_raw"]) * n) if n and row["coverage_raw"] == \
            row["coverage_raw"] else 0
        t[3] += row["fr2"][0]
        t[4] += row["inc2"][0]
        t[5] += row["fr5"][0]
    for (design, metric), (n, miss, raw, fr2, inc2, fr5) in sorted(totals.items()):
        lines.append(f"| {design} | {metric} | {n} | {_pct_bound(miss, n)} | {_pct(raw, n)} | "
                     f"{_pct_bound(fr2, n)} | {_pct(inc2, n)} | {_pct_bound(fr5, n)} |")
    auto = [r for r in records if DESIGNS[r["design"]].rule == "auto" and r["effect"] == 0]
    for design in sorted({r["design"] for r in auto}):
        rows = [r for r in auto if r["design"] == design]
        n = len(rows)
        miss = sum(1 for r in rows if r.get("ci") and not r["ci"][0] <= 1 <= r["ci"][1])
        verdicts = [r["verdict"] for r in rows]
        lines.append(f"| {design} | {DESIGNS[design].metric} | {n} | {_pct_bound(miss, n)} | "
                     f"— | {_pct_bound(verdicts.count('regression'), n)} | "
                     f"{_pct(verdicts.count('inconclusive'), n)} | — |")
    return "\n".join(lines)


def report(records: Sequence[dict[str, Any]], args: argparse.Namespace) -> str:
    """Every table: per load level the fixed designs (re-judged) and runs: auto; the noise-note
    calibration; the replica experiment."""
    parts = []
    trials = [r for r in records if r.get("kind") != "replicas"]
    replicas = [r for r in records if r.get("kind") == "replicas"]
    for load in sorted({profile_name(r.get("load", 0)) for r in trials}):
        at = [r for r in trials if profile_name(r.get("load", 0)) == load]
        others = [r["others_cpus"] for r in at if r.get("others_cpus") is not None]
        loadavg = [r["loadavg_max"] for r in at if r.get("loadavg_max") is not None]
        avg = statistics.median(loadavg) if loadavg else math.nan
        busy = statistics.median(others) if others else math.nan
        parts.append(f"### load profile {load} (started by the script); "
                     f"measured during trials: load average median {avg:.2f}, other "
                     f"processes' CPUs median {busy:.2f}")
        fixed = [r for r in at if DESIGNS[r["design"]].rule != "auto"]
        auto = [r for r in at if DESIGNS[r["design"]].rule == "auto"]
        if fixed:
            parts.append(table(fixed, threshold_pct=args.threshold_pct,
                               confidence=args.confidence, statistic=args.statistic))
            for effect in sorted({r["effect"] for r in fixed}):
                secs = [r["seconds"] for r in fixed if r["effect"] == effect]
                parts.append(f"fixed {args.runs} runs, effect {effect:+g} %: median "
                             f"{statistics.median(secs):.2f} s per trial")
        if auto:
            for name in sorted({r["design"] for r in auto}):
                parts.append(f"{name}: runs: auto on {DESIGNS[name].metric} time (batch "
                             f"{args.batch}, max_runs {args.max_runs}, max_seconds "
                             f"{args.max_seconds:g}, threshold {args.threshold_pct:g} %, "
                             f"confidence {args.confidence:g})")
                parts.append(auto_table([r for r in auto if r["design"] == name], args))
    if trials:
        parts += ["### load profiles", profile_table(trials, confidence=args.confidence,
                                                     statistic=args.statistic)]
        parts += ["### every profile pooled", pooled_table(trials, confidence=args.confidence,
                                                           statistic=args.statistic)]
        parts += ["### noise notes", noise_table(trials, args.threshold_pct)]
    if replicas:
        parts += ["### replicas", replica_table(replicas)]
    return "\n\n".join(parts)


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials-aa", type=int, default=100, help="A/A trials per design")
    p.add_argument("--trials", type=int, default=40, help="trials per effect size and design")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--effects", default="2,3,5,10", help="injected start-up cost, %% of base")
    p.add_argument("--designs", default="interleaved,blocks",
                   help=f"comma-separated, from {sorted(DESIGNS)}")
    p.add_argument("--threshold-pct", type=float, default=2.0)
    p.add_argument("--confidence", type=float, default=0.95)
    p.add_argument("--statistic", default="paired", help="median, mean or paired")
    p.add_argument("--instruction-runs", type=int, default=3,
                   help="cachegrind runs per env for the determinism check (0: skip)")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--save", type=Path, default=Path("gate_calibration.jsonl"))
    p.add_argument("--reanalyze", type=Path, default=None,
                   help="print the table from a saved JSON-lines file; time nothing")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--carryover", action="store_true",
                   help="three variants instead: identical twins as baseline and main next to "
                        "a heavy PR, per order (--orders, --carryover-effects, --trials)")
    p.add_argument("--orders", default=",".join(CARRYOVER_ORDERS))
    p.add_argument("--carryover-effects", default="0,100,300",
                   help="the PR's injected start-up cost, %% of base (0: a third twin)")
    p.add_argument("--loads", default="quiet", help="load profiles, comma-separated, from "
                   f"{', '.join(PROFILES)} (a number N: N busy processes)")
    p.add_argument("--trials-aa-auto", type=int, default=0,
                   help="A/A trials of auto-spawn (default: --trials-aa)")
    p.add_argument("--batch", type=int, default=15, help="auto-spawn: rounds per look")
    p.add_argument("--max-runs", type=int, default=300, help="auto-spawn: budget in rounds")
    p.add_argument("--max-seconds", type=float, default=300.0, help="auto-spawn: budget in s")
    p.add_argument("--replicas", type=int, default=0,
                   help="replica experiment: build this many identical envs, time them all "
                        "interleaved, --replica-trials times (0: skip)")
    p.add_argument("--replica-trials", type=int, default=12)
    p.add_argument("--minutes-per-load", type=float, default=0.0,
                   help="stop starting trials at a load level after this many minutes (the "
                        "trials are shuffled, so every cell is cut alike; 0: no limit)")
    p.add_argument("--simulate", type=int, default=0,
                   help="print simulated A/A trials under repeated looks (no timing) and exit")
    p.add_argument("--no-peek", action="store_true",
                   help="skip replaying auto trials with a fixed 95 %% interval at every look")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.carryover:
        return carryover_main(args)
    if args.simulate:
        print(simulation_table(args))
        return 0
    if args.reanalyze:
        records = [json.loads(line) for line in args.reanalyze.read_text().splitlines() if line]
        print(report(records, args))
        return 0
    designs = [DESIGNS[d] for d in args.designs.split(",")]
    effects = [float(e) for e in args.effects.split(",") if e]
    loads = [profile_name(n) for n in args.loads.split(",") if n]
    hyperfine = find_tool("hyperfine") if any(d.timer == "hyperfine" for d in designs) else ""
    uv = find_tool("uv")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gate-calibration-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = proc.controlled_env()

    log(f"building envs in {workdir}")
    reference = make_env(workdir, "ref", 0, uv, BASE_PYTHON)
    twin = make_env(workdir, "twin", 0, uv, BASE_PYTHON)
    base_s, per_iter = calibrate_cost(workdir, reference, uv, env)
    log(f"base start-up {base_s * 1e3:.2f} ms; injected loop {per_iter * 1e9:.1f} "
        "ns/iteration at start-up")
    # effect e > 0: the subject is slower by e %; e < 0: the reference is slower, so that
    # subject / reference = 1 + e / 100 (an improvement)
    pairs: dict[float, tuple[Path, Path]] = {0.0: (twin, reference)}
    iterations: dict[float, int] = {0.0: 0}
    for effect in effects:
        cost = effect / 100 if effect > 0 else -effect / (100 + effect)
        iterations[effect] = round(cost * base_s / per_iter)
        env_dir = make_env(workdir, f"effect{effect:+g}", iterations[effect], uv, BASE_PYTHON)
        pairs[effect] = (env_dir, reference) if effect > 0 else (reference, env_dir)
    log(f"iterations per effect: {iterations}")

    if args.instruction_runs:
        for name, py in (("ref", reference), ("twin", twin)):
            counts = measure_instructions([str(py), "-c", "pass"], env=env,
                                          runs=args.instruction_runs)
            same = "identical" if len(set(counts)) == 1 else "DIFFERENT"
            log(f"instructions {name}: {counts} ({same})")

    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    with args.save.open("a", encoding="utf-8") as out:
        if args.replicas:
            records += replica_experiment(workdir, uv, env, args, out)
        for load in loads:
            jobs = [(d, 0.0, i) for d in designs
                    for i in range(args.trials_aa if d.rule != "auto" or not args.trials_aa_auto
                                   else args.trials_aa_auto)]
            jobs += [(d, e, i) for d in designs for e in effects for i in range(args.trials)]
            random.Random(f"{args.seed}/{load}").shuffle(jobs)  # drift hits every cell alike
            log(f"load {load}: {len(jobs)} trials; samples -> {args.save}")
            level_start = time.perf_counter()
            with background_load(load, args.seed):
                for n, (design, effect, i) in enumerate(jobs):
                    if (args.minutes_per_load
                            and time.perf_counter() - level_start > args.minutes_per_load * 60):
                        log(f"load {load}: time is up after {n} of {len(jobs)} trials")
                        break
                    subject, ref = pairs[effect]
                    rec = one_trial(design, subject, ref, args=args, env=env,
                                    raw_dir=workdir / "raw" / f"{load}-{n:05d}",
                                    hyperfine=hyperfine, seed=args.seed + n)
                    rec.update(design=design.name, effect=effect, trial=i, load=load,
                               iterations=iterations[effect], warmup=args.warmup)
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                    records.append(rec)
                    if n % 20 == 0:
                        elapsed = time.perf_counter() - started
                        log(f"load {load}: trial {n + 1}/{len(jobs)} ({elapsed / 60:.1f} min)")
    print(report(records, args))
    return 0


def one_trial(design: Design, subject: Path, reference: Path, *, args: argparse.Namespace,
              env: dict[str, str], raw_dir: Path, hyperfine: str, seed: int) -> dict[str, Any]:
    """One trial of ``design``; the record saved for it (samples, verdict for auto, load)."""
    if design.rule == "auto":
        return run_auto_trial(subject, reference, warmup=args.warmup, env=env, raw_dir=raw_dir,
                              seed=seed, threshold_pct=args.threshold_pct,
                              confidence=args.confidence, batch=args.batch,
                              max_runs=args.max_runs, max_seconds=args.max_seconds,
                              metric=design.metric)
    with LoadMonitor() as monitor:
        subj, ref, secs, cpu = run_trial(design, subject, reference, warmup=args.warmup,
                                         runs=args.runs, env=env, raw_dir=raw_dir,
                                         hyperfine=hyperfine, seed=seed)
    begin = time.perf_counter()  # the verdict's analysis counts in the time to a verdict
    stats.compare(subj, ref, threshold_pct=args.threshold_pct, confidence=args.confidence)
    secs += time.perf_counter() - begin
    rec: dict[str, Any] = {
        "seconds": secs, "runs": args.runs, "subject": list(subj.values),
        "rounds_s": list(subj.rounds), "reference": list(ref.values),
        "rounds_r": list(ref.rounds), "exit_codes": sorted(set(subj.exit_codes + ref.exit_codes)),
        **load_fields(monitor.record)}
    if cpu:
        rec["subject_cpu"], rec["reference_cpu"] = list(cpu[0].values), list(cpu[1].values)
    return rec


if __name__ == "__main__":
    sys.exit(main())
