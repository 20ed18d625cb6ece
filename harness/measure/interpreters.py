"""Finding the interpreters a matrix names: a path, or a version on PATH or under pyenv."""

from __future__ import annotations

import glob
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from harness import proc
from harness.errors import HarnessError, ProcessError

_VERSION = re.compile(r"\A(\d+)\.(\d+)(?:\.\d+)?\Z")
_QUERY = "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"


def _query(candidate: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(real executable, "X.Y") of ``candidate``, or None when it does not run (a pyenv shim
    for a version that is not selected exits 127)."""
    try:
        done = proc.run([candidate, "-I", "-c", _QUERY], env=env, timeout=30,
                        what=f"interpreter {candidate}")
    except ProcessError:
        return None
    lines = done.stdout.split()
    if len(lines) != 2:
        return None
    return os.path.realpath(lines[0]), lines[1]


def find_interpreter(spec: str, env: Mapping[str, str]) -> str:
    """The real executable for ``spec``: a path (must run), or a version ``3.12`` / ``3.12.1``
    looked up as ``python3.12`` on PATH, then under ``$PYENV_ROOT/versions``."""
    if os.sep in spec or spec.startswith("."):
        found = _query(spec, env)
        if found is None:
            raise HarnessError(f"matrix.python: {spec!r} is not a Python interpreter that runs",
                               "give the path of an interpreter, or a version like 3.12")
        return found[0]
    match = _VERSION.match(spec)
    if not match:
        raise HarnessError(f"matrix.python: {spec!r} is neither a path nor a version",
                           "give e.g. 3.12 or /usr/bin/python3.12")
    short = f"{match.group(1)}.{match.group(2)}"
    candidates = []
    on_path = shutil.which(f"python{short}", path=env.get("PATH") or os.environ.get("PATH"))
    if on_path:
        candidates.append(on_path)
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    pattern = spec if spec.count(".") == 2 else f"{short}.*"
    candidates += sorted(glob.glob(os.path.join(root, "versions", pattern, "bin",
                                                f"python{short}")), reverse=True)
    for candidate in candidates:
        found = _query(candidate, env)
        if found and found[1] == short:
            return found[0]
    raise HarnessError(f"matrix.python: no Python {spec} found on PATH or under pyenv",
                       "install it, or name its path in matrix.python")
