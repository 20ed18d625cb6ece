"""CLI conventions: quiet broken pipes, `render` pointing a measurement record to `analyse`,
final paths printed, lock files removed, and `time` rows a reader can tell apart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from harness import measurements, outputs
from harness.cli import main, short_labels
from tests.sample_measurements import sample_measurements

REPO = Path(__file__).resolve().parent.parent


def test_a_reader_that_stops_early_gets_no_error_and_no_exit_2() -> None:
    """`startup-harness schema | head -1`: the pipe closes before the schema is written."""
    child = subprocess.Popen([sys.executable, "-m", "harness", "schema"], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # `head` read its line and left
    with child.stderr:
        err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141  # 128 + SIGPIPE, as a shell reports it
    assert err == ""


def test_render_of_a_measurement_record_points_to_analyse(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / measurements.FILE_NAME
    path.write_text(measurements.dumps(sample_measurements()), encoding="utf-8")
    assert main(["render", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "a measurement record, not a report" in err and f"analyse {path}" in err


def test_export_inside_out_is_named_by_its_final_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m" / measurements.FILE_NAME
    path.parent.mkdir()
    path.write_text(measurements.dumps(sample_measurements()), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["analyse", str(path), "--out", str(out), "--quiet",
                 "--export", f"csv={out / 'samples.csv'}"])
    assert code in (0, 1)
    assert (out / "samples.csv").is_file()
    said = [line for line in capsys.readouterr().err.splitlines() if "exported" in line]
    assert said == [f"exported {out / 'samples.csv'}"]
    assert ".staging-" not in said[0]


def test_the_lock_file_is_removed_when_the_run_ends(tmp_path: Path) -> None:
    out = tmp_path / "out"
    lock = tmp_path / ".out.lock"
    with outputs.claim(out) as staging:
        assert lock.read_text().strip() == str(os.getpid())
        (staging / "report.json").write_text("{}")
    assert not lock.exists()
    with pytest.raises(RuntimeError), outputs.claim(out):
        raise RuntimeError("the run failed")
    assert not lock.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_second_claim_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    from harness.errors import HarnessError

    out = tmp_path / "out"
    with outputs.claim(out), pytest.raises(HarnessError, match="another run"), \
            outputs.claim(out):
        pass
    assert not (tmp_path / ".out.lock").exists()


@pytest.mark.parametrize(("paths", "labels"), [
    (["/a/long/project/envs/venv-3.11/bin/python", "/a/long/project/envs/venv-3.12/bin/python"],
     ["venv-3.11", "venv-3.12"]),
    (["/usr/bin/python3.11", "/usr/bin/python3.12"], ["python3.11", "python3.12"]),
    (["/x/bin/python", "/x/bin/python"], ["python #1", "python #2"]),
    (["/x/bin/python", "/y/z/bin/python"], ["x", "y/z"]),
    (["/opt/a/b/c/d/e/f/g/venv/bin/python"], ["venv/bin/python"]),
    (["/p/" + "a" * 40 + "1/bin/python", "/p/" + "a" * 40 + "2/bin/python"],
     ["a" * 13 + "…" + "a" * 13 + "1", "a" * 13 + "…" + "a" * 13 + "2"]),
])
def test_short_labels_tell_interpreters_apart(paths: list[str], labels: list[str]) -> None:
    assert short_labels(paths) == labels


@pytest.fixture(scope="module")
def two_long_venvs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("t") / "some" / "very" / "long" / "path" / "to" / "the" \
        / "project" / "environments"
    pythons = []
    for name in ("venv-one", "venv-two"):
        venv.EnvBuilder(with_pip=False, symlinks=True).create(root / name)
        pythons.append(str(root / name / "bin" / "python"))
    return pythons


def test_time_rows_are_distinct_at_80_columns_and_show_no_build(
        two_long_venvs: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    a, b = two_long_venvs
    code = main(["time", "--python", a, "--python", b, "--runs", "6", "--warmup", "0",
                 "--no-gate", "--title", "two venvs", "--", "-S", "-c", "pass"])
    assert code == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == "two venvs"
    header = next(line for line in lines if line.startswith("Version"))
    assert "Build" not in header and "vs main" not in header and "vs venv-one" in header
    start = lines.index(header)
    rows = [line.split()[0] for line in lines[start + 2:start + 4]]
    assert rows == ["venv-one", "venv-two"]  # the start-up table's two rows
    assert all(len(line) <= 80 for line in lines)


def test_time_json_prints_the_report_and_out_keeps_the_record(
        two_long_venvs: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_long_venvs
    out = tmp_path / "out"
    code = main(["time", "--python", a, "--python", b, "--runs", "6", "--warmup", "0",
                 "--no-gate", "--json", "--out", str(out), "--", "-S", "-c", "pass"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert [v["label"] for v in report["variants"]] == ["venv-one", "venv-two"]
    assert json.loads((out / "report.json").read_text()) == report
    assert (out / measurements.FILE_NAME).is_file() and (out / "raw").is_dir()
    assert not (tmp_path / ".out.lock").exists()


def test_the_readme_promises_only_platforms_the_code_runs_on() -> None:
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    runners = re.findall(r"os: '(\[.*?\])'", readme)
    assert runners, "the README's matrix example is gone"
    for listed in runners:
        assert all(name.startswith("ubuntu-") for name in json.loads(listed)), listed
    assert "## Platforms" in readme and "POSIX" in readme
