"""Matrix runs: cells judged apart, the worst cell gates, and merging the parts of a matrix
gives the same report as the run itself."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness import cells, measurements, proc
from harness.analyse.analysis import analyse
from harness.cli import main
from harness.config import parse_config
from harness.errors import HarnessError
from harness.measure.interpreters import find_interpreter
from harness.merge import merge
from harness.render import markdown, terminal
from tests.conftest import FAST, commit_package, git

#: The regression appears only on Python >= 3.12: one cell of the matrix must catch it alone.
SLOW_ON_312 = FAST + textwrap.dedent('''\
    import sys
    import time

    if sys.version_info >= (3, 12):
        _end = time.perf_counter() + 0.06
        while time.perf_counter() < _end:
            pass
''')


def _available(versions: list[str]) -> list[str]:
    env = proc.scrubbed_env()
    found = []
    for version in versions:
        try:
            find_interpreter(version, env)
        except HarnessError:
            continue
        found.append(version)
    return found


PYTHONS = _available(["3.11", "3.12", "3.13", "3.10"])[:3]


def test_cells_labels_selection_and_errors() -> None:
    config = parse_config({
        "variants": [{"name": "a", "role": "main", "source": {"requirement": "six"}},
                     {"name": "b", "role": "pr", "source": {"requirement": "six"}}],
        "workloads": [{"name": "w", "command": ["{python}", "-c", "pass"]}],
        "matrix": {"python": ["3.11", "3.12"], "os": ["linux", "mac"]}})
    # canonical labels: axes by name, whatever order the config lists them in
    assert [cells.label(c) for c in cells.expected(config)] == [
        "os=linux, python=3.11", "os=linux, python=3.12", "os=mac, python=3.11",
        "os=mac, python=3.12"]
    chosen = cells.selected(config, cells.parse_selection(["os=linux"]))
    assert [cells.label(c) for c in chosen] == ["os=linux, python=3.11", "os=linux, python=3.12"]
    with pytest.raises(HarnessError, match="a local run cannot be every os"):
        cells.selected(config, {})
    with pytest.raises(HarnessError, match=r"not a value of matrix\.python"):
        cells.selected(config, {"python": "3.9", "os": "linux"})
    with pytest.raises(HarnessError, match="expected AXIS=VALUE"):
        cells.parse_selection(["python"])


#: The README's matrix example (``python`` listed before ``os``) and the reverse order.
README_ORDER = {"python": ["3.11", "3.12"], "os": ["ubuntu-24.04", "windows-2025"]}
REVERSED = dict(reversed(list(README_ORDER.items())))


@pytest.mark.parametrize("matrix", [README_ORDER, REVERSED], ids=["readme-order", "reversed"])
def test_ci_parts_merge_whatever_the_axis_order(
        matrix: dict[str, list[str]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """One part per cell, labelled as a CI job's run labels it, merge into one report with
    every cell (a config listing python before os had every cell "missing")."""
    from tests.sample_measurements import CONFIG, sample_measurements

    raw = {**CONFIG, "matrix": matrix, "variants": [  # matrix.python builds with uv
        {**v, "source": {"requirement": "rich"}} for v in CONFIG["variants"]]}
    config = parse_config(raw)
    stored = json.loads(measurements.canonical_json(raw))  # as a run stores it: keys sorted
    record = dataclasses.replace(sample_measurements(), config=stored,
                                 config_digest=measurements.sha256_of(stored))
    for i, cell in enumerate(cells.expected(config)):
        job = dataclasses.replace(_renamed(record.jobs[0], f"job-{i}"), cell=cells.label(cell))
        part = dataclasses.replace(record, jobs=(job,), expected_cells=(job.cell,))
        path = tmp_path / "artifacts" / f"part-{i}" / "measurements.json"
        path.parent.mkdir(parents=True)
        path.write_text(measurements.dumps(part))
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "artifacts"), "--out", str(tmp_path / "m"),
                 "--quiet"]) == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "m" / "report.json").read_text())
    assert [c["cell"] for c in report["cells"]] == [
        "os=ubuntu-24.04, python=3.11", "os=ubuntu-24.04, python=3.12",
        "os=windows-2025, python=3.11", "os=windows-2025, python=3.12"]
    assert all(c["gate"]["status"] != "error" for c in report["cells"])
    comment = (tmp_path / "m" / "comment.md").read_text()
    assert "no measurements" not in comment and comment.count("<details><summary>os=") == 4


def test_a_part_labelled_in_config_order_still_meets_its_cell() -> None:
    """Records written before labels were canonical name cells in the config's axis order."""
    from tests.sample_measurements import sample_measurements

    record = sample_measurements()
    job = dataclasses.replace(record.jobs[0], cell="python=3.11, os=linux")
    report = analyse(dataclasses.replace(record, jobs=(job,),
                                         expected_cells=("os=linux, python=3.11",)))
    assert [c.cell for c in report.cells] == ["os=linux, python=3.11"]
    assert report.gate.exit_code == 0


