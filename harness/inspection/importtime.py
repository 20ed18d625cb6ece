"""``-X importtime`` trees, pure: parse the interpreter's stderr, merge runs, rank, diff.

CPython prints one line per module when its import finishes (children before their parent)::

    import time: self [us] | cumulative | imported package
    import time:       127 |        127 |   _io
    import time:       554 |        988 | _frozen_importlib_external

Two spaces of indent per nesting level. Other stderr lines (the workload's own) are ignored.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness import defaults

_LINE = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|( *)(\S.*?)\s*$")


@dataclass(frozen=True)
class ImportNode:
    """One imported module: its own time, its time including what it imported, its imports."""

    name: str
    self_us: int
    cumulative_us: int
    children: tuple[ImportNode, ...] = ()


@dataclass(frozen=True)
class ModuleTime:
    """A module of a tree, flattened: ``parent`` is the module whose import triggered it."""

    name: str
    self_us: int
    cumulative_us: int
    depth: int
    parent: str | None


@dataclass(frozen=True)
class ImportTimeTree:
    """Top-level imports in the order they finished; ``runs`` runs were merged (median)."""

    roots: tuple[ImportNode, ...]
    runs: int = 1

    @property
    def total_us(self) -> int:
        return sum(node.cumulative_us for node in self.roots)

    def walk(self) -> Iterator[ModuleTime]:
        """Every module, depth first, parents before children."""
        stack: list[tuple[ImportNode, int, str | None]] = [(n, 0, None)
                                                            for n in reversed(self.roots)]
        while stack:
            node, depth, parent = stack.pop()
            yield ModuleTime(node.name, node.self_us, node.cumulative_us, depth, parent)
            stack += [(c, depth + 1, node.name) for c in reversed(node.children)]

    def modules(self) -> dict[str, ModuleTime]:
        """Module name -> its times (the first occurrence if a name repeats)."""
        out: dict[str, ModuleTime] = {}
        for item in self.walk():
            out.setdefault(item.name, item)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImportTimeTree:
        return cls(tuple(_node(n) for n in data.get("roots", ())), int(data.get("runs", 1)))


def _node(data: Mapping[str, Any]) -> ImportNode:
    return ImportNode(str(data["name"]), int(data["self_us"]), int(data["cumulative_us"]),
                      tuple(_node(c) for c in data.get("children", ())))


def parse(stderr: str) -> ImportTimeTree:
    """The tree of one ``-X importtime`` run (lines of other output are skipped)."""
    pending: dict[int, list[ImportNode]] = {}
    roots: list[ImportNode] = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        self_us, cum_us, indent, name = match.groups()
        depth = max(len(indent) - 1, 0) // 2
        node = ImportNode(name, int(self_us), int(cum_us),
                          tuple(pending.pop(depth + 1, [])))
        # deeper levels left over belong to an import that failed: attach them here
        for deeper in sorted(k for k in pending if k > depth):
            node = ImportNode(node.name, node.self_us, node.cumulative_us,
                              node.children + tuple(pending.pop(deeper)))
        if depth == 0:
            roots.append(node)
        else:
            pending.setdefault(depth, []).append(node)
    for depth in sorted(pending):
        roots += pending[depth]
    return ImportTimeTree(tuple(roots))


_HEADER = re.compile(r"^import time:\s*self \[us\] \| cumulative \| imported package\s*$")


def sections(stderr: str) -> list[str]:
    """The stderr of several processes that each printed import times (with
    ``PYTHONPROFILEIMPORTTIME`` inherited by a launcher's Python and the program's): one
    part per process, split at the header line each process prints before its first import;
    parts without an import line are dropped."""
    parts: list[list[str]] = [[]]
    for line in stderr.splitlines():
        if _HEADER.match(line):
            parts.append([])
        else:
            parts[-1].append(line)
    return ["\n".join(p) for p in parts if any(_LINE.match(line) for line in p)]


def merge(trees: Sequence[ImportTimeTree]) -> ImportTimeTree:
    """One tree with the shape of the first and, per module, the median time over ``trees``
    (a module missing from a run is left out of its median)."""
    if not trees:
        return ImportTimeTree(())
    tables = [t.modules() for t in trees]

    def med(name: str, attr: str, fallback: int) -> int:
        values = [getattr(t[name], attr) for t in tables if name in t]
        return int(statistics.median(values)) if values else fallback

    def rebuild(node: ImportNode) -> ImportNode:
        return ImportNode(node.name, med(node.name, "self_us", node.self_us),
                          med(node.name, "cumulative_us", node.cumulative_us),
                          tuple(rebuild(c) for c in node.children))

    return ImportTimeTree(tuple(rebuild(n) for n in trees[0].roots),
                          runs=sum(t.runs for t in trees))


def module_names(tree: ImportTimeTree) -> list[str]:
    """Every imported module name, in import-finish order, without repeats."""
    return list(tree.modules())


def top(tree: ImportTimeTree, n: int = 10, key: str = "cumulative_us") -> list[ModuleTime]:
    """The ``n`` modules with the largest ``key`` (``cumulative_us`` or ``self_us``)."""
    return sorted(tree.modules().values(), key=lambda m: (-getattr(m, key), m.name))[:n]


@dataclass(frozen=True)
class ModuleChange:
    """A module present in both trees whose import time changed (cumulative and self)."""

    name: str
    main_us: int
    pr_us: int
    main_self_us: int
    pr_self_us: int

    @property
    def delta_us(self) -> int:
        return self.pr_us - self.main_us

    @property
    def delta_self_us(self) -> int:
        return self.pr_self_us - self.main_self_us

    @property
    def delta_pct(self) -> float:
        return (self.pr_us / self.main_us - 1) * 100 if self.main_us else float("inf")

    @property
    def delta_self_pct(self) -> float:
        return ((self.pr_self_us / self.main_self_us - 1) * 100 if self.main_self_us
                else float("inf"))


@dataclass(frozen=True)
class ImportChange:
    """One line of the ranked diff: what it is (``new``, ``removed``, ``slower``, ``faster``),
    the module, how many modules it stands for (a new package with everything only it
    imports), and the time it adds (positive) or saves (negative): the sum of the self times
    of the modules it stands for, so the entries of a diff add up to the whole change."""

    kind: str
    name: str
    delta_us: int
    main_us: int  # self time in main (0 for new)
    pr_us: int  # self time in the PR (0 for removed)
    modules: int = 1


@dataclass(frozen=True)
class ImportTimeDiff:
    """PR vs main: modules only the PR imports, modules the PR no longer imports, slower and
    faster ones, and all of them ranked by the time they add or save (``ranked``)."""

    new: tuple[ModuleTime, ...]
    removed: tuple[ModuleTime, ...]
    slower: tuple[ModuleChange, ...]
    threshold_pct: float
    min_us: int
    pr_total_us: int = 0
    main_total_us: int = 0
    faster: tuple[ModuleChange, ...] = ()
    ranked: tuple[ImportChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.new or self.removed or self.slower or self.faster)

    @property
    def delta_us(self) -> int:
        """The whole change of import time, PR minus main."""
        return self.pr_total_us - self.main_total_us

    def slower_overall(self, pct: float = 5.0) -> bool:
        """The PR imports slower by more than ``pct`` percent and ``min_us``."""
        return (self.delta_us >= self.min_us
                and self.pr_total_us > self.main_total_us * (1 + pct / 100))


def _groups(tree: ImportTimeTree, names: set[str]) -> list[tuple[ModuleTime, int, int]]:
    """The modules of ``names`` whose parent is not in ``names`` (the top of a new or removed
    package), each with the sum of the self times of itself and the ``names`` modules below
    it, and how many those are."""
    out: list[tuple[ModuleTime, int, int]] = []
    seen: set[str] = set()

    def collect(node: ImportNode) -> tuple[int, int]:
        total, count = node.self_us, 1
        seen.add(node.name)
        for child in node.children:
            if child.name in names and child.name not in seen:
                t, c = collect(child)
                total, count = total + t, count + c
        return total, count

    def visit(node: ImportNode, depth: int, parent: str | None) -> None:
        if node.name in names and node.name not in seen:
            total, count = collect(node)
            out.append((ModuleTime(node.name, node.self_us, node.cumulative_us, depth, parent),
                        total, count))
        for child in node.children:
            visit(child, depth + 1, node.name)

    for root in tree.roots:
        visit(root, 0, None)
    return out


def diff(pr: ImportTimeTree, main: ImportTimeTree,
         threshold_pct: float = defaults.IMPORTTIME_SLOWER_PCT,
         min_us: int = round(defaults.IMPORTTIME_SLOWER_MS * 1000)) -> ImportTimeDiff:
    """Compare two trees. ``new`` and ``removed`` are sorted by cumulative time; ``slower``
    and ``faster`` hold modules whose own (self) import time changed by more than
    ``threshold_pct`` percent AND by at least ``min_us`` microseconds, largest change first.
    ``ranked`` puts them all in one list by the time each adds or saves: a new or removed
    package counts with the self times of the new (removed) modules only it imports."""
    a, b = pr.modules(), main.modules()
    new = sorted((m for name, m in a.items() if name not in b),
                 key=lambda m: (-m.cumulative_us, m.name))
    removed = sorted((m for name, m in b.items() if name not in a),
                     key=lambda m: (-m.cumulative_us, m.name))
    slower, faster = [], []
    for name, m in a.items():
        if name not in b:
            continue
        old = b[name]
        change = ModuleChange(name, old.cumulative_us, m.cumulative_us, old.self_us, m.self_us)
        if abs(change.delta_self_us) < min_us:
            continue
        if change.delta_self_us > 0 and change.delta_self_pct > threshold_pct:
            slower.append(change)
        elif change.delta_self_us < 0 and -change.delta_self_pct > threshold_pct / (
                1 + threshold_pct / 100):  # the mirror image: 1/1.2 = -16.7 %
            faster.append(change)
    slower.sort(key=lambda c: (-c.delta_self_us, c.name))
    faster.sort(key=lambda c: (c.delta_self_us, c.name))
    ranked = [ImportChange("new", m.name, total, 0, m.self_us, count)
              for m, total, count in _groups(pr, {m.name for m in new})]
    ranked += [ImportChange("removed", m.name, -total, m.self_us, 0, count)
               for m, total, count in _groups(main, {m.name for m in removed})]
    ranked += [ImportChange("slower" if c.delta_self_us > 0 else "faster", c.name,
                            c.delta_self_us, c.main_self_us, c.pr_self_us)
               for c in (*slower, *faster)]
    ranked.sort(key=lambda c: (-abs(c.delta_us), c.name))
    return ImportTimeDiff(tuple(new), tuple(removed), tuple(slower), threshold_pct, min_us,
                          pr.total_us, main.total_us, tuple(faster), tuple(ranked))
