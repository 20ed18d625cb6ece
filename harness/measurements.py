"""The measurement record: everything a run measured, nothing it concluded.

``measurements.json`` (beside ``report.json``) is the versioned serialization of
:class:`Measurements`. A run writes it; :func:`harness.analyse.analysis.analyse` turns it into a
report without timing anything, so a saved run can be re-judged at another threshold, merged
with other jobs, or compared later.

Shape (``schema_version`` 1)::

    Measurements
      config, config_digest, config_path   the config as parsed YAML, sha256 of its canonical JSON
      title, variants, workloads, gate     what the config resolved to (names, labels, roles,
                                           sources with git SHAs; the default gate policy)
      jobs[]                               one per machine-run of the schedule
        id, machine                        MachineRecord: CPU, cores, kernel, Python, CI runner,
                                           load average and CPU counters before/after timing
        timing                             TimingSettings: timer, warmup, runs, order, env
        builds[], samples[], probes{},     every raw sample (value, round, exit code) with its
        importtime{}, errors[],            job; builds, probe reports, -X importtime trees,
        warnings[], phases_s{}             errors, phase wall times

**Pairing is within a job only**: samples live inside their job, and a round number pairs two
values only when they come from the same job (:func:`harness.analyse.analysis.pooled`).
Nothing here does I/O except :func:`load`; :func:`dumps` and :func:`loads` are pure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, field_path
from harness.inspection.health import ProbeReport
from harness.model import BuildResult, GatePolicy, Samples, TimingSettings, VariantInfo
from harness.serial import canonical_json as canonical_json
from harness.serial import from_data, to_data
from harness.serial import sha256_of as sha256_of

SCHEMA_VERSION = 1
FORMAT = "startup-harness measurements"
FILE_NAME = "measurements.json"


@dataclass(frozen=True)
class LoadSnapshot:
    """How busy the machine was at one moment: load average (1, 5, 15 min) and the cumulative
    CPU counters of ``/proc/stat`` (all CPUs, jiffies)."""

    loadavg: tuple[float, ...] = ()
    cpu_ticks: int = 0
    steal_ticks: int = 0


@dataclass(frozen=True)
class MachineRecord:
    """The machine one job ran on, and its load before and after timing."""

    hostname: str
    cpu_model: str
    cores: int
    system: str  # "Linux x86_64"
    kernel: str  # uname release
    python: str  # the harness's own interpreter: "CPython 3.11.7"
    runner: str | None = None  # CI runner name (RUNNER_NAME), "ci" in another CI, None locally
    before: LoadSnapshot = field(default_factory=LoadSnapshot)
    after: LoadSnapshot = field(default_factory=LoadSnapshot)

    @property
    def steal_pct(self) -> float | None:
        """Percent of CPU time stolen by the hypervisor between the snapshots (None: unknown)."""
        total = self.after.cpu_ticks - self.before.cpu_ticks
        if total <= 0:
            return None
        return 100.0 * (self.after.steal_ticks - self.before.steal_ticks) / total


@dataclass(frozen=True)
class WorkloadInfo:
    """A workload as the analysis needs it: its name, metrics, bytecode scenarios, and whether
    a non-zero exit is expected."""

    name: str
    metrics: tuple[str, ...] = ("wall",)
    scenarios: tuple[str, ...] = ()
    allow_failure: bool = False


@dataclass(frozen=True)
class SweepSamples:
    """A sweep's raw samples: start-up seconds of ``workload`` at each level of ``quantity``
    added on top of ``variant``'s environment, the levels timed interleaved."""

    variant: str
    workload: str
    quantity: str
    position: str
    import_lines: bool
    levels: tuple[int, ...]
    values: tuple[tuple[float, ...], ...]  # values[i]: the runs at levels[i]
    failure: str = ""