def test_matrix_python_needs_an_interpreter_option(tmp_path: Path) -> None:
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match=r"matrix\.python: variant 'a'"):
        parse_config({
            "variants": [{"name": "a", "source": {"python": sys.executable}},
                         {"name": "b", "role": "pr", "source": {"requirement": "six"}}],
            "workloads": [{"name": "w", "command": ["{python}", "-c", "pass"]}],
            "gate": {"compare": "b", "against": "a"},
            "matrix": {"python": ["3.12"]}}, tmp_path / "c.yaml")


def test_missing_interpreter_is_one_line(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(textwrap.dedent("""\
        variants:
          - {name: a, role: main, source: {requirement: six}}
          - {name: b, role: pr, source: {requirement: six}}
        workloads: [{name: w, command: ["{python}", "-c", "pass"]}]
        matrix: {python: ["2.1"]}
        """))
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Python 2.1 found" in err[0]


@pytest.fixture(scope="module")
def matrix_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("matrix") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_package(repo, "2.0", FAST, "main")
    commit_package(repo, "3.0", SLOW_ON_312, "pr")
    return repo


def _config(tmp_path: Path, repo: Path, pythons: list[str]) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(textwrap.dedent(f"""\
        title: tinypkg across interpreters
        variants:
          - {{name: main, role: main, source: {{git: {{repo: "{repo}", ref: main}}}}}}
          - {{name: pr, role: pr, source: {{git: {{repo: "{repo}", ref: pr}}}}}}
        workloads: [{{name: import, command: ["{{python}}", "-c", "import tinypkg"]}}]
        timing: {{warmup: 1, runs: 10}}
        gate: {{threshold_pct: 25}}
        matrix: {{python: {json.dumps(pythons)}}}
        """))
    return path


@pytest.mark.slow
@pytest.mark.skipif(len(PYTHONS) < 3 and not os.environ.get("CI"),
                    reason="needs three Python versions")
def test_matrix_flags_only_the_regressed_cell_and_merge_equals_the_run(
        tmp_path: Path, matrix_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(PYTHONS) >= 3, "CI must have three interpreters"
    config = _config(tmp_path, matrix_repo, PYTHONS)
    out = tmp_path / "out"
    code = main(["run", "--config", str(config), "--out", str(out), "--quiet"])
    report = json.loads((out / "report.json").read_text())
    verdicts = {c["cell"]: c["gate"]["status"] for c in report["cells"]}
    slow = {f"python={v}" for v in PYTHONS if tuple(map(int, v.split("."))) >= (3, 12)}
    assert {c for c, status in verdicts.items() if status == "regression"} == slow, verdicts
    assert code == (1 if slow else 0)
    comment = (out / "comment.md").read_text()
    lines = comment.splitlines()
    assert lines[1].lstrip("*").startswith("❌" if slow else "✅")
    table_start = next(i for i, line in enumerate(lines) if line.startswith("| Cell"))
    assert table_start < next(i for i, line in enumerate(lines) if "<details>" in line)
    for version in PYTHONS:
        assert f"python={version}" in comment

    # Merge equals one run: the record split into one part per cell (as CI jobs upload them)
    record = measurements.load(out / "measurements.json")
    parts = []
    for i, job in enumerate(record.jobs):
        part = dataclasses.replace(record, jobs=(job,), expected_cells=(job.cell,))
        path = tmp_path / "artifacts" / f"job-{i}" / "measurements.json"
        path.parent.mkdir(parents=True)
        path.write_text(measurements.dumps(part))
        parts.append(path)
    merged_out = tmp_path / "merged"
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "artifacts"), "--out", str(merged_out),
                 "--quiet"]) == code
    assert (merged_out / "comment.md").read_text() == comment
    assert json.loads((merged_out / "report.json").read_text())["cells"] == report["cells"]

    # A missing part is an error row, not a gap
    shutil.rmtree(parts[0].parent)
    missing_out = tmp_path / "missing"
    assert main(["merge", str(tmp_path / "artifacts"), "--out", str(missing_out),
                 "--quiet"]) == 2
    text = (missing_out / "comment.md").read_text()
    assert f"python={PYTHONS[0]}" in text and "no measurements" in text
    assert "error: [python=" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(len(PYTHONS) < 2 and not os.environ.get("CI"),
                    reason="needs two Python versions")
