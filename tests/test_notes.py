"""The notes a report carries are true of the run they describe (issue 22): the resolution is
relative to the ratio, each interval names its own confidence level, no note advises what the
run already does or contradicts a decisive verdict."""

from __future__ import annotations

import dataclasses
import math
import random
import time

import pytest

from harness.analyse import busy, stats
from harness.analyse.analysis import analyse
from harness.analyse.gate import decide, remedies
from harness.analyse.levels import level_text, levels_text
from harness.model import (
    Comparison,
    GatePolicy,
    LoadSample,
    Look,
    Samples,
    SequentialRecord,
    TimingLoad,
)
from harness.render import markdown, terminal
from tests.sample_measurements import sample_measurements


def cmp(ratio: float, low: float | None, high: float | None, verdict: str = "inconclusive",
        *, threshold: float = 5.0, metric: str = "wall", confidence: float = 0.95
        ) -> Comparison:
    return Comparison("pr", "main", "import", metric, "paired", ratio, low, high, confidence,
                      threshold, verdict)


def test_resolution_is_relative_to_the_ratio() -> None:
    # a 0.50x [0.42, 0.58] resolves ±16 %, not the ±8 % of its absolute half-width
    (note,) = stats.diagnose_comparison(cmp(0.50, 0.42, 0.58))
    assert "±16.0 %" in note.message and note.value == pytest.approx(16.0)
    assert stats.relative_half_width(cmp(4.83, 4.73, 4.94)) == pytest.approx(2.17, abs=0.01)


def test_a_decisive_verdict_gets_no_resolution_note() -> None:
    # 4.83x [4.73, 4.94]: a clear regression; its ±2.2 % is not "±10.5 %", and even a wide
    # decisive interval is not contradicted by a "cannot resolve" warning
    assert stats.diagnose_comparison(cmp(4.83, 4.73, 4.94, "regression", threshold=2.0)) == ()
    assert stats.diagnose_comparison(cmp(1.30, 1.10, 1.50, "regression", threshold=2.0)) == ()
    assert stats.diagnose_comparison(cmp(0.70, 0.55, 0.85, "improvement", threshold=2.0)) == ()
    (note,) = stats.diagnose_comparison(cmp(1.03, 0.95, 1.11, threshold=5.0))
    assert note.severity == "warning"


def test_the_note_names_the_intervals_own_level() -> None:
    (note,) = stats.diagnose_comparison(cmp(1.0, 0.9, 1.1, confidence=0.9975))
    assert "at 99.75 % confidence" in note.message
    assert level_text(0.95) == "95 %" and level_text(0.9975, "") == "99.75%"
    assert levels_text([cmp(1, 0.9, 1.1), cmp(1, 0.9, 1.1, metric="cpu", confidence=0.9975),
                        cmp(1, 0.9, 1.1)]) == "95 % (pr vs main cpu: 99.75 %)"
    assert levels_text([cmp(1, None, None)]) == ""


def test_no_advice_the_run_already_follows() -> None:
    wide = cmp(1.03, 0.95, 1.11)
    assert "`runs: auto`" in stats.diagnose_comparison(wide)[0].advice
    assert "`runs: auto` or" not in stats.diagnose_comparison(wide, auto=True)[0].advice
    assert "use `runs: auto`" not in remedies("wall", auto=True)
    load = TimingLoad(2, (LoadSample("during", 2.0, 3.0),), 1.7, 0.0)
    assert "runs: auto" in busy.diagnose_load(load, "wall")[0].advice
    assert "runs: auto" not in busy.diagnose_load(load, "wall", auto=True)[0].advice
    gate = decide(GatePolicy(compare="pr", against="main"), [wide], auto=True)
    assert gate.warnings and "use `runs: auto`" not in gate.warnings[0]
    assert "rerun with `runs: auto`" in decide(GatePolicy(compare="pr", against="main"),
                                               [wide]).warnings[0]


def _auto_record():
    """The sample record as ``runs: auto`` with ``gate: {metric: cpu}`` on a busy machine
    would leave it: CPU samples too, a last look at 99.75 %, noisy rounds."""
    m = sample_measurements()
    job = m.jobs[0]
    rng = random.Random(3)
    noisy = []
    for s in job.samples:
        values = tuple(round(v * math.exp(rng.gauss(0, 0.08)), 7) for v in s.values)
        noisy.append(dataclasses.replace(s, values=values))
        noisy.append(Samples(s.variant, s.workload, "cpu", tuple(v * 0.8 for v in values),
                             s.rounds, exit_codes=s.exit_codes, job=s.job))
    record = SequentialRecord("rule", 0.05, 15, 50, 300.0, (15, 30, 45, 50),
                              (0.0125,) * 4, (Look(15, 1.0, 0.0125), Look(50, 4.0, 0.0025)),
                              "budget reached: max_runs")
    load = TimingLoad(2, (LoadSample("during", 2.0, 4.5),), 1.6, 0.0)
    timing = dataclasses.replace(job.timing, sequential=record, load=load)
    job = dataclasses.replace(job, samples=tuple(noisy), timing=timing)
    gate = dataclasses.replace(m.gate, metric="cpu")
    return dataclasses.replace(m, jobs=(job,), gate=gate)


