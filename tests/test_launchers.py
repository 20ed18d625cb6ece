"""Inspection sees the program behind its launcher: launchers written here mimic the three
real designs (Bazel's native ``#!python`` stub that sets PYTHONPATH and execv's another
interpreter; rules_py's bash launcher that execs a venv's interpreter with ``-B -s -I``; a bash
launcher that runs Python as a child). In each, the PR adds a slow import, which the
import-time diff must name and explain, and a duplicate distribution that only the program's
sys.path reaches must be found."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import HarnessError
from harness.inspection import importtime, launcher, runner
from harness.inspection.health import InspectedProcess

PYTHON = os.path.realpath(sys.executable)
SLOW_S = 0.08


def _write(path: Path, text: str, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    if mode is not None:
        path.chmod(mode)
    return path


def _dist(root: Path, name: str, version: str) -> None:
    _write(root / f"{name}-{version}.dist-info" / "METADATA",
           f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def _program(root: Path, pr: bool) -> Path:
    """The workload's code: app/main.py (the PR imports ``slowmod``), and two library
    folders each holding a copy of the distribution ``dupdist``."""
    _write(root / "libs_a" / "slowmod.py", f"import time\ntime.sleep({SLOW_S})\n")
    _dist(root / "libs_a", "dupdist", "1.0")
    _dist(root / "libs_b", "dupdist", "2.0")
    return _write(root / "app" / "main.py",
                  ("import slowmod\n" if pr else "") + "import json\nprint('ok')\n")


def _venv(root: Path) -> Path:
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    return root / "venv" / "bin" / "python"


def bazel_stub(root: Path, pr: bool) -> list[str]:
    """Bazel's native launcher: ``#!/usr/bin/env python3`` stub, PYTHONPATH, os.execv."""
    main = _program(root, pr)
    venv_python = _venv(root)
    _write(root / "tools" / "python3", f"#!/bin/sh\nexec {PYTHON} \"$@\"\n", 0o755)
    stub = _write(root / "bin" / "app", f"""\
        #!/usr/bin/env python3
        import os, subprocess, sys
        PYTHON_BINARY = {str(venv_python)!r}
        def Main():
            module_space = {str(root)!r}
            entries = [os.path.join(module_space, d) for d in ("app", "libs_a", "libs_b")]
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(entries)
            os.environ.update(env)
            os.execv(PYTHON_BINARY, [PYTHON_BINARY, {str(main)!r}] + sys.argv[1:])
        if __name__ == "__main__":
            Main()
    """, 0o755)
    return [str(stub)]


def rules_py_launcher(root: Path, pr: bool) -> list[str]:
    """Current rules_py: bash exports VIRTUAL_ENV and PATH, execs ``venv/bin/python -B -s -I``
    (no PYTHON* variable reaches it); the venv's .pth files put the libraries on sys.path."""
    main = _program(root, pr)
    venv_python = _venv(root)
    site = next((root / "venv" / "lib").glob("python3.*")) / "site-packages"
    (site / "_app.pth").write_text(f"{root / 'libs_a'}\n{root / 'libs_b'}\n")
    launcher_script = _write(root / "bin" / "app", f"""\
        #!/usr/bin/env bash
        set -o errexit -o nounset -o pipefail
        VENV_PYTHON="{venv_python}"
        VENV_BIN="$(dirname "${{VENV_PYTHON}}")"
        export VIRTUAL_ENV="$(dirname "${{VENV_BIN}}")"
        export PATH="${{VENV_BIN}}:${{PATH-}}"
        exec "${{VENV_PYTHON}}" -B -s -I "{main}" "$@"
    """, 0o755)
    return [str(launcher_script)]


def child_launcher(root: Path, pr: bool) -> list[str]:
    """A bash launcher that runs the interpreter as a child and exits with its status."""
    main = _program(root, pr)
    venv_python = _venv(root)
    launcher_script = _write(root / "bin" / "app", f"""\
        #!/bin/bash
        PYTHON="{venv_python}"
        ENTRY="{main}"
        export PYTHONPATH="{root / 'libs_a'}:{root / 'libs_b'}"
        cd "$(dirname "$ENTRY")"
        "$PYTHON" "$ENTRY" "$@"
        status=$?
        exit $status
    """, 0o755)
    return [str(launcher_script)]


