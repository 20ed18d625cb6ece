"""House rules checked over the whole tree: module docstrings, no machine paths."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def tracked(*patterns: str) -> list[Path]:
    """Files under version control matching ``patterns`` (the tree itself outside git)."""
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--", *patterns],
                              capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return [p for pattern in patterns for p in ROOT.glob(pattern)]
    return [ROOT / name for name in done.stdout.split("\0") if name]


@pytest.mark.parametrize("path", sorted(ROOT.glob("harness/**/*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_has_a_one_line_docstring(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path.relative_to(ROOT)}: no module docstring"
    first = docstring.splitlines()[0].strip()
    assert first and len(first) <= 100, f"{path.relative_to(ROOT)}: first line {first!r}"


def test_no_machine_specific_paths() -> None:
    """No interpreter of this machine (a home directory, a pyenv root) is written into code,
    docs or configs; example reports under reports/ are recorded output, not code."""
    needles = ("/" + "root/", "." + "pyenv/")
    found = []
    for path in tracked("harness", "tests", "bench", ".ci", ".github", "*.md", "*.toml"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(ROOT)}: {n}" for n in needles if n in text]
    assert found == []
