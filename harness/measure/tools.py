"""The one place that finds external tools (uv, hyperfine, valgrind, bazel, perf)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from harness.errors import HarnessError

#: How to install each tool the harness may run; the hint of a "not found" error.
INSTALL_HINTS: dict[str, str] = {
    "uv": "pip install uv (it is a dependency of the harness)",
    "hyperfine": "pip install astral-dev-toolchain-hyperfine, or put hyperfine on PATH",
    "valgrind": "apt-get install valgrind, or drop `instructions` from metrics",
    "bazel": "apt-get install -y bazel-bootstrap (Debian: Bazel 4.2.3, offline), or bazelisk as "
             "`bazel` on PATH, or name the command in build.command",
    "perf": "apt-get install linux-tools-generic (perf), or count with valgrind",
}


def which_tool(name: str, path: str | None = None) -> str | None:
    """``name`` installed next to this interpreter (a dependency's wheel, e.g. uv and
    hyperfine), else on ``path`` (default: PATH); None when it is nowhere."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    return shutil.which(name, path=path)


def find_tool(name: str, path: str | None = None) -> str:
    """Like :func:`which_tool`, but a missing tool is a :class:`HarnessError` with the way to
    install it."""
    found = which_tool(name, path)
    if found is None:
        raise HarnessError(f"{name} not found", INSTALL_HINTS.get(name, f"install {name}"))
    return found