DESIGNS = {"bazel-stub": bazel_stub, "rules_py-exec": rules_py_launcher,
           "bash-child": child_launcher}


def _env(root: Path) -> dict[str, str]:
    return {"PATH": f"{root / 'tools'}:{os.environ['PATH']}", "HOME": str(root)}


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_inspection_sees_the_program_behind_the_launcher(tmp_path: Path, design: str) -> None:
    if design == "bash-child" and shutil.which("strace") is None and not os.environ.get("CI"):
        pytest.skip("strace not installed")
    trees = {}
    for side in ("main", "pr"):
        root = tmp_path / side
        argv = DESIGNS[design](root, side == "pr")
        start = launcher.follow(argv, env=_env(root), cwd=str(tmp_path), timeout=60)
        assert start.program and start.via, start
        assert os.path.realpath(start.argv[0]) == PYTHON  # the venv's interpreter
        assert start.argv[0].startswith(str(root / "venv"))
        trees[side] = importtime.merge([runner.importtime_once(
            start.argv, env=start.env, cwd=start.cwd, timeout=60) for _ in range(3)])
        if side == "pr":
            probe = runner.probe_for_workload(start.argv, env=start.env, cwd=start.cwd,
                                              modules=runner.module_names(trees[side]))
            dups = {d.name: d for d in probe.distributions.duplicates}
            assert "dupdist" in dups, probe.distributions
            assert {c.version for c in dups["dupdist"].copies} == {"1.0", "2.0"}
            assert any(e.path == str(root / "libs_b") for e in probe.entries)
    diff = importtime.diff(trees["pr"], trees["main"])
    assert diff.ranked[0].name == "slowmod" and diff.ranked[0].kind == "new"
    assert diff.ranked[0].delta_us >= SLOW_S * 1e6 * 0.9
    assert diff.ranked[0].delta_us >= 0.5 * diff.delta_us  # most of the change explained


def test_a_launcher_that_leaves_unseen_is_the_launcher_only(tmp_path: Path) -> None:
    """A stub that execs through libc directly (no os.exec* to interpose): the harness does
    not take its run for the program's; it says only the launcher was seen."""
    _program(tmp_path, True)
    stub = _write(tmp_path / "bin" / "app", f"""\
        #!{PYTHON}
        import ctypes, os, subprocess
        argv = [b"{PYTHON}", b"-c", b"pass"]
        array = (ctypes.c_char_p * (len(argv) + 1))(*argv, None)
        ctypes.CDLL(None).execv(argv[0], array)
    """, 0o755)
    start = launcher.follow([str(stub)], env=_env(tmp_path), cwd=str(tmp_path), timeout=60)
    assert not start.program
    assert "cannot see" in start.note
    text = InspectedProcess(start.argv, PYTHON, start.via, start.program,
                            start.note).describe()
    assert text.startswith("the launcher only: ")


def test_a_console_script_is_the_program(tmp_path: Path) -> None:
    """pip's console script starts no process: it is the program, run as it is."""
    script = _write(tmp_path / "bin" / "tool", f"""\
        #!{PYTHON}
        import sys
        from json import dumps
        if __name__ == "__main__":
            sys.exit(print(dumps(1)))
    """, 0o755)
    start = launcher.follow([str(script)], env=_env(tmp_path), cwd=str(tmp_path))
    assert start.argv == (str(script),) and start.program and not start.via


def test_a_python_launcher_that_runs_a_child_via_subprocess(tmp_path: Path) -> None:
    """Bazel's stub on Windows, with coverage, or run from a zip: ``subprocess.call``."""
    main = _program(tmp_path, True)
    stub = _write(tmp_path / "bin" / "app", f"""\
        #!{PYTHON}
        import os, subprocess, sys
        subprocess.check_output(["true"])  # not Python: runs as it would
        env = dict(os.environ, PYTHONPATH={str(tmp_path / 'libs_a')!r})
        sys.exit(subprocess.call([{PYTHON!r}, "-s", {str(main)!r}], env=env,
                                 cwd={str(tmp_path)!r}))
    """, 0o755)
    start = launcher.follow([str(stub)], env=_env(tmp_path), cwd=None)
    assert start.argv == (PYTHON, "-s", str(main))
    assert start.env["PYTHONPATH"] == str(tmp_path / "libs_a")
    assert start.cwd == str(tmp_path) and start.via == (f"python subprocess: {stub}",)


