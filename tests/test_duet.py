"""``timing.order: duet``: the commands of a round start together, one per CPU, released from
one barrier; they rotate over the CPUs from round to round (issue 22)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.measure import orders, timers
from harness.measure.timing import TimedCommand

#: Each run notes its CPU set in ``<dir>/<round>-<name>``, then waits (at most 10 s) for the
#: other command's note of the same launch: it exits 0 only if both ran at the same time and
#: it was pinned to one CPU.
MEET = """\
import os, sys, time, pathlib
d, me, other = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
n = len(list(d.glob(me + "-*")))
cpus = sorted(os.sched_getaffinity(0))
(d / f"{me}-{n}").write_text(" ".join(map(str, cpus)))
end = time.monotonic() + 10
while not (d / f"{other}-{n}").exists():
    if time.monotonic() > end:
        sys.exit(3)
    time.sleep(0.001)
sys.exit(0 if len(cpus) == 1 else 4)
"""


def test_duet_rounds_rotate_the_commands_over_the_cpus() -> None:
    assert orders.round_orders(2, 4, "duet") == [[0, 1], [1, 0], [0, 1], [1, 0]]
    rounds = orders.round_orders(3, 3, "duet")
    assert all(sorted(column) == [0, 1, 2] for column in zip(*rounds, strict=True))
    plan = timers.schedule(2, warmup=1, runs=2, order="duet")
    assert plan == [(-1, 0), (-1, 1), (0, 0), (0, 1), (1, 1), (1, 0)]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="duet needs two CPUs")
def test_duet_starts_both_together_each_pinned_and_swapped(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    commands = [TimedCommand(name, "w", (sys.executable, "-S", "-c", MEET, str(notes), name,
                                         other))
                for name, other in (("a", "b"), ("b", "a"))]
    out = timers.run_schedule_full(commands, warmup=0, runs=6, order="duet",
                                   env={"PATH": os.environ["PATH"]}, raw_dir=tmp_path / "raw")
    assert out["failures"] == [] and len(out["results"]) == 12
    assert sorted(r[0] for r in out["results"]) == sorted(list(range(6)) * 2)
    assert all(r[2] > 0 and r[4] > 0 for r in out["results"])  # wall and CPU time
    for name in "ab":
        cpus = [(notes / f"{name}-{n}").read_text() for n in range(6)]
        assert len(set(cpus)) == 2, cpus  # each side on both CPUs, alternately
        assert cpus[0] != cpus[1]


def test_duet_refuses_more_commands_than_cpus(tmp_path: Path) -> None:
    n = len(os.sched_getaffinity(0)) + 1
    commands = [TimedCommand(f"v{i}", "w", (sys.executable, "-c", "pass")) for i in range(n)]
    with pytest.raises(HarnessError, match=r"duet: .* only .* CPUs"):
        timers.run_schedule_full(commands, warmup=0, runs=6, order="duet",
                                 env={"PATH": os.environ["PATH"]}, raw_dir=tmp_path)


def test_duet_timeout_and_failure_are_reported(tmp_path: Path) -> None:
    commands = [TimedCommand("a", "w", (sys.executable, "-S", "-c", "import time; "
                                        "time.sleep(30)")),
                TimedCommand("b", "w", (sys.executable, "-S", "-c", "raise SystemExit(5)"))]
    out = timers.run_schedule_full(commands, warmup=0, runs=3, order="duet",
                                   env={"PATH": os.environ["PATH"]}, raw_dir=tmp_path,
                                   timeout_s=1.0)
    by_index = {f["index"]: f for f in out["failures"]}
    assert by_index[0]["timed_out"] and by_index[1]["exit_code"] == 5
    assert len(out["results"]) == 2  # both stopped after the first launch


def test_duet_needs_the_spawn_timer(tmp_path: Path) -> None:
    from harness.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="duet"):
        load_config(_duet_config(tmp_path, timer="hyperfine"))


def test_duet_timer_wakes_at_realtime_priority_and_children_do_not(tmp_path: Path) -> None:
    """Where allowed (root here), the timer runs SCHED_FIFO so it records each exit when it
    happens (without it, on a loaded machine both sides of a launch got the same end time);
    the timed commands run at normal priority."""
    import json

    check = "import os, sys; sys.exit(os.sched_getscheduler(0) != os.SCHED_OTHER)"
    commands = [TimedCommand(v, "w", (sys.executable, "-S", "-c", check)) for v in "ab"]
    out = timers.run_schedule_full(commands, warmup=0, runs=2, order="duet",
                                   env={"PATH": os.environ["PATH"]}, raw_dir=tmp_path)
    assert out["failures"] == []
    saved = json.loads((tmp_path / "spawn-times.json").read_text())
    assert saved["realtime"] is (os.geteuid() == 0)


def _duet_config(tmp_path: Path, timer: str = "spawn") -> Path:
    config = tmp_path / "c.yaml"
    config.write_text(
        "variants:\n"
        f"  - {{name: main, role: main, source: {{python: {sys.executable}}}}}\n"
        f"  - {{name: pr, role: pr, source: {{python: {sys.executable}}}}}\n"
        "workloads:\n  - {name: w, command: ['{python}', '-S', '-c', 'pass'], "
        "importtime: false}\n"
        f"timing: {{order: duet, runs: 6, warmup: 1, timer: {timer}}}\n"
        "gate: {metric: cpu, threshold_pct: 50}\n")
    return config


@pytest.mark.skipif(os.geteuid() != 0 or not __import__("shutil").which("setpriv")
                    or len(os.sched_getaffinity(0)) < 2,
                    reason="needs root, setpriv and two CPUs")
@pytest.mark.parametrize("privileged", [True, False])
def test_a_run_says_when_its_duet_timer_lacked_realtime_priority(tmp_path: Path,
                                                                 privileged: bool) -> None:
    """Where the tool cannot time exits promptly it says so: run as root without CAP_SYS_NICE
    (setpriv), the report carries the note; with it, it does not."""
    import json
    import subprocess

    drop = [] if privileged else ["setpriv", "--bounding-set", "-sys_nice", "--inh-caps",
                                  "-sys_nice"]
    done = subprocess.run([*drop, sys.executable, "-m", "harness", "run", "--config",
                           str(_duet_config(tmp_path)), "--out", str(tmp_path / "out"),
                           "--quiet"], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["timing"]["order"] == "duet"
    noted = [w for w in report["extras"]["warnings"] if "real-time priority" in w]
    assert noted == ([] if privileged else [timers.DUET_NOT_REALTIME])
