"""The spawn-and-wait timer: its schedule (pure) and one real run on tiny commands."""

from __future__ import annotations

import sys

import pytest

from harness.errors import HarnessError
from harness.measure import timers
from harness.measure.timer_registry import warmups_of
from harness.measure.timing import TimedCommand


def test_interleaved_schedule_alternates_and_warms_up_first():
    plan = timers.schedule(2, warmup=2, runs=3, order="interleaved")
    assert plan == [(-1, 0), (-1, 1), (-1, 0), (-1, 1),
                    (0, 0), (0, 1), (1, 1), (1, 0), (2, 0), (2, 1)]


def test_blocks_schedule_is_the_seed_method():
    # run numbers never repeat across blocks, so nothing pretends to be paired
    assert timers.schedule(2, warmup=1, runs=2, order="blocks") == \
        [(-1, 0), (0, 0), (1, 0), (-1, 1), (2, 1), (3, 1)]


def test_a_command_already_warmed_gets_fewer_warmups_just_before_timing():
    """Warm-ups per command (TimedCommand.warmed): a command with fewer sits out the first
    passes, so every command's last warm-up is in the last pass; duet launches hold every
    command, so there all get the most any needs; blocks give each its own."""
    commands = [TimedCommand("a", "w", ("x",), warmed=5), TimedCommand("b", "w", ("y",)),
                TimedCommand("c", "w", ("z",), warmed=1)]
    counts = warmups_of(commands, 2)
    assert counts == [0, 2, 1]
    plan = timers.schedule(3, warmup=counts, runs=1, order="interleaved")
    assert plan == [(-1, 1), (-1, 1), (-1, 2), (0, 0), (0, 1), (0, 2)]
    assert timers.schedule(3, warmup=counts, runs=1, order="blocks") == \
        [(0, 0), (-1, 1), (-1, 1), (1, 1), (-1, 2), (2, 2)]
    duet = timers.schedule(3, warmup=counts, runs=1, order="duet")
    assert [i for r, i in duet if r < 0] == [0, 1, 2, 0, 1, 2]
    balanced = timers.schedule(3, warmup=counts, runs=3, order="balanced", seed=4)
    warm = [i for r, i in balanced if r < 0]
    assert sorted(warm) == [1, 1, 2] and warm[0] == 1
    assert timers.schedule(3, warmup=[0, 0, 0], runs=1, order="interleaved") == \
        timers.schedule(3, warmup=0, runs=1, order="interleaved")
    with pytest.raises(ValueError, match="2 warm-up counts for 3 commands"):
        timers.schedule(3, warmup=[1, 1], runs=1, order="interleaved")


def test_shuffled_schedule_is_seeded_and_complete():
    a = timers.schedule(3, warmup=0, runs=20, order="shuffled", seed=7)
    assert a == timers.schedule(3, warmup=0, runs=20, order="shuffled", seed=7)
    for r in range(20):
        assert sorted(i for rr, i in a if rr == r) == [0, 1, 2]
    with pytest.raises(HarnessError):
        timers.schedule(2, warmup=0, runs=1, order="random")


def test_samples_from_results():
    commands = [TimedCommand("a", "w", ("x",)), TimedCommand("b", "w", ("y",))]
    rows = [[0, 0, 0.01, 0, 0.009], [0, 1, 0.02, 0, 0.018], [1, 1, 0.021, 1, 0.019],
            [1, 0, 0.011, 0, 0.01]]
    a, b = timers.samples_from_results(commands, rows, "spawn-times.json")
    assert (a.variant, a.values, a.rounds, a.exit_codes) == ("a", (0.01, 0.011), (0, 1), (0, 0))
    assert (b.values, b.exit_codes, b.raw_files) == ((0.02, 0.021), (0, 1),
                                                     ("spawn-times.json",))
    a_cpu, _ = timers.samples_from_results(commands, rows, "spawn-times.json", "cpu")
    assert (a_cpu.metric, a_cpu.values) == ("cpu", (0.009, 0.01))


def test_measure_runs_real_commands(tmp_path):
    commands = [TimedCommand("ok", "w", (sys.executable, "-S", "-c", "pass")),
                TimedCommand("fails", "w", (sys.executable, "-S", "-c", "raise SystemExit(3)"))]
    ok, fails = timers.measure(commands, warmup=1, runs=3, order="interleaved",
                               env={"PATH": "/usr/bin:/bin"}, raw_dir=tmp_path)
    assert ok.rounds == (0, 1, 2)
    assert all(0 < v < 5 for v in ok.values)
    # a failing command is not run again after its first failure (here: the warmup)
    assert ok.exit_codes == (0, 0, 0) and fails.exit_codes == ()
    assert fails.failure == "exit 3 in a warmup run"
    commands = [commands[0], TimedCommand("fails", "w", commands[1].argv, allow_failure=True)]
    _, fails = timers.measure(commands, warmup=1, runs=3, order="interleaved",
                              env={"PATH": "/usr/bin:/bin"}, raw_dir=tmp_path)
    assert fails.exit_codes == (3, 3, 3)
    assert (tmp_path / "spawn-times.json").exists()
    cpu, _ = timers.measure(commands, warmup=0, runs=2, order="blocks",
                            env={"PATH": "/usr/bin:/bin"}, raw_dir=tmp_path, metric="cpu")
    assert cpu.metric == "cpu" and all(0 < v < 5 for v in cpu.values)


def test_timeout_kills_the_run_and_its_group(tmp_path):
    """A run that hangs (and leaves a grandchild) is killed with its process group after
    ``timeout_s``; the command is not run again; the others are timed."""
    pidfile = tmp_path / "grandchild.pid"
    hang = ("import subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    commands = [TimedCommand("ok", "w", (sys.executable, "-S", "-c", "pass")),
                TimedCommand("hangs", "w", (sys.executable, "-c", hang))]
    ok, hangs = timers.measure(commands, warmup=0, runs=3, order="interleaved",
                               env={"PATH": "/usr/bin:/bin"}, raw_dir=tmp_path, timeout_s=1.5)
    assert len(ok.values) == 3 and hangs.exit_codes == (-9,)
    assert hangs.failure.startswith("timed out in timed run 1")
    import os
    import time

    grandchild = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the hanging run's grandchild survived")
