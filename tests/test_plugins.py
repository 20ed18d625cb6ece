"""Each plug-in point (timers, export formats, health checks) takes a toy plug-in that is one
module registered by one line, and the core calls only the plug-in's protocol."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.config_records import TimingConfig
from harness.model import GatePolicy

PY = sys.executable


def _module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    (tmp_path / f"{name}.py").write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)


TOY_TIMER = '''
from harness.measure.load import LoadMonitor
from harness.measure.timer_registry import Timed
from harness.model import Samples

CALLS = []


class ToyTimer:
    """Every run takes one millisecond."""

    name = "toy"
    tools = ("toy-stopwatch-binary",)

    def describe(self, env):
        return "toy timer"

    def measure(self, commands, *, warmup, runs, order, env, raw_dir, seed=0, timeout_s=600.0,
                progress=None, cwd=None, auto=None, look=None):
        CALLS.append([c.key for c in commands])
        with LoadMonitor() as monitor:
            samples = tuple(Samples(c.variant, c.workload, "wall", (0.001,) * runs,
                                    tuple(range(runs))) for c in commands)
        return Timed(samples, None, monitor.record)
'''


def test_a_toy_timer_is_one_module_and_one_line(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import pipeline
    from harness.measure import timer_registry
    from harness.measure.timer_registry import TimedCommand, get_timer

    _module(tmp_path, monkeypatch, "toy_timer", TOY_TIMER)
    monkeypatch.setitem(timer_registry.TIMERS, "toy", "toy_timer:ToyTimer")  # the one line

    timer = get_timer("toy")
    commands = [TimedCommand("pr", "w", (PY, "-c", "pass"))]
    samples, sequential, load, _notes = pipeline.time_commands(
        TimingConfig(runs=7, warmup=0), GatePolicy(), (), timer, commands, tmp_path / "raw",
        {}, tmp_path, lambda _m: None)
    assert [s.values for s in samples] == [(0.001,) * 7]
    assert sequential is None and load is not None
    assert sys.modules["toy_timer"].CALLS == [["pr/w"]]  # type: ignore[attr-defined]


def test_the_preflight_finds_what_the_timer_declares_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import pipeline
    from harness.errors import HarnessError
    from harness.measure import timer_registry
    from harness.measure.timer_registry import get_timer

    _module(tmp_path, monkeypatch, "toy_timer", TOY_TIMER)
    monkeypatch.setitem(timer_registry.TIMERS, "toy", "toy_timer:ToyTimer")
    with pytest.raises(HarnessError, match=r"toy-stopwatch-binary \(for timing.timer: toy\)"):
        pipeline.preflight((), (), {}, get_timer("toy"))
    assert pipeline.preflight((), (), {}, get_timer("spawn")).counter == ""


def test_the_default_spawn_timer_goes_through_the_protocol_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A timer registered as ``spawn`` that records each call and times with the real spawn
    timer: the pipeline must call it (it used to bypass any timer named ``spawn``)."""
    from harness import pipeline
    from harness.measure import timer_registry
    from harness.measure.timer_registry import TimedCommand, get_timer

    _module(tmp_path, monkeypatch, "recording_timer", '''
from harness.measure.adaptive import SpawnTimer

CALLS = []


class RecordingSpawn(SpawnTimer):
    def measure(self, commands, **kwargs):
        CALLS.append(len(commands))
        return super().measure(commands, **kwargs)
''')
    monkeypatch.setitem(timer_registry.TIMERS, "spawn", "recording_timer:RecordingSpawn")
    timer = get_timer("spawn")
    assert timer.name == "spawn"
    commands = [TimedCommand("pr", "w", (PY, "-S", "-c", "pass")),
                TimedCommand("main", "w", (PY, "-S", "-c", "pass"))]
    samples, _, _load, _notes = pipeline.time_commands(
        TimingConfig(runs=3, warmup=0), GatePolicy(), (), timer, commands, tmp_path / "raw",
        {}, tmp_path, lambda _m: None)
    assert sys.modules["recording_timer"].CALLS == [2]  # type: ignore[attr-defined]
    wall = [s for s in samples if s.metric == "wall"]
    assert [len(s.values) for s in wall] == [3, 3] and all(v > 0 for s in wall for v in s.values)
    assert {s.metric for s in samples} == {"wall", "cpu"}


