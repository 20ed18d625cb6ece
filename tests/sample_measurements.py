"""A deterministic measurement record on the default path (spawn timer, interleaved, paired;
a 5 % threshold given in its config; wall times only, so the default `metric: auto` gates wall
time, as for a record from the hyperfine timer or before CPU time), for golden files and
re-judging tests. Its interpreters do not exist, so anything that
tried to run them would fail: analysing it must never start a process.

``tests/golden/measurements-default.json`` is this record, saved; regenerate it with
``UPDATE_GOLDEN=1 python -m pytest tests/test_analysis.py``.
"""

from __future__ import annotations

import math
import random

from harness import defaults
from harness.inspection import importtime
from harness.measurements import (
    FORMAT,
    SCHEMA_VERSION,
    Job,
    LoadSnapshot,
    MachineRecord,
    Measurements,
    WorkloadInfo,
    sha256_of,
)
from harness.model import BuildResult, GatePolicy, Samples, TimingSettings, VariantInfo
from harness.serial import to_data
from tests.sample_report import _probe

MISSING = "/nonexistent/startup-harness-test"
JOB = "runner-1"
RUNS = 50

CONFIG = {
    "title": "rich start-up",
    "variants": [
        {"name": "baseline", "label": "rich 10.0.0", "role": "baseline",
         "source": {"python": f"{MISSING}/baseline/bin/python"}},
        {"name": "main", "label": "HEAD main", "role": "main",
         "source": {"python": f"{MISSING}/main/bin/python"}},
        {"name": "pr", "label": "This PR", "role": "pr",
         "source": {"python": f"{MISSING}/pr/bin/python"}},
    ],
    "workloads": [{"name": "import", "command": ["{python}", "-c", "import rich.console"]}],
    "gate": {"threshold_pct": 5},
}

#: Median start-up (s) and the factor of each variant: the PR is 3.5 % slower than main, so
#: the record's 5 % gate passes (no change) and a 2 % gate finds a regression.
CENTRES = {"baseline": 0.0812, "main": 0.0603, "pr": 0.0603 * 1.035}


def _importtime(variant: str) -> dict[str, object]:
    extra = "import time:       900 |        900 |   rich._pr_extra\n" if variant == "pr" else ""
    text = ("import time: self [us] | cumulative | imported package\n"
            "import time:      1200 |       1200 |   rich._loop\n"
            "import time:      3100 |       3100 |   rich.text\n" + extra +
            "import time:      4000 |      " + ("9200" if variant == "pr" else "8300") +
            " | rich.console\n")
    return to_data(importtime.parse(text))


def _samples() -> tuple[Samples, ...]:
    rng = random.Random(8)
    bursts = [math.exp(rng.gauss(0.0, 0.02)) for _ in range(RUNS)]  # shared by a round
    out = []
    for variant, centre in CENTRES.items():
        values = tuple(round(centre * bursts[r] * math.exp(rng.gauss(0.0, 0.004)), 7)
                       for r in range(RUNS))
        out.append(Samples(variant, "import", "wall", values, tuple(range(RUNS)),
                           raw_files=("spawn-times.json",), exit_codes=(0,) * RUNS, job=JOB))
    return tuple(out)


def sample_measurements() -> Measurements:
    """Three variants measured by one job with the default settings."""
    variants = tuple(VariantInfo(v["name"], v["label"], v["role"],
                                 f"python {v['source']['python']}", "existing")
                     for v in CONFIG["variants"])
    machine = MachineRecord(
        hostname="runner-host", cpu_model="AMD EPYC", cores=2, system="Linux x86_64",
        kernel="6.1.0", python="CPython 3.11.7", runner="runner-1",
        before=LoadSnapshot((1.5, 1.2, 0.9), 100_000, 150),
        after=LoadSnapshot((1.7, 1.3, 0.9), 101_000, 152))
    timing = TimingSettings(
        timer="spawn-wait timer (posix_spawn + wait4, perf_counter_ns)",
        warmup=defaults.WARMUP, runs=RUNS, order=defaults.ORDER,
        environment={"HOME": "/home/runner", "PATH": "/usr/bin:/bin"},
        platform="Linux x86_64, 2 CPUs")
    builds = tuple(BuildResult(v.name, "existing", True, 0.05,
                               python=f"{MISSING}/{v.name}/bin/python",
                               prefix=f"{MISSING}/{v.name}") for v in variants)
    job = Job(id=JOB, machine=machine, timing=timing, builds=builds, samples=_samples(),
              probes={"baseline": _probe(1), "main": _probe(2), "pr": _probe(2, troubled=True)},
              importtime={v.name: {"import": _importtime(v.name)} for v in variants},
              phases_s={"sources": 0.01, "build": 0.2, "smoke": 0.3, "timing": 9.5,
                        "instructions": 0.0, "inspect": 1.5, "cleanup": 0.02})
    return Measurements(
        schema_version=SCHEMA_VERSION, format=FORMAT, tool_version="0.1.0",
        created="2026-11-21T12:00:00+00:00", config=CONFIG, config_digest=sha256_of(CONFIG),
        config_path="bench/rich.yaml", title=CONFIG["title"], variants=variants,
        workloads=(WorkloadInfo("import"),),
        gate=GatePolicy(compare="pr", against="main", threshold_pct=5.0),
        jobs=(job,))