def test_strace_log_parsing() -> None:
    trace = "\n".join([
        '10 1.0 execve("/bin/l", ["/bin/l", "a b"], ["A=1"]) = 0',
        '10 1.1 chdir("sub") = 0',
        '10 1.2 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD) = 11',
        '11 1.3 execve("/v/python3", ["python3", "-c", "print(\\"\\\\x\\")\\n"], '
        '["P=\\303\\251", "Q=a=b"]) = 0',
        '12 1.4 execve("/nope", ["x"], []) = -1 ENOENT (No such file or directory)',
    ])
    starts = launcher.traced_starts(trace, "/w")
    assert [s.argv for s in starts] == [("/bin/l", "a b"),
                                       ("/v/python3", "-c", 'print("\\x")\n')]
    assert starts[1].cwd == "/w/sub" and starts[1].env == {"P": "é", "Q": "a=b"}


def test_rules_python_stage1_execs_env_with_safe_path(tmp_path: Path) -> None:
    """Field trial finding (rules_python's stage-1 bootstrap, filled in by hand): bash
    ``exec env PYTHONSAFEPATH=1 "$python_exe" "$stage2_bootstrap" "$@"``. The ``env`` hop is
    read from its arguments (no trace, nothing run), and the probe, like the program, gets
    no sys.path[0] under PYTHONSAFEPATH."""
    main = _program(tmp_path, True)
    venv_python = _venv(tmp_path)
    stage1 = _write(tmp_path / "bin" / "app", f"""\
        #!/bin/bash
        set -e
        export RUNFILES_DIR="$0.runfiles"
        declare -a interpreter_env
        interpreter_env+=("PYTHONSAFEPATH=${{PYTHONSAFEPATH-1}}")
        command=(env "${{interpreter_env[@]}}" "{venv_python}" "{main}" "$@")
        exec "${{command[@]}}"
    """, 0o755)
    start = launcher.follow([str(stage1), "x"], env=_env(tmp_path), cwd=str(tmp_path))
    assert start.via == (f"shell exec: {stage1}", "env: PYTHONSAFEPATH=1")
    assert start.argv == (str(venv_python), str(main), "x")
    assert start.env["PYTHONSAFEPATH"] == "1" and start.env["RUNFILES_DIR"].endswith("runfiles")
    probe = runner.probe_for_workload(start.argv, env=start.env, cwd=start.cwd)
    assert not any(e.is_path0 for e in probe.entries)
    assert str(main.parent) not in [e.path for e in probe.entries]
    cleared = launcher.env_hop(launcher.Start(("env", "-i", "A=1", "-u", "B", "python3", "-c",
                                               "1"), {"B": "2", "C": "3"}, None))
    assert cleared is not None and cleared.env == {"A": "1"}
    assert cleared.argv[1:] == ("-c", "1")
    assert launcher.env_hop(launcher.Start(("env", "-S", "python3"), {}, None)) is None


def test_a_child_in_a_temporary_venv_is_measured_through_the_environment(
        tmp_path: Path) -> None:
    """Field trial finding (rules_python's stage 1 with recreate_venv_at_runtime): bash makes
    a venv in mktemp, runs Python as a child and removes the venv on exit, so the traced
    command cannot be replayed. Following says so; the import times then come from the
    launcher run as it is with PYTHONPROFILEIMPORTTIME, the program's tree separated from
    a launcher's by the header line each process prints."""
    if shutil.which("strace") is None and not os.environ.get("CI"):
        pytest.skip("strace not installed")
    main = _program(tmp_path, True)
    script = _write(tmp_path / "bin" / "app", f"""\
        #!/bin/bash
        venv=$(mktemp -d)
        trap 'rm -rf "$venv"' EXIT
        mkdir -p "$venv/bin" && ln -s "{PYTHON}" "$venv/bin/python3"
        export PYTHONPATH="{tmp_path / 'libs_a'}"
        "$venv/bin/python3" -c "import json" # a helper Python before the program
        "$venv/bin/python3" "{main}" "$@"
        exit $?
    """, 0o755)
    with pytest.raises(HarnessError, match="is gone once it exits"):
        launcher.follow([str(script)], env=_env(tmp_path), cwd=str(tmp_path))
    tree = runner.importtime_by_env_once([str(script)], env=_env(tmp_path), cwd=str(tmp_path))
    names = runner.module_names(tree)
    assert "slowmod" in names and tree.modules()["slowmod"].self_us >= SLOW_S * 1e6 * 0.9
    with pytest.raises(HarnessError, match="printed import times"):
        runner.importtime_by_env_once([PYTHON, "-I", "-c", "pass"], env=_env(tmp_path))