@dataclass(frozen=True)
class Job:
    """One run of the whole schedule on one machine. Its samples pair only with each other."""

    id: str
    machine: MachineRecord
    timing: TimingSettings
    builds: tuple[BuildResult, ...] = ()
    #: every raw value with its round, exit code and first failure, failed runs included
    #: (analyse() leaves a failing command out and makes it an error); Samples.job == id
    samples: tuple[Samples, ...] = ()
    probes: dict[str, ProbeReport] = field(default_factory=dict)
    importtime: dict[str, dict[str, Any]] = field(default_factory=dict)  # variant -> workload
    errors: tuple[str, ...] = ()  # failed builds and smoke tests
    warnings: tuple[str, ...] = ()  # incomplete inspections
    phases_s: dict[str, float] = field(default_factory=dict)
    #: the matrix cell this job measured ("python=3.12"); "" without a matrix. Jobs of one
    #: cell are pooled (never paired across jobs); different cells are judged apart
    cell: str = ""
    #: sweeps (config ``sweep:``): start-up at each level of a quantity
    sweeps: tuple[SweepSamples, ...] = ()
    #: absolute path of this job's run -> "<venv>", "<repo>", "<work>" (what a comment shows)
    locations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Measurements:
    """Everything measured for one config, by one or more jobs."""

    schema_version: int
    format: str
    tool_version: str
    created: str  # ISO 8601, UTC; the report's ``created``
    config: dict[str, Any]  # the config as parsed YAML
    config_digest: str  # sha256 of the config's canonical JSON
    config_path: str
    title: str
    variants: tuple[VariantInfo, ...]
    workloads: tuple[WorkloadInfo, ...]
    gate: GatePolicy  # the config's gate; `analyse` may judge with another
    jobs: tuple[Job, ...]
    #: the matrix cells this record should hold (a run: the cells it measured; a merge: every
    #: cell of the config's matrix); a cell without a job is reported as an error
    expected_cells: tuple[str, ...] = ()


def digest(measurements: Measurements) -> str:
    """The record's digest (canonical JSON of the whole record); report.json quotes it."""
    return sha256_of(to_data(measurements))


def dumps(measurements: Measurements) -> str:
    """The record as JSON text (field order, indented, trailing newline)."""
    return json.dumps(to_data(measurements), indent=2, ensure_ascii=False) + "\n"


_NUMBERS = {"type": "array", "items": {"type": "number"}}
_INTS = {"type": "array", "items": {"type": "integer"}}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_SNAPSHOT = {"type": "object", "properties": {"loadavg": _NUMBERS,
                                              "cpu_ticks": {"type": "integer"},
                                              "steal_ticks": {"type": "integer"}}}

#: JSON Schema of ``measurements.json`` (schema_version 1). Further keys are allowed, so a
#: newer harness can add fields an older one ignores.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "startup-harness measurements",
    "type": "object",
    "required": ["schema_version", "format", "tool_version", "created", "config",
                 "config_digest", "title", "variants", "workloads", "gate", "jobs"],
    "properties": {
        "schema_version": {"type": "integer", "minimum": 1},
        "format": {"const": FORMAT},
        "tool_version": {"type": "string"},
        "created": {"type": "string"},
        "config": {"type": "object"},
        "config_digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
        "config_path": {"type": "string"},
        "title": {"type": "string"},
        "variants": {"type": "array", "items": {
            "type": "object", "required": ["name", "label", "source", "builder"],
            "properties": {"name": {"type": "string"}, "label": {"type": "string"},
                           "role": {"enum": ["baseline", "main", "pr", None]},
                           "source": {"type": "string"}, "builder": {"type": "string"},
                           "revision": {"type": ["string", "null"]}}}},
        "workloads": {"type": "array", "items": {
            "type": "object", "required": ["name", "metrics"],
            "properties": {"name": {"type": "string"}, "metrics": _STRINGS,
                           "scenarios": _STRINGS, "allow_failure": {"type": "boolean"}}}},
        "gate": {"type": "object", "required": ["compare", "against"],
                 "properties": {"compare": {"type": "string"}, "against": {"type": "string"},
                                "workload": {"type": ["string", "null"]},
                                "metric": {"type": "string"},
                                "statistic": {"enum": ["paired", "median", "mean"]},
                                # the config schema's own limits (harness.validate)
                                "threshold_pct": {"type": "number", "exclusiveMinimum": 0,
                                                  "maximum": 1000},
                                "confidence": {"type": "number", "exclusiveMinimum": 0.5,
                                               "exclusiveMaximum": 1},
                                "inconclusive": {"enum": ["pass", "fail"]}}},
        "jobs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "machine", "timing", "samples"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "machine": {"type": "object",
                            "required": ["hostname", "cpu_model", "cores", "system", "kernel",
                                         "python"],
                            "properties": {"cores": {"type": "integer"},
                                           "runner": {"type": ["string", "null"]},
                                           "before": _SNAPSHOT, "after": _SNAPSHOT}},
                "timing": {"type": "object", "required": ["timer", "warmup", "runs", "order"]},
                "builds": {"type": "array", "items": {
                    "type": "object", "required": ["variant", "builder", "ok", "seconds"],
                    "properties": {
                        "phases": {"type": "object",
                                   "additionalProperties": {"type": "number"}},
                        "details": {"type": "object",
                                    "additionalProperties": {"type": "string"}}}}},
                "samples": {"type": "array", "items": {
                    "type": "object",
                    "required": ["variant", "workload", "metric", "values", "rounds", "job"],
                    "properties": {"variant": {"type": "string"},
                                   "workload": {"type": "string"},
                                   "metric": {"type": "string"}, "values": _NUMBERS,
                                   "rounds": _INTS, "scenario": {"type": "string"},
                                   "job": {"type": "string"}, "exit_codes": _INTS,
                                   "failure": {"type": "string"},
                                   "positions": _INTS}}},
                "probes": {"type": "object"},
                "importtime": {"type": "object"},
                "errors": _STRINGS,
                "warnings": _STRINGS,
                "phases_s": {"type": "object", "additionalProperties": {"type": "number"}},
                "cell": {"type": "string"},
                "sweeps": {"type": "array", "items": {
                    "type": "object",
                    "required": ["variant", "workload", "quantity", "levels", "values"],
                    "properties": {"levels": _INTS,
                                   "values": {"type": "array", "items": _NUMBERS}}}},
            }}},
        "expected_cells": _STRINGS,
    },
}


