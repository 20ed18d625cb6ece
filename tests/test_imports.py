"""The house's import graph, read with ast over harness/: no circle (function-level and
TYPE_CHECKING imports included) and no arrow from a lower stage up into measure/, history/ or
export/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "harness"

#: Who may import each upper stage (besides the stage's own modules), by top-level name under
#: ``harness``: the loader (config assembles its schema from the builder and timer
#: registries), the pipeline, the CLI; history consumes export, never the other way.
ALLOWED_IMPORTERS = {
    "measure": {"config", "pipeline", "cli"},
    "history": {"cli"},
    "export": {"history", "pipeline", "cli"},
}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module under ``root`` by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _target(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the harness modules it imports anywhere in its body."""
    known = modules(root)
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                names = [f"{base}.{alias.name}" for alias in node.names]
            for imported in names:
                target = _target(imported, known)
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def stage(module: str) -> str:
    """``harness.measure.timing`` -> ``measure``; ``harness.cli`` -> ``cli``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_arrows(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if stage(b) in ALLOWED_IMPORTERS and stage(a) != stage(b)
                  and stage(a) not in ALLOWED_IMPORTERS[stage(b)])


def test_the_graph_is_read_from_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "harness"
    (pkg / "measure").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "measure" / "__init__.py").write_text("")
    (pkg / "measure" / "timing.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from harness.model import X\n")
    (pkg / "model.py").write_text("def f():\n    from .measure import timing\n")
    graph = import_graph(pkg)
    assert graph["harness.model"] == {"harness.measure.timing"}
    assert graph["harness.measure.timing"] == {"harness.model"}
    assert cycles(graph) == [["harness.measure.timing", "harness.model"]]
    assert upward_arrows(graph) == ["harness.model -> harness.measure.timing"]


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_no_arrow_up_into_measure_history_or_export() -> None:
    assert upward_arrows(import_graph()) == []


@pytest.mark.parametrize("pure", ["harness.model", "harness.config_records",
                                  "harness.render.markdown", "harness.analyse.analysis"])
def test_pure_floors_never_reach_the_loader_or_the_pipeline(pure: str) -> None:
    graph = import_graph()
    reached, todo = set(), [pure]
    while todo:
        for target in graph[todo.pop()] - reached:
            reached.add(target)
            todo.append(target)
    assert not reached & {"harness.config", "harness.pipeline", "harness.cli"}