def test_hyperfine_refuses_runs_auto_rather_than_ignoring_it(tmp_path: Path) -> None:
    from harness.errors import ConfigError
    from harness.measure.timer_registry import AutoRuns, get_timer

    with pytest.raises(ConfigError, match="runs: auto"):
        get_timer("hyperfine").measure([], warmup=0, runs=3, order="interleaved", env={},
                                       raw_dir=tmp_path, auto=AutoRuns(6, 60, 60.0, 0.05))


TOY_EXPORT = '''
class TsvExport:
    name = "tsv"

    def files(self, path, run, history_points):
        rows = ["variant\\tworkload\\tn"] + [f"{s.variant}\\t{s.workload}\\t{len(s.values)}"
                                            for s in run.samples]
        return [(path, "\\n".join(rows) + "\\n")]
'''


def _run(variant: str = "pr", workload: str = "w") -> object:
    from harness.export.formats import RunSamples
    from harness.model import Samples

    return RunSamples("t", "ab" * 20, "2026-01-01T00:00:00+00:00",
                      (Samples(variant, workload, "wall", (0.01, 0.02, 0.03), (0, 1, 2)),))


def test_a_toy_export_format_is_one_module_and_one_line(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.export import formats

    _module(tmp_path, monkeypatch, "toy_export", TOY_EXPORT)
    monkeypatch.setitem(formats.EXPORTERS, "tsv", "toy_export:TsvExport")  # the one line
    target = tmp_path / "out.tsv"
    assert formats.write_exports([f"tsv={target}"], _run()) == [str(target)]  # type: ignore[arg-type]
    assert target.read_text() == "variant\tworkload\tn\npr\tw\t3\n"


def test_an_unknown_export_format_is_an_error_not_another_formats_file(tmp_path: Path) -> None:
    from harness.errors import HarnessError
    from harness.export import formats

    with pytest.raises(HarnessError, match=r"'html=.*one of csv, gab, bmf, pyperf"):
        formats.parse_spec(f"html={tmp_path / 'x.html'}")
    with pytest.raises(HarnessError, match="unknown export format 'html'"):
        formats.get_exporter("html")


@pytest.mark.parametrize("hostile", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                     "\tcmd", "\rcmd"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path,
                                                                hostile: str) -> None:
    import csv

    from harness.export import formats

    target = tmp_path / "s.csv"
    formats.write_exports([f"csv={target}"], _run(workload=hostile))  # type: ignore[arg-type]
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["workload"] for r in rows} == {"'" + hostile}
    assert {r["variant"] for r in rows} == {"pr"}  # plain text untouched
    assert [float(r["value"]) for r in rows] == [0.01, 0.02, 0.03]  # numbers stay numbers


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4))
def test_any_names_survive_the_csv_as_text_a_spreadsheet_will_not_run(
        tmp_path: Path, names: list[str]) -> None:
    """Hostile names (newlines, CRs, quotes, commas, formula starts): every sample is one row,
    every cell reads back as written, with a ``'`` exactly when a spreadsheet would run it."""
    import csv

    from harness.export import formats
    from harness.model import Samples

    run = formats.RunSamples("t", "c", "d", tuple(
        Samples("pr", name, "wall", (0.5, 0.25), (0, 1)) for name in names))
    target = tmp_path / "hostile.csv"
    formats.write_exports([f"csv={target}"], run)
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = [("'" + n if n[:1] in formats.FORMULA_STARTS else n) for n in names
                for _ in range(2)]
    assert [r["workload"] for r in rows] == expected
    assert [float(r["value"]) for r in rows] == [0.5, 0.25] * len(names)
