"""The CLI: one-line errors with exit 2, render, schema, version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import __version__
from harness.cli import main
from tests.conftest import write_config
from tests.sample_report import sample_report


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


def test_bad_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("variants: []\nworkloads: []\n")
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    line = one_error_line(capsys)
    assert "bad.yaml: " in line and "should be non-empty" in line and "hint:" in line
    assert not (tmp_path / "o").exists()


def test_unknown_builder_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "variants:\n"
        "  - {name: a, role: main, source: {requirement: six}, build: {builder: bazel9}}\n"
        "  - {name: b, role: pr, source: {requirement: six}}\n"
        "workloads: [{name: w, command: ['{python}', '-c', 'pass']}]\n")
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    assert "unknown builder 'bazel9'" in one_error_line(capsys)


def test_too_few_runs_is_refused_before_any_build(
        tiny_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--runs 5`` with a +460 % PR: never a green check; refused up front, exit 2."""
    config = write_config(tmp_path / "c.yaml", tiny_repo, {"main": "v2", "pr": "v3"})
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "o"),
                 "--runs", "5"]) == 2
    line = one_error_line(capsys)
    assert "--runs: 5 runs are too few" in line and "at least 6" in line
    assert not (tmp_path / "o").exists()


def test_runs_auto_needs_the_spawn_timer(tiny_repo: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "c.yaml", tiny_repo, {"main": "v2", "pr": "v3"},
                          extra="  timer: hyperfine")
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "o"),
                 "--runs", "auto"]) == 2
    assert "runs: auto needs the spawn timer" in one_error_line(capsys)
    with pytest.raises(SystemExit):
        main(["run", "--config", str(config), "--runs", "many"])


def test_render_markdown_and_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness import report

    path = tmp_path / "report.json"
    report.write_atomic(path, report.dumps(sample_report()))
    assert main(["render", str(path)]) == 0
    assert capsys.readouterr().out.startswith("<!-- startup-harness:comment -->")
    assert main(["render", str(path), "--format", "terminal"]) == 0
    assert "[PASS]" in capsys.readouterr().out


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"schema_version": 99}', "newer than this harness"),
    ('{"hello": 1}', "no schema_version"),
])
def test_render_bad_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
                           message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    assert main(["render", str(path)]) == 2
    assert message in one_error_line(capsys)


def test_schema_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "startup-harness config"
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_probe_command(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    assert main(["probe", "--python", sys.executable]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["entries"] and data["version"]


def test_probe_missing_interpreter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--python", "/nonexistent/python"]) == 2
    assert "/nonexistent/python" in one_error_line(capsys)


def test_building_the_parser_stays_light() -> None:
    """`startup-harness --version` is the dogfooded start-up: the parser imports no heavy
    module (dataclasses, urllib.request, yaml, numpy...)."""
    import subprocess
    import sys

    code = ("import sys; from harness.cli import _parser; _parser(); "
            "print(','.join(m for m in ('dataclasses', 'urllib.request', 'yaml', 'numpy', "
            "'scipy', 'tabulate') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == ""


def test_non_empty_work_dir_is_refused(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The run removes its work dir afterwards, so it must never be handed one with content."""
    config = tmp_path / "c.yaml"
    config.write_text(
        "variants:\n"
        "  - {name: a, role: main, source: {requirement: six}}\n"
        "  - {name: b, role: pr, source: {requirement: six}}\n"
        "workloads: [{name: w, command: ['{python}', '-c', 'pass']}]\n")
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "file.txt").write_text("mine")
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "o"),
                 "--work-dir", str(keep)]) == 2
    assert "exists and is not empty" in one_error_line(capsys)
    assert (keep / "file.txt").read_text() == "mine"


def test_schema_stays_light() -> None:
    """`startup-harness schema`, `render` and `--help` never import numpy, scipy or jsonschema
    (issue 8: schema in ≤ 0.1 s)."""
    import subprocess
    import sys

    for args in (["schema"], ["schema", "--measurements"], ["--help"], ["render", "--help"],
                 ["comment", "--help"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "harness", *args],
                              capture_output=True, text=True)
        loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
        heavy = {m for m in loaded if m.split(".")[0] in ("numpy", "scipy", "pandas",
                                                          "jsonschema")}
        assert heavy == set(), (args, sorted(heavy)[:5])


def test_measuring_imports_no_numpy_before_analysis() -> None:
    """`run` spends its time measuring: the pipeline, the timers and the orders load without
    numpy, scipy or pandas; they come in with the analysis."""
    import subprocess
    import sys

    code = ("import sys; import harness.pipeline, harness.measure.timers, "
            "harness.measure.orders, harness.measure.timing; "
            "print(','.join(m for m in ('numpy', 'scipy', 'pandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == ""


def test_internal_error_exits_2_with_one_line_and_a_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception is never exit 1 (the regression code): exit 2, one line, and
    the traceback in OUT/error.log."""
    from harness import cli

    def broken(_args: object) -> int:
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(cli, "cmd_run", broken)
    out = tmp_path / "out"
    assert main(["run", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: internal error: ZeroDivisionError")
    assert str(out / "error.log") in err[0]
    assert "Traceback" in (out / "error.log").read_text()


def test_unwritable_work_dir_exits_2(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Reproduced in issue 8: a --work-dir that cannot be created exited 1."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    config = tmp_path / "c.yaml"
    config.write_text(
        "variants:\n"
        "  - {name: a, role: main, source: {python: python3}}\n"
        "  - {name: b, role: pr, source: {python: python3}}\n"
        "workloads: [{name: w, command: ['{python}', '-c', 'pass']}]\n")
    code = main(["run", "--config", str(config), "--out", str(tmp_path / "o"),
                 "--work-dir", str(blocker / "sub")])
    assert code == 2
    assert one_error_line(capsys).startswith("error:")


def test_an_internal_error_without_out_logs_to_the_cache_not_the_temp_dir(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """history add has no --out: its traceback goes to one file in the user's cache
    (overwritten, never piling up), not to a new file in the system temp dir per failure."""
    import tempfile

    from harness.history import commands

    def broken(_args: object) -> int:
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(commands, "cmd_add", broken)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for _ in range(2):
        assert main(["history", "add", "x.json", "--store", str(tmp_path / "s")]) == 2
        line = one_error_line(capsys)
        log = tmp_path / "cache" / "startup-harness" / "error.log"
        assert str(log) in line and "ZeroDivisionError" in log.read_text()
    assert list(temp.iterdir()) == []


def test_a_huge_refused_label_is_clipped_in_the_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    label = "x" * 70_000
    assert main(["time", "--python", sys.executable, "--label", label, "--runs", "3", "--",
                 "-c", "pass"]) == 2
    line = one_error_line(capsys)
    assert len(line) < 1_000, len(line)
    assert "variants[0].label" in line and "is too long" in line


@pytest.mark.parametrize("last", ["-3", "0", "x"])
def test_history_show_last_must_be_a_positive_count(
        last: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["history", "show", "--store", str(tmp_path), "--last", last])
    assert exit_info.value.code == 2
    assert "--last" in capsys.readouterr().err