def test_ci_style_cells_run_apart_then_merge(tmp_path: Path, matrix_repo: Path) -> None:
    """Each CI job runs one cell (--cell); merge gives one report with every cell."""
    config = _config(tmp_path, matrix_repo, PYTHONS[:2])
    for version in PYTHONS[:2]:
        assert main(["run", "--config", str(config), "--cell", f"python={version}",
                     "--out", str(tmp_path / "parts" / version), "--quiet",
                     "--job-id", f"job-{version}"]) in (0, 1)
    out = tmp_path / "merged"
    main(["merge", str(tmp_path / "parts"), "--out", str(out), "--quiet"])
    report = json.loads((out / "report.json").read_text())
    assert [c["cell"] for c in report["cells"]] == [f"python={v}" for v in PYTHONS[:2]]
    assert all(c["gate"]["status"] != "error" for c in report["cells"])


@pytest.mark.slow
@pytest.mark.skipif(len(PYTHONS) < 2 and not os.environ.get("CI"),
                    reason="needs two Python versions")
@pytest.mark.parametrize("python_first", [True, False], ids=["readme-order", "reversed"])
def test_readme_matrix_as_ci_jobs_merges_into_one_comment(
        python_first: bool, tmp_path: Path, matrix_repo: Path) -> None:
    """The README's CI matrix (python and os axes, each job `run --cell python=X,os=Y`),
    merged: one comment with every cell, whichever axis the config lists first."""
    config = _config(tmp_path, matrix_repo, PYTHONS[:2])
    axes = [f"python: {json.dumps(PYTHONS[:2])}", 'os: ["ubuntu-24.04"]']
    text = config.read_text().replace(f"matrix: {{python: {json.dumps(PYTHONS[:2])}}}",
                                      f"matrix: {{{', '.join(axes[::1 if python_first else -1])}}}")
    assert "os: " in text
    config.write_text(text)
    for version in PYTHONS[:2]:
        out = tmp_path / "artifacts" / f"startup-part-ubuntu-{version}"
        assert main(["run", "--config", str(config), "--cell", f"python={version},os=ubuntu-24.04",
                     "--out", str(out), "--quiet", "--job-id", f"job-{version}"]) in (0, 1)
    merged = tmp_path / "merged"
    assert main(["merge", str(tmp_path / "artifacts"), "--out", str(merged), "--quiet"]) in (0, 1)
    report = json.loads((merged / "report.json").read_text())
    assert [c["cell"] for c in report["cells"]] == [f"os=ubuntu-24.04, python={v}"
                                                    for v in PYTHONS[:2]]
    assert all(c["gate"]["status"] != "error" for c in report["cells"])
    comment = (merged / "comment.md").read_text()
    assert "no measurements" not in comment
    assert comment.count("<details><summary>os=ubuntu-24.04, python=") == 2


