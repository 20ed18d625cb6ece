"""Every public top-level definition in harness/ is used by harness/ or bench/ (a reference
from the tests alone does not count): dead definitions stay gone."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: Kept on purpose though only tests read them, each with its reason.
KEPT = {
    "GITHUB_LIMIT": "GitHub's comment limit, the bound the tests hold every comment to",
    "transition_counts": "the orders' defining property, which the tests check every order by",
    "detect": "the detector on a plain series of medians, the contract issue 19 states "
              "(detect([17]*7 + [100]*6 + [17]*7)); the history calls analyse() with runs",
    "declared_version": "reads back the MODULE.bazel pin that the Bazel tests check",
}


def definitions(path: Path) -> list[tuple[str, int]]:
    """Public top-level functions, classes and constants of one module."""
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append((node.name, node.lineno))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out += [(t.id, node.lineno) for t in targets if isinstance(t, ast.Name)]
    return [(name, line) for name, line in out
            if not name.startswith("_") and name != "main"]


def references(paths: list[Path]) -> set[str]:
    """Every name read, attribute used, name imported, or named in a registry string
    (``"module:attribute"``) or the project's entry points."""
    used: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom):
                used.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                used.update(re.findall(r":([A-Za-z_]\w*)\b", node.value))
                if node.value.isidentifier():  # looked up by name (the probe's _PARSER)
                    used.add(node.value)
    used.update(re.findall(r":([A-Za-z_]\w*)\"", (REPO / "pyproject.toml").read_text()))
    return used


def unused(root: Path = REPO) -> list[str]:
    code = sorted((root / "harness").rglob("*.py")) + sorted((root / "bench").rglob("*.py"))
    used = references(code)
    return [f"{path.relative_to(root)}:{line}: {name}"
            for path in sorted((root / "harness").rglob("*.py"))
            for name, line in definitions(path) if name not in used and name not in KEPT]


def test_the_check_finds_a_definition_only_a_test_uses(tmp_path: Path) -> None:
    (tmp_path / "harness").mkdir()
    (tmp_path / "bench").mkdir()
    (tmp_path / "pyproject.toml").write_text('x = "harness.cli:main"\n')
    (tmp_path / "harness" / "a.py").write_text(
        "LIMIT = 3\nREGISTRY = {'x': 'harness.a:Plugin'}\n\n\nclass Plugin: ...\n\n\n"
        "def used():\n    return LIMIT\n\n\ndef dead():\n    return used()\n")
    (tmp_path / "harness" / "b.py").write_text("from harness.a import REGISTRY\n")
    assert unused(tmp_path) == ["harness/a.py:12: dead"]


def test_no_dead_definitions_in_harness() -> None:
    assert unused() == []
