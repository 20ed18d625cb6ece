"""How long ``merge`` takes (load, merge, analyse), against the size of the parts.

    python bench/merge_speed.py [--shape cells|jobs|runs] [--sizes 4,16,64]

Writes synthetic parts of a CI matrix into a temp dir (three variants, one workload, 50 paired
runs per job), then times the steps of ``startup-harness merge`` on them, once each:

* ``cells``: SIZE parts, one cell each (a matrix with an axis of SIZE values);
* ``jobs``: one part holding SIZE jobs of one cell (every job of a sharded run);
* ``runs``: one part, one job, SIZE thousand runs per variant.

Figures, not assertions: the machine may be shared (the load average is printed with them).
Linear means the seconds per MB stay flat as SIZE grows.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import tempfile
import time
from pathlib import Path

from harness import defaults, measurements
from harness.measurements import (
    FORMAT,
    SCHEMA_VERSION,
    Job,
    MachineRecord,
    Measurements,
    WorkloadInfo,
    sha256_of,
)
from harness.model import GatePolicy, Samples, TimingSettings, VariantInfo

VARIANTS = ("baseline", "main", "pr")


def _config(cells: int) -> dict[str, object]:
    return {"title": "merge bench",
            "variants": [{"name": v, "role": v, "source": {"requirement": "six"}}
                         for v in VARIANTS],
            "workloads": [{"name": "import", "command": ["{python}", "-c", "import six"]}],
            "matrix": {"shard": [f"s{i:04d}" for i in range(cells)]}}


def _job(job_id: str, cell: str, runs: int, seed: int) -> Job:
    rng = random.Random(seed)
    samples = tuple(
        Samples(v, "import", "wall",
                tuple(round(0.02 * (1 + 0.01 * i) * (1 + rng.gauss(0, 0.01)), 7)
                      for _ in range(runs)),
                tuple(range(runs)), exit_codes=(0,) * runs, job=job_id,
                positions=tuple(3 + 3 * r + i for r in range(runs)))
        for i, v in enumerate(VARIANTS))
    machine = MachineRecord("host", "cpu", 2, "Linux x86_64", "6.1", "CPython 3.11.7")
    timing = TimingSettings("spawn", 1, runs, defaults.ORDER)
    return Job(id=job_id, machine=machine, timing=timing, samples=samples, cell=cell)


def _record(config: dict[str, object], jobs: tuple[Job, ...], cells: tuple[str, ...]
            ) -> Measurements:
    return Measurements(
        schema_version=SCHEMA_VERSION, format=FORMAT, tool_version="bench",
        created="2026-12-01T00:00:00+00:00", config=config, config_digest=sha256_of(config),
        config_path="bench.yaml", title="merge bench",
        variants=tuple(VariantInfo(v, v, v, "six", "uv") for v in VARIANTS),
        workloads=(WorkloadInfo("import"),), gate=GatePolicy(), jobs=jobs,
        expected_cells=cells)


def write_parts(shape: str, size: int, root: Path) -> list[Path]:
    """The parts of one synthetic matrix run, written under ``root``."""
    cells = size if shape == "cells" else 1
    config = _config(cells)
    names = [f"shard=s{i:04d}" for i in range(cells)]
    if shape == "cells":
        records = [_record(config, (_job(f"j{i}", names[i], 50, i),), (names[i],))
                   for i in range(size)]
    elif shape == "jobs":
        records = [_record(config, tuple(_job(f"j{i}", names[0], 50, i) for i in range(size)),
                           (names[0],))]
    else:
        records = [_record(config, (_job("j0", names[0], 1000 * size, 0),), (names[0],))]
    paths = []
    for i, record in enumerate(records):
        path = root / f"part-{i:04d}" / measurements.FILE_NAME
        path.parent.mkdir(parents=True)
        path.write_text(measurements.dumps(dataclasses.replace(record)))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=["cells", "jobs", "runs"], default="cells")
    parser.add_argument("--sizes", default="8,32,128")
    args = parser.parse_args()
    from harness.analyse.analysis import analyse
    from harness.merge import merge

    print(f"load average {os.getloadavg()[0]:.2f}; shape {args.shape}")
    print(f"{'size':>6} {'MB':>7} {'load s':>8} {'merge s':>8} {'analyse s':>10} {'s/MB':>7}")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="merge-bench-") as scratch:
            paths = write_parts(args.shape, size, Path(scratch))
            mb = sum(p.stat().st_size for p in paths) / 1e6
            t0 = time.perf_counter()
            parts = [measurements.load(p) for p in paths]
            t1 = time.perf_counter()
            record = merge(parts, [str(p) for p in paths])
            t2 = time.perf_counter()
            analyse(record)
            t3 = time.perf_counter()
        print(f"{size:>6} {mb:>7.2f} {t1 - t0:>8.2f} {t2 - t1:>8.2f} {t3 - t2:>10.2f} "
              f"{(t3 - t0) / mb:>7.2f}")


if __name__ == "__main__":
    main()