def test_import_time_sections_split_per_process() -> None:
    header = "import time: self [us] | cumulative | imported package"
    stderr = "\n".join([header, "import time:       100 |        100 | subprocess",
                        "a warning of the stub", header,
                        "import time:       200 |        300 |   json.decoder",
                        "import time:       300 |        600 | json", header])
    parts = importtime.sections(stderr)
    assert len(parts) == 2
    assert [m.name for m in importtime.parse(parts[-1]).walk()] == ["json", "json.decoder"]


def test_import_time_and_probe_fail_independently_and_inspection_is_bounded(
        tmp_path: Path) -> None:
    """The field trial's case 3: a launcher that could not be followed for import time
    skipped the configured inspect_target too. Now the target is always used; the failure
    is a warning; every inspection process is bounded by timing.timeout_s (here the
    launcher's child hangs: it is stopped after the timeout, not after 600 s x 5)."""
    import time

    from harness import pipeline
    from harness.config import load_config
    from harness.measure.builders import BuiltEnv
    from harness.progress import Silent

    hang = _write(tmp_path / "bin" / "app", f"""\
        #!/bin/bash
        "{PYTHON}" -I -c "import time; time.sleep(60)"
    """, 0o755)
    target = _write(tmp_path / "bin" / "bench_syspath", f"#!{PYTHON}\n" + runner.probe_source(),
                    0o755)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("variants:\n"
                   f"  - {{name: pr, role: pr, source: {{python: '{PYTHON}'}}}}\n"
                   f"workloads:\n  - {{name: start, command: ['{hang}']}}\n"
                   "timing: {timeout_s: 3}\n")
    config = load_config(cfg)
    built = BuiltEnv(python=PYTHON, prefix=str(tmp_path), bin_dir=str(tmp_path / "bin"),
                     inspect_command=(str(target),))
    ready = [pipeline.Prepared(config.variants[0], built, None)]
    started = time.monotonic()
    taken = pipeline.importtime_rounds(config.workloads, ready, tmp_path, _env(tmp_path),
                                       Silent(), timeout_s=config.timing.timeout_s)
    probes, warnings = pipeline.inspect_all(config.workloads, ready, tmp_path, _env(tmp_path),
                                            Silent(), taken, timeout_s=config.timing.timeout_s)
    assert time.monotonic() - started < 30
    assert taken.trees == {"pr": {}} and taken.warmed == {} and warnings == []
    (warning,) = taken.warnings
    assert warning.startswith("import time of 'start' in 'pr' not measured:")
    assert probes["pr"].process is not None and probes["pr"].process.via == ("inspect_target",)
    assert probes["pr"].sys_path_entries > 0


