"""Bytecode scenarios: prepare commands, the always-restoring context managers, and a timing
showing stale slower than warm for a package with many modules."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shlex
import statistics
import time
from pathlib import Path

import pytest

from harness import proc
from harness.inspection import runner
from harness.measure import bytecode, timing
from harness.measure.tools import find_tool
from tests.fixtures_env import Venv, venv_fixture  # noqa: F401

MANY = 120  # modules in the scenario package


def tree_state(root: Path) -> dict[str, tuple[str, float]]:
    """Every file under ``root``: content hash and mtime."""
    out = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            out[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(),
                              path.stat().st_mtime)
    return out


def compiled(venv: Venv, name: str, modules: int) -> list[str]:
    venv.add_package(name, modules=modules)
    bytecode.compile_all(venv.python, [str(venv.site)], env=venv.env())
    return [name, *(f"{name}.m{i}" for i in range(modules))]


def shell(argv: tuple[str, ...] | None) -> None:
    """Run a --prepare argv the way hyperfine does: through sh."""
    assert argv is not None
    proc.run(["sh", "-c", shlex.join(argv)], env=proc.controlled_env(), timeout=120)


def test_foreign_magic_is_never_valid() -> None:
    magic = importlib.util.MAGIC_NUMBER
    foreign = bytecode.foreign_magic(magic)
    assert foreign != magic and foreign[2:] == b"\r\n"
    assert int.from_bytes(foreign[:2], "little") == int.from_bytes(magic[:2], "little") - 1


def test_scenario_commands(tmp_path: Path) -> None:
    site = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    argv = ("/env/bin/python", "-I", "-c", "import x")
    commands = bytecode.scenario_commands("pr", "imp", argv, tmp_path / "env",
                                          ("warm", "cold", "stale"), python="/env/bin/python")
    assert [c.scenario for c in commands] == ["warm", "cold", "stale"]
    assert commands[0].argv == argv and commands[1].argv == argv
    assert commands[2].argv == ("/env/bin/python", "-I", "-B", "-c", "import x")
    for command in commands:
        assert command.prepare is not None
        assert command.prepare[:5] == ("/env/bin/python", "-I", "-S", "-B", "-c")
        assert command.prepare[-2:] == (command.scenario, str(site))
    with pytest.raises(ValueError, match="unknown bytecode scenario"):
        bytecode.prepare_argv("tepid", "python", ["/x"])


def test_no_write_argv_for_other_launchers(tmp_path: Path) -> None:
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\n")
    assert bytecode.no_write_argv([str(script), "a"])[1:] == (
        "PYTHONDONTWRITEBYTECODE=1", str(script), "a")


def test_preserved_restores_everything(venv: Venv) -> None:
    compiled(venv, "keep", 4)
    (venv.root / "other").mkdir()
    before = tree_state(venv.site)
    with bytecode.preserved([str(venv.site)]) as snapshot:
        assert len(snapshot.dirs) == 1
        bytecode.set_magic([str(venv.site)], stale=True)
        assert tree_state(venv.site) != before
        bytecode.strip([str(venv.site)])
        venv.add_package("fresh", modules=2)
        venv.run("-c", "import keep, fresh")  # writes new __pycache__ dirs
    after = tree_state(venv.site)
    new_files = set(after) - set(before)
    assert all("__pycache__" not in f for f in new_files)  # the block's .pyc are gone
    assert {k: v for k, v in after.items() if k in before} == before


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_stale_restores_on_error(venv: Venv, error: type[BaseException]) -> None:
    modules = compiled(venv, "boom", 3)
    before = tree_state(venv.site)
    with pytest.raises(error), bytecode.stale([str(venv.site)]) as changed:
        assert changed == 4
        report = runner.run_probe(venv.python, env=venv.env(), modules=modules)
        assert report.bytecode is not None and report.bytecode.count("foreign_magic") == 4
        raise error()
    assert tree_state(venv.site) == before
    report = runner.run_probe(venv.python, env=venv.env(), modules=modules)
    assert report.bytecode is not None and report.bytecode.counts == {"valid": 4}


def test_prepare_commands_through_a_shell(venv: Venv) -> None:
    modules = compiled(venv, "prep", 3)
    roots = [str(venv.site)]

    def counts() -> dict[str, int]:
        report = runner.run_probe(venv.python, env=venv.env(), modules=modules)
        assert report.bytecode is not None
        return report.bytecode.counts

    with bytecode.preserved(roots):
        shell(bytecode.prepare_argv("stale", venv.python, roots))
        assert counts() == {"foreign_magic": 4}
        shell(bytecode.prepare_argv("warm", venv.python, roots))
        assert counts() == {"valid": 4}
        shell(bytecode.prepare_argv("cold", venv.python, roots))
        assert counts() == {"missing": 4}
        assert bytecode.pycache_dirs(roots) == []
    assert counts() == {"valid": 4}


def median_ms(command: tuple[str, ...], prepare: tuple[str, ...] | None, env: dict[str, str],
              runs: int) -> float:
    values = []
    for _ in range(runs):
        shell(prepare)
        start = time.perf_counter()
        proc.run(command, env=env, timeout=120)
        values.append((time.perf_counter() - start) * 1000)
    return statistics.median(values)


def test_stale_is_slower_than_warm(venv: Venv, capsys: pytest.CaptureFixture[str]) -> None:
    compiled(venv, "many", MANY)
    argv = (venv.python, "-c", "import many")
    roots = [str(venv.site)]
    before = tree_state(venv.site)
    commands = bytecode.scenario_commands("v", "w", argv, venv.root, ("warm", "cold", "stale"))
    with bytecode.preserved(roots):
        times = {c.scenario: median_ms(c.argv, c.prepare, venv.env(), 5) for c in commands}
    assert tree_state(venv.site) == before
    with capsys.disabled():
        print(f"\nscenarios ({MANY + 1} modules): " + ", ".join(
            f"{k} {v:.1f} ms (x{v / times['warm']:.2f})" for k, v in times.items()))
    assert times["stale"] > 1.5 * times["warm"]
    assert times["cold"] > 1.5 * times["warm"]


@pytest.mark.slow
def test_scenarios_with_hyperfine(venv: Venv, tmp_path: Path) -> None:
    compiled(venv, "hyp", 60)
    argv = (venv.python, "-c", "import hyp")
    roots = [str(venv.site)]
    before = tree_state(venv.site)
    commands = bytecode.scenario_commands("v", "w", argv, venv.root, ("warm", "cold", "stale"))
    with bytecode.preserved(roots):
        samples = timing.measure(commands, warmup=1, runs=5, order="interleaved",
                                 env=venv.env(), raw_dir=tmp_path / "raw",
                                 hyperfine=find_tool("hyperfine"))
    assert tree_state(venv.site) == before
    medians = {s.scenario: statistics.median(s.values) for s in samples}
    assert medians["stale"] > 1.3 * medians["warm"]
    assert medians["cold"] > 1.3 * medians["warm"]
