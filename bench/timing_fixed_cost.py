"""The fixed cost of one timing phase, beyond the runs it times (issue 22: goal under 40 ms).

    .venv/bin/python bench/timing_fixed_cost.py [--repeat 7] [--runs 10]

Times :func:`harness.measure.adaptive.measure` (load monitor, plan, spawn-timer child, JSON
results) on two tiny commands (``/bin/true``-like: the real interpreter with ``-S -c pass``) in
a fresh process each time (with what the pipeline has imported by then), as the pipeline's
timing phase does, including what it does right after timing inside the same phase (judging
failed runs). Prints, per repetition,
the phase's wall time minus the wall time of the runs it timed (warm-ups included), and the
median, with the load average before and after (the machine may be shared: read the figures
with it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

from harness import proc

PHASE = """\
import json, sys, time
from pathlib import Path
import harness.pipeline  # what the pipeline has imported when its timing phase starts
t0 = time.perf_counter()
from harness.measure import adaptive
from harness.measure.timing import TimedCommand
py, raw, runs, warmup = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
commands = [TimedCommand(v, "w", (py, "-S", "-c", "pass")) for v in ("a", "b")]
timed = adaptive.measure(commands, warmup=warmup, runs=runs, order="balanced",
                         env={"PATH": "/usr/bin:/bin"}, raw_dir=raw)
from harness.analyse.failures import failed_runs
failed_runs(timed.samples)
phase = time.perf_counter() - t0
rows = json.loads((raw / "spawn-times.json").read_text())["results"]
print(json.dumps({"phase": phase, "timed": sum(r[2] for r in rows), "n": len(rows)}))
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args(argv)
    python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    load_before = os.getloadavg()[0]
    fixed = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="timing-fixed-cost-") as raw:
            done = proc.run([sys.executable, "-c", PHASE, python, raw, str(args.runs), "0"],
                            env=proc.scrubbed_env(), what="timing phase", timeout=600)
        figures = json.loads(done.stdout)
        # warm-ups are 0 here, so phase - timed is the fixed cost of the phase
        fixed.append(figures["phase"] - figures["timed"])
        print(f"repetition {i + 1}: phase {figures['phase'] * 1e3:7.1f} ms, runs "
              f"{figures['timed'] * 1e3:7.1f} ms ({figures['n']}), fixed "
              f"{fixed[-1] * 1e3:6.1f} ms")
    print(f"fixed cost per timing phase: median {statistics.median(fixed) * 1e3:.1f} ms "
          f"(min {min(fixed) * 1e3:.1f}); load average {load_before:.1f} -> "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
