"""``analyse(measurements, policy) -> Report``: the judgement of a measurement record, pure.

No processes, no files, no clock (``created`` is the record's), fixed bootstrap seeds: the same
record and policy give the same report, byte for byte once serialized. ``run`` is measure +
:func:`analyse` + render; ``startup-harness analyse`` is :func:`analyse` + render on a saved
``measurements.json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from harness import __version__, cells
from harness.analyse import busy, carryover, sequential, stats
from harness.analyse.failures import failed_runs
from harness.analyse.gate import decide, fmt_change
from harness.measurements import FILE_NAME, Job, Measurements, WorkloadInfo, digest
from harness.model import (
    REPORT_SCHEMA_VERSION,
    BuildResult,
    Comparison,
    GatePolicy,
    GrowthFit,
    NoiseFinding,
    Report,
    Samples,
    SequentialRecord,
    Summary,
    TimingSettings,
    VariantInfo,
)
from harness.serial import to_data

T = TypeVar("T")


def analyse(measurements: Measurements, policy: GatePolicy | None = None) -> Report:
    """The report of ``measurements`` judged by ``policy`` (default: the config's gate).

    A matrix record (jobs labelled with cells) gives one report per cell, each judged on its
    own (jobs of one cell pooled, never paired across jobs), inside a report whose gate is the
    worst cell's; a cell the record should hold but has no job for is an error cell."""
    policy = policy or measurements.gate
    # the record's digest, taken once: taken per cell, it made a merge quadratic in its input
    quoted = {"file": FILE_NAME, "digest": digest(measurements)}
    by_cell: dict[str, list[Job]] = {cells.key(name): [] for name in measurements.expected_cells}
    for job in measurements.jobs:
        by_cell.setdefault(cells.key(job.cell), []).append(job)
    if list(by_cell) in ([], [""]):
        return analyse_jobs(measurements, measurements.jobs, policy, quoted)
    per_cell = tuple(analyse_cell(measurements, name, jobs, policy, quoted)
                     for name, jobs in by_cell.items())
    return matrix_report(measurements, per_cell, policy, quoted)


def analyse_cell(m: Measurements, cell: str, jobs: Sequence[Job], policy: GatePolicy,
                 quoted: Mapping[str, str]) -> Report:
    """One matrix cell's report from its ``jobs`` (an error report when there are none)."""
    if jobs:
        return dataclasses.replace(analyse_jobs(m, jobs, policy, quoted), cell=cell)
    error = (f"cell {cell}: no measurements (its job is missing, or failed before it "
             "uploaded its record)")
    return Report(
        schema_version=REPORT_SCHEMA_VERSION, tool_version=__version__, created=m.created,
        title=m.title, variants=m.variants, workloads=tuple(w.name for w in m.workloads),
        builds=(), timing=TimingSettings("", 0, 0, ""), samples=(), summaries={},
        comparisons=(), probes={}, gate=decide(policy, [], [error]),
        gate_config=policy, errors=(error,), cell=cell, measurements=dict(quoted))


def matrix_report(m: Measurements, per_cell: Sequence[Report], policy: GatePolicy,
                  quoted: Mapping[str, str]) -> Report:
    """The matrix's own report: its gate is the worst cell's (error > regression > pass), its
    errors every cell's (named), and ``cells`` holds each cell's full report."""
    # exit codes order by severity (2 error, 1 regression, 0 pass); max keeps the first cell
    worst = max(per_cell, key=lambda r: r.gate.exit_code)
    errors = tuple(f"[{r.cell}] {e}" for r in per_cell for e in r.errors)
    warnings = tuple(f"[{r.cell}] {w}" for r in per_cell for w in r.gate.warnings)
    failing = [r.cell for r in per_cell if r.gate.exit_code == worst.gate.exit_code]
    headline = worst.gate.headline
    if worst.gate.exit_code:
        headline = f"{headline} (in {', '.join(failing)})"
    gate = dataclasses.replace(worst.gate, headline=headline, warnings=warnings,
                               errors=errors if worst.gate.exit_code == 2 else ())
    # metric: auto as the cells resolved it (the same timer measured every cell)
    policy = next((r.gate_config for r in per_cell if r.gate_config.metric != "auto"), policy)
    return Report(
        schema_version=REPORT_SCHEMA_VERSION, tool_version=__version__, created=m.created,
        title=m.title, variants=m.variants, workloads=tuple(w.name for w in m.workloads),
        builds=(), timing=per_cell[0].timing, samples=(), summaries={}, comparisons=(),
        probes={}, gate=gate, gate_config=policy, errors=errors,
        measurements=dict(quoted), cells=tuple(per_cell))


def fit_sweeps(jobs: Sequence[Job]) -> tuple[GrowthFit, ...]:
    """A growth fit per sweep that measured every level (the first job's sweeps)."""
    from harness.analyse.sweep import fit_growth

    out = []
    for sweep in (jobs[0].sweeps if jobs else ()):
        if sweep.failure or not all(sweep.values):
            continue
        detail = (f"position {sweep.position}" if sweep.quantity in ("sys_path_entries",
                                                                        "site_roots")
                  else "with import lines" if sweep.import_lines else "")
        out.append(fit_growth(sweep.quantity, sweep.levels, sweep.values,
                              variant=sweep.variant, workload=sweep.workload, detail=detail))
    return tuple(out)


def analyse_jobs(m: Measurements, jobs: Sequence[Job], policy: GatePolicy,
                 quoted: Mapping[str, str] | None = None) -> Report:
    """The report of ``jobs`` (all of one cell) judged by ``policy``; ``quoted``: the record's
    file and digest (taken here when not given)."""
    allowed = {w.name for w in m.workloads if w.allow_failure}
    judged = [failed_runs(job.samples, allowed) for job in jobs]
    usable = tuple(dataclasses.replace(job, samples=kept)
                   for job, (kept, _) in zip(jobs, judged, strict=True))
    raw = tuple(s for job in usable for s in job.samples)
    samples = pooled(usable)
    policy = resolved_metric(policy, samples)
    errors = [error for job in jobs for error in job.errors]
    errors += [error for _, run_errors in judged for error in run_errors]
    summaries = summarize_all(samples)
    # duet runs start together: no run has a single predecessor to carry over from
    duet = bool(jobs) and jobs[0].timing.order == "duet"
    carry = None if duet else carryover.fit([s for s in samples if s.metric == "wall"])
    compared = samples
    if carry is not None and policy.carryover == "adjust":
        wall = [s for s in samples if s.metric == "wall"]
        compared = (*carryover.adjusted(wall, carry),
                    *(s for s in samples if s.metric != "wall"))
    comparisons = compare_all(m.variants, m.workloads, policy, compared,
                              sequential_records(jobs))
    if compared is not samples:
        comparisons = [dataclasses.replace(c, method=f"{c.method}; wall times adjusted for "
                                           "the carry-over of their predecessor")
                       if c.metric == "wall" else c for c in comparisons]
    gated = [c for c in comparisons if c.subject == policy.compare
             and c.reference == policy.against and c.metric == policy.metric
             and policy.workload in (None, c.workload)]
    measured = {s.variant for s in samples if s.values}
    missing = {policy.compare, policy.against} - measured if policy.enabled else set()
    if missing and not errors:
        errors.append(f"gated variant(s) {', '.join(sorted(missing))} produced no timings")
    auto = bool(sequential_records(jobs))  # runs: auto: its advice is not given again
    gate = decide(policy, gated, errors, auto=auto)
    load = jobs[0].timing.load if jobs else None
    busy_text = busy.busy_cause(load)
    noise = busy.diagnose_load(load, policy.metric, auto=auto)
    noise += tuple(finding for s in raw if s.metric == "wall" and s.values
                   for finding in stats.diagnose(s, threshold_pct=policy.threshold_pct,
                                                 busy=busy_text, auto=auto))
    noise += tuple(finding for c in gated
                   for finding in stats.diagnose_comparison(c, auto=auto))
    noise += waiting_notes(gated, comparisons)
    if carry is not None and jobs:
        noise += carryover.diagnose(carry, order=jobs[0].timing.order)
    extras: dict[str, Any] = {
        "importtime": first_per_variant(job.importtime for job in jobs),
        "warnings": [w for job in jobs for w in job.warnings],
        "phases_s": jobs[0].phases_s if jobs else {},
    }
    if carry is not None:
        extras["carryover"] = to_data(carry)
    return Report(
        schema_version=REPORT_SCHEMA_VERSION, tool_version=__version__, created=m.created,
        title=m.title, variants=m.variants, workloads=tuple(w.name for w in m.workloads),
        builds=builds_of(jobs), timing=jobs[0].timing, samples=raw, summaries=summaries,
        comparisons=tuple(comparisons), probes=first_per_variant(job.probes for job in jobs),
        gate=gate, gate_config=policy, extras=extras, errors=tuple(errors),
        noise=noise,
        measurements=dict(quoted or {"file": FILE_NAME, "digest": digest(m)}),
        locations={path: name for job in jobs for path, name in job.locations.items()},
        sweeps=fit_sweeps(jobs))


def first_per_variant(per_job: Iterable[Mapping[str, T]]) -> dict[str, T]:
    """Variant -> value from the first job that has one (probes, import-time trees)."""
    out: dict[str, T] = {}
    for mapping in per_job:
        for key, value in mapping.items():
            out.setdefault(key, value)
    return out


def builds_of(jobs: Sequence[Job]) -> tuple[BuildResult, ...]:
    """The first job's builds, plus any failure of a later job (so the comment shows it)."""
    if not jobs:
        return ()
    first = jobs[0].builds
    return first + tuple(b for job in jobs[1:] for b in job.builds if not b.ok)


def round_offsets(jobs: Sequence[Job]) -> dict[str, int]:
    """Job id -> what its rounds are shifted by when pooled: job after job, no overlap."""
    out: dict[str, int] = {}
    offset = 0
    for job in jobs:
        rounds = [r for s in job.samples for r in s.rounds]
        low = min(rounds, default=0)
        out[job.id] = offset - low
        offset += (max(rounds, default=0) - low) + 1
    return out


def position_offsets(jobs: Sequence[Job]) -> dict[str, int]:
    """Job id -> what its execution positions are shifted by when pooled, with a gap of one,
    so no run's predecessor is taken from another job."""
    out: dict[str, int] = {}
    offset = 0
    for job in jobs:
        out[job.id] = offset
        offset += max((q for s in job.samples for q in s.positions), default=0) + 2
    return out


def pooled(jobs: Sequence[Job]) -> tuple[Samples, ...]:
    """One Samples per (variant, workload, metric, scenario) over all jobs. Rounds are
    renumbered job after job, so equal round numbers (the pairs of the paired statistic)
    always come from one job: pairing never crosses jobs or machines. One job: unchanged."""
    if len(jobs) == 1:
        return jobs[0].samples
    offsets = round_offsets(jobs)
    places = position_offsets(jobs)
    groups: dict[tuple[str, str, str, str], list[Samples]] = {}
    for job in jobs:
        for s in job.samples:
            groups.setdefault((s.variant, s.workload, s.metric, s.scenario), []).append(s)
    out = []
    for (variant, workload, metric, scenario), parts in groups.items():
        out.append(Samples(
            variant=variant, workload=workload, metric=metric, scenario=scenario,
            values=tuple(v for p in parts for v in p.values),
            rounds=tuple(r + offsets[p.job] for p in parts for r in p.rounds),
            raw_files=tuple(dict.fromkeys(f for p in parts for f in p.raw_files)),
            exit_codes=tuple(c for p in parts for c in p.exit_codes),
            failure=next((p.failure for p in parts if p.failure), ""),
            job="+".join(p.job for p in parts),
            positions=(tuple(q + places[p.job] for p in parts for q in p.positions)
                       if all(len(p.positions) == len(p.values) for p in parts) else ())))
    return tuple(out)


def summarize_all(samples: Sequence[Samples]) -> dict[str, dict[str, Summary]]:
    """Report.summaries: variant -> "workload/metric[@scenario]" -> Summary."""
    out: dict[str, dict[str, Summary]] = {}
    for s in samples:
        if not s.values:
            continue
        suffix = "" if s.scenario == "default" else f"@{s.scenario}"
        out.setdefault(s.variant, {})[f"{s.workload}/{s.metric}{suffix}"] = stats.summarize(
            s.values)
    return out


def waiting_notes(gated: Sequence[Comparison], comparisons: Sequence[Comparison]
                  ) -> tuple[NoiseFinding, ...]:
    """A warning where the gate judged CPU time and wall time of the same pair is a
    regression the CPU time does not show: the program waits longer (I/O, sleep, network, a
    lock), which CPU time cannot see and the gate therefore did not fail on."""
    wall = {(c.subject, c.reference, c.workload): c for c in comparisons if c.metric == "wall"}
    out = []
    for c in gated:
        w = wall.get((c.subject, c.reference, c.workload))
        if c.metric != "cpu" or w is None or w.verdict != "regression" or \
                c.verdict == "regression":
            continue
        out.append(NoiseFinding(
            "waiting", c.subject, c.workload, "wall", "warning",
            f"{c.subject} vs {c.reference}: wall time {fmt_change(w)} while CPU time, "
            f"which the gate judges, says {c.verdict} ({c.delta_pct:+.1f} %): "
            "the program waits longer (I/O, sleep, network, a lock)",
            "CPU time cannot see waiting; gate on `metric: wall` to fail on it (on a quiet "
            "runner), or look for what the change now waits on", value=w.ratio))
    return tuple(out)


def resolved_metric(policy: GatePolicy, samples: Sequence[Samples]) -> GatePolicy:
    """The policy with ``metric: auto`` resolved: CPU time when the timer measured it for both
    gated variants (the spawn timer does, run by run), else wall time. Calibrated on this
    project's runner, CPU time leaves out the waiting that other processes cause, so a 2 %
    gate is decisive sooner at every load (``bench/gate_calibration_results.md``)."""
    if policy.metric != "auto":
        return policy
    with_cpu = {s.variant for s in samples if s.metric == "cpu" and s.values}
    cpu = {policy.compare, policy.against} <= with_cpu
    return dataclasses.replace(policy, metric="cpu" if cpu else "wall")


def sequential_records(jobs: Sequence[Job]) -> tuple[SequentialRecord, ...]:
    """The ``runs: auto`` records of the jobs that used it."""
    return tuple(job.timing.sequential for job in jobs if job.timing.sequential)


def gated_confidence(policy: GatePolicy, records: Sequence[SequentialRecord]
                     ) -> tuple[float, int]:
    """(confidence, bootstrap resamples) of the gated comparison: the policy's, or with
    ``runs: auto`` the last look's (the smallest over jobs), which is what the stopping rule
    decided on (:mod:`harness.analyse.sequential`)."""
    if not records:
        return policy.confidence, sequential.MIN_RESAMPLES
    alpha = min(1.0 - r.confidence for r in records)
    return 1.0 - alpha, sequential.resamples_for(alpha)


def gated_comparisons(policy: GatePolicy, workloads: Sequence[WorkloadInfo] | Sequence[Any],
                      samples: Sequence[Samples], confidence: float,
                      n_resamples: int) -> list[Comparison]:
    """The comparisons the gate judges (subject vs reference on the gated metric, for every
    gated workload) at ``confidence``: what each look of ``runs: auto`` decides on."""
    policy = resolved_metric(policy, samples)
    by_key = {(s.variant, s.workload, s.metric): s for s in samples
              if s.scenario == "default" and s.values}
    out = []
    for workload in workloads:
        a = by_key.get((policy.compare, workload.name, policy.metric))
        b = by_key.get((policy.against, workload.name, policy.metric))
        if policy.workload in (None, workload.name) and a is not None and b is not None:
            out.append(stats.compare(
                a, b, statistic=policy.statistic, threshold_pct=policy.threshold_pct,
                confidence=confidence, n_resamples=n_resamples))
    return out


def compare_all(variants: Sequence[VariantInfo], workloads: Sequence[WorkloadInfo],
                policy: GatePolicy, samples: Sequence[Samples],
                records: Sequence[SequentialRecord] = ()) -> list[Comparison]:
    """Each variant vs the baseline and vs main, and the gated pair, per workload and metric
    (CPU time too when the spawn timer measured it). With ``runs: auto`` the gated comparison
    is at the last look's confidence (:func:`gated_confidence`)."""
    by_key: Mapping[tuple[str, str, str], Samples] = {
        (s.variant, s.workload, s.metric): s for s in samples
        if s.scenario == "default" and s.values}
    measured = {s.metric for s in samples if s.values}
    references = [v.name for v in variants if v.role in ("baseline", "main")]
    pairs = {(policy.compare, policy.against)} if policy.enabled else set()
    for reference in references:
        pairs |= {(v.name, reference) for v in variants if v.name != reference}
    out = []
    for workload in workloads:
        metrics = [*workload.metrics,
                   *(["cpu"] if "wall" in workload.metrics and "cpu" in measured else [])]
        for metric in metrics:
            for subject, reference in sorted(pairs):
                a = by_key.get((subject, workload.name, metric))
                b = by_key.get((reference, workload.name, metric))
                if a is None or b is None:
                    continue
                confidence, n_resamples = policy.confidence, sequential.MIN_RESAMPLES
                gated = ((subject, reference, metric) == (policy.compare, policy.against,
                                                          policy.metric)
                         and policy.workload in (None, workload.name))
                if gated:
                    confidence, n_resamples = gated_confidence(policy, records)
                comparison = stats.compare(a, b, statistic=policy.statistic,
                                           threshold_pct=policy.threshold_pct,
                                           confidence=confidence, n_resamples=n_resamples)
                out.append(comparison)
    return out
