"""Exports: CSV (pandas), github-action-benchmark, Bencher BMF, pyperf (read by pyperf)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from harness.cli import main
from harness.export import formats
from harness.history.records import machine_of
from tests.history_fixtures import build_history, stepped_medians, synthetic_report, write_report

#: github-action-benchmark's custom tools read a JSON array of BenchmarkResult
#: (src/extract.ts: name, value, unit required; range and extra optional strings).
GAB_SCHEMA = {
    "type": "array", "minItems": 1,
    "items": {"type": "object", "required": ["name", "unit", "value"],
              "additionalProperties": False,
              "properties": {"name": {"type": "string"}, "unit": {"type": "string"},
                             "value": {"type": "number"}, "range": {"type": "string"},
                             "extra": {"type": "string"}}}}

#: Bencher Metric Format, the JSON Schema published at https://bencher.dev/bmf.json
BMF_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema", "type": "object",
    "patternProperties": {".+": {"type": "object", "patternProperties": {".+": {
        "type": "object", "required": ["value"],
        "properties": {"value": {"type": "number"}, "lower_value": {"type": "number"},
                       "upper_value": {"type": "number"}}}}}}}


@pytest.fixture()
def run() -> formats.RunSamples:
    report = synthetic_report({"baseline": 0.1, "main": 0.05, "pr": 0.06}, runs=40)
    return formats.RunSamples.from_report(report, machine_of(report), commit="ab" * 20)


def test_csv_has_every_raw_sample(run: formats.RunSamples, tmp_path: Path) -> None:
    formats.write_exports([f"csv={tmp_path / 's.csv'}"], run)
    frame = pd.read_csv(tmp_path / "s.csv")
    assert len(frame) == 120
    assert frame.groupby("variant")["value"].median()["pr"] == pytest.approx(0.06, rel=0.02)
    assert set(frame["round"]) == set(range(40))


def test_gab_and_bmf_match_their_documented_shapes(run: formats.RunSamples) -> None:
    entries = formats.gab(run)
    jsonschema.validate(entries, GAB_SCHEMA)
    by_name = {e["name"]: e for e in entries}
    assert by_name["pr/import"]["unit"] == "ms"
    assert by_name["pr/import"]["value"] == pytest.approx(60, rel=0.02)
    bmf = formats.bmf(run)
    jsonschema.Draft7Validator(BMF_SCHEMA).validate(bmf)
    latency = bmf["main/import"]["latency"]
    assert latency["lower_value"] <= latency["value"] <= latency["upper_value"]
    assert latency["value"] == pytest.approx(50e6, rel=0.02)  # nanoseconds


def test_pyperf_reads_the_export(run: formats.RunSamples, tmp_path: Path) -> None:
    """pyperf itself: `compare_to` on two variants' files, `hist` and `stats` on one."""
    written = formats.write_exports([f"pyperf={tmp_path}/{{variant}}.json",
                                     f"pyperf={tmp_path / 'all.json'}"], run)
    assert sorted(Path(p).name for p in written) == ["all.json", "baseline.json", "main.json",
                                                     "pr.json"]
    done = subprocess.run([sys.executable, "-m", "pyperf", "compare_to",
                           str(tmp_path / "main.json"), str(tmp_path / "pr.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[main] 50" in done.stdout and "[pr] 60" in done.stdout and "slower" in done.stdout
    for command in ("hist", "stats"):
        done = subprocess.run([sys.executable, "-m", "pyperf", command,
                               str(tmp_path / "all.json")], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert "pr/import" in done.stdout


def test_bad_export_spec_is_an_error_before_any_work(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--out", str(tmp_path / "o"), "--export", "xml=out.xml"]) == 2
    err = capsys.readouterr().err
    assert "--export 'xml=out.xml'" in err and "csv, gab, bmf, pyperf" in err
    assert not (tmp_path / "o").exists()


def test_history_exports(tmp_path: Path) -> None:
    root = build_history(tmp_path, stepped_medians(5, {}))
    assert main(["history", "show", "--store", str(root), "--export",
                 f"csv={tmp_path / 'points.csv'}", "--export", f"bmf={tmp_path / 'b.json'}"]) == 0
    points = pd.read_csv(tmp_path / "points.csv")
    # baseline and main, and main's paired ratio to the baseline, for each of the 5 runs
    assert len(points) == 15 and {"commit", "median", "ci_low", "ci_high"} <= set(points)
    assert sorted(set(points["metric"])) == ["wall", "wall-ratio"]
    jsonschema.Draft7Validator(BMF_SCHEMA).validate(json.loads((tmp_path / "b.json").read_text()))


def test_history_add_exports_the_added_run(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.json", synthetic_report({"main": 0.05}))
    assert main(["history", "add", str(path), "--store", str(tmp_path / "s"), "--commit",
                 "abc" * 8 + "0" * 16, "--export", f"gab={tmp_path / 'g.json'}"]) == 0
    jsonschema.validate(json.loads((tmp_path / "g.json").read_text()), GAB_SCHEMA)


def test_cpu_time_is_a_time_and_instructions_a_count() -> None:
    from harness.model import Samples

    report = synthetic_report({"main": 0.05})
    report = report.__class__(**{**report.__dict__, "samples": (
        *report.samples,
        Samples("main", "import", "cpu", (0.031, 0.030, 0.032), (0, 1, 2)),
        Samples("main", "import", "instructions", (1.5e8, 1.5e8, 1.5e8), (0, 1, 2)))})
    run = formats.RunSamples.from_report(report)
    units = {e["name"]: e["unit"] for e in formats.gab(run)}
    assert units == {"main/import": "ms", "main/import (cpu)": "ms",
                     "main/import (instructions)": "instructions"}
    bmf = formats.bmf(run)
    assert set(bmf["main/import"]) == {"latency", "cpu-time", "instructions"}
    assert bmf["main/import"]["cpu-time"]["value"] == pytest.approx(31e6)
