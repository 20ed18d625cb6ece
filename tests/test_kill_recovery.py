"""SIGKILL of the harness's process group, then the next run (issue 20, items 6 and 7): builds
that run in process groups of their own are ended before their scratch dir is removed, and
bytecode snapshots a killed run left are restored; each said in one line."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness import proc
from tests.test_faults import quick_config, wait_until

ROOT = Path(__file__).resolve().parent.parent

#: An in-tree build backend that records its PID and then hangs: the slow build of the test.
SLOW_BACKEND = """\
import os, pathlib, time
pathlib.Path({pid_file!r}).write_text(str(os.getpid()))
time.sleep(600)
"""


def slow_project(root: Path, pid_file: Path) -> Path:
    (root / "backend").mkdir(parents=True)
    (root / "backend" / "slowbackend.py").write_text(SLOW_BACKEND.format(pid_file=str(pid_file)))
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "slowbackend"\n'
        'backend-path = ["backend"]\n\n[project]\nname = "slowpkg"\nversion = "1.0"\n')
    return root


def harness(args: list[str], tmpdir: Path) -> subprocess.Popen[str]:
    """The harness in a session (and so a process group) of its own, as CI would run it."""
    return subprocess.Popen([sys.executable, "-m", "harness", *args],
                            env={**os.environ, "TMPDIR": str(tmpdir)}, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def kill_group_and_reap(child: subprocess.Popen[str]) -> None:
    os.killpg(child.pid, signal.SIGKILL)
    child.communicate(timeout=30)


def test_recorded_groups_are_ended_only_while_they_are_the_same(tmp_path: Path) -> None:
    """A recorded group whose leader PID now belongs to a later process is left alone."""
    sleeper = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        started = proc.start_time(sleeper.pid)
        assert started is not None
        log = tmp_path / proc.GROUPS_FILE
        log.write_text(f"{sleeper.pid} {started - 1}\n")  # another process of that PID
        assert proc.end_recorded_groups(log, wait=0.2) == 0 and sleeper.poll() is None
        log.write_text(f"{sleeper.pid} {started}\nnot a line\n1 0\n")
        assert proc.end_recorded_groups(log) == 1
        assert sleeper.wait(timeout=10) == -signal.SIGKILL
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_leaderless_group_loses_only_what_works_in_the_scratch_dir(tmp_path: Path) -> None:
    """The group's leader has exited (a PID could have been reused as a group id since): only
    members working in the dead run's scratch dir are ended, nothing else of that group."""
    scratch = tmp_path / "startup-harness-x"
    scratch.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    leader = subprocess.Popen(
        ["sh", "-c", f"(cd {scratch} && exec sleep 61) & (cd {elsewhere} && exec sleep 62) &"
                     " exit 0"], start_new_session=True)
    started = proc.start_time(leader.pid)
    pgid = leader.pid
    assert leader.wait(timeout=10) == 0 and started is not None

    def settled() -> bool:  # both sleeps exec'ed in their directories
        members = proc.group_members(pgid)
        return len(members) == 2 and all(
            proc.uses_dir(pid, str(scratch)) != proc.uses_dir(pid, str(elsewhere))
            for pid in members)

    assert wait_until(settled, 10)
    inside, outside = sorted(proc.group_members(pgid),
                             key=lambda pid: not proc.uses_dir(pid, str(scratch)))
    try:
        (scratch / proc.GROUPS_FILE).write_text(f"{pgid} {started}\n")
        assert proc.end_recorded_groups(scratch / proc.GROUPS_FILE) == 1
        assert not proc.alive(inside) and proc.alive(outside)
    finally:
        for pid in (inside, outside):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_sigkill_of_the_group_during_a_slow_build_then_the_next_run(tmp_path: Path) -> None:
    pid_file = tmp_path / "backend.pid"
    project = slow_project(tmp_path / "proj", pid_file)
    config = tmp_path / "c.yaml"
    config.write_text(
        "variants:\n"
        f"  - {{name: main, role: main, source: {{python: {json.dumps(sys.executable)}}}}}\n"
        f"  - {{name: pr, role: pr, source: {{path: {json.dumps(str(project))}}}}}\n"
        "workloads:\n  - {name: w, command: ['{python}', '-c', 'pass'], importtime: false}\n"
        "timing: {warmup: 0, runs: 6}\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    child = harness(["run", "--config", str(config), "--out", str(tmp_path / "out"),
                     "--quiet"], scratch)
    try:
        assert wait_until(pid_file.exists, 180), child.stderr.read() if child.stderr else ""
        backend = int(pid_file.read_text())
        kill_group_and_reap(child)
    finally:
        if child.poll() is None:
            child.kill()
    # the bug of issue 20 item 6: the build backend outlives a SIGKILL of the harness's group
    assert proc.alive(backend), "the backend died with the group: nothing to recover"
    stale = list(scratch.glob("startup-harness-*"))
    assert len(stale) == 1 and (stale[0] / proc.GROUPS_FILE).exists()
    (tmp_path / "again").mkdir()
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--config",
                           str(quick_config(tmp_path / "again")), "--out",
                           str(tmp_path / "out2"), "--verbose"],
                          env={**os.environ, "TMPDIR": str(scratch)}, capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    assert not proc.alive(backend)
    assert not stale[0].exists()
    said = [line for line in done.stderr.splitlines() if str(stale[0]) in line]
    assert len(said) == 1 and "killed" in said[0] and "still running" in said[0], said