def _door_schema() -> dict[str, Any]:
    """:data:`SCHEMA` as the door checks it: the samples' number arrays only as arrays, their
    items checked by :mod:`harness.validate` (a Python call per value: jsonschema's own took
    seconds per MB)."""
    import copy

    schema = copy.deepcopy(SCHEMA)
    job = schema["properties"]["jobs"]["items"]["properties"]
    for key in ("values", "rounds", "exit_codes", "positions"):
        job["samples"]["items"]["properties"][key] = {"type": "array"}
    return schema


def upgrade(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Bring an older record to SCHEMA_VERSION (none older yet); refuse newer ones."""
    version = data.get("schema_version")
    if not isinstance(version, int) or data.get("format") != FORMAT:
        raise HarnessError(f"{where}: not a startup-harness measurement record",
                           f"pass the {FILE_NAME} written by startup-harness run")
    if version > SCHEMA_VERSION:
        raise HarnessError(f"{where}: measurements schema {version} is newer than this harness "
                           f"({SCHEMA_VERSION})", "upgrade startup-harness")
    return data


def validate(data: Any, where: str) -> None:
    """Check ``data`` against :data:`SCHEMA` and the rules a schema cannot say; raise a
    one-line HarnessError naming ``where`` and the field."""
    import jsonschema

    from harness import validate as door

    hint = f"pass the {FILE_NAME} written by startup-harness run"
    errors = list(jsonschema.Draft202012Validator(_door_schema()).iter_errors(data))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        message = " ".join(str(err.message).split())[:200]
        raise HarnessError(f"{where}: {field_path(err.absolute_path)}: {message}", hint)
    ids = [job["id"] for job in data["jobs"]]
    if len(set(ids)) != len(ids):
        raise HarnessError(f"{where}: jobs: duplicate job id", hint)
    for j, job in enumerate(data["jobs"]):
        for i, s in enumerate(job["samples"]):
            at = f"{where}: jobs[{j}].samples[{i}]"
            if len(s["values"]) != len(s["rounds"]):
                raise HarnessError(f"{at}: {len(s['values'])} values but {len(s['rounds'])} "
                                   "rounds", hint)
            if s["job"] != job["id"]:
                raise HarnessError(f"{at}.job: {s['job']!r} is not its job {job['id']!r} "
                                   "(a round pairs samples only within one job)", hint)
    door.record(data, where, hint)


def loads(text: str, where: str = FILE_NAME) -> Measurements:
    """Parse (strict JSON), upgrade and validate a measurement record: the door of every
    command that reads one (:mod:`harness.validate`)."""
    from harness.validate import parse_json

    hint = f"pass the {FILE_NAME} written by startup-harness run"
    try:
        return _loads(parse_json(text, where, hint), where, hint)
    except RecursionError as exc:
        raise HarnessError(f"{where}: nested too deeply", hint) from exc


def _loads(data: Any, where: str, hint: str) -> Measurements:
    if not isinstance(data, dict):
        raise HarnessError(f"{where}: not a startup-harness measurement record", hint)
    data = upgrade(data, where)
    validate(data, where)
    try:
        record: Measurements = from_data(Measurements, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise HarnessError(f"{where}: malformed measurement record: {exc}", hint) from exc
    return record


def load(path: str | Path) -> Measurements:
    """Read ``measurements.json`` at ``path`` (size-bounded: :mod:`harness.validate`)."""
    from harness.validate import read_text

    return loads(read_text(path, f"pass the path of a {FILE_NAME}", "measurements"), str(path))
