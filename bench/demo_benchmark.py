"""Run the demo end to end and print where the time goes.

    python bench/demo_benchmark.py [--config harness/demo.yaml] [--out reports/bench-demo]

Runs ``python -m harness run`` as its own process (so the harness's start-up counts) and
prints the total wall time, the time of each phase (sources, build, smoke test, import time,
timing, instructions, inspection, cleanup), the timing overhead (wall time of the timing phase
over the sum of the measured run times; the ideal with the timer's warmups is (timer warmups +
runs) / runs) and the harness's own overhead: total wall time minus the builds minus the
measured process time (the timed runs and the warmups) as a share of the measured process
time. The warmups are the smoke run, the ``-X importtime`` runs that replaced timer warmups
(those that started the timed command's own interpreter, up to ``warmup - 1``) and the timer's
own, each estimated at its command's median; the spawn timer's plan (``raw/spawn-plan.json``)
says how many warmups the timer ran per command (without it, ``warmup`` x each median). The
import-time runs beyond that (and their ``-X importtime`` surcharge) stay harness overhead.
The load average is printed with the figures (the machine may be shared).
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


def timer_warmups(raw: Path) -> list[tuple[int, float]] | None:
    """Per command of the spawn timer's (first) plan: its warmup runs and the median of its
    timed runs; None without a spawn plan (hyperfine)."""
    plans = sorted(raw.glob("spawn-plan.json")) or sorted(raw.glob("batch-*/spawn-plan.json"))
    if not plans:
        return None
    plan = json.loads(plans[0].read_text())
    times: dict[int, list[float]] = {}
    for times_file in sorted(raw.glob("**/spawn-times.json")):
        for row in json.loads(times_file.read_text())["results"]:
            if row[0] >= 0:
                times.setdefault(int(row[1]), []).append(float(row[2]))
    return [(sum(1 for r, i in plan["schedule"] if r < 0 and i == index),
             statistics.median(times[index]) if times.get(index) else 0.0)
            for index in range(len(plan["commands"]))]


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
    medians = sum(statistics.median(s["values"]) for s in wall)
    per_command = timer_warmups(Path(out) / "raw")
    smoke_runs = medians  # the smoke run: every command's first warmup
    if per_command is None:  # hyperfine: warmup - 1 by the timer, each at the median
        timer, replaced = (timing["warmup"] - 1) * medians, 0.0
        n_timer = n_replaced = -1
    else:
        timer = sum(n * median for n, median in per_command)
        # what the timer did not run of its warmup - 1 was run as -X importtime before it
        gap = [(max(0, timing["warmup"] - 1 - n), median) for n, median in per_command]
        replaced = sum(n * median for n, median in gap)
        n_timer, n_replaced = sum(n for n, _ in per_command), sum(n for n, _ in gap)
    warmups = smoke_runs + replaced + timer
    ideal = (timing["warmup"] + timing["runs"]) / timing["runs"]
    if per_command is not None and per_command:
        ideal = (n_timer / len(per_command) + timing["runs"]) / timing["runs"]
    print(f"exit code                 {done.returncode}")
    print(f"total wall time           {total:8.2f} s   (load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after, {os.cpu_count()} CPUs)")
    for name, seconds in phases.items():
        print(f"  phase {name:<18}{seconds:8.2f} s")
    print(f"  start-up + analysis + writing "
          f"{total - sum(phases.values()):6.2f} s   (outside the phases)")
    if measured:
        print(f"sum of measured runs      {measured:8.2f} s ({sum(len(s['values']) for s in wall)} "
              f"runs)")
        print(f"warmups                   {warmups:8.2f} s   (each at its command's median)")
        print(f"  smoke runs              {smoke_runs:8.2f} s ({len(wall)})")
        if n_timer >= 0:
            print(f"  -X importtime runs      {replaced:8.2f} s ({n_replaced}, in place of "
                  "timer warmups)")
        print(f"  by the timer            {timer:8.2f} s"
              + (f" ({n_timer})" if n_timer >= 0 else " (warmup - 1 each)"))
        if "importtime" in phases:
            print(f"import-time phase beyond  {phases['importtime'] - replaced:8.2f} s   "
                  "(the runs it replaced: overhead)")
        print(f"timing overhead           {phases['timing'] / measured:8.2f} x "
              f"(ideal with the timer's warmups {ideal:.2f} x)")
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
