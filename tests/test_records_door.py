"""Hostile records at the door: a measurement record, a report, a matrix part or a history
store line comes from a job that ran PR code, so every command that reads one (analyse, merge,
compare, history add, render) refuses a bad one in one line naming the file and the field,
exit 2, before any analysis: never a traceback, never a green pass on garbage."""

from __future__ import annotations

import copy
import itertools
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import measurements
from harness.cli import main

GOLDEN = Path(__file__).parent / "golden"
RECORD: dict[str, Any] = json.loads((GOLDEN / "measurements-default.json").read_text())
REPORT: dict[str, Any] = json.loads((GOLDEN / "report-default.json").read_text())
PR = 2  # jobs[0].samples[PR] is the PR's


def forged(tmp_path: Path, change: Callable[[dict[str, Any]], Any], *,
           base: dict[str, Any] = RECORD, name: str = "measurements.json",
           text: str | None = None) -> Path:
    """The golden record (or report) with ``change`` applied, written under ``tmp_path``."""
    data = copy.deepcopy(base)
    change(data)
    path = tmp_path / "run" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else json.dumps(data), encoding="utf-8")
    return path


def refused(argv: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> str:
    """Run the CLI: exit 2 and one error line holding every word (no internal error)."""
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert "internal error" not in err[0] and "Traceback" not in err[0], err[0]
    for word in words:
        assert word in err[0], (word, err[0])
    return err[0]


def pr_values(values: list[Any]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["jobs"][0]["samples"][PR]["values"] = values
    return change


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set the dotted ``path`` (``gate.threshold_pct``) of the record to ``value``."""
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[int(key)] if key.isdigit() else data[key]  # type: ignore[assignment]
        data[int(last) if last.isdigit() else last] = value  # type: ignore[index]
    return change


def _forge_config(data: dict[str, Any], extra: dict[str, Any]) -> None:
    """The carried config changed and its digest recomputed (a forger can do both)."""
    data["config"].update(extra)
    data["config_digest"] = measurements.sha256_of(data["config"])


#: (name, change, words the error must hold): each a record that passed or crashed before
HOSTILE: list[tuple[str, Callable[[dict[str, Any]], None], tuple[str, ...]]] = [
    ("all-zero", pr_values([0.0] * 50), ("jobs[0].samples[2].values[0]", "positive")),
    ("negative", pr_values([-0.05] * 50), ("jobs[0].samples[2].values[0]",)),
    ("huge", pr_values([1e308] * 50), ("jobs[0].samples[2].values[0]",)),
    ("string", pr_values(["0.06"] * 50), ("jobs[0].samples[2].values[0]",)),
    ("bool", pr_values([True] * 50), ("jobs[0].samples[2].values[0]",)),
    ("equal-rounds", lambda d: [s.__setitem__("rounds", [7] * 50)
                                for s in d["jobs"][0]["samples"]],
     ("jobs[0].samples[0].rounds[1]", "increasing")),
    ("round-past-schedule", _set("jobs.0.samples.2.rounds.49", 5000),
     ("jobs[0].samples[2].rounds[49]", "50 runs")),
    ("more-values-than-runs", _set("jobs.0.timing.runs", 10),
     ("jobs[0].samples[0]", "10 runs")),
    ("negative-round", _set("jobs.0.samples.2.rounds.0", -1), ("jobs[0].samples[2].rounds[0]",)),
    ("position-huge", _set("jobs.0.samples.2.positions", [*range(49), 10**30]),
     ("jobs[0].samples[2].positions[49]", "processes")),
    ("runs-huge", _set("jobs.0.timing.runs", 10**30), ("jobs[0].timing.runs",)),
    ("positions-length", _set("jobs.0.samples.2.positions", [1, 2]),
     ("jobs[0].samples[2].positions",)),
    ("threshold-huge", _set("gate.threshold_pct", 1e9), ("gate.threshold_pct",)),
    ("confidence-low", _set("gate.confidence", 0.1), ("gate.confidence",)),
    ("gate-unknown-variant", _set("gate.compare", "nobody"), ("gate.compare", "nobody")),
    ("sample-unknown-variant", _set("jobs.0.samples.2.variant", "ghost"),
     ("jobs[0].samples[2].variant",)),
    ("duplicate-samples", lambda d: d["jobs"][0]["samples"].append(
        copy.deepcopy(d["jobs"][0]["samples"][PR])), ("jobs[0].samples[3]", "twice")),
    ("config-edited", _set("config.title", "another config"), ("config_digest",)),
    ("cell-not-in-matrix", _set("jobs.0.cell", "python=3.99"), ("jobs[0].cell",)),
    ("matrix-huge", lambda d: _forge_config(d, {"matrix": {
        f"a{i}": [str(v) for v in range(32)] for i in range(20)}}), ("config.matrix", "cells")),
    ("matrix-shape", lambda d: _forge_config(d, {"matrix": {"python": 5}}),
     ("config.matrix.python",)),
    # a look's alpha sets the bootstrap's resamples: 1e-12 asked for trillions (a hang)
    ("look-alpha-tiny", _set("jobs.0.timing.sequential", {
        "rule": "r", "alpha": 0.05, "batch": 10, "max_runs": 50, "max_seconds": 60.0,
        "planned": [50], "planned_alpha": [0.05], "stopped": "budget reached: max_runs",
        "looks": [{"runs": 50, "seconds": 1.0, "alpha": 1e-12, "results": []}]}),
     ("jobs[0].timing.sequential.looks[0].alpha",)),
    ("sweep-negative", _set("jobs.0.sweeps", [{
        "variant": "main", "workload": "import", "quantity": "pth_files", "position": "end",
        "import_lines": False, "levels": [0, 10, 20], "values": [[0.05], [-1.0], [0.07]]}]),
     ("jobs[0].sweeps[0].values[1][0]",)),
    ("sweep-levels", _set("jobs.0.sweeps", [{
        "variant": "main", "workload": "import", "quantity": "pth_files", "position": "end",
        "import_lines": False, "levels": [0, 10], "values": [[0.05], [0.06], [0.07]]}]),
     ("jobs[0].sweeps[0].values",)),
]


@pytest.mark.parametrize(("name", "change", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_analyse_refuses_a_hostile_record(name: str, change: Callable[[dict[str, Any]], None],
                                          words: tuple[str, ...], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = forged(tmp_path, change)
    refused(["analyse", str(path), "--quiet"], capsys, str(path), *words)
    assert not (path.parent / "report.json").exists()  # nothing analysed, nothing written


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_with_file_and_field(
        token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(RECORD).replace('"values": [0.0629179', f'"values": [{token}', 1)
    assert token in text
    path = forged(tmp_path, lambda d: None, text=text)
    line = refused(["analyse", str(path), "--quiet"], capsys, str(path))
    assert "ValueError" not in line
    line = refused(["merge", str(path), "--out", str(tmp_path / "m"), "--quiet"], capsys,
                   str(path))
    assert not (tmp_path / "m").exists()


def test_threshold_infinity_in_a_record_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(RECORD).replace('"threshold_pct": 5.0', '"threshold_pct": Infinity')
    path = forged(tmp_path, lambda d: None, text=text)
    refused(["analyse", str(path), "--quiet"], capsys, str(path), "Infinity")


def test_deep_nesting_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    text = json.dumps(RECORD).replace('"importtime": {', f'"deep": {deep}, "importtime": {{', 1)
    path = forged(tmp_path, lambda d: None, text=text)
    refused(["analyse", str(path), "--quiet"], capsys, str(path), "nested")
    shallow = "[" * 300 + "]" * 300  # parses, but deeper than any record
    path = forged(tmp_path, lambda d: None, name="m2.json",
                  text=json.dumps(RECORD).replace('"title": "rich start-up"',
                                                  f'"title": "rich start-up", "x": {shallow}', 1))
    refused(["analyse", str(path), "--quiet"], capsys, str(path), "nested")


def test_merge_refuses_a_hostile_part(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = forged(tmp_path / "a", lambda d: None)
    bad = forged(tmp_path / "b", lambda d: (pr_values([0.0] * 50)(d), _rename_job(d, "b")))
    refused(["merge", str(good.parent), str(bad.parent), "--out", str(tmp_path / "o"),
             "--quiet"], capsys, str(bad), "jobs[0].samples[2].values[0]")
    assert not (tmp_path / "o").exists()


def _rename_job(data: dict[str, Any], job_id: str) -> None:
    data["jobs"][0]["id"] = job_id
    for s in data["jobs"][0]["samples"]:
        s["job"] = job_id


def test_merge_recomputes_the_config_digest(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A part that ran another config but quotes the first part's digest is refused."""
    good = forged(tmp_path / "a", lambda d: None)

    def other_config(data: dict[str, Any]) -> None:
        _rename_job(data, "b")
        data["config"]["gate"] = {"threshold_pct": 50}  # the digest still says the old one
    bad = forged(tmp_path / "b", other_config)
    refused(["merge", str(good.parent), str(bad.parent), "--out", str(tmp_path / "o"),
             "--quiet"], capsys, str(bad), "config_digest")


def test_oversized_part_is_refused_before_it_is_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import validate

    path = forged(tmp_path, lambda d: None)
    monkeypatch.setattr(validate, "MAX_RECORD_BYTES", path.stat().st_size - 1)
    refused(["merge", str(path), "--out", str(tmp_path / "o"), "--quiet"], capsys, str(path),
            "MB")
    refused(["analyse", str(path), "--quiet"], capsys, str(path), "MB")


def test_too_many_samples_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import validate

    path = forged(tmp_path, lambda d: None)
    monkeypatch.setattr(validate, "MAX_RECORD_VALUES", 100)
    refused(["merge", str(path), "--out", str(tmp_path / "o"), "--quiet"], capsys, str(path),
            "samples", "100")


def test_history_add_refuses_negative_samples_and_stores_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    path = forged(tmp_path, pr_values([-5.0] * 50))
    refused(["history", "add", str(path), "--store", str(store), "--commit", "a" * 40], capsys,
            str(path), "jobs[0].samples[2].values[0]")
    report = forged(tmp_path / "r", _set("samples.2.values.0", -5.0), base=REPORT,
                    name="report.json")
    refused(["history", "add", str(report), "--store", str(store), "--commit", "a" * 40],
            capsys, str(report), "samples[2].values[0]")
    assert not store.exists()


def test_compare_refuses_a_hostile_record(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    good = forged(tmp_path / "a", lambda d: None)
    bad = forged(tmp_path / "b", _set("jobs.0.samples.1.values.3", 0.0))
    refused(["compare", str(good), str(bad)], capsys, str(bad), "values[3]")
    report = forged(tmp_path / "r", _set("samples.1.rounds", [0] * 50), base=REPORT,
                    name="report.json")
    refused(["compare", str(report), str(good)], capsys, str(report), "samples[1].rounds")


@pytest.mark.parametrize(("change", "words"), [
    (_set("samples.2.values.0", -1.0), ("samples[2].values[0]",)),
    (_set("samples.0.rounds", [3] * 50), ("samples[0].rounds[1]",)),
    (_set("gate_config.threshold_pct", 1e9), ("gate_config.threshold_pct",)),
    (_set("summaries.pr.import/wall.median", -1.0), ("summaries",)),
    (_set("comparisons.0.ratio", -2.0), ("comparisons[0].ratio",)),
    (_set("samples.2.variant", ["pr"]), ("samples[2].variant",)),
    (_set("samples.2.scenario", {"a": 1}), ("samples[2].scenario",)),
])
def test_render_refuses_a_hostile_report(change: Callable[[dict[str, Any]], None],
                                         words: tuple[str, ...], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = forged(tmp_path, change, base=REPORT, name="report.json")
    refused(["render", str(path)], capsys, str(path), *words)


def test_render_refuses_non_finite_numbers(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(REPORT)
    text = text.replace('"ratio": ', '"ratio": NaN, "x": ', 1)
    path = forged(tmp_path, lambda d: None, base=REPORT, name="report.json", text=text)
    refused(["render", str(path)], capsys, str(path), "NaN")


def test_the_golden_record_and_report_still_pass(tmp_path: Path) -> None:
    path = forged(tmp_path, lambda d: None)
    assert main(["analyse", str(path), "--quiet"]) == 0
    assert main(["render", str(path.parent / "report.json")]) == 0
    record = measurements.load(path)
    assert record.jobs[0].samples[PR].values[0] == RECORD["jobs"][0]["samples"][PR]["values"][0]


# --- properties: whatever a PR's job writes, analyse gives exit 2 or an honest verdict ---

_NUMBER = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64),
                    st.integers(min_value=-10**30, max_value=10**30),
                    st.sampled_from([0.0, -0.0, 1e-320, 1e308, 5e-324, -1.0]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(values=st.lists(_NUMBER, min_size=0, max_size=60),
       rounds=st.one_of(st.none(), st.lists(st.integers(-3, 200), min_size=0, max_size=60)))
def test_hostile_samples_never_crash_or_pass_garbage(
        values: list[float], rounds: list[int] | None,
        capsys: pytest.CaptureFixture[str]) -> None:
    def change(data: dict[str, Any]) -> None:
        sample = data["jobs"][0]["samples"][PR]
        sample["values"] = values
        sample["rounds"] = rounds if rounds is not None else list(range(len(values)))
        sample["exit_codes"] = [0] * len(values)

    with tempfile.TemporaryDirectory() as scratch:
        path = forged(Path(scratch), change)
        capsys.readouterr()
        code = main(["analyse", str(path), "--quiet"])
        err = capsys.readouterr().err
        assert "internal error" not in err and "Traceback" not in err, err
        sane = (all(isinstance(v, (int, float)) and math.isfinite(v) and 0 < v <= 86_400
                    for v in values)
                and (rounds is None or (all(0 <= r < 50 for r in rounds)
                                        and all(a < b for a, b in itertools.pairwise(rounds))))
                and len(values) == (len(rounds) if rounds is not None else len(values)))
        if not sane:
            assert code == 2, (values, rounds)
            assert str(path) in err
            return
        assert code in (0, 1, 2)
        report = json.loads((path.parent / "report.json").read_text())
        headline = report["gate"]["headline"]
        assert "nan" not in headline and "inf" not in headline, headline


# --- the history store's lines --------------------------------------------------------------

def _store(tmp_path: Path) -> tuple[Path, Path]:
    """A store holding the golden run; its runs.jsonl."""
    record = forged(tmp_path / "rec", lambda d: None)
    store = tmp_path / "store"
    assert main(["history", "add", str(record), "--store", str(store), "--commit",
                 "a" * 40]) == 0
    return store, store / "runs.jsonl"


@pytest.mark.parametrize("where", ["../outside.jsonl", "/OUTSIDE", "samples/../../outside.jsonl"])
def test_a_store_line_cannot_point_its_samples_outside_the_store(
        where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, runs = _store(tmp_path)
    outside = tmp_path / "outside.jsonl"
    run_id = json.loads(runs.read_text())["run_id"]
    outside.write_text((store / "samples" / f"{run_id}.jsonl").read_text())
    target = str(outside) if where == "/OUTSIDE" else where
    line = json.loads(runs.read_text())
    line["samples"] = target
    runs.write_text(json.dumps(line) + "\n")
    other = forged(tmp_path / "b", lambda d: None)
    capsys.readouterr()
    assert main(["compare", f"{store}@latest", str(other)]) == 2  # read, it would compare: 0
    err = capsys.readouterr().err
    assert f"{runs}:1: field 'samples'" in err and "internal error" not in err, err


def test_a_symlink_out_of_the_store_is_not_followed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, runs = _store(tmp_path)
    run_id = json.loads(runs.read_text())["run_id"]
    samples = store / "samples" / f"{run_id}.jsonl"
    outside = tmp_path / "secret.jsonl"
    outside.write_text(samples.read_text())
    samples.unlink()
    samples.symlink_to(outside)
    other = forged(tmp_path / "b", lambda d: None)
    refused(["compare", f"{store}@latest", str(other)], capsys, "outside the store")


def test_negative_samples_in_the_store_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, runs = _store(tmp_path)
    run_id = json.loads(runs.read_text())["run_id"]
    samples = store / "samples" / f"{run_id}.jsonl"
    lines = [json.loads(t) for t in samples.read_text().splitlines()]
    lines[2]["values"][0] = -5.0
    samples.write_text("".join(json.dumps(x) + "\n" for x in lines))
    other = forged(tmp_path / "b", lambda d: None)
    refused(["compare", f"{store}@latest", str(other)], capsys, f"{samples}:3", "values[0]")


@pytest.mark.parametrize(("field", "value"), [("median", -5.0), ("ci_low", 0.0),
                                              ("n", 0), ("stddev", -1.0)])
def test_a_bad_point_is_skipped_and_named(field: str, value: float, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    store, _ = _store(tmp_path)
    points = store / "points" / "import.jsonl"
    lines = [json.loads(t) for t in points.read_text().splitlines()]
    lines[0][field] = value
    points.write_text("".join(json.dumps(x) + "\n" for x in lines))
    capsys.readouterr()
    assert main(["history", "show", "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert f"{points}:1" in err and field in err, err


def test_a_store_line_with_nan_or_deep_nesting_is_a_bad_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, _ = _store(tmp_path)
    points = store / "points" / "import.jsonl"
    text = points.read_text().splitlines()
    text[0] = text[0].replace('"median": ', '"median": NaN, "x": ', 1)
    text[1] = text[1][:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    points.write_text("\n".join(text) + "\n")
    capsys.readouterr()
    assert main(["history", "show", "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert f"{points}:1" in err and f"{points}:2" in err and "internal error" not in err, err


def test_merge_refuses_parts_that_together_exceed_a_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each part within bounds, but the merged record would be one the door refuses (and
    analyse of merged/measurements.json would refuse it later): refused up front."""
    from harness import validate

    a = forged(tmp_path / "a", lambda d: None)
    b = forged(tmp_path / "b", lambda d: _rename_job(d, "b"))
    monkeypatch.setattr(validate, "MAX_RECORD_VALUES", 200)  # one part: 150 values
    refused(["merge", str(a.parent), str(b.parent), "--out", str(tmp_path / "o"), "--quiet"],
            capsys, "300", "200")
    monkeypatch.setattr(validate, "MAX_RECORD_VALUES", 2_000_000)
    monkeypatch.setattr(validate, "MAX_RECORD_BYTES", a.stat().st_size + 10)
    refused(["merge", str(a.parent), str(b.parent), "--out", str(tmp_path / "o"), "--quiet"],
            capsys, "MB", "together")
    assert not (tmp_path / "o").exists()


_JSON = st.recursive(
    st.none() | st.booleans() | _NUMBER | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(field=st.sampled_from([
    "samples.2.values", "samples.2.rounds", "samples.2.values.0", "samples.2.rounds.0",
    "samples.2", "gate_config.threshold_pct", "gate_config.confidence", "gate_config",
    "comparisons.0.ratio", "comparisons.0.ci_low", "comparisons.0", "summaries.pr",
    "gate.exit_code", "variants", "workloads", "timing", "cells"]), value=_JSON)
def test_render_of_a_hostile_report_is_a_comment_or_one_line(
        field: str, value: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = forged(Path(scratch), _set(field, value), base=REPORT, name="report.json")
        capsys.readouterr()
        code = main(["render", str(path)])
        captured = capsys.readouterr()
        assert code in (0, 2)
        assert "internal error" not in captured.err and "Traceback" not in captured.err
        if code == 2:
            assert len(captured.err.strip().splitlines()) == 1 and str(path) in captured.err


@settings(max_examples=200, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(
    ["n", "median", "ci_low", "ci_high", "mean", "stddev", "min", "max", "unit", "run_id",
     "v", "samples", "commit"]), _JSON, max_size=4))
def test_a_hostile_store_line_is_a_record_or_a_named_problem(changes: dict[str, Any]) -> None:
    from harness.history.records import Point, RunRecord, parse_line

    point = {"v": 1, "run_id": "r", "commit": "c", "date": "2026-01-01", "variant": "pr",
             "role": "pr", "workload": "w", "metric": "wall", "scenario": "default",
             "unit": "s", "n": 5, "median": 0.05, "ci_low": 0.04, "ci_high": 0.06,
             "mean": 0.05, "stddev": 0.001, "min": 0.04, "max": 0.07}
    run = {"v": 1, "run_id": "r", "commit": "c", "date": "d", "measured": "m",
           "samples": "samples/r.jsonl"}
    for kind, line in ((Point, point), (RunRecord, run)):
        text = json.dumps({**line, **changes})
        try:
            record = parse_line(kind, text)
        except ValueError:
            continue
        if isinstance(record, Point):
            assert 0 < record.median and 0 < record.ci_low <= record.ci_high and record.n >= 1
        else:
            assert isinstance(record, RunRecord)
            assert not record.samples or (record.samples.startswith("samples/")
                                          and ".." not in record.samples)


def test_the_printed_record_schema_has_the_config_gate_limits() -> None:
    from harness.validate import policy_schema

    printed = measurements.SCHEMA["properties"]["gate"]["properties"]
    for key in ("threshold_pct", "confidence"):
        assert printed[key] == policy_schema()["properties"][key]


@pytest.mark.parametrize("option", [["--threshold", "nan"], ["--threshold", "inf"],
                                    ["--threshold", "-5"], ["--threshold", "1e308"],
                                    ["--confidence", "2"], ["--confidence", "nan"]])
def test_compare_policy_options_have_the_config_limits(
        option: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = forged(tmp_path / "a", lambda d: None)
    refused(["compare", str(a), str(a), *option], capsys, option[0])


def test_time_threshold_nan_is_refused_before_timing(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    import sys

    refused(["time", "--python", sys.executable, "--python", sys.executable,
             "--threshold-pct", "nan", "--", "-c", "pass"], capsys, "gate.threshold_pct")


@pytest.mark.parametrize("gate", ["{threshold_pct: .nan}", "{confidence: .nan}"])
def test_a_config_gate_of_nan_is_refused(gate: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    config = tmp_path / "c.yaml"
    python = sys.executable
    config.write_text(f"variants:\n  - {{name: a, role: main, source: {{python: {python}}}}}\n"
                      f"  - {{name: b, role: pr, source: {{python: {python}}}}}\n"
                      "workloads: [{name: w, command: ['{python}', -c, pass]}]\n"
                      f"gate: {gate}\n")
    refused(["run", "--config", str(config), "--out", str(tmp_path / "o"), "--quiet"], capsys,
            str(config), "gate.")
