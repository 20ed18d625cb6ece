"""Fault injection: failing and hanging workloads, crashes, full disks, signals, hostile input.

Each test names the case of issue 13 it covers. Variants use ``python:`` sources (nothing is
built) and tiny workloads, so most of these run in a second or two."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from harness.cli import main

#: pr's workload (its interpreter is the symlink ``pr-python``) fails quickly on every other run
#: from its third run on (after the smoke test and the warmup), for a while: the "flaky PR" of
#: case 1. main's never fails.
FLAKY = ("import pathlib, sys; p = pathlib.Path(sys.argv[1]); "
         "n = int(p.read_text()) if p.exists() else 0; "
         "pr = sys.argv[2].endswith('pr-python'); pr and p.write_text(str(n + 1)); "
         "sys.exit(3 if pr and 2 <= n <= 15 and n % 2 else 0)")

#: pr's workload sleeps ``argv[3]`` seconds from its ``argv[4]``-th run on.
LATE_SLEEP = ("import pathlib, sys, time; p = pathlib.Path(sys.argv[1]); "
              "n = int(p.read_text()) if p.exists() else 0; "
              "pr = sys.argv[2].endswith('pr-python'); pr and p.write_text(str(n + 1)); "
              "time.sleep(float(sys.argv[3]) if pr and n >= int(sys.argv[4]) else 0)")


def python_config(path: Path, command: list[str], *, runs: int = 6, warmup: int = 1,
                  extra: str = "", workload_extra: str = "") -> Path:
    """Two ``python:`` variants of the running interpreter (nothing is built): main, and pr
    through a symlink named ``pr-python`` so a workload can tell them apart; one workload."""
    pr_python = path.parent / "pr-python"
    if not pr_python.exists():
        pr_python.symlink_to(sys.executable)
    lines = ["variants:",
             f"  - {{name: main, role: main, source: {{python: {json.dumps(sys.executable)}}}}}",
             f"  - {{name: pr, role: pr, source: {{python: {json.dumps(str(pr_python))}}}}}",
             "workloads:",
             f"  - {{name: w, command: {json.dumps(command)}, importtime: false"
             f"{workload_extra}}}",
             f"timing: {{warmup: {warmup}, runs: {runs}{extra}}}",
             "gate: {threshold_pct: 50}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(config: Path, out: Path, *more: str) -> int:
    return main(["run", "--config", str(config), "--out", str(out), "--quiet", *more])


@pytest.mark.slow
def test_case1_failing_runs_make_the_variant_an_error(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    counter = tmp_path / "counter"
    config = python_config(tmp_path / "c.yaml",
                           ["{python}", "-c", FLAKY, str(counter), "{python}"], runs=8)
    out = tmp_path / "out"
    assert run(config, out) == 2
    err = capsys.readouterr().err
    assert "failed" in err and "exit 3" in err
    data = json.loads((out / "report.json").read_text())
    assert data["gate"]["status"] == "error"
    assert any("exit 3" in e for e in data["errors"])
    assert "exit 3" in (out / "comment.md").read_text()


@pytest.mark.slow
def test_case1_allow_failure_keeps_timing(tmp_path: Path) -> None:
    config = python_config(tmp_path / "c.yaml", ["{python}", "-c", "raise SystemExit(4)"],
                           workload_extra=", allow_failure: true")
    assert run(config, tmp_path / "out") in (0, 1)
    assert json.loads((tmp_path / "out" / "report.json").read_text())["errors"] == []


@pytest.mark.slow
def test_case4_timeout_bounds_one_run_not_the_schedule(tmp_path: Path) -> None:
    """Each run takes 0.25 s, the schedule 3 s and more; a 1.5 s timeout must not fail it."""
    config = python_config(tmp_path / "c.yaml",
                           ["{python}", "-c", "import time; time.sleep(0.25)"],
                           runs=6, warmup=0, extra=", timeout_s: 1.5")
    assert run(config, tmp_path / "out") in (0, 1)
    assert json.loads((tmp_path / "out" / "report.json").read_text())["errors"] == []


@pytest.mark.slow
def test_case4_hanging_run_is_that_variants_error(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """pr's workload hangs from its third run on (after the smoke test and the warmup): pr is an
    error naming the timeout, main is still measured and reported."""
    config = python_config(tmp_path / "c.yaml", ["{python}", "-c", LATE_SLEEP,
                                                 str(tmp_path / "n"), "{python}", "60", "2"],
                           runs=6, warmup=1, extra=", timeout_s: 2")
    out = tmp_path / "out"
    assert run(config, out) == 2
    data = json.loads((out / "report.json").read_text())
    assert any("timed out" in e and "'pr'" in e for e in data["errors"]), data["errors"]
    assert "w/wall" in data["summaries"]["main"]


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def quick_config(tmp_path: Path, command: str = "pass") -> Path:
    return python_config(tmp_path / "c.yaml", ["{python}", "-S", "-c", command], runs=6,
                         warmup=0)


# -- case 2: crashes never exit 1; --out checked up front; nothing half-written -------------

def test_case2_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.write_text("not a directory")
    assert run(quick_config(tmp_path), out) == 2
    assert "exists and is not a directory" in one_error_line(capsys)
    assert out.read_text() == "not a directory"


def test_case2_out_with_foreign_files_is_refused(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert run(quick_config(tmp_path), out) == 2
    assert "did not write (notes.txt)" in one_error_line(capsys)
    assert (out / "notes.txt").read_text() == "mine"


def test_case2_unwritable_out_is_refused_before_building(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes anywhere; the read-only mount test covers it")
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        assert run(quick_config(tmp_path), parent / "out") == 2
        assert "not writable" in one_error_line(capsys)
    finally:
        parent.chmod(0o755)


def test_case2_failure_while_writing_keeps_the_previous_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that fails while writing (here: rendering raises ENOSPC) leaves the previous
    run's output exactly as it was, and no staging directory."""
    import errno

    from harness.render import markdown

    config = quick_config(tmp_path)
    out = tmp_path / "out"
    assert run(config, out) in (0, 1)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def full(*_a: object, **_k: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(markdown, "render", full)
    assert run(config, out) == 2
    assert "No space left on device" in one_error_line(capsys)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


def test_case6_second_run_on_the_same_out_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness import outputs

    out = tmp_path / "out"
    with outputs.claim(out) as staging:
        (staging / "report.json").write_text("{}")
        assert run(quick_config(tmp_path), out) == 2
        assert "another run" in one_error_line(capsys)
    assert (out / "report.json").read_text() == "{}"


def test_case6_swap_replaces_the_whole_output(tmp_path: Path) -> None:
    from harness import outputs

    out = tmp_path / "out"
    with outputs.claim(out) as staging:
        (staging / "raw").mkdir()
        (staging / "raw" / "old.json").write_text("1")
        (staging / "report.json").write_text("old")
    with outputs.claim(out) as staging:
        (staging / "report.json").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [".startup-harness", "report.json"]
    assert (out / "report.json").read_text() == "new"


def test_case6_killed_runs_staging_is_pruned(tmp_path: Path) -> None:
    from harness import outputs

    out = tmp_path / "out"
    stale = tmp_path / ".out.staging-999999"
    stale.mkdir()
    said: list[str] = []
    with outputs.claim(out, say=said.append):
        pass
    assert not stale.exists() and said and "killed" in said[0]


# -- crash paths: every one exits 2 with one line, never 1 -----------------------------------

@pytest.mark.parametrize(("command", "setup", "message"), [
    ("run", lambda p: p.write_bytes(b"variants: [\xff\xfe]\n"), "not UTF-8"),
    ("render", lambda p: p.write_bytes(b'{"schema_version": 1, "t": "\xff"}'), "not UTF-8"),
    ("render", lambda p: p.write_text("[" * 100_000 + "]" * 100_000), "nested too deeply"),
    ("render", lambda p: p.write_text('{"schema_version": 1}'), "malformed report"),
    ("render", lambda p: p.mkdir(), "cannot read"),
    ("run", lambda p: p.write_text("a: &a [1, *a]\n"), "recursive YAML alias"),
    ("run", lambda p: p.write_text("[" * 10_000 + "]" * 10_000), ""),
])
def test_crash_paths_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          command: str, setup: object, message: str) -> None:
    path = tmp_path / "input"
    setup(path)  # type: ignore[operator]
    argv = (["run", "--config", str(path), "--out", str(tmp_path / "o")] if command == "run"
            else ["render", str(path)])
    assert main(argv) == 2
    assert message in one_error_line(capsys)


