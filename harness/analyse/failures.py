"""Failed runs are failures (pure, standard library only: the pipeline reports them right after
timing without importing numpy, which would count in the timing phase)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from harness.model import Samples


def failed_runs(samples: Sequence[Samples], allowed: Collection[str] = ()
                ) -> tuple[tuple[Samples, ...], list[str]]:
    """Failed runs are failures: a command with a failing run (warmup or timed: non-zero exit,
    or a timeout) is an error, named with its exit code and last stderr lines, and its times are
    left out of the analysis (the record keeps them). A workload in ``allowed``
    (``allow_failure``) keeps its non-zero exits (not its timeouts)."""
    kept: list[Samples] = []
    errors: list[str] = []
    named: set[tuple[str, str, str]] = set()  # wall and CPU time of one command: one error
    for s in samples:
        codes = [c for c in s.exit_codes if c != 0]
        timed_out = s.failure.startswith("timed out")
        if not (s.failure or codes) or (s.workload in allowed and not timed_out):
            kept.append(s)
            continue
        scenario = "" if s.scenario == "default" else f" (scenario {s.scenario})"
        detail = s.failure or f"exit {codes[0]}"
        counted = f"{len(codes)} of {len(s.exit_codes)} timed runs failed; " if codes else ""
        if (s.variant, s.workload, s.scenario) not in named:
            named.add((s.variant, s.workload, s.scenario))
            errors.append(f"workload {s.workload!r} of variant {s.variant!r}{scenario} failed: "
                          f"{counted}first: {detail}")
        kept.append(dataclasses.replace(s, values=(), rounds=()))
    return tuple(kept), errors
