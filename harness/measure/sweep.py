"""Sweep environments: one small venv per level, on top of a variant, with N of one thing added.

Every level gets its own venv (``python -m venv --without-pip`` from the variant's interpreter)
whose ``_startup_harness_base.pth`` adds the variant's site roots with ``site.addsitedir`` (so
the variant's packages and its own ``.pth`` files are there, at every level alike), plus N of
the swept quantity:

``sys_path_entries``  N existing empty directories, listed in one ``.pth`` file (``position:
                      end``, after site-packages, as a venv layout adds them) or in
                      ``PYTHONPATH`` (``position: front``, before the standard library, as
                      launchers such as Bazel's do): at the front every import of the
                      standard library searches them first, so they cost several times more
``site_roots``        N directories, each holding one installed distribution, added likewise
``distributions``     N installed distributions in site-packages (a package and its
                      ``.dist-info`` with METADATA, RECORD, INSTALLER, as an installer lays
                      them out)
``pth_files``         N ``.pth`` files, each adding one existing directory; with
                      ``import_lines`` each also imports a module that lives in its own
                      directory (an editable-install finder's shape), which makes the path
                      search of every later import longer: quadratic growth

The variant's own environment is never touched.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness import proc
from harness.measure.timing import TimedCommand
from harness.measurements import SweepSamples

if TYPE_CHECKING:
    from harness.config_records import SweepConfig

QUANTITIES = ("sys_path_entries", "site_roots", "distributions", "pth_files")


@dataclass(frozen=True)
class SweepPoint:
    """One level of a sweep: its venv's interpreter and prefix."""

    quantity: str
    level: int
    python: str
    prefix: str
    env: dict[str, str] = field(default_factory=dict)  # added to the timed environment


def venv_python(prefix: Path) -> Path:
    return prefix / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def site_packages(python: str, env: Mapping[str, str]) -> Path:
    """The purelib directory of ``python`` (a venv's own site-packages)."""
    done = proc.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    env=env, what=f"site-packages of {python}", hint="is it a Python?")
    return Path(done.stdout.strip())


def make_point(base_python: str, base_roots: Sequence[str], quantity: str, level: int,
               dest: Path, env: Mapping[str, str], import_lines: bool = False,
               position: str = "end") -> SweepPoint:
    """Create the venv of one level under ``dest`` and fill it."""
    if quantity not in QUANTITIES:
        raise ValueError(quantity)
    prefix = dest / f"{quantity}-{level}"
    proc.run([base_python, "-m", "venv", "--without-pip", str(prefix)], env=env,
             what=f"venv for sweep level {quantity}={level}",
             hint="the variant's interpreter needs the venv module")
    python = str(venv_python(prefix))
    site = site_packages(python, env)
    lines = "".join(f"import site; site.addsitedir({root!r})\n" for root in base_roots)
    (site / "_startup_harness_base.pth").write_text(lines, encoding="utf-8")
    front = fill(site, dest / f"{quantity}-{level}-extra", quantity, level, import_lines,
                 position)
    extra_env = {"PYTHONPATH": os.pathsep.join(map(str, front))} if front else {}
    return SweepPoint(quantity, level, python, str(prefix), extra_env)


def fill(site: Path, extra: Path, quantity: str, level: int, import_lines: bool,
         position: str = "end") -> list[Path]:
    """Add ``level`` units of ``quantity`` to the venv whose site-packages is ``site``; returns
    the directories that go in front of ``sys.path`` (``position: front``)."""
    if position not in ("end", "front"):
        raise ValueError(position)
    extra.mkdir(parents=True, exist_ok=True)
    dirs: list[Path] = []
    if quantity == "sys_path_entries":
        dirs = [_mkdir(extra / f"e{i}") for i in range(level)]
    elif quantity == "site_roots":
        for i in range(level):
            root = _mkdir(extra / f"r{i}")
            write_distribution(root, f"sweep_root_{i}")
            dirs.append(root)
    elif quantity == "distributions":
        for i in range(level):
            write_distribution(site, f"sweep_dist_{i}")
    elif quantity == "pth_files":
        for i in range(level):
            home = _mkdir(extra / f"p{i}")
            text = f"{home}\n"
            if import_lines:
                module = f"sweep_pth_mod_{i}"
                (home / f"{module}.py").write_text("", encoding="utf-8")
                text += f"import {module}\n"
            (site / f"sweep_{i:05d}.pth").write_text(text, encoding="utf-8")
    if position == "front":
        return dirs
    if dirs:
        _write_pth(site / "_startup_harness_sweep.pth", dirs)
    return []


