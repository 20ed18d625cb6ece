"""analyse(): a saved measurement record in, the same report out; re-judging starts nothing."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from harness import measurements, report
from harness.analyse.analysis import analyse, pooled
from harness.cli import main
from harness.measurements import Job
from harness.render import markdown, terminal
from tests.sample_measurements import MISSING, sample_measurements
from tests.test_render import GOLDEN, check_golden

RECORD = GOLDEN / "measurements-default.json"


def test_saved_record_is_the_sample() -> None:
    text = measurements.dumps(sample_measurements())
    if os.environ.get("UPDATE_GOLDEN") == "1":
        RECORD.write_text(text)
    assert RECORD.read_text() == text
    assert measurements.loads(text) == sample_measurements()


def test_default_path_golden() -> None:
    """Spawn timer, interleaved, paired, 5 %: the comment, the table and the JSON report."""
    result = analyse(measurements.load(RECORD))
    assert result.gate.exit_code == 0
    (gated,) = result.gate.comparisons
    assert gated.statistic == "paired" and gated.verdict == "no change"
    assert 1.03 < gated.ratio < 1.04 and gated.n_pairs == 50
    check_golden("comment-default.md", markdown.render(result))
    check_golden("terminal-default.txt", terminal.render(result))
    check_golden("report-default.json", report.dumps(result))


def test_analyse_is_deterministic_and_points_at_its_record() -> None:
    record = measurements.load(RECORD)
    first, second = analyse(record), analyse(record)
    assert report.dumps(first) == report.dumps(second)
    assert first.created == record.created
    assert first.measurements == {"file": "measurements.json",
                                  "digest": measurements.digest(record)}
    assert all(s.job == "runner-1" for s in first.samples)


def test_cli_analyse_reproduces_and_rejudges_without_timing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert not Path(MISSING).exists()  # the record's interpreters: running one would fail
    out = tmp_path / "same"
    assert main(["analyse", str(RECORD), "--out", str(out), "--quiet"]) == 0
    assert (out / "report.json").read_text() == (GOLDEN / "report-default.json").read_text()
    assert (out / "comment.md").read_text() == (GOLDEN / "comment-default.md").read_text()
    assert (out / "measurements.json").read_bytes() == RECORD.read_bytes()

    strict = tmp_path / "strict"
    assert main(["analyse", str(RECORD), "--threshold-pct", "2", "--out", str(strict),
                 "--quiet"]) == 1
    data = json.loads((strict / "report.json").read_text())
    assert data["gate"]["status"] == "regression"
    assert data["gate_config"]["threshold_pct"] == 2.0
    assert (strict / "comment.md").read_text().splitlines()[-1].startswith("❌ Regression")
    assert data["samples"] == json.loads((out / "report.json").read_text())["samples"]

    assert main(["analyse", str(RECORD), "--statistic", "median", "--out",
                 str(tmp_path / "median"), "--quiet"]) == 0
    data = json.loads((tmp_path / "median" / "report.json").read_text())
    assert data["gate"]["comparisons"][0]["statistic"] == "median"
    capsys.readouterr()


def test_schema_command_prints_the_record_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--measurements"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == measurements.SCHEMA
    import jsonschema

    jsonschema.validate(json.loads(RECORD.read_text()), schema)


def test_pairing_stays_within_a_job() -> None:
    """Two jobs with rounds 0..49 each: pooled, their rounds never coincide, so a round pairs
    values of one job only (100 pairs, not 50 overwritten ones)."""
    record = sample_measurements()
    (job,) = record.jobs
    other = Job(id="runner-2", machine=job.machine, timing=job.timing, builds=job.builds,
                samples=tuple(dataclasses.replace(s, job="runner-2",
                                                  values=tuple(v * 1.1 for v in s.values))
                              for s in job.samples))
    two = dataclasses.replace(record, jobs=(job, other))
    pooled_samples = {s.variant: s for s in pooled(two.jobs)}
    assert pooled_samples["pr"].rounds == tuple(range(100))
    assert pooled_samples["pr"].job == "runner-1+runner-2"
    result = analyse(two)
    (gated,) = result.gate.comparisons
    assert gated.n_pairs == 100
    assert 1.03 < gated.ratio < 1.04  # runner-2 is 10 % slower for everyone: cancels in pairs
    assert {s.job for s in result.samples} == {"runner-1", "runner-2"}


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


def _broken(data: dict) -> dict:  # type: ignore[type-arg]
    data["jobs"][0]["samples"][0]["values"] = data["jobs"][0]["samples"][0]["values"][:-1]
    return data


def _foreign_job(data: dict) -> dict:  # type: ignore[type-arg]
    data["jobs"][0]["samples"][1]["job"] = "elsewhere"
    return data


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: "{not json", "not valid JSON"),
    (lambda d: {"hello": 1}, "not a startup-harness measurement record"),
    (lambda d: {**d, "schema_version": 99}, "newer than this harness"),
    (lambda d: {**d, "jobs": "x"}, "jobs: 'x' is not of type 'array'"),
    (_broken, "jobs[0].samples[0]: 49 values but 50 rounds"),
    (_foreign_job, "jobs[0].samples[1].job: 'elsewhere' is not its job 'runner-1'"),
])
def test_bad_record_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       edit, message: str) -> None:  # type: ignore[no-untyped-def]
    data = edit(json.loads(RECORD.read_text()))
    path = tmp_path / "m.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    assert main(["analyse", str(path), "--out", str(tmp_path / "o")]) == 2
    line = one_error_line(capsys)
    assert str(path) in line and message in line and "hint:" in line
    assert not (tmp_path / "o").exists()


def test_bad_threshold_is_one_line_exit_2(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyse", str(RECORD), "--threshold-pct", "0", "--out",
                 str(tmp_path / "o")]) == 2
    assert "--threshold-pct 0" in one_error_line(capsys)


def test_missing_file_is_one_line_exit_2(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyse", str(tmp_path / "nope.json")]) == 2
    assert "nope.json: cannot read measurements" in one_error_line(capsys)


def test_a_failing_workload_is_one_error_not_one_per_metric() -> None:
    """The spawn timer records wall and CPU time of the same processes: a failing run made the
    same error twice (printed twice on stderr, listed twice in the comment)."""
    record = sample_measurements()
    job = record.jobs[0]
    failing = []
    for s in job.samples:
        codes = (0,) * (len(s.values) - 1) + (3,)
        failing += [dataclasses.replace(s, exit_codes=codes),
                    dataclasses.replace(s, metric="cpu", exit_codes=codes)]
    job = dataclasses.replace(job, samples=tuple(failing))
    report = analyse(dataclasses.replace(record, jobs=(job,)))
    assert len(report.errors) == 3, report.errors
    assert len(set(report.gate.errors)) == len(report.gate.errors) == 3
