"""The uv builder: ``uv venv`` + ``uv pip install`` with a private, cold cache."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.measure.builders import Builder, BuiltEnv, SourceKind, site_roots
from harness.measure.tools import find_tool

if TYPE_CHECKING:
    from harness.config_records import Source, VariantConfig


@dataclass(frozen=True)
class UvOptions:
    """``build:`` options of the uv builder."""

    python: str | None = None  # interpreter of the venv; default: the one running the harness
    install: tuple[str, ...] = ()  # `uv pip install` arguments; {source} is the checkout


def default_python() -> str:
    """The real interpreter running the harness (not a venv link or a pyenv shim)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


class UvBuilder:
    """A venv made by ``uv venv`` with the install arguments installed by ``uv pip install``."""

    name = "uv"
    tools: tuple[str, ...] = ("uv",)
    source_kinds: Mapping[str, SourceKind] = {}
    options_schema: Mapping[str, Any] = {
        "python": {"type": "string", "minLength": 1,
                   "description": "Interpreter of the venv (default: the harness's own)."},
        "install": {"type": "array", "items": {"type": "string", "minLength": 1},
                    "description": "uv pip install arguments; {source} is the checkout "
                                   "(default: the requirement, or {source})."},
    }
    placeholders: tuple[str, ...] = ()

    def options(self, raw: Mapping[str, Any], source: Source, base: Path) -> UvOptions:
        if source.kind == "requirement":
            default_install: tuple[str, ...] = source.requirements
        elif source.kind == "python":
            default_install = ()
        else:
            default_install = ("{source}",)
        return UvOptions(python=raw.get("python"),
                         install=tuple(raw.get("install", default_install)))

    def build(self, variant: VariantConfig, source_dir: str | None, out_base: Path,
              env: Mapping[str, str]) -> BuiltEnv:
        from harness import proc  # here: `startup-harness schema` imports this module

        opts = variant.build.options
        assert isinstance(opts, UvOptions)
        uv = find_tool("uv")
        venv = out_base / "venv"
        cache = out_base / "uv-cache"
        tmp = out_base / "tmp"  # uv's own temp files (setuptools lock files) go here
        tmp.mkdir(parents=True, exist_ok=True)
        build_env = dict(env, UV_CACHE_DIR=str(cache), UV_PYTHON_DOWNLOADS="never",
                         UV_NO_PROGRESS="1", TMPDIR=str(tmp))
        python = opts.python or default_python()
        proc.run([uv, "venv", "--quiet", "--python", python, str(venv)], env=build_env,
                 what=f"variant {variant.name!r}: uv venv", timeout=variant.build.timeout_s)
        py = venv / "bin" / "python"
        install = [arg.replace("{source}", source_dir or "") for arg in opts.install]
        if install:
            proc.run([uv, "pip", "install", "--quiet", "--python", str(py), *install],
                     env=build_env, what=f"variant {variant.name!r}: uv pip install",
                     timeout=variant.build.timeout_s,
                     hint="check the requirement or the project's build")
        frozen = proc.run([uv, "pip", "freeze", "--python", str(py)], env=build_env,
                          what=f"variant {variant.name!r}: uv pip freeze", timeout=120)
        installed = tuple(line.strip() for line in frozen.stdout.splitlines() if line.strip())
        return BuiltEnv(python=str(py), prefix=str(venv), bin_dir=str(venv / "bin"),
                        site_roots=site_roots(venv), installed=installed)


BUILDER: Builder = UvBuilder()