def _renamed(job: measurements.Job, new_id: str) -> measurements.Job:
    return dataclasses.replace(job, id=new_id, samples=tuple(
        dataclasses.replace(s, job=new_id) for s in job.samples))


def test_mixed_configs_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.sample_measurements import sample_measurements

    record = sample_measurements()
    other = dataclasses.replace(record, config_digest="sha256:" + "0" * 64,
                                jobs=tuple(_renamed(j, "other") for j in record.jobs))
    for name, part in (("a", record), ("b", other)):
        path = tmp_path / name / "measurements.json"
        path.parent.mkdir()
        path.write_text(measurements.dumps(part))
    assert main(["merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ran another config" in err[0]
    with pytest.raises(HarnessError, match="also in"):
        merge([record, record], ["a", "b"])


def test_matrix_renders_without_a_process() -> None:
    """The matrix comment and terminal table are pure functions of the report."""
    from tests.sample_measurements import sample_measurements

    record = sample_measurements()
    jobs = tuple(dataclasses.replace(_renamed(j, f"{j.id}-{cell}"), cell=cell)
                 for cell in ("python=3.11", "python=3.12") for j in record.jobs)
    matrix = dataclasses.replace(record, jobs=jobs,
                                 expected_cells=("python=3.11", "python=3.12", "python=3.13"))
    report = analyse(matrix)
    assert [c.cell for c in report.cells] == ["python=3.11", "python=3.12", "python=3.13"]
    assert report.cells[2].gate.status == "error" and report.gate.exit_code == 2
    text = markdown.render(report)
    assert text.count("<details><summary>python=3.1") == 3
    term = terminal.render(report, width=80)
    assert max(len(line) for line in term.splitlines()) <= 80
    assert "python=3.13" in term


def test_interpreters_are_found_by_version_and_path() -> None:
    env = proc.scrubbed_env()
    me = os.path.realpath(sys.executable)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = find_interpreter(version, env)
    done = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2])"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(tuple(sys.version_info[:2]))
    assert os.path.realpath(find_interpreter(me, env)) == os.path.realpath(
        subprocess.run([me, "-c", "import sys; print(sys.executable)"], capture_output=True,
                       text=True, check=True).stdout.strip())
    with pytest.raises(HarnessError, match="neither a path nor a version"):
        find_interpreter("three", env)


def test_merge_keeps_an_export_aimed_inside_its_out(tmp_path: Path) -> None:
    """Like run and analyse, merge writes into a staging directory swapped in at the end, so an
    export under --out must be staged with the rest, not lost in the swap."""
    from tests.sample_measurements import sample_measurements

    part = tmp_path / "parts" / "a" / "measurements.json"
    part.parent.mkdir(parents=True)
    part.write_text(measurements.dumps(sample_measurements()))
    out = tmp_path / "merged"
    assert main(["merge", str(tmp_path / "parts"), "--out", str(out), "--quiet",
                 "--export", f"csv={out / 'samples.csv'}"]) == 0
    assert (out / "samples.csv").read_text().count("\n") > 1
    assert (out / "comment.md").exists()


def test_merge_recomputes_digests_of_parts_in_memory() -> None:
    """merge() itself never trusts a quoted digest: parts built in memory (no door) with
    another config but the same quoted digest are refused, and so is a differing gate."""
    from tests.sample_measurements import sample_measurements

    record = sample_measurements()
    other_config = {**record.config, "gate": {"threshold_pct": 50}}
    forged = dataclasses.replace(record, config=other_config,
                                 jobs=tuple(_renamed(j, "other") for j in record.jobs))
    with pytest.raises(HarnessError, match="config_digest does not match"):
        merge([record, forged], ["a", "b"])
    honest = dataclasses.replace(forged, config_digest=measurements.sha256_of(other_config))
    with pytest.raises(HarnessError, match="ran another config"):
        merge([record, honest], ["a", "b"])
    regated = dataclasses.replace(record, gate=dataclasses.replace(record.gate,
                                                                   threshold_pct=50.0),
                                  jobs=forged.jobs)
    with pytest.raises(HarnessError, match="gate differ"):
        merge([record, regated], ["a", "b"])
