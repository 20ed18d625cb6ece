"""Run orders: which command runs in which position of a round (pure, seeded).

A run right after a heavy run is slower (caches, CPU frequency, memory: a *carry-over*). An
order hands that to the variants unevenly unless every command is preceded by every command
(itself included) equally often. That is what ``balanced`` (the default) guarantees:

* Rounds stay rounds: each contains every command exactly once, so the paired statistic still
  pairs the values of one round (taken milliseconds apart).
* A command follows itself only across a round boundary. Counting the whole run as one
  sequence (warmups ending with the first round's first command, the last round wrapping to
  the first), there are ``k`` transitions per round and ``k^2`` ordered pairs, so equal counts
  force *every* boundary to repeat a command: each round starts with the command the previous
  one ended with (``ABC CBA ACB BAC CAB BCA`` for three commands).
* Within rounds, the ordered pairs ``(a, b)``, ``a != b``, come from Williams designs (Latin
  squares whose rows have every ordered pair once as neighbours; for an odd ``k`` a square and
  its mirror, every pair twice). The rows are chained into a circuit by an Eulerian walk on
  "first command -> last command"; when one square's walk falls apart (even ``k >= 4``) a
  second, relabelled square joins it. One *period* is ``k`` rounds for two commands and
  ``2k`` otherwise (``k`` for one).
* Chosen at random among balanced ones per seed: the commands are relabelled at random and the
  circuit is walked in a random order, afresh for every period. Every full period is exactly
  balanced; a run whose rounds are not a multiple of the period is balanced up to the last
  partial period.

Other orders, by name: ``interleaved`` (forward and reversed on alternate rounds, ABC CBA: for
two commands this *is* balanced, for three the middle one never follows itself and the outer
ones never follow each other inside a round), ``shuffled`` (a seeded shuffle per round) and
``duet`` (every command of a round started at once, one per CPU, released from one barrier by
the spawn timer; the commands rotate over the CPUs and the launch order from round to round:
AB BA for two) and ``blocks`` (all runs of one command back to back; not made of rounds).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from harness import defaults

#: The orders a config may name; rounds-based ones first.
ORDERS = defaults.ORDERS


def williams_rows(k: int) -> list[list[int]]:
    """Rows of the standard Williams square for ``k`` symbols (0, 1, k-1, 2, k-2, ... shifted
    by the row number); for odd ``k`` followed by the mirrored rows. Every ordered pair of
    distinct symbols is adjacent in exactly one row (``k`` even) or two (``k`` odd)."""
    first = [0]
    for step in range(1, k):
        first.append((step + 1) // 2 if step % 2 else k - step // 2)
    rows = [[(s + shift) % k for s in first] for shift in range(k)]
    if k % 2:
        rows += [row[::-1] for row in rows]
    return rows


def _connected(rows: Sequence[Sequence[int]], k: int) -> bool:
    """Whether the multigraph first -> last of ``rows`` connects all ``k`` symbols."""
    adjacent: dict[int, set[int]] = {s: set() for s in range(k)}
    for row in rows:
        adjacent[row[0]].add(row[-1])
        adjacent[row[-1]].add(row[0])
    seen, todo = {0}, [0]
    while todo:
        for nxt in adjacent[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return len(seen) == k


def balanced_rows(k: int, rng: random.Random) -> list[list[int]]:
    """One period's rows (unordered): every ordered distinct pair equally often as neighbours,
    every symbol first and last equally often, and a connected first -> last graph."""
    if k <= 1:
        return [[0]] * max(k, 1)
    rows = williams_rows(k)
    while not _connected(rows, k):  # even k >= 4: add a relabelled square that connects it
        relabel = list(range(k))
        rng.shuffle(relabel)
        candidate = rows + [[relabel[s] for s in row] for row in williams_rows(k)]
        if _connected(candidate, k):
            rows = candidate
    return rows


def _circuit(rows: Sequence[Sequence[int]], start: int, rng: random.Random) -> list[list[int]]:
    """The rows chained so that each starts with the symbol the previous one ended with, the
    first starting and the last ending at ``start`` (Hierholzer's algorithm, random choices)."""
    out_edges: dict[int, list[Sequence[int]]] = {}
    for row in rows:
        out_edges.setdefault(row[0], []).append(row)
    for edges in out_edges.values():
        rng.shuffle(edges)
    stack: list[tuple[int, Sequence[int] | None]] = [(start, None)]
    walk: list[Sequence[int]] = []
    while stack:
        node, via = stack[-1]
        if out_edges.get(node):
            row = out_edges[node].pop()
            stack.append((row[-1], row))
        else:
            stack.pop()
            if via is not None:
                walk.append(via)
    return [list(row) for row in reversed(walk)]


def balanced_rounds(k: int, runs: int, seed: int = 0) -> list[list[int]]:
    """``runs`` rounds of a carry-over-balanced order for ``k`` commands (see the module
    docstring); the first round starts with a seeded random command."""
    rng = random.Random(f"balanced/{k}/{seed}")
    if k <= 1:
        return [[0] for _ in range(runs)] if k == 1 else [[] for _ in range(runs)]
    rounds: list[list[int]] = []
    start = rng.randrange(k)
    while len(rounds) < runs:
        relabel = list(range(k))
        rng.shuffle(relabel)
        rows = [[relabel[s] for s in row] for row in balanced_rows(k, rng)]
        rounds += _circuit(rows, start, rng)
    return rounds[:runs]


def round_orders(k: int, runs: int, order: str, seed: int = 0) -> list[list[int]]:
    """The command indices of every round, in execution order, for a rounds-based order."""
    if order == "balanced":
        return balanced_rounds(k, runs, seed)
    if order == "interleaved":
        forward = list(range(k))
        return [forward if r % 2 == 0 else forward[::-1] for r in range(runs)]
    if order == "duet":  # a Latin square: each command on each CPU, launched i-th, equally often
        return [[(r + j) % k for j in range(k)] for r in range(runs)]
    if order == "shuffled":
        out = []
        for r in range(runs):
            shuffled = list(range(k))
            random.Random(seed * 1_000_003 + r).shuffle(shuffled)
            out.append(shuffled)
        return out
    raise ValueError(f"order {order!r} is not made of rounds")


def warmup_order(k: int, warmup: int | Sequence[int], first: int) -> list[int]:
    """``warmup`` round-robin passes over the ``k`` commands, ending with ``first`` (the first
    timed command), so the first timed run follows itself like every round boundary. With a
    count per command, a command with fewer warm-ups sits out the first passes (every
    command's last warm-up is in the last pass, just before timing)."""
    counts = warmup_counts(k, warmup)
    passes = max(counts, default=0)
    one_pass = [(first + 1 + i) % k for i in range(k)]
    return [i for p in range(passes) for i in one_pass if p >= passes - counts[i]]


def warmup_counts(k: int, warmup: int | Sequence[int]) -> list[int]:
    """Warm-up runs of each of ``k`` commands: the same ``warmup`` for all, or one each."""
    if isinstance(warmup, int):
        return [warmup] * k
    if len(warmup) != k:
        raise ValueError(f"{len(warmup)} warm-up counts for {k} commands")
    return list(warmup)


def transition_counts(sequence: Sequence[int], k: int) -> list[list[int]]:
    """``counts[a][b]``: how often command ``b`` ran right after command ``a``."""
    counts = [[0] * k for _ in range(k)]
    for before, after in itertools.pairwise(sequence):
        counts[before][after] += 1
    return counts
