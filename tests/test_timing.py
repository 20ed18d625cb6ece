"""hyperfine command lines and exports (pure), and one real interleaved measurement."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from harness import proc
from harness.errors import HarnessError
from harness.measure import timing
from harness.measure.timing import TimedCommand
from harness.measure.tools import find_tool

EXPORT_2X = {
    "schema_version": 2,
    "results": [
        {"command": "a/import", "measurements": [
            {"time_wall_clock": {"value": 0.011, "unit": "second"}, "exit_code": 0},
            {"time_wall_clock": {"value": 12.5, "unit": "millisecond"}, "exit_code": 0}]},
        {"command": "b/import", "measurements": [
            {"time_wall_clock": {"value": 0.02, "unit": "second"}, "exit_code": 1}]},
    ],
}
EXPORT_1X = {"results": [{"command": "x", "mean": 0.01, "times": [0.01, 0.012],
                          "exit_codes": [0, 0]}]}


def test_parse_2x_export_converts_units() -> None:
    a, b = timing.parse_export(EXPORT_2X)
    assert a.name == "a/import"
    assert a.times == pytest.approx((0.011, 0.0125))
    assert b.exit_codes == (1,)


def test_parse_1x_export() -> None:
    (x,) = timing.parse_export(EXPORT_1X)
    assert x.times == (0.01, 0.012)
    assert x.exit_codes == (0, 0)


def test_parse_rejects_non_export() -> None:
    with pytest.raises(HarnessError, match="no results"):
        timing.parse_export({"foo": 1})


def test_hyperfine_argv_quotes_arguments_and_names_commands(tmp_path: Path) -> None:
    cmd = TimedCommand("pr", "import", ("/v env/bin/python", "-c", "import a; print('x y')"))
    argv = timing.hyperfine_argv("hf", [cmd], runs=1, warmup=0, export_json=tmp_path / "e.json")
    assert argv[:2] == ["hf", "-N"]
    assert argv[argv.index("--command-name") + 1] == "pr/import"
    assert shlex.split(argv[-1]) == list(cmd.argv)
    assert "--prepare" not in argv


def test_hyperfine_argv_prepare_for_every_command_when_any_has_one(tmp_path: Path) -> None:
    a = TimedCommand("a", "w", ("py",))
    b = TimedCommand("b", "w", ("py",), scenario="cold", prepare=("rm", "-rf", "/x y"))
    argv = timing.hyperfine_argv("hf", [a, b], runs=1, warmup=0, export_json=tmp_path / "e")
    prepares = [argv[i + 1] for i, v in enumerate(argv) if v == "--prepare"]
    assert prepares == ["true", "rm -rf '/x y'"]


@pytest.mark.parametrize("order", ["interleaved", "blocks"])
def test_hyperfine_skips_the_warmups_a_command_already_had(tmp_path: Path, order: str) -> None:
    """A command warmed before timing (TimedCommand.warmed) gets only the rest: here none, so
    only b is in hyperfine's warm-up call (rounds) or its block has --warmup 0."""
    python = str(Path(sys.executable).resolve())
    commands = [TimedCommand("a", "pass", (python, "-S", "-c", "pass"), warmed=3),
                TimedCommand("b", "pass", (python, "-S", "-c", "pass"))]
    a, b = timing.measure(commands, warmup=2, runs=3, order=order, env=proc.controlled_env(),
                          raw_dir=tmp_path / "raw", hyperfine=find_tool("hyperfine"))
    assert len(a.values) == len(b.values) == 3
    if order == "interleaved":
        warm = json.loads((tmp_path / "raw" / "warmup.json").read_text())["results"]
        assert [r["name"] for r in warm] == ["b/pass"]
        assert sorted(a.positions + b.positions) == list(range(3, 9))  # after b's 2 + 1
    else:
        assert a.positions == (0, 1, 2) and b.positions == (5, 6, 7)  # b: 2 warm-ups first


@pytest.mark.parametrize("order", ["interleaved", "blocks", "balanced"])
def test_measure_runs_real_hyperfine(tmp_path: Path, order: str) -> None:
    python = str(Path(sys.executable).resolve())
    commands = [TimedCommand("a", "pass", (python, "-S", "-c", "pass")),
                TimedCommand("b", "pass", (python, "-S", "-c", "pass"))]
    samples = timing.measure(commands, warmup=1, runs=4, order=order,
                             env=proc.controlled_env(), raw_dir=tmp_path / "raw",
                             hyperfine=find_tool("hyperfine"))
    assert [s.variant for s in samples] == ["a", "b"]
    for i, s in enumerate(samples):
        assert len(s.values) == 4
        assert all(0 < v < 5 for v in s.values)
        # blocks have no rounds: run numbers never repeat, so nothing is paired
        first = 4 * i if order == "blocks" else 0
        assert s.rounds == tuple(range(first, first + 4))
    a, b = samples
    positions = sorted(a.positions + b.positions)
    assert len(set(positions)) == 8  # every timed run has its own place in the sequence
    if order != "blocks":  # rounds: two consecutive places per round, after 2 x (1 + 1) warmups
        assert positions == list(range(4, 12))
    raw = sorted(p.name for p in (tmp_path / "raw").iterdir())
    if order == "interleaved":
        assert raw == ["round-0000.json", "round-0001.json", "round-0002.json",
                       "round-0003.json", "warmup.json"]
        # round 1 ran b before a
        names = [r["name"] for r in json.loads((tmp_path / "raw" / raw[1]).read_text())[
            "results"]]
        assert names == ["b/pass", "a/pass"]
    elif order == "blocks":
        assert raw == ["block-000.json", "block-001.json"]