def test_a_runs_auto_report_labels_and_advises_truthfully() -> None:
    report = analyse(_auto_record())
    gated = [c for c in report.comparisons if (c.subject, c.reference, c.metric)
             == ("pr", "main", "cpu")]
    wall = [c for c in report.comparisons if c.metric == "wall"]
    assert gated[0].confidence == pytest.approx(0.9975)
    assert {c.confidence for c in wall} == {0.95}
    texts = [n.message + " " + n.advice for n in report.noise] + list(report.gate.warnings)
    assert texts and not any("use `runs: auto`" in t or "with `runs: auto`" in t
                             for t in texts), texts
    comment = markdown.render(report)
    assert "99.75% confidence interval" in comment  # the gate line: the gated CPU interval
    assert "(threshold: 5%, " in comment and ", 95% confidence interval" not in comment
    wall_gate = analyse(dataclasses.replace(_auto_record(), gate=dataclasses.replace(
        _auto_record().gate, metric="wall")))
    assert "with its 95% (This PR vs HEAD main: 99.75%) interval" in markdown.render(wall_gate)
    assert "use `runs: auto`" not in terminal.render(report, width=80)


def test_the_harness_own_cpu_is_not_other_processes() -> None:
    """Between batches of ``runs: auto`` the harness analyses in its own process: that CPU is
    ours. Burning 0.3 s of CPU in this process inside the window must not show up as "other
    processes" (before the fix only reaped children counted as ours)."""
    from harness.measure import load

    before = load.own_cpu()
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    assert load.own_cpu() - before >= 0.27  # os.times() counts in 10 ms ticks


def test_what_runs_right_after_timing_and_in_renderers_imports_no_numpy() -> None:
    """The pipeline reports failed runs right after timing (inside the timing phase) and the
    renderers label intervals: neither may pay numpy's import."""
    import subprocess
    import sys

    code = ("import sys, harness.analyse.failures, harness.analyse.levels; "
            "sys.exit('numpy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_the_smoke_run_is_the_first_warmup() -> None:
    from harness.measure.timing import TimedCommand
    from harness.pipeline import timer_warmups

    default = TimedCommand("pr", "w", ("python", "-c", "pass"))
    cold = TimedCommand("pr", "w", ("python", "-c", "pass"), scenario="cold")
    assert timer_warmups(5, [default, default]) == 4
    assert timer_warmups(0, [default]) == 0
    assert timer_warmups(5, [default, cold]) == 5  # scenario commands were not smoke-run


def test_importtime_runs_come_off_only_the_warmups_of_the_commands_they_started() -> None:
    from harness.measure.timer_registry import warmups_of
    from harness.measure.timing import TimedCommand
    from harness.pipeline import timer_warmups, warmed_by_importtime

    a = TimedCommand("pr", "direct", ("python", "-c", "pass"))
    b = TimedCommand("pr", "launched", ("bin/app",))
    warmed = warmed_by_importtime([a, b], {("pr", "direct"): 5})
    assert [c.warmed for c in warmed] == [5, 0]
    assert warmups_of(warmed, timer_warmups(5, warmed)) == [0, 4]
    assert warmups_of(warmed, timer_warmups(8, warmed)) == [2, 7]
    # bytecode scenarios: the environments are compiled after the import-time runs
    cold = TimedCommand("pr", "direct", ("python", "-c", "pass"), scenario="cold")
    assert [c.warmed for c in warmed_by_importtime([a, cold], {("pr", "direct"): 5})] == [0, 0]


def test_field_trial_attrs_runs_auto_cpu_gate() -> None:
    """From a field trial (attrs 23.1.0 vs 24.2.0 from PyPI, runs: auto to 60 runs, CPU gate at
    2 %, load average 9.6): the gated interval +0.7 % [-2.1, +2.9] at 98.75 %."""
    c = cmp(1.007, 0.979, 1.029, threshold=2.0, metric="cpu", confidence=0.9875)
    (note,) = stats.diagnose_comparison(c, auto=True)
    assert "resolves ±2.5 % at 98.75 % confidence" in note.message
    assert "timing.max_runs, timing.max_seconds" in note.advice
    assert "use `runs: auto`" not in note.advice and "metric: cpu" not in note.advice


@pytest.mark.parametrize("scale", [0.25, 0.5, 2.0, 4.83])
def test_resolution_does_not_depend_on_the_size_of_the_change(scale: float) -> None:
    """The same relative precision at any ratio: scaling ratio and interval together leaves
    "resolves ±X %" alone (the absolute half-width grew with the ratio: ±10.5 % at 4.83x)."""
    base = stats.relative_half_width(cmp(1.0, 0.98, 1.02))
    assert stats.relative_half_width(cmp(scale, 0.98 * scale, 1.02 * scale)) == \
        pytest.approx(base)