def write_distribution(root: Path, name: str, version: str = "1.0") -> None:
    """A one-module distribution laid out as an installer writes it."""
    package = root / name
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    info = root / f"{name}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    (info / "INSTALLER").write_text("startup-harness\n", encoding="utf-8")
    (info / "top_level.txt").write_text(f"{name}\n", encoding="utf-8")
    (info / "RECORD").write_text(
        f"{name}/__init__.py,,0\n{info.name}/METADATA,,\n{info.name}/INSTALLER,,\n"
        f"{info.name}/top_level.txt,,\n{info.name}/RECORD,,\n", encoding="utf-8")


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_pth(path: Path, dirs: Sequence[Path]) -> None:
    path.write_text("".join(f"{d}\n" for d in dirs), encoding="utf-8")


def measure_sweeps(sweeps: Sequence[SweepConfig], envs: Mapping[str, tuple[str, Sequence[str]]],
                   argvs: Mapping[tuple[str, str], Sequence[str]], dest: Path, *,
                   build_env: Mapping[str, str], timed_env: Mapping[str, str], warmup: int,
                   seed: int, timeout_s: float, cwd: Path,
                   progress: Callable[[str], None]) -> tuple[SweepSamples, ...]:
    """Build every sweep's levels and time them, the levels of one sweep interleaved.

    ``envs``: variant -> (its interpreter, its site roots); ``argvs``: (variant, workload) ->
    the workload's argv for that variant, whose interpreter is swapped for each level's.
    Always the spawn timer (it sets PYTHONPATH per command for ``position: front``). A sweep
    whose variant was not built is skipped with its reason."""
    from harness.measure.timers import measure as spawn_measure

    out: list[SweepSamples] = []
    for i, sweep in enumerate(sweeps):
        base = envs.get(sweep.variant)
        argv = argvs.get((sweep.variant, sweep.workload))
        record = SweepSamples(sweep.variant, sweep.workload, sweep.quantity, sweep.position,
                              sweep.import_lines, sweep.levels, ())
        if base is None or argv is None:
            out.append(dataclasses.replace(
                record, failure=f"variant {sweep.variant!r} was not measured"))
            continue
        progress(f"sweep {i}: {sweep.quantity} at {', '.join(map(str, sweep.levels))} on "
                 f"{sweep.variant}")
        commands = []
        python = base[0]
        for level in sweep.levels:
            point = make_point(base[0], base[1], sweep.quantity, level, dest / f"sweep{i}",
                               build_env, import_lines=sweep.import_lines,
                               position=sweep.position)
            level_argv = tuple(point.python if arg == python else arg for arg in argv)
            commands.append(TimedCommand(f"sweep{i}", str(level), level_argv,
                                         env=dict(point.env)))
        samples = spawn_measure(
            commands, warmup=min(warmup, 2), runs=sweep.runs, order="interleaved",
            env=timed_env, raw_dir=dest / f"sweep{i}" / "raw", seed=seed, timeout_s=timeout_s,
            cwd=cwd)
        by_level = {s.workload: s for s in samples if s.metric == "wall"}
        failure = next((s.failure for s in samples if s.failure), "")
        if not failure and any(c != 0 for s in samples for c in s.exit_codes):
            failure = "a run exited non-zero"
        out.append(dataclasses.replace(
            record, failure=failure,
            values=tuple(tuple(by_level[str(level)].values) if str(level) in by_level else ()
                         for level in sweep.levels)))
    return tuple(out)
