"""Fixture environments for the health probe and bytecode tests: real uv venvs in tmp_path,
each given one problem by the test (see the helpers below)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import proc
from harness.measure.builders.uv import default_python
from harness.measure.tools import which_tool

#: The real interpreter running the tests (not a venv link or a pyenv shim).
BASE_PYTHON = default_python()


def uv() -> str:
    found = which_tool("uv")
    if found is None:
        pytest.skip("uv not available")
    return found


class Venv:
    """A uv venv: its interpreter, site-packages and helpers to plant problems in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = str(root / "bin" / "python")
        self.site = next((root / "lib").glob("python*/site-packages"))

    def env(self, **extra: str) -> dict[str, str]:
        """The controlled environment the probe and workloads run with."""
        return proc.controlled_env(extra=extra)

    def add_package(self, name: str, *, modules: int = 0, version: str = "1.0",
                    root: Path | None = None, body: str = "VALUE = 1\n",
                    dist_name: str | None = None) -> Path:
        """A package ``name`` (``modules`` submodules m0..mN imported by its __init__) with a
        ``.dist-info`` directory, planted directly in ``root`` (default: site-packages)."""
        root = root or self.site
        pkg = root / name
        pkg.mkdir(parents=True)
        imports = "".join(f"from . import m{i}\n" for i in range(modules))
        (pkg / "__init__.py").write_text(imports + body)
        for i in range(modules):
            (pkg / f"m{i}.py").write_text(module_body(i))
        dist = root / f"{(dist_name or name).replace('-', '_')}-{version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name or name}\n"
                                       f"Version: {version}\n")
        (dist / "RECORD").write_text("")
        return pkg

    def run(self, *args: str, cwd: Path | None = None, **extra: str) -> proc.Completed:
        return proc.run([self.python, *args], env=self.env(**extra), cwd=cwd, timeout=120)


def module_body(i: int) -> str:
    """A module with enough code that compiling it costs measurable time."""
    funcs = "\n".join(
        f"def f{i}_{j}(x, y=2):\n"
        f"    total = 0\n"
        f"    for k in range(x):\n"
        f"        if k % {j + 2} == 0:\n"
        f"            total += k * y\n"
        f"        else:\n"
        f"            total -= {j}\n"
        f"    return {{'value': total, 'name': 'f{i}_{j}', 'items': [total, x, y]}}\n"
        for j in range(40))
    return f'"""Module {i}."""\n\nCONSTANT = {i}\n\n{funcs}\n'


def make_venv(path: Path) -> Venv:
    proc.run([uv(), "venv", "-q", "--python", BASE_PYTHON, str(path)],
             env=proc.scrubbed_env(), timeout=120, what="uv venv")
    return Venv(path)


@pytest.fixture(name="venv")
def venv_fixture(tmp_path: Path) -> Venv:
    """A fresh, clean uv venv."""
    return make_venv(tmp_path / "venv")
