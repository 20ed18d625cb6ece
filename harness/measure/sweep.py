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

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness import proc

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
