"""Measuring, step by step: check sources, build, smoke-test, take import times (the first
warm-ups), time, count, inspect.

:func:`measure` is the whole measuring half of a run and returns the measurement record;
each step is a small function below it. Judging is :func:`harness.analyse.analysis.analyse`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import platform
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import __version__, defaults, proc
from harness import progress as bar
from harness.config import Config, SweepConfig, TimingConfig, VariantConfig, WorkloadConfig
from harness.errors import HarnessError, ProcessError
from harness.files import remove_tree
from harness.inspection.health import InspectedProcess, ProbeReport
from harness.inspection.importtime import ImportTimeTree
from harness.measure import bytecode, machine, sources, timing
from harness.measure.builders import BuiltEnv, get_builder
from harness.measure.timer_registry import AutoRuns, Timer, get_timer
from harness.measure.tools import which_tool
from harness.measurements import (
    FORMAT,
    Job,
    Measurements,
    SweepSamples,
    WorkloadInfo,
    canonical_json,
    sha256_of,
)
from harness.measurements import SCHEMA_VERSION as MEASUREMENTS_SCHEMA_VERSION
from harness.model import (
    BuildResult,
    Comparison,
    GatePolicy,
    Samples,
    SequentialRecord,
    TimingLoad,
    TimingSettings,
    VariantInfo,
)
from harness.serial import to_data

if TYPE_CHECKING:
    from harness.inspection.launcher import Start

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


@dataclass(frozen=True)
class Prepared:
    """A variant whose environment was built and whose workloads start."""

    variant: VariantConfig
    env: BuiltEnv
    source_dir: str | None


class PhaseClock:
    """Wall time of each phase of a run, for the report and the benchmark."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 4)
        self._last = now


SCRATCH_PREFIX = "startup-harness-"
#: In every scratch dir: the PID of the run that owns it (a dead owner's scratch is pruned).
OWNER_FILE = ".startup-harness-run"


