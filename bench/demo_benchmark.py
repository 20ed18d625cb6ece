"""Run the demo end to end and print where the time goes.

    python bench/demo_benchmark.py [--config harness/demo.yaml] [--out reports/bench-demo]

Prints the total wall time, the time of each phase (sources, build, smoke test, timing,
instructions, inspection, cleanup) and the timing overhead: wall time of the timing phase
divided by the sum of the measured run times (warmups included in the wall time, so the
ideal is (warmup + runs) / runs).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from harness.cli import demo_config_path, main


def run(config: str, out: str) -> None:
    start = time.perf_counter()
    code = main(["run", "--config", config, "--out", out, "--quiet"])
    total = time.perf_counter() - start
    report = json.loads((Path(out) / "report.json").read_text())
    phases = report["extras"]["phases_s"]
    measured = sum(sum(s["values"]) for s in report["samples"] if s["metric"] == "wall")
    timing = report["timing"]
    ideal = (timing["warmup"] + timing["runs"]) / timing["runs"]
    print(f"exit code                 {code}")
    print(f"total wall time           {total:8.2f} s")
    for name, seconds in phases.items():
        print(f"  phase {name:<18}{seconds:8.2f} s")
    if measured:
        print(f"sum of measured runs      {measured:8.2f} s "
              f"({sum(len(s['values']) for s in report['samples'] if s['metric'] == 'wall')} "
              "runs)")
        print(f"timing overhead           {phases['timing'] / measured:8.2f} x "
              f"(ideal with warmups {ideal:.2f} x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(demo_config_path()))
    parser.add_argument("--out", default="reports/bench-demo")
    args = parser.parse_args()
    run(args.config, args.out)
    sys.exit(0)
