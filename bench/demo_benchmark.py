"""Run the demo end to end and print where the time goes.

    python bench/demo_benchmark.py [--config harness/demo.yaml] [--out reports/bench-demo]

Runs ``python -m harness run`` as its own process (so the harness's start-up counts) and
prints the total wall time, the time of each phase (sources, build, smoke test, timing,
instructions, inspection, cleanup), the timing overhead (wall time of the timing phase over the
sum of the measured run times; the ideal with warmups is (warmup + runs) / runs) and the
harness's own overhead: total wall time minus the builds minus the measured process time (the
timed runs and an estimate of the warmups: warmup x each command's median), as a share of the
measured process time. The load average is printed with the figures (the machine may be
shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from harness import proc
from harness.cli import demo_config_path


def run(config: str, out: str) -> None:
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    done = proc.run([sys.executable, "-m", "harness", "run", "--config", config, "--out", out,
                     "--quiet"], env=dict(os.environ), check=False, what="startup-harness run")
    total = time.perf_counter() - start
    report = json.loads((Path(out) / "report.json").read_text())
    phases = report["extras"]["phases_s"]
    wall = [s for s in report["samples"] if s["metric"] == "wall" and s["values"]]
    measured = sum(sum(s["values"]) for s in wall)
    timing = report["timing"]
    warmups = timing["warmup"] * sum(statistics.median(s["values"]) for s in wall)
    ideal = (timing["warmup"] + timing["runs"]) / timing["runs"]
    print(f"exit code                 {done.returncode}")
    print(f"total wall time           {total:8.2f} s   (load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after, {os.cpu_count()} CPUs)")
    for name, seconds in phases.items():
        print(f"  phase {name:<18}{seconds:8.2f} s")
    print(f"  start-up + analysis + writing "
          f"{total - sum(phases.values()):6.2f} s   (outside the phases)")
    if measured:
        print(f"sum of measured runs      {measured:8.2f} s ({sum(len(s['values']) for s in wall)} "
              f"runs; warmups about {warmups:.2f} s more)")
        print(f"timing overhead           {phases['timing'] / measured:8.2f} x "
              f"(ideal with warmups {ideal:.2f} x)")
        own = total - phases.get("build", 0.0) - measured - warmups
        print(f"harness overhead          {own:8.2f} s = {own / (measured + warmups) * 100:.0f} % "
              "of measured process time (wall - builds - timed runs - warmups)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(demo_config_path()))
    parser.add_argument("--out", default="reports/bench-demo")
    args = parser.parse_args()
    run(args.config, args.out)
    sys.exit(0)