def pycache_state(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under every ``__pycache__`` below ``root``: size, mtime and first bytes."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns,
                                       p.read_bytes()[:16])
            for p in sorted(root.rglob("__pycache__/*"))}


@pytest.mark.slow
def test_sigkill_during_bytecode_scenarios_then_the_next_run_restores(tmp_path: Path) -> None:
    from tests.fixtures_env import make_venv

    venvs = [make_venv(tmp_path / name) for name in ("main-env", "pr-env")]
    for venv in venvs:
        venv.add_package("heavy", modules=12)
        venv.run("-c", "import heavy")  # a valid __pycache__: the state to keep
    before = [pycache_state(v.site) for v in venvs]
    assert all(before)
    marker = f"scenario-{tmp_path.name}"
    config = tmp_path / "c.yaml"
    config.write_text(
        "variants:\n" + "".join(
            f"  - {{name: {n}, role: {n}, source: {{python: {json.dumps(v.python)}}}}}\n"
            for n, v in zip(("main", "pr"), venvs, strict=True)) +
        "workloads:\n"
        f"  - {{name: w, command: ['{{python}}', '-c', 'import heavy', {marker!r}], "
        "importtime: false, scenarios: [warm, cold, stale]}\n"
        "timing: {warmup: 0, runs: 400}\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    child = harness(["run", "--config", str(config), "--out", str(tmp_path / "out"),
                     "--quiet"], scratch)
    from tests.test_faults import processes_with

    try:
        assert wait_until(lambda: processes_with(marker), 180), \
            child.stderr.read() if child.stderr else ""
        wait_until(lambda: False, 2.0)  # let a few cold and stale prepares run
        kill_group_and_reap(child)
    finally:
        if child.poll() is None:
            child.kill()
    stores = list(scratch.glob("startup-harness-pyc-*"))
    assert len(stores) == 2  # issue 20 item 7: left behind, nobody restores them
    changed = [pycache_state(v.site) != b for v, b in zip(venvs, before, strict=True)]
    (tmp_path / "again").mkdir()
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--config",
                           str(quick_config(tmp_path / "again")), "--out",
                           str(tmp_path / "out2"), "--verbose"],
                          env={**os.environ, "TMPDIR": str(scratch)}, capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    print(f"__pycache__ changed by the killed run (main, pr): {changed}")
    assert [pycache_state(v.site) for v in venvs] == before
    assert list(scratch.glob("startup-harness-pyc-*")) == []
    said = [line for line in done.stderr.splitlines() if "restored the __pycache__" in line]
    assert len(said) == 2 and all("killed" in line for line in said), done.stderr
    report = json.loads((tmp_path / "out2" / "report.json").read_text())
    assert sum("restored the __pycache__" in w for w in report["extras"]["warnings"]) == 2


def test_a_snapshot_of_a_live_run_or_an_unfinished_copy(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A live owner's snapshot is never touched; an unfinished copy (no manifest: the
    environment was not changed yet) of a dead owner is removed and said."""
    import tempfile

    from harness.measure import bytecode

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    root = tmp_path / "site"
    (root / "__pycache__").mkdir(parents=True)
    (root / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"x" * 20)
    with bytecode.preserved([str(root)]):
        (root / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"changed")
        assert bytecode.recover_snapshots(str(tmp_path)) == []  # its owner (we) still runs
        assert (root / "__pycache__" / "m.cpython-311.pyc").read_bytes() == b"changed"
    assert (root / "__pycache__" / "m.cpython-311.pyc").read_bytes() == b"x" * 20
    dead = tmp_path / f"{bytecode.STORE_PREFIX}dead"
    dead.mkdir()
    (dead / bytecode.OWNER_FILE).write_text(json.dumps({"pid": 2 ** 22 + 7, "start": 1}))
    (said,) = bytecode.recover_snapshots(str(tmp_path))
    assert "incomplete" in said and not dead.exists()
