"""Instruction counting: argv builders and parsers (pure), plus one real cachegrind check."""

from __future__ import annotations

import shutil
import sys

import pytest

from harness.errors import HarnessError
from harness.measure import instructions as ins

STDERR = """\
==15284== Cachegrind, a cache and branch-prediction profiler
==15284== Command: /tmp/a/bin/python -c pass
==15284==
--15284-- warning: L3 cache found, using its data for the LL simulation.
hi from the workload: I refs: 12
==15284==
==15284== I   refs:      34,511,049
"""


def test_cachegrind_argv():
    argv = ins.cachegrind_argv(["/venv/bin/python", "-c", "pass"], valgrind="/usr/bin/valgrind")
    assert argv == ["/usr/bin/valgrind", "--tool=cachegrind", "--cache-sim=no",
                    "--branch-sim=no", "--cachegrind-out-file=/dev/null", "--",
                    "/venv/bin/python", "-c", "pass"]
    assert ins.cachegrind_argv(["x"], out_file="/tmp/cg.out")[4] == \
        "--cachegrind-out-file=/tmp/cg.out"


def test_counted_env_forces_hash_seed():
    env = ins.counted_env({"PATH": "/bin", "PYTHONHASHSEED": "random"})
    assert env == {"PATH": "/bin", "PYTHONHASHSEED": "0"}


def test_parse_cachegrind_stderr():
    assert ins.parse_cachegrind(STDERR) == 34_511_049
    with pytest.raises(HarnessError, match="I refs"):
        ins.parse_cachegrind("hi from the workload: I refs: 12\n")


def test_perf_hyperfine_argv():
    argv = ins.perf_hyperfine_argv("hyperfine", ["/venv/bin/python", "-c", "import a b"],
                                   runs=3, export_json="/tmp/x.json")
    assert argv[:7] == ["hyperfine", "-N", "--style", "none", "--runs", "3", "--warmup"]
    assert argv[argv.index("--metrics") + 1] == "instructions"
    assert argv[-1] == "/venv/bin/python -c 'import a b'"


def test_parse_hyperfine_instructions():
    data = {"results": [{"command": "x", "measurements": [
        {"time_wall_clock": {"value": 0.01, "unit": "second"},
         "instructions": {"value": 34318511.0, "unit": "count"}, "exit_code": 0},
        {"time_wall_clock": {"value": 0.01, "unit": "second"},
         "instructions": {"value": 34318513.0, "unit": "count"}, "exit_code": 0}]}]}
    assert ins.parse_hyperfine_instructions(data) == (34_318_511, 34_318_513)
    with pytest.raises(HarnessError, match="instruction counts"):
        ins.parse_hyperfine_instructions({"results": [{"measurements": [{}]}]})


def test_describe_counter_says_what_is_excluded():
    for counter in ("perf", "cachegrind"):
        assert "excludes kernel time" in ins.describe_counter(counter)
    assert "not counted" in ins.describe_counter("none")


def test_unknown_counter():
    with pytest.raises(HarnessError, match="no instruction counter"):
        ins.measure_instructions(["true"], env={}, runs=1, counter="none")


def test_missing_valgrind_is_a_clear_error(tmp_path):
    with pytest.raises(HarnessError, match="valgrind not found"):
        ins.measure_instructions(["true"], env={"PATH": str(tmp_path)}, runs=1,
                                 valgrind=str(tmp_path / "valgrind"))


def test_detect_without_tools(tmp_path):
    assert ins.detect_instruction_counter(env={"PATH": str(tmp_path)}) == "none"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_cachegrind_counts_are_identical_run_to_run():
    env = {"PATH": "/usr/bin:/bin"}
    assert ins.detect_instruction_counter(env=env) in ("perf", "cachegrind")
    counts = ins.measure_instructions([sys.executable, "-S", "-c", "pass"], env=env, runs=2)
    assert len(counts) == 2
    assert counts[0] == counts[1] > 1_000_000