# -- case 8 and 12: bounded input ------------------------------------------------------------

def test_case8_alias_bomb_is_refused_quickly(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import time

    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    config = tmp_path / "bomb.yaml"
    config.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    assert time.perf_counter() - start < 5  # the bomb took 79 s (a wide margin: shared runner)
    assert "aliases" in one_error_line(capsys)


def test_case12_name_with_a_final_newline_is_refused(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        'variants:\n  - {name: "main\\n", role: main, source: {python: python3}}\n'
        "  - {name: pr, role: pr, source: {python: python3}}\n"
        "workloads: [{name: w, command: ['{python}', '-c', 'pass']}]\n")
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    assert "variants[0].name" in one_error_line(capsys)


@pytest.mark.parametrize("flag", [["--runs", "999999999"], ["--warmup", "5000"],
                                  ["--runs", "1"]])
def test_case12_cli_overrides_get_the_schema_bounds(tmp_path: Path, flag: list[str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--config", str(quick_config(tmp_path)), "--out",
                 str(tmp_path / "o"), *flag]) == 2
    assert flag[0] in one_error_line(capsys)


def test_case6_exports_into_out_are_staged_and_not_foreign_next_time(tmp_path: Path) -> None:
    from harness import outputs

    out = tmp_path / "out"
    with outputs.claim(out) as staging:
        target = outputs.redirect(str(out / "gab.json"), out, staging)
        assert target == str(staging / "gab.json")
        Path(target).write_text("[]")
    assert (out / "gab.json").read_text() == "[]"
    outputs.check(out)  # the harness wrote gab.json: not foreign
    assert outputs.redirect("/elsewhere/x.json", out, staging) == "/elsewhere/x.json"


# -- case 7 and 12: path builds are cold and never write into the user's tree ---------------

SETUPTOOLS_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "spkg"
version = "1.0"

[tool.setuptools]
packages = ["spkg"]
"""


@pytest.mark.slow
def test_case7_path_build_leaves_the_tree_and_tmpdir_clean(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A setuptools project from `path:`: no build/ or *.egg-info in the user's tree, a module
    deleted from the tree is not importable from stale build output, and uv leaves no
    uv-setuptools-*.lock in $TMPDIR."""
    proj = tmp_path / "proj"
    (proj / "spkg").mkdir(parents=True)
    (proj / "pyproject.toml").write_text(SETUPTOOLS_PYPROJECT)
    (proj / "spkg" / "__init__.py").write_text("")
    (proj / "build" / "lib" / "spkg").mkdir(parents=True)  # stale output of an old build
    (proj / "build" / "lib" / "spkg" / "__init__.py").write_text("")
    (proj / "build" / "lib" / "spkg" / "gone.py").write_text("")
    before = sorted(str(p.relative_to(proj)) for p in proj.rglob("*"))
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    config = tmp_path / "c.yaml"
    config.write_text(
        "variants:\n"
        f"  - {{name: main, role: main, source: {{path: {json.dumps(str(proj))}}}}}\n"
        f"  - {{name: pr, role: pr, source: {{path: {json.dumps(str(proj))}}}}}\n"
        "workloads:\n"
        "  - {name: w, command: ['{python}', '-c', 'import spkg.gone'], importtime: false}\n"
        "timing: {warmup: 0, runs: 6}\n")
    assert run(config, tmp_path / "out") == 2  # spkg.gone does not exist in the sources
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert all(b["ok"] for b in data["builds"]), data["builds"]
    assert any("No module named 'spkg.gone'" in e for e in data["errors"]), data["errors"]
    assert sorted(str(p.relative_to(proj)) for p in proj.rglob("*")) == before
    assert list(tmpdir.glob("uv-setuptools-*.lock")) == []


# -- case 3: bytecode snapshots are restored before anything is deleted, and verified --------

def _pycache_tree(root: Path, n: int = 40) -> dict[str, bytes]:
    import py_compile

    for i in range(n):
        (root / f"m{i}.py").write_text(f"X = {i}\n")
        py_compile.compile(str(root / f"m{i}.py"), doraise=True)
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*.pyc"))}


def test_case3_signals_during_restore_never_leave_it_half_done(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGINT, then SIGTERM while the snapshot is being restored (the run in the issue): the
    restore finishes, every .pyc is back, the snapshot dir is gone, then the run stops."""
    import os
    import shutil
    import signal

    from harness.cli import _Interrupts
    from harness.measure import bytecode

    root = tmp_path / "site"
    root.mkdir()
    before = _pycache_tree(root)
    real_copytree = shutil.copytree
    calls = {"n": 0}

    def copytree(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:  # in the middle of the restore
            os.kill(os.getpid(), signal.SIGTERM)
        return real_copytree(*args, **kwargs)  # type: ignore[arg-type]

    handler = _Interrupts()
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(KeyboardInterrupt):
            with bytecode.preserved([str(root)]) as snapshot:
                bytecode.strip([str(root)])
                monkeypatch.setattr(shutil, "copytree", copytree)
                os.kill(os.getpid(), signal.SIGINT)  # the first signal
        assert calls["n"] >= 1
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    assert {str(p): p.read_bytes() for p in sorted(root.rglob("*.pyc"))} == before
    assert not Path(snapshot.store).exists()


def test_case3_a_restore_that_fails_keeps_the_snapshot_and_says_where(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.errors import HarnessError
    from harness.measure import bytecode

    root = tmp_path / "site"
    root.mkdir()
    _pycache_tree(root, 3)
    monkeypatch.setattr(bytecode, "restore_snapshot", lambda snapshot: None)
    with pytest.raises(HarnessError) as info:
        with bytecode.preserved([str(root)]) as snapshot:
            bytecode.strip([str(root)])
    try:
        assert snapshot.store in info.value.message and Path(snapshot.store).is_dir()
        assert len(list(Path(snapshot.store).rglob("*.pyc"))) == 3
    finally:
        shutil.rmtree(snapshot.store, ignore_errors=True)  # kept on purpose: not by the test


# -- case 5 and 9: children in groups the harness stops; SIGKILL, then the next run ----------

def processes_with(marker: str) -> list[int]:
    """PIDs of live processes whose command line contains ``marker`` (zombies excluded)."""
    import os

    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry))
    return found


def wait_until(predicate: object, seconds: float = 30) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_case5_timeout_and_interrupt_stop_the_whole_group(tmp_path: Path) -> None:
    import signal

    from harness import proc
    from harness.errors import ProcessError

    marker = f"orphan-probe-{tmp_path.name}"
    spawn = ("import subprocess, sys, time; "
             f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', {marker!r}]);"
             " time.sleep(60)")
    with pytest.raises(ProcessError, match="timed out"):
        proc.run([sys.executable, "-c", spawn], env={"PATH": "/usr/bin:/bin"}, timeout=1)
    assert wait_until(lambda: processes_with(marker) == [], 10), processes_with(marker)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            proc.run([sys.executable, "-c", spawn], env={"PATH": "/usr/bin:/bin"}, timeout=30)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert wait_until(lambda: processes_with(marker) == [], 10), processes_with(marker)


def _start_run(tmp_path: Path, marker: str) -> tuple[object, Path]:
    import os
    import subprocess

    config = python_config(tmp_path / "c.yaml",
                           ["{python}", "-c", "import time, sys; time.sleep(0.3)", marker],
                           runs=200, warmup=0)
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch)}
    child = subprocess.Popen([sys.executable, "-m", "harness", "run", "--config", str(config),
                              "--out", str(tmp_path / "out"), "--quiet"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parent.parent)
    return child, scratch


@pytest.mark.slow
@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_case5_signal_to_the_pid_during_timing_leaves_no_orphans(tmp_path: Path,
                                                                 signum: str) -> None:
    import signal
    import subprocess

    marker = f"timed-workload-{signum}-{tmp_path.name}"
    child, scratch = _start_run(tmp_path, marker)
    assert isinstance(child, subprocess.Popen)
    try:
        assert wait_until(lambda: processes_with(marker), 120), "timing never started"
        child.send_signal(getattr(signal, signum))  # the PID only, not its group
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert wait_until(lambda: processes_with(marker) == [], 10), processes_with(marker)
    assert processes_with(str(scratch)) == []
    assert list(scratch.glob("startup-harness-*")) == []


@pytest.mark.slow
def test_case5_and_9_sigkill_then_the_next_run_prunes(tmp_path: Path) -> None:
    """SIGKILL the harness while it times: the spawn timer and the workload die with it (no
    schedule keeps running), and the next run removes the dead run's scratch dir and says so."""
    import os
    import signal
    import subprocess

    marker = f"killed-workload-{tmp_path.name}"
    child, scratch = _start_run(tmp_path, marker)
    assert isinstance(child, subprocess.Popen)
    try:
        assert wait_until(lambda: processes_with(marker), 120), "timing never started"
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert wait_until(lambda: processes_with(marker) == [], 10), processes_with(marker)
    # the spawn timer (its plan lives in the scratch dir) died with its parent
    assert wait_until(lambda: processes_with(str(scratch)) == [], 10)
    stale = list(scratch.glob("startup-harness-*"))
    assert stale  # what SIGKILL left behind
    (tmp_path / "again").mkdir()
    config = quick_config(tmp_path / "again")
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--config", str(config),
                           "--out", str(tmp_path / "out2"), "--verbose"],
                          env={**os.environ, "TMPDIR": str(scratch)}, capture_output=True,
                          text=True, timeout=300, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode in (0, 1), done.stderr
    assert "killed" in done.stderr and str(stale[0]) in done.stderr
    assert not stale[0].exists()


# -- case 2 on real storage: a full file system and a read-only mount (root only) -----------

@pytest.fixture
def small_tmpfs(tmp_path: Path) -> object:
    """A 4 MB tmpfs mounted in tmp_path (root only; skipped elsewhere)."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_case2_full_file_system_keeps_the_previous_output(
        tmp_path: Path, small_tmpfs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = quick_config(tmp_path)
    out = small_tmpfs / "out"
    assert run(config, out) in (0, 1)
    before = _tree(out)
    with open(small_tmpfs / "filler", "wb") as filler:  # fill it up, then leave 8 KB
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass
    with open(small_tmpfs / "filler", "r+b") as filler:
        filler.truncate(max(0, (small_tmpfs / "filler").stat().st_size - 8192))
    capsys.readouterr()
    assert run(config, out) == 2
    line = one_error_line(capsys)
    assert "No space left on device" in line
    assert _tree(out) == before
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["filler", "out"]


@pytest.mark.slow
def test_case2_read_only_out_is_refused_up_front(
        tmp_path: Path, small_tmpfs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    config = quick_config(tmp_path)
    out = small_tmpfs / "out"
    assert run(config, out) in (0, 1)
    before = _tree(out)
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    capsys.readouterr()
    assert run(config, out) == 2
    assert "read-only file system" in one_error_line(capsys)
    assert _tree(out) == before


@pytest.mark.slow
def test_case1_with_hyperfine_a_failing_run_is_an_error_too(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    config = python_config(tmp_path / "c.yaml",
                           ["{python}", "-c", FLAKY, str(counter), "{python}"], runs=8,
                           extra=", timer: hyperfine")
    out = tmp_path / "out"
    assert run(config, out) == 2
    data = json.loads((out / "report.json").read_text())
    assert any("exit 3" in e and "'pr'" in e for e in data["errors"]), data["errors"]