def prune_stale(variants: Sequence[VariantConfig], env: Mapping[str, str], progress: Progress,
                tmp: str | None = None) -> list[Path]:
    """Remove the scratch dirs of runs that died without cleaning up (SIGKILL, power loss) and
    the git worktree records that pointed into them; say so. Only directories this harness
    made (prefix and owner file) whose owner process is gone are touched."""
    removed = []
    for owner in Path(tmp or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*/{OWNER_FILE}"):
        try:
            pid = int(owner.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            continue
        if pid == os.getpid() or proc.alive(pid):
            continue
        # its builds and workloads ran in process groups of their own, which a SIGKILL of
        # the run's group did not reach: end them before removing the dir they run in
        ended = proc.end_recorded_groups(owner.parent / proc.GROUPS_FILE)
        remove_tree(owner.parent)
        removed.append(owner.parent)
        left = f", after ending {ended} of its processes still running" if ended else ""
        progress(f"removed {owner.parent}, the scratch dir of a run that was killed "
                 f"(pid {pid}){left}")
    if removed:
        for repo in sorted({v.source.repo for v in variants
                            if v.source.kind == "git" and v.source.repo}):
            with contextlib.suppress(HarnessError):
                sources.prune_worktrees(repo, env)
    return removed



@contextlib.contextmanager
def workspace(work_dir: str | None, keep: bool = False) -> Iterator[Path]:
    """The run's scratch directory (output bases, worktrees); removed afterwards unless kept."""
    if work_dir:
        path = Path(work_dir).resolve()
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise HarnessError(f"--work-dir {work_dir!r} exists and is not empty; the run "
                               "removes its work dir afterwards",
                               "give a new or empty directory")
        path.mkdir(parents=True, exist_ok=True)
    else:
        path = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    (path / OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")
    proc.record_groups_in(path / proc.GROUPS_FILE)
    try:
        yield path
    finally:
        proc.record_groups_in(None)
        if not keep:
            remove_tree(path)  # also Bazel's output bases, whose files are read-only


def replace_dir(new: Path, dest: Path) -> None:
    """Put ``new`` at ``dest``, dropping what an earlier run left there (no mixed runs)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    old = dest.with_name(dest.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    if new.exists():
        shutil.move(str(new), str(dest))
    else:
        dest.mkdir()
    shutil.rmtree(old, ignore_errors=True)


def measure(config: Config, raw_dir: Path, *, work_dir: str | None = None,
            keep_work: bool = False, progress: Progress = _quiet,
            job_id: str | None = None, cell: str = "") -> Measurements:
    """Build, smoke-test, take import times, time, count and inspect everything ``config``
    describes; raw exports go to ``raw_dir``. Returns the measurement record (no statistics:
    see :func:`harness.analyse.analysis.analyse`)."""
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    # the config is read here, once; each step below gets only the slice it uses
    variants, workloads, timing_config, gate = (config.variants, config.workloads,
                                                config.timing, config.gate)
    build_env = proc.scrubbed_env()
    timed_env = proc.controlled_env(timing_config.env_pass, timing_config.env_set)
    timer = get_timer(timing_config.timer)
    tools = preflight(variants, workloads, timed_env, timer)
    prune_stale(variants, build_env, progress)
    recovered = bytecode.recover_snapshots()  # a killed run's __pycache__ snapshots
    for line in recovered:
        progress(line)
    shas = {v.name: sources.check(v, build_env) for v in variants}
    infos = tuple(VariantInfo(v.name, v.label, v.role, sources.describe(v.source),
                              v.build.builder, shas[v.name], v.source.ref)
                  for v in variants)
    job = job_id or default_job_id(created)
    errors: list[str] = []
    phases = PhaseClock()

    with workspace(work_dir, keep_work) as ws, contextlib.ExitStack() as cleanup:
        cwd = ws / "cwd"
        cwd.mkdir(exist_ok=True)
        phases.lap("sources")
        builds, prepared = build_all(variants, shas, ws, build_env, cleanup, progress)
        errors += [f"build of {b.variant!r} failed: {b.error}" for b in builds if not b.ok]
        phases.lap("build")
        ready, smoke_errors = smoke_test(workloads, prepared, cwd, timed_env, progress,
                                         timeout_s=timing_config.timeout_s)
        errors += smoke_errors
        phases.lap("smoke")
        taken = importtime_rounds(workloads, ready, cwd, timed_env, progress,
                                  timeout_s=timing_config.timeout_s)
        commands = warmed_by_importtime(timed_commands(workloads, ready, cwd), taken.warmed)
        phases.lap("importtime")
        samples: tuple[Samples, ...] = ()
        record: SequentialRecord | None = None
        load: TimingLoad | None = None
        timer_notes: tuple[str, ...] = ()
        before = machine.snapshot()
        if commands:
            with bytecode_scenarios(workloads, ready, timed_env):
                samples, record, load, timer_notes = time_commands(
                    timing_config, gate, workloads, timer, commands, ws / "raw", timed_env,
                    cwd, progress)
        after = machine.snapshot()
        allowed = {w.name for w in workloads if w.allow_failure}
        from harness.analyse.failures import failed_runs  # stdlib only: no numpy here

        for message in failed_runs(samples, allowed)[1]:  # judged again by analyse()
            progress(message)
        phases.lap("timing")
        counter, counted = measure_instructions(
            workloads, ready, cwd, timed_env, tools, progress,
            runs=timing_config.instruction_runs)
        samples += counted
        phases.lap("instructions")
        probes, warnings = inspect_all(workloads, ready, cwd, timed_env, progress, taken,
                                       timeout_s=timing_config.timeout_s)
        phases.lap("inspect")
        sweeps = sweep_all(config.sweeps, workloads, timing_config, ready, ws, cwd, build_env,
                           timed_env, progress)
        if sweeps:
            phases.lap("sweep")
        replace_dir(ws / "raw", raw_dir)
        places = short_locations(config.path, ws, prepared)
    phases.lap("cleanup")

    settings = TimingSettings(
        timer=timer.describe(timed_env), warmup=timing_config.warmup,
        runs=record.runs if record else timing_config.runs, order=timing_config.order,
        environment=dict(timed_env),
        platform=f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        instruction_counter=counter, sequential=record, load=load)
    record_job = Job(
        id=job, machine=machine.describe(before, after), timing=settings, builds=tuple(builds),
        samples=tuple(dataclasses.replace(s, job=job) for s in samples), probes=probes,
        importtime=taken.trees, errors=tuple(errors),
        warnings=(*recovered, *taken.warnings, *timer_notes, *warnings),
        phases_s=phases.laps, locations=places, cell=cell, sweeps=sweeps)
    raw_config = json.loads(canonical_json(config.raw))  # plain JSON types only
    return Measurements(
        schema_version=MEASUREMENTS_SCHEMA_VERSION, format=FORMAT, tool_version=__version__,
        created=created, config=raw_config, config_digest=sha256_of(raw_config),
        config_path=config.path, title=config.title, variants=infos,
        workloads=tuple(WorkloadInfo(w.name, w.metrics, w.scenarios, w.allow_failure)
                        for w in workloads),
        gate=gate, jobs=(record_job,))


@dataclass(frozen=True)
class Tools:
    """External tools a run needs, found before anything is built."""

    hyperfine: str = ""  # path, or "" when not installed (the spawn timer does not need it)
    counter: str = ""  # instruction counter: "perf", "cachegrind", or "" (not needed)


def preflight(variants: Sequence[VariantConfig], workloads: Sequence[WorkloadConfig],
              env: Mapping[str, str], timer: Timer) -> Tools:
    """Find every tool the config needs (the timer's and the builders', as each declares them,
    an instruction counter, git) before anything is built; all that are missing in one
    error."""
    missing: list[tuple[str, str]] = []

    def need(tool: str, why: str) -> str:
        found = which_tool(tool)
        if not found:
            missing.append((tool, why))
        return found or ""

    hyperfine = which_tool("hyperfine") or ""  # also counts instructions with perf
    for tool in timer.tools:
        need(tool, f"timing.timer: {timer.name}")
    for variant in variants:
        builder = get_builder(variant.build.builder)
        for tool in builder.tools:
            if tool not in {t for t, _ in missing}:
                need(tool, f"builder {builder.name} of variant {variant.name!r}")
    if any(v.source.kind == "git" for v in variants):
        need("git", "git sources")
    counter = ""
    wanted = [w.name for w in workloads if "instructions" in w.metrics]
    if wanted:
        from harness.measure import instructions

        counter = instructions.detect_instruction_counter(env=env, hyperfine=hyperfine or None)
        if counter == "none":
            missing.append(("valgrind", "metrics: instructions of workload "
                            + ", ".join(repr(w) for w in wanted)
                            + "; perf counters are not readable either"))
            counter = ""
    if missing:
        from harness.measure.tools import INSTALL_HINTS

        tools = "; ".join(f"{tool} (for {why})" for tool, why in missing)
        hints = "; ".join(INSTALL_HINTS.get(tool, f"install {tool}")
                          for tool in dict.fromkeys(t for t, _ in missing))
        raise HarnessError(f"not found, needed by this config: {tools}", hints)
    return Tools(hyperfine=hyperfine, counter=counter)


def measure_cells(config: Config, raw_dir: Path, selection: Mapping[str, str], *,
                  work_dir: str | None = None, keep_work: bool = False,
                  progress: Progress = _quiet, job_id: str | None = None) -> Measurements:
    """A matrix run: every selected cell measured as its own job (timed interleaved within
    itself, one cell after another), in one record. Without a matrix: :func:`measure`."""
    from harness import cells
    from harness.measure.interpreters import find_interpreter

    if not config.matrix:
        if selection:
            raise HarnessError("--cell: the config has no matrix", "drop --cell")
        return measure(config, raw_dir, work_dir=work_dir, keep_work=keep_work,
                       progress=progress, job_id=job_id)
    chosen = cells.selected(config, selection)
    env = proc.scrubbed_env()
    pythons = {c[cells.LOCAL_AXIS]: find_interpreter(c[cells.LOCAL_AXIS], env)
               for c in chosen if cells.LOCAL_AXIS in c}  # every interpreter before any build
    records = []
    for i, cell in enumerate(chosen):
        name = cells.label(cell)
        progress(f"cell {i + 1}/{len(chosen)}: {name}")
        slug = "-".join(f"{k}{v}" for k, v in cell.items()).replace("/", "_")
        cell_work = str(Path(work_dir) / slug) if work_dir else None
        records.append(measure(
            cells.cell_config(config, cell, pythons.get(cell.get(cells.LOCAL_AXIS, ""))),
            raw_dir / slug, work_dir=cell_work, keep_work=keep_work, progress=progress,
            job_id=f"{job_id}-{slug}" if job_id else None, cell=name))
    first = records[0]
    return dataclasses.replace(first, jobs=tuple(job for r in records for job in r.jobs),
                               expected_cells=tuple(cells.label(c) for c in chosen))


def sweep_all(sweeps: Sequence[SweepConfig], workloads: Sequence[WorkloadConfig],
              timing_config: TimingConfig, ready: Sequence[Prepared], ws: Path, cwd: Path,
              build_env: Mapping[str, str], timed_env: Mapping[str, str],
              progress: Progress) -> tuple[SweepSamples, ...]:
    """The config's sweeps on top of the built variants (see :mod:`harness.measure.sweep`)."""
    if not sweeps:
        return ()
    from harness.measure.sweep import measure_sweeps

    envs = {item.variant.name: (item.env.python, item.env.site_roots) for item in ready}
    argvs = {(item.variant.name, w.name): workload_argv(w, item, cwd)
             for item in ready for w in workloads}
    return measure_sweeps(sweeps, envs, argvs, ws / "sweeps", build_env=build_env,
                          timed_env=timed_env,
                          warmup=timing_config.warmup, seed=timing_config.seed,
                          timeout_s=timing_config.timeout_s, cwd=cwd, progress=progress)


def default_job_id(created: str) -> str:
    """``<runner or host>-<UTC time>``: unique enough to tell the jobs of a matrix apart."""
    host = machine.runner_name() or socket.gethostname() or "local"
    stamp = created.replace("-", "").replace(":", "").replace("+0000", "Z")
    return f"{host}-{stamp}"


def short_locations(config_path: str, ws: Path,
                    prepared: Sequence[Prepared]) -> dict[str, str]:
    """Absolute paths of this run -> what the comment shows instead: each environment is
    ``<venv>``, each git checkout and the repository holding the config ``<repo>``, the
    scratch dir ``<work>``, and what the builder names (``BuiltEnv.short_names``; the JSON
    keeps the full paths)."""
    out: dict[str, str] = {}

    def add(path: str | Path | None, name: str) -> None:
        if path:
            out.setdefault(str(path), name)
            out.setdefault(os.path.realpath(path), name)

    for item in prepared:
        if str(item.env.prefix).startswith(str(ws)):
            add(item.env.prefix, "<venv>")
        for path, name in item.env.short_names.items():
            add(path, name)
        if item.variant.source.kind == "git":
            add(item.source_dir, "<repo>")
            add(item.variant.source.repo, "<repo>")
    add(ws / "cwd", "<workdir>")
    add(ws, "<work>")
    config_dir = Path(config_path).resolve().parent
    repo = next((d for d in (config_dir, *config_dir.parents) if (d / ".git").exists()), None)
    add(repo, "<repo>")
    return out


def build_all(variants: Sequence[VariantConfig], shas: Mapping[str, str | None], ws: Path,
              env: Mapping[str, str], cleanup: contextlib.ExitStack,
              progress: Progress) -> tuple[list[BuildResult], list[Prepared]]:
    """Build every variant in its own output base; a failure is recorded, not raised."""
    builds: list[BuildResult] = []
    prepared: list[Prepared] = []
    bar.start(progress, f"building {len(variants)} environments", len(variants))
    for done, variant in enumerate(variants):
        bar.advance(progress, done)
        base = ws / "variants" / variant.name
        base.mkdir(parents=True, exist_ok=True)
        builder = get_builder(variant.build.builder)
        progress(f"building {variant.label} ({builder.name})")
        start = time.perf_counter()
        try:
            source = cleanup.enter_context(
                sources.materialize(variant, shas[variant.name], base, env))
            built = builder.build(variant, source.directory, base, env)
        except HarnessError as exc:
            tail = getattr(exc, "output_tail", "")
            error = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
            builds.append(BuildResult(variant.name, builder.name, False, None,
                                      error=error, log_tail=tail))
            bar.important(progress, f"build of {variant.label} FAILED: {error}")
            continue
        seconds = time.perf_counter() - start if built.built else None
        bar.important(progress, f"built {variant.label} in {seconds:.1f}s" if seconds is not None
                      else f"using {variant.label} as it is (nothing to build)")
        builds.append(BuildResult(variant.name, builder.name, True, seconds,
                                  python=built.python, prefix=built.prefix,
                                  installed=built.installed, phases=dict(built.phases),
                                  details=dict(built.details)))
        prepared.append(Prepared(variant, built, source.directory))
    bar.advance(progress, len(variants))
    return builds, prepared


def workload_argv(workload: WorkloadConfig, ready: Prepared, cwd: Path) -> tuple[str, ...]:
    """The workload's argv with placeholders filled for one variant."""
    values = {**ready.env.placeholders, "python": ready.env.python, "bin": ready.env.bin_dir,
              "prefix": ready.env.prefix, "source": ready.source_dir or "", "workdir": str(cwd)}
    return tuple(arg.format_map(values) for arg in workload.argv)


def run_env(env: Mapping[str, str], ready: Prepared,
            workload: WorkloadConfig | None = None) -> dict[str, str]:
    """The controlled environment plus what the variant's builder says its programs need
    (a Bazel program's ``RUNFILES_DIR``) and the workload's own ``env`` (which wins)."""
    return {**env, **ready.env.run_env, **(workload.env if workload else {})}


def python_start(argv: Sequence[str], item: Prepared, cwd: Path,
                 env: Mapping[str, str], timeout: float = 120) -> Start:
    """The Python process ``argv`` runs the workload's code in: itself, or what its launchers
    (a Bazel binary's shell or Python stub, a console script) start
    (:func:`harness.inspection.launcher.follow`)."""
    from harness.inspection import launcher

    del item  # its variables are in ``env`` (run_env)
    return launcher.follow(argv, env=env, cwd=str(cwd), timeout=timeout)


def inspected_process(start: Start) -> InspectedProcess:
    """What the JSON and the comment say about the process that was inspected."""
    from harness.inspection.runner import launch_of

    return InspectedProcess(tuple(start.argv), launch_of(start.argv, start.cwd).python,
                            tuple(start.via), start.program, start.note)


def smoke_test(workloads: Sequence[WorkloadConfig], prepared: Sequence[Prepared], cwd: Path,
               env: Mapping[str, str], progress: Progress, *,
               timeout_s: float) -> tuple[list[Prepared], list[str]]:
    """Run each workload once per variant; a variant whose workload fails is not timed."""
    ready: list[Prepared] = []
    errors: list[str] = []
    for item in prepared:
        failed = False
        for workload in workloads:
            argv = workload_argv(workload, item, cwd)
            try:
                proc.run(argv, env=run_env(env, item, workload), cwd=cwd,
                         timeout=timeout_s,
                         check=not workload.allow_failure,
                         what=f"workload {workload.name!r} of variant {item.variant.name!r}",
                         hint="run it by hand in the built environment")
            except ProcessError as exc:
                tail = exc.output_tail.splitlines()[-3:]
                errors.append(exc.message + (f" — stderr: {' / '.join(tail)}"
                                             if len(tail) > 1 else ""))
                bar.important(progress, exc.message)
                failed = True
        if not failed:
            ready.append(item)
    return ready, errors


def timed_commands(workloads: Sequence[WorkloadConfig], ready: Sequence[Prepared],
                   cwd: Path) -> list[timing.TimedCommand]:
    """Every (variant, workload, scenario) to time with wall clock. When a variant's
    environment also runs bytecode scenarios, its default command gets a warm ``prepare`` so it
    never sees the state another scenario left."""
    with_scenarios = any(w.scenarios for w in workloads)
    commands = []
    for workload in workloads:
        if "wall" not in workload.metrics:
            continue
        for item in ready:
            argv = workload_argv(workload, item, cwd)
            prepare = (bytecode.prepare_argv("warm", item.env.python, item.env.site_roots)
                       if with_scenarios else None)
            commands.append(timing.TimedCommand(item.variant.name, workload.name, argv,
                                                prepare=prepare,
                                                allow_failure=workload.allow_failure,
                                                env={**item.env.run_env, **workload.env}))
            if workload.scenarios:
                commands += [dataclasses.replace(c, env=workload.env)
                             for c in bytecode.scenario_commands(
                                 item.variant.name, workload.name, argv, item.env.prefix,
                                 workload.scenarios, python=item.env.python,
                                 roots=item.env.site_roots)]
    return commands


@contextlib.contextmanager
def bytecode_scenarios(workloads: Sequence[WorkloadConfig], ready: Sequence[Prepared],
                       env: Mapping[str, str]) -> Iterator[None]:
    """While scenarios are timed, every affected environment is compiled first and its
    ``__pycache__`` snapshot restored afterwards, also on error or Ctrl-C."""
    if not any(w.scenarios for w in workloads):
        yield
        return
    with contextlib.ExitStack() as restore:
        for item in ready:
            restore.enter_context(bytecode.preserved(item.env.site_roots))
            bytecode.compile_all(item.env.python, item.env.site_roots, env=env)
        yield


def timer_warmups(warmup: int, commands: Sequence[timing.TimedCommand]) -> int:
    """Warm-up runs left for the timer: the smoke run (the same command, environment and
    working directory, just before) was every default command's first warm-up. Bytecode
    scenario commands were not smoke-run: with any of them, the timer runs them all. (The
    import-time runs that warmed a command come off its own count:
    :func:`warmed_by_importtime`.)"""
    if warmup and all(c.scenario == "default" for c in commands):
        return warmup - 1
    return warmup


def warmed_by_importtime(commands: Sequence[timing.TimedCommand],
                         warmed: Mapping[tuple[str, str], int]) -> list[timing.TimedCommand]:
    """``commands`` with the ``-X importtime`` runs that started each one's own interpreter
    (``warmed``: (variant, workload) -> runs, from :func:`importtime_rounds`) counted as its
    warm-ups. None are counted when bytecode scenarios are timed: their environments are
    compiled after those runs (as after the smoke run, :func:`timer_warmups`)."""
    if any(c.scenario != "default" for c in commands):
        return list(commands)
    return [dataclasses.replace(c, warmed=warmed.get((c.variant, c.workload), 0))
            for c in commands]


def time_commands(timing_config: TimingConfig, gate: GatePolicy,
                  workloads: Sequence[WorkloadConfig], timer: Timer,
                  commands: Sequence[timing.TimedCommand], raw_dir: Path,
                  env: Mapping[str, str], cwd: Path, progress: Progress,
                  ) -> tuple[tuple[Samples, ...], SequentialRecord | None, TimingLoad,
                             tuple[str, ...]]:
    """Time every command with the configured timer, through its protocol (every timer, the
    default included), with the machine's load; with ``runs: auto`` the timer looks at the
    gated comparisons after each batch (:mod:`harness.measure.adaptive`), judged by ``gate``
    over ``workloads``."""
    t = timing_config
    warmup = timer_warmups(t.warmup, commands)
    auto = (AutoRuns(t.batch, t.max_runs, t.max_seconds, 1.0 - gate.confidence)
            if t.auto else None)

    def look(so_far: Sequence[Samples], confidence: float,
             n_resamples: int) -> list[Comparison]:
        from harness.analyse.analysis import gated_comparisons  # numpy only with runs: auto

        return gated_comparisons(gate, workloads, so_far, confidence, n_resamples)

    timed = timer.measure(commands, warmup=warmup, runs=t.runs, order=t.order, env=env,
                          raw_dir=raw_dir, seed=t.seed, timeout_s=t.timeout_s, cwd=cwd,
                          progress=progress, auto=auto, look=look if auto else None)
    for note in timed.notes:
        bar.important(progress, note)
    return timed.samples, timed.sequential, timed.load, timed.notes


def measure_instructions(workloads: Sequence[WorkloadConfig], ready: Sequence[Prepared],
                         cwd: Path, env: Mapping[str, str], tools: Tools, progress: Progress,
                         *, runs: int) -> tuple[str, tuple[Samples, ...]]:
    """Instruction counts for workloads that ask for them (deterministic, user space only;
    ``runs`` counts each), with the counter :func:`preflight` found: the counter's
    description and the samples."""
    wanted = [w for w in workloads if "instructions" in w.metrics]
    if not wanted or not ready or not tools.counter:
        return "", ()
    from harness.measure import instructions

    counter, hyperfine = tools.counter, tools.hyperfine
    out: list[Samples] = []
    bar.start(progress, f"counting instructions ({counter})", len(wanted) * len(ready))
    for workload in wanted:
        for item in ready:
            bar.advance(progress, len(out))
            progress(f"counting instructions ({counter}): {item.variant.label} / "
                     f"{workload.name}")
            counts = instructions.measure_instructions(
                workload_argv(workload, item, cwd), env={**env, **workload.env},
                runs=runs,
                cwd=str(cwd), counter=counter, hyperfine=hyperfine)
            out.append(Samples(item.variant.name, workload.name, "instructions",
                               tuple(float(c) for c in counts), tuple(range(len(counts)))))
    return instructions.describe_counter(counter), tuple(out)


@dataclass(frozen=True)
class ImportTimes:
    """What :func:`importtime_rounds` took: each variant's import-time trees, the Python
    process each workload was followed to (the probe starts there too), the runs that
    warmed a timed command, and warnings."""

    trees: dict[str, dict[str, Any]]  # variant -> workload -> merged tree with its process
    starts: dict[str, dict[str, Start]]  # variant -> workload -> the followed start
    warmed: dict[tuple[str, str], int]  # (variant, workload) -> runs of the timed command
    warnings: tuple[str, ...] = ()


@dataclass
class _ImportTimeRuns:
    """One workload of one variant, run with ``-X importtime`` one run at a time: in the
    process :func:`python_start` finds behind its launchers, or, where that cannot be found
    or a run fails, as it is with ``PYTHONPROFILEIMPORTTIME``
    (:func:`harness.inspection.runner.importtime_by_env_once`); both failing is ``lost``."""

    workload: WorkloadConfig
    item: Prepared
    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    start: Start | None = None
    process: InspectedProcess | None = None
    trees: list[ImportTimeTree] = dataclasses.field(default_factory=list)
    error: str = ""  # why the followed process could not be run ("" while it can)
    lost: str = ""  # why neither way worked (then nothing more is run)

    def follow(self, timeout: float) -> None:
        """Find the Python process the workload runs its code in."""
        try:
            self.start = python_start(self.argv, self.item, self.cwd, self.env, timeout)
            self.process = inspected_process(self.start)
        except HarnessError as exc:
            self.error = exc.message

    def run_once(self, timeout: float) -> None:
        """One more run; on the first failure of the followed process, its trees are dropped
        and every run from then on goes by the environment."""
        from harness.inspection import runner

        if self.start is not None and not self.error:
            try:
                self.trees.append(runner.importtime_once(
                    self.start.argv, env=self.start.env, cwd=self.start.cwd, timeout=timeout))
                return
            except HarnessError as exc:
                self.error, self.trees = exc.message, []
        try:
            self.trees.append(runner.importtime_by_env_once(self.argv, env=self.env,
                                                            cwd=str(self.cwd), timeout=timeout))
        except HarnessError as again:
            self.lost = f"{self.error}; {again.message}"

    @property
    def warms_timed_command(self) -> bool:
        """Whether its runs started the timed command's own interpreter: the followed process
        is the workload's argv itself (no launcher hop), run with only ``-X importtime``
        added, in the same environment and directory."""
        from harness.inspection import runner

        start = self.start
        if start is None or self.error or self.lost or start.via or not start.program:
            return False
        if (start.argv, start.env, start.cwd) != (self.argv, self.env, str(self.cwd)):
            return False
        try:
            return runner.adds_only_importtime(self.argv,
                                               runner.importtime_argv(start.argv, start.cwd))
        except HarnessError:
            return False

    def tree_data(self) -> dict[str, Any]:
        """The merged tree with the process it describes, for the record."""
        from harness.inspection import importtime

        process = (self.process if not self.error and self.process is not None
                   else InspectedProcess(
                       self.argv, "",
                       ("PYTHONPROFILEIMPORTTIME: the last Python process it started",),
                       True, self.error))
        return {**to_data(importtime.merge(self.trees)), "process": to_data(process)}


def importtime_rounds(workloads: Sequence[WorkloadConfig], ready: Sequence[Prepared], cwd: Path,
                      env: Mapping[str, str], progress: Progress, *, timeout_s: float,
                      runs: int = defaults.IMPORTTIME_RUNS) -> ImportTimes:
    """The ``-X importtime`` runs of every workload that asks for them, taken after the smoke
    test as the timing's warm-ups: ``runs`` rounds, each running every variant's workloads
    once, so every variant is warmed alike and its import-time tree (the median per module)
    comes from runs taken under the same conditions. A workload whose followed process
    cannot be run is run by the environment instead (in later rounds, as many runs); when
    neither works, a warning. Every process is bounded by ``timeout_s``."""
    taking = [_ImportTimeRuns(w, item, workload_argv(w, item, cwd), run_env(env, item, w), cwd)
              for item in ready for w in workloads if w.importtime]
    warnings: list[str] = []
    if taking:
        progress(f"import times: {runs} rounds of {len(taking)} runs over {len(ready)} "
                 "variants, before timing")
    bar.start(progress, "import times (warm-up rounds)", len(taking) * (runs + 1))
    for done, one in enumerate(taking):
        bar.advance(progress, done)
        one.follow(timeout_s)
    done = len(taking)
    while pending := [t for t in taking if not t.lost and len(t.trees) < max(runs, 1)]:
        for one in pending:
            bar.advance(progress, done)
            one.run_once(timeout_s)
            done += 1
            if one.lost:
                warnings.append(f"import time of {one.workload.name!r} in "
                                f"{one.item.variant.name!r} not measured: {one.lost}")
                bar.important(progress, warnings[-1])
    bar.advance(progress, len(taking) * (runs + 1))
    trees: dict[str, dict[str, Any]] = {item.variant.name: {} for item in ready}
    starts: dict[str, dict[str, Start]] = {item.variant.name: {} for item in ready}
    warmed: dict[tuple[str, str], int] = {}
    for one in taking:
        name = one.item.variant.name
        if one.start is not None:
            starts[name][one.workload.name] = one.start
        if one.lost:
            continue
        trees[name][one.workload.name] = one.tree_data()
        if one.warms_timed_command:
            warmed[(name, one.workload.name)] = len(one.trees)
    return ImportTimes(trees, starts, warmed, tuple(warnings))


def inspect_all(workloads: Sequence[WorkloadConfig], ready: Sequence[Prepared], cwd: Path,
                env: Mapping[str, str], progress: Progress, taken: ImportTimes, *,
                timeout_s: float) -> tuple[dict[str, ProbeReport], list[str]]:
    """Probe each variant's program (started like the first workload, in the process
    :func:`importtime_rounds` followed it to, or the variant's inspection target), checking
    the bytecode of the modules its import-time trees name: (probes, warnings). Every process
    is bounded by ``timeout_s``."""
    from harness.inspection import runner

    probes: dict[str, ProbeReport] = {}
    warnings: list[str] = []
    first = workloads[0]
    timeout = timeout_s
    bar.start(progress, "inspecting environments", len(ready))
    for done, item in enumerate(ready):
        bar.advance(progress, done)
        progress(f"inspecting {item.variant.label}")
        trees = taken.trees.get(item.variant.name, {})
        modules = sorted({m for data in trees.values()
                          for m in runner.module_names(ImportTimeTree.from_dict(data))})
        try:
            if item.env.inspect_command:  # the seed's way: a built program prints the probe
                report = runner.run_inspect_command(
                    item.env.inspect_command, env={**env, **item.env.inspect_env, **first.env},
                    cwd=str(cwd), timeout=timeout)
                probes[item.variant.name] = dataclasses.replace(report, process=InspectedProcess(
                    tuple(item.env.inspect_command), report.python, ("inspect_target",)))
            else:
                start = (taken.starts.get(item.variant.name, {}).get(first.name)
                         or python_start(workload_argv(first, item, cwd), item, cwd,
                                         run_env(env, item, first), timeout))
                report = runner.probe_for_workload(start.argv, env=start.env, cwd=start.cwd,
                                                   modules=modules, timeout=timeout)
                probes[item.variant.name] = dataclasses.replace(
                    report, process=inspected_process(start))
        except HarnessError as exc:
            warnings.append(f"environment probe of {item.variant.name!r} not run: "
                            f"{exc.message}")
            bar.important(progress, warnings[-1])
    bar.advance(progress, len(ready))
    return probes, warnings
