"""The uv builder: ``uv venv`` + ``uv pip install`` with a private, cold cache."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from harness import proc
from harness.config import VariantConfig
from harness.measure.builders import BuiltEnv


def find_uv() -> str:
    """uv next to this interpreter (installed with the harness), else on PATH."""
    return proc.find_tool("uv", "pip install uv (it is a dependency of the harness)")


def default_python() -> str:
    """The real interpreter running the harness (not a venv link or a pyenv shim)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


class UvBuilder:
    name = "uv"

    def build(self, variant: VariantConfig, source_dir: str | None, out_base: Path,
              env: Mapping[str, str]) -> BuiltEnv:
        uv = find_uv()
        venv = out_base / "venv"
        cache = out_base / "uv-cache"
        build_env = dict(env, UV_CACHE_DIR=str(cache), UV_PYTHON_DOWNLOADS="never",
                         UV_NO_PROGRESS="1")
        python = variant.build.python or default_python()
        proc.run([uv, "venv", "--quiet", "--python", python, str(venv)], env=build_env,
                 what=f"variant {variant.name!r}: uv venv", timeout=variant.build.timeout_s)
        py = venv / "bin" / "python"
        install = [arg.replace("{source}", source_dir or "") for arg in variant.build.install]
        if install:
            proc.run([uv, "pip", "install", "--quiet", "--python", str(py), *install],
                     env=build_env, what=f"variant {variant.name!r}: uv pip install",
                     timeout=variant.build.timeout_s,
                     hint="check the requirement or the project's build")
        frozen = proc.run([uv, "pip", "freeze", "--python", str(py)], env=build_env,
                          what=f"variant {variant.name!r}: uv pip freeze", timeout=120)
        installed = tuple(line.strip() for line in frozen.stdout.splitlines() if line.strip())
        return BuiltEnv(python=str(py), prefix=str(venv), bin_dir=str(venv / "bin"),
                        installed=installed)