def test_a_workload_whose_importtime_run_fails_midway_goes_by_the_environment(
        tmp_path: Path) -> None:
    """Import-time rounds keep each workload's fallback: ``flaky`` fails its third
    ``-X importtime`` run, so its trees are dropped and it is run with
    PYTHONPROFILEIMPORTTIME from then on (five runs, in the rounds that follow), while
    ``steady`` is taken round-robin beside it; only ``steady``'s runs started its timed
    command's own interpreter, so only they count as its warm-ups."""
    from harness import pipeline
    from harness.config import load_config
    from harness.measure.builders import BuiltEnv
    from harness.progress import Silent

    log, count = tmp_path / "runs.log", tmp_path / "count"
    work = _write(tmp_path / "work.py", f"""\
        import os, sys
        name = sys.argv[1]
        mode = ("x" if "importtime" in sys._xoptions
                else "env" if os.environ.get("PYTHONPROFILEIMPORTTIME") else "plain")
        with open({str(log)!r}, "a") as f:
            f.write(f"{{name}} {{mode}}\\n")
        if name == "flaky" and mode == "x":
            with open({str(count)!r}, "a") as f:
                f.write("x")
            with open({str(count)!r}) as f:
                sys.exit(3 if len(f.read()) == 3 else 0)
        import json
    """)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("variants:\n"
                   f"  - {{name: pr, role: pr, source: {{python: '{PYTHON}'}}}}\n"
                   "workloads:\n"
                   f"  - {{name: steady, command: ['{PYTHON}', '{work}', steady]}}\n"
                   f"  - {{name: flaky, command: ['{PYTHON}', '{work}', flaky]}}\n")
    config = load_config(cfg)
    built = BuiltEnv(python=PYTHON, prefix=str(tmp_path), bin_dir=str(tmp_path))
    ready = [pipeline.Prepared(config.variants[0], built, None)]
    taken = pipeline.importtime_rounds(config.workloads, ready, tmp_path, _env(tmp_path),
                                       Silent(), timeout_s=60)
    assert taken.warnings == ()
    runs = log.read_text().splitlines()
    assert runs == ["steady x", "flaky x"] * 2 + ["steady x", "flaky x", "flaky env"] \
        + ["steady x", "flaky env"] * 2 + ["flaky env"] * 2
    steady, flaky = taken.trees["pr"]["steady"], taken.trees["pr"]["flaky"]
    assert steady["runs"] == flaky["runs"] == 5
    assert "json" in {n["name"] for n in flaky["roots"]}
    assert steady["process"]["via"] == []
    assert flaky["process"]["via"] == [
        "PYTHONPROFILEIMPORTTIME: the last Python process it started"]
    assert "exit 3" in flaky["process"]["note"]
    assert taken.warmed == {("pr", "steady"): 5}
    commands = pipeline.warmed_by_importtime(
        pipeline.timed_commands(config.workloads, ready, tmp_path), taken.warmed)
    assert [(c.workload, c.warmed) for c in commands] == [("steady", 5), ("flaky", 0)]


def _strace_quoted(text: str) -> str:
    """A string the way strace prints it: C escapes, other bytes as 3-digit octal."""
    named = {ord("\n"): "\\n", ord("\t"): "\\t", ord("\r"): "\\r", ord("\v"): "\\v",
             ord("\f"): "\\f", ord("\\"): "\\\\", ord('"'): '\\"'}
    out = []
    for byte in text.encode("utf-8", "surrogateescape"):
        if byte in named:
            out.append(named[byte])
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


_OS_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")


@given(argv=st.lists(st.text(_OS_TEXT, min_size=1), min_size=1, max_size=5),
       env=st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",),
                                                 blacklist_characters="=\0"), min_size=1),
                           st.text(_OS_TEXT), max_size=4),
       noise=st.text())
@settings(max_examples=300, deadline=None)
def test_strace_logs_parse_back_exactly(argv: list[str], env: dict[str, str],
                                        noise: str) -> None:
    """Hostile argv and environment strings (quotes, backslashes, brackets, newlines,
    non-ASCII) come back as they were; other lines in the log are ignored, never fatal."""
    line = (f"7 1.5 execve({_strace_quoted(argv[0])}, ["
            + ", ".join(_strace_quoted(a) for a in argv) + "], ["
            + ", ".join(_strace_quoted(f"{k}={v}") for k, v in env.items()) + "]) = 0")
    starts = launcher.traced_starts("\n".join([noise.replace("\n", " "), line]), "/w")
    assert [(s.argv, s.env) for s in starts][-1:] == [(tuple(argv), env)]
    launcher.traced_starts(noise, "/w")  # never raises


def test_a_zipped_launcher_is_named_the_launcher_only(tmp_path: Path) -> None:
    """Bazel's --build_python_zip binary: a shebang then a zip whose __main__ unpacks the
    runfiles to a temporary directory and runs the program from there. Not followed (its
    program's files are gone when it exits); said so instead of inspecting it silently."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__main__.py", "import subprocess, sys\n")
    app = tmp_path / "app"
    app.write_bytes(f"#!{PYTHON}\n".encode() + buffer.getvalue())
    app.chmod(0o755)
    start = launcher.follow([str(app)], env=_env(tmp_path), cwd=str(tmp_path))
    assert not start.program and "zipped Python launcher" in start.note
