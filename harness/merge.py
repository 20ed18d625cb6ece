"""``startup-harness merge``: the measurement records of a CI matrix's jobs as one record.

Every part must have run the same config (the digest recomputed from the config each part
carries, never the one it quotes) on the same commits; jobs are kept as
they are (a round pairs samples only within its job), so merging the parts of a matrix gives
the record one local matrix run would have written. The merged record expects every cell of
the config's matrix: a cell whose job is missing (it failed before uploading, or was
cancelled) becomes an error row, never a silent gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from harness import measurements
from harness.cells import key, matrix_cells
from harness.errors import HarnessError
from harness.measurements import Measurements


def find_records(paths: Sequence[str]) -> list[Path]:
    """Each path is a measurements.json or a directory searched for them (artifacts)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(path.rglob(measurements.FILE_NAME))
        elif path.is_file():
            found.append(path)
        else:
            raise HarnessError(f"{raw}: no such file or directory",
                               "pass the downloaded artifacts' directories")
    if not found:
        raise HarnessError(f"no {measurements.FILE_NAME} under {', '.join(paths)}",
                           "download every job's artifact into one directory first")
    from harness import validate

    total = sum(path.stat().st_size for path in found)
    if total > validate.MAX_RECORD_BYTES:  # the merged record would be refused at the door
        raise HarnessError(f"{', '.join(paths)[:200]}: {len(found)} parts hold "
                           f"{total / 1e6:.1f} MB together, more than a record may hold "
                           f"({validate.MAX_RECORD_BYTES / 1e6:.1f} MB)",
                           "merge the parts of one matrix run")
    return found


def merge(parts: Sequence[Measurements], names: Sequence[str]) -> Measurements:
    """One record from ``parts`` (``names`` say where each came from, for errors)."""
    first, first_name = parts[0], names[0]
    # the digests recomputed from the configs the parts carry, never the one they quote
    digests = [measurements.sha256_of(part.config) for part in parts]
    for part, name, digest in zip(parts, names, digests, strict=True):
        if digest != part.config_digest:
            raise HarnessError(f"{name}: config_digest does not match the config the part "
                               "carries", "merge only the jobs of one matrix run")
        if digest != digests[0]:
            raise HarnessError(
                f"{name}: ran another config than {first_name} ({digest[:19]}… vs "
                f"{digests[0][:19]}…)", "merge only the jobs of one matrix run")
    for part, name in zip(parts[1:], names[1:], strict=True):
        for what in ("gate", "workloads"):
            if getattr(part, what) != getattr(first, what):
                raise HarnessError(f"{name}: its {what} differ from {first_name}'s under the "
                                   "same config", "merge only the jobs of one matrix run")
        if [(v.name, v.role) for v in part.variants] != [(v.name, v.role)
                                                         for v in first.variants]:
            raise HarnessError(f"{name}: its variants differ from {first_name}'s under the "
                               "same config", "merge only the jobs of one matrix run")
        revisions = {v.name: v.revision for v in part.variants}
        for v in first.variants:
            if revisions.get(v.name) != v.revision:
                raise HarnessError(
                    f"{name}: variant {v.name!r} measured commit {revisions.get(v.name)} but "
                    f"{first_name} measured {v.revision}", "merge the jobs of one workflow run")
    from harness import validate

    jobs = []
    seen: dict[str, str] = {}
    values = 0
    for part, name in zip(parts, names, strict=True):
        values += sum(len(s.values) for job in part.jobs for s in job.samples)
        if values > validate.MAX_RECORD_VALUES:
            raise HarnessError(f"{name}: with it the parts hold {values:,} samples, more than "
                               f"a record may hold ({validate.MAX_RECORD_VALUES:,})",
                               "merge the parts of one matrix run")
        for job in part.jobs:
            if job.id in seen:
                raise HarnessError(f"{name}: job {job.id!r} is also in {seen[job.id]}",
                                   "give each job its own --job-id, or pass each record once")
            seen[job.id] = name
            jobs.append(job)
    expected = matrix_cells(first.config) or tuple(
        dict.fromkeys(c for part in parts for c in part.expected_cells))
    order = {cell: i for i, cell in enumerate(expected)}
    jobs.sort(key=lambda job: order.get(key(job.cell), len(order)))
    return dataclasses.replace(first, created=min(p.created for p in parts), jobs=tuple(jobs),
                               expected_cells=expected)
