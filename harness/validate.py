"""The door every saved record comes in by: ``measurements.json``, ``report.json``, a CI
matrix's parts and the history store's lines were written by jobs that ran PR code, so they are
untrusted input. Each is read here (size-bounded, strict JSON: no NaN or infinities, nesting
bounded) and checked for what a schema cannot say, before any analysis:

* samples: finite numbers, start-up times strictly positive seconds below a day, instruction
  counts whole and positive; at most :data:`MAX_SAMPLE_VALUES` values each (the config's own
  maximum of runs) and :data:`MAX_RECORD_VALUES` in a record;
* rounds consistent with the schedule the job claims: whole, strictly increasing (one value
  per round), below the job's ``runs`` (runs and warmup within the config's limits);
  positions strictly increasing, one per value, below the processes the schedule started;
  a ``runs: auto`` plan whose looks spend no smaller error than the plan gives; sweeps with
  one list of positive times per level;
* every sample of a variant and workload the record names, each (variant, workload, metric,
  scenario) once per job;
* the gate's policy within the config schema's own limits (``threshold_pct`` above 0 and at
  most 1000, ...) and naming variants of the record;
* ``config_digest`` recomputed from the config the record carries; that config's matrix in
  the config schema's shape with at most :data:`MAX_CELLS` cells, and every job's cell one of
  them (compared by canonical label, :func:`harness.cells.key`).

A report.json gets the same checks of its samples and policy, and its summaries, comparisons
and exit code; the history store's lines theirs (:func:`point`, :func:`samples_path`,
:func:`store_samples`).

Anything else is a :class:`HarnessError` naming the file and the field (one line, exit 2).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, field_path

#: The largest record file read (a part of 3 variants x 100,000 runs is about 20 MB).
MAX_RECORD_BYTES = 64 * 1024 * 1024
#: The most values one Samples holds: the config's maximum of ``timing.runs`` / ``max_runs``.
MAX_SAMPLE_VALUES = 100_000
#: The most values in one record (every sample of every job).
MAX_RECORD_VALUES = 2_000_000
#: Nesting deeper than this is no record (an import-time tree of 90 nested imports is ~180).
MAX_DEPTH = 200
#: The most cells a matrix may have (the product of its axes).
MAX_CELLS = 1024
#: A start-up time above a day is not a measurement; an instruction count above 1e15 neither.
MAX_SECONDS = 86_400.0
MAX_COUNT = 1e15
#: Instruction counts are taken at most ``timing.instruction_runs`` times (schema maximum).
MAX_INSTRUCTION_RUNS = 100
METRICS = ("wall", "cpu", "instructions")
#: What every report (and each cell's) holds.
REPORT_KEYS = ("title", "variants", "workloads", "timing", "samples", "summaries",
               "comparisons", "gate")


def read_text(path: str | Path, hint: str, what: str = "") -> str:
    """The UTF-8 text of ``path``, refused above :data:`MAX_RECORD_BYTES` before reading it."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = b"" if size > MAX_RECORD_BYTES else handle.read(MAX_RECORD_BYTES + 1)
    except OSError as exc:
        raise HarnessError(f"{path}: cannot read{' ' + what if what else ''}: {exc.strerror}",
                           hint) from exc
    size = max(size, len(data))
    if size > MAX_RECORD_BYTES:
        raise HarnessError(f"{path}: {size / 1e6:.1f} MB is more than a record may hold "
                           f"({MAX_RECORD_BYTES / 1e6:.1f} MB)",
                           "a real run's record is far smaller; was it written by "
                           "startup-harness?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HarnessError(f"{path}: not UTF-8 (byte {exc.start})", hint) from exc


class _NotFinite:
    """What the parser makes of ``NaN``, ``Infinity`` or ``1e999`` (so the field is named)."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token


def parse_json(text: str, where: str, hint: str) -> Any:
    """Strict JSON: NaN, infinities and numbers that overflow are refused naming their field,
    and so is nesting deeper than :data:`MAX_DEPTH`."""
    found: list[str] = []

    def constant(token: str) -> _NotFinite:
        found.append(token)
        return _NotFinite(token)

    def number(token: str) -> float | _NotFinite:
        value = float(token)
        return value if math.isfinite(value) else constant(token)

    try:
        data = json.loads(text, parse_constant=constant, parse_float=number)
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{where}: not valid JSON: {exc.msg} (line {exc.lineno})",
                           hint) from exc
    except RecursionError as exc:
        raise HarnessError(f"{where}: JSON nested too deeply", hint) from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise HarnessError(f"{where}: not valid JSON: {str(exc)[:80]}", hint) from exc
    for path, value, depth in _walk(data):
        if isinstance(value, _NotFinite):
            raise HarnessError(f"{where}: {field_path(path)}: {value.token[:20]} is not a "
                               "finite number", hint)
        if depth > MAX_DEPTH:
            raise HarnessError(f"{where}: {field_path(path)}: nested deeper than {MAX_DEPTH} "
                               "levels", hint)
    return data


def _walk(data: Any) -> Iterator[tuple[tuple[str | int, ...], Any, int]]:
    """Every value of ``data`` with its path and depth (iterative: no recursion limit)."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        yield path, value, len(path)
        if isinstance(value, dict):
            stack += [((*path, str(k)), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [((*path, i), v) for i, v in enumerate(value)]


class Door:
    """Checks of one file: raises naming ``where`` and the field."""

    def __init__(self, where: str, hint: str) -> None:
        self.where = where
        self.hint = hint
        self.values = 0  # values counted so far, against MAX_RECORD_VALUES

    def fail(self, path: Sequence[str | int], what: str) -> HarnessError:
        return HarnessError(f"{self.where}: {field_path(path)}: {what}", self.hint)

    def mapping(self, value: Any, path: Sequence[str | int]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "not an object")
        return value

    def array(self, value: Any, path: Sequence[str | int]) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, "not a list")
        return value

    # --- samples -------------------------------------------------------------------------

    def samples(self, items: Any, path: tuple[str | int, ...], *, variants: set[str],
                workloads: set[str], timing: Mapping[str, Any] | None) -> None:
        """A job's (or a report's) samples; ``timing``: the schedule they claim (a job's
        TimingSettings), None when unknown (a report pooling several jobs)."""
        items = self.array(items, path)
        seen: dict[tuple[Any, ...], int] = {}
        per_metric: dict[str, int] = {}
        for i, raw in enumerate(items):
            s = self.mapping(raw, (*path, i))
            metric = s.get("metric")
            if metric not in METRICS:
                raise self.fail((*path, i, "metric"), f"{str(metric)[:40]!r} is not one of "
                                f"{', '.join(METRICS)}")
            per_metric[metric] = per_metric.get(metric, 0) + 1
        for i, raw in enumerate(items):
            at = (*path, i)
            s = raw
            for key, known in (("variant", variants), ("workload", workloads)):
                if not isinstance(s.get(key), str) or s[key] not in known:
                    raise self.fail((*at, key), f"{str(s.get(key))[:60]!r} is not a {key} of "
                                    "this record")
            for key in ("scenario", "job"):
                if not isinstance(s.get(key, ""), str):
                    raise self.fail((*at, key), "not a string")
            ident = (s["variant"], s["workload"], s["metric"], s.get("scenario", "default"),
                     s.get("job", ""))
            if ident in seen:
                raise self.fail(at, f"{s['variant']}/{s['workload']}/{s['metric']} is measured "
                                f"twice (also samples[{seen[ident]}])")
            seen[ident] = i
            self.sample(s, at, timing, per_metric[s["metric"]])

    def sample(self, s: Mapping[str, Any], at: tuple[str | int, ...],
               timing: Mapping[str, Any] | None, commands: int) -> None:
        metric = s["metric"]
        values = self.array(s.get("values"), (*at, "values"))
        rounds = self.array(s.get("rounds"), (*at, "rounds"))
        n = len(values)
        self.values += n
        if self.values > MAX_RECORD_VALUES:
            raise self.fail(at, f"more than {MAX_RECORD_VALUES:,} samples in one record",)
        limit = MAX_INSTRUCTION_RUNS if metric == "instructions" else MAX_SAMPLE_VALUES
        if n > limit:
            raise self.fail((*at, "values"), f"{n:,} values (at most {limit:,})")
        if len(rounds) != n:
            raise self.fail((*at, "rounds"), f"{len(rounds)} rounds for {n} values")
        self.numbers(values, (*at, "values"), metric)
        bound, last = 2**31, 2**31  # rounds, positions: unknown schedule (a report)
        if metric == "instructions":
            bound = MAX_INSTRUCTION_RUNS
        elif timing is not None:
            runs = self.whole(timing.get("runs"), (*at[:-2], "timing", "runs"), 1,
                              MAX_SAMPLE_VALUES)
            warmup = self.whole(timing.get("warmup"), (*at[:-2], "timing", "warmup"), 0, 1000)
            if n > runs:
                raise self.fail((*at, "values"), f"{n} values, but the job claims {runs} runs")
            bound = runs * commands if timing.get("order") == "blocks" else runs
            last = (warmup + runs + 1) * commands  # every process the schedule started
        self.increasing(rounds, (*at, "rounds"), bound, f"{bound} runs")
        positions = s.get("positions", [])
        if positions:
            positions = self.array(positions, (*at, "positions"))
            if len(positions) != n:
                raise self.fail((*at, "positions"), f"{len(positions)} positions for {n} "
                                "values")
            self.increasing(positions, (*at, "positions"), last,
                            f"{last} processes")
        codes = s.get("exit_codes", [])
        if codes:
            codes = self.array(codes, (*at, "exit_codes"))
            if len(codes) != n:
                raise self.fail((*at, "exit_codes"), f"{len(codes)} exit codes for {n} values")
            for j, code in enumerate(codes):
                if type(code) is not int or abs(code) > 2**31:
                    raise self.fail((*at, "exit_codes", j), "not an exit code")

    def numbers(self, values: list[Any], path: tuple[str | int, ...], metric: str) -> None:
        """Each value a measurement of ``metric`` (:meth:`number`)."""
        top = MAX_COUNT if metric == "instructions" else MAX_SECONDS
        if (all(type(v) in (float, int) for v in values)
                and (not values or (min(values) > 0 and max(values) <= top))
                and (metric != "instructions" or all(float(v).is_integer() for v in values))):
            return  # the common case, without a Python call per value
        for j, v in enumerate(values):
            self.number(v, (*path, j), metric)

    def number(self, v: Any, path: tuple[str | int, ...], metric: str) -> None:
        """Finite, strictly positive, bounded; an instruction count also whole."""
        if type(v) not in (float, int):
            raise self.fail(path, f"{str(v)[:40]!r} is not a number")
        if metric == "ratio":
            if not 0 < v <= MAX_SECONDS:
                raise self.fail(path, f"{v!r} is not a ratio of two start-up times (positive)")
        elif metric == "instructions":
            if not (1 <= v <= MAX_COUNT and float(v).is_integer()):
                raise self.fail(path, f"{v!r} is not an instruction count (a whole number "
                                f"from 1 to {MAX_COUNT:.0e})")
        elif not 0 < v <= MAX_SECONDS:
            raise self.fail(path, f"{v!r} is not a start-up time (seconds, positive, at "
                            f"most {MAX_SECONDS:,.0f})")

    def increasing(self, values: list[Any], path: tuple[str | int, ...], bound: int,
                   bound_text: str) -> None:
        """Whole numbers from 0, strictly increasing (each once), below ``bound``."""
        previous = -1
        for j, v in enumerate(values):
            if type(v) is not int:
                raise self.fail((*path, j), f"{str(v)[:40]!r} is not a whole number")
            if v <= previous:
                raise self.fail((*path, j), f"{v} after {previous}: must be strictly "
                                "increasing (one value per round, in the order they ran)"
                                if previous >= 0 else f"{v} is negative")
            if v >= bound:
                raise self.fail((*path, j), f"{v} is past the schedule the job claims "
                                f"({bound_text}: 0 to {bound - 1})")
            previous = v

    def matrix(self, matrix: Any, path: tuple[str | int, ...]) -> None:
        """The carried config's matrix: the config schema's shape, at most :data:`MAX_CELLS`
        cells (a forged product of 20 axes would never finish listing)."""
        if matrix is None:
            return
        import jsonschema

        from harness.config_records import MATRIX_SCHEMA

        errors = list(jsonschema.Draft202012Validator(MATRIX_SCHEMA)
                      .iter_errors(matrix))
        if errors:
            err = jsonschema.exceptions.best_match(errors)
            raise self.fail((*path, *err.absolute_path), " ".join(err.message.split())[:120])
        cells = math.prod(len(values) for values in matrix.values())
        if cells > MAX_CELLS:
            raise self.fail(path, f"{cells:,} cells (at most {MAX_CELLS:,})")

    # --- runs: auto, sweeps -------------------------------------------------------------------

    def whole(self, value: Any, path: tuple[str | int, ...], low: int, high: int) -> int:
        if type(value) is not int or not low <= value <= high:
            raise self.fail(path, f"{str(value)[:40]} is not a whole number from {low} to "
                            f"{high}")
        return value

    def sequential(self, record: Any, path: tuple[str | int, ...], confidence: Any) -> None:
        """How ``runs: auto`` stopped: within the config's limits, its error the gate's, and
        no look at a smaller error than the plan gives (a look's error sets the bootstrap's
        resamples: a forged 1e-12 asked for trillions)."""
        from harness.analyse import sequential as plan

        record = self.mapping(record, path)
        batch = self.whole(record.get("batch"), (*path, "batch"), 6, 10_000)
        max_runs = self.whole(record.get("max_runs"), (*path, "max_runs"), 6, MAX_SAMPLE_VALUES)
        alpha = record.get("alpha")
        if (type(alpha) is not float or type(confidence) not in (int, float)
                or abs(alpha - (1.0 - confidence)) > 1e-9):
            raise self.fail((*path, "alpha"), f"{str(alpha)[:40]} is not 1 - gate.confidence")
        floor = min(plan.planned_alphas(plan.planned_looks(batch, max_runs), alpha))
        for k, look in enumerate(self.array(record.get("looks"), (*path, "looks"))):
            at = (*path, "looks", k)
            look = self.mapping(look, at)
            self.whole(look.get("runs"), (*at, "runs"), 1, max_runs)
            value = look.get("alpha")
            if not isinstance(value, (int, float)) or not floor * (1 - 1e-9) <= value < 1:
                raise self.fail((*at, "alpha"), f"{str(value)[:40]} is outside the plan's "
                                f"errors ({floor:.3g} to below 1)")

    def sweep(self, sweep: Any, path: tuple[str | int, ...], variants: set[str],
              workloads: set[str]) -> None:
        """A sweep's levels (the config's limits) and one list of start-up times per level."""
        sweep = self.mapping(sweep, path)
        for key, known in (("variant", variants), ("workload", workloads)):
            if not isinstance(sweep.get(key), str) or sweep[key] not in known:
                raise self.fail((*path, key), f"{str(sweep.get(key))[:60]!r} is not a {key} of "
                                "this record")
        levels = self.array(sweep.get("levels"), (*path, "levels"))
        if len(levels) > 20:
            raise self.fail((*path, "levels"), f"{len(levels)} levels (at most 20)")
        for i, level in enumerate(levels):
            self.whole(level, (*path, "levels", i), 0, 5000)
        values = self.array(sweep.get("values"), (*path, "values"))
        if values and len(values) != len(levels):
            raise self.fail((*path, "values"), f"{len(values)} lists of times for "
                            f"{len(levels)} levels")
        for i, runs in enumerate(values):
            runs = self.array(runs, (*path, "values", i))
            if len(runs) > 10_000:
                raise self.fail((*path, "values", i), f"{len(runs):,} runs (at most 10,000)")
            self.values += len(runs)
            self.numbers(runs, (*path, "values", i), "wall")

    # --- policy ----------------------------------------------------------------------------

    def policy(self, gate: Any, path: tuple[str | int, ...], variants: set[str]) -> None:
        """The gate's values within the config schema's limits, naming variants we have."""
        import jsonschema

        gate = self.mapping(gate, path)
        errors = list(jsonschema.Draft202012Validator(policy_schema()).iter_errors(gate))
        if errors:
            err = jsonschema.exceptions.best_match(errors)
            message = " ".join(str(err.message).split())[:120]
            raise self.fail((*path, *err.absolute_path), message)
        if gate.get("enabled", True):
            for key in ("compare", "against"):
                if key in gate and gate[key] not in variants:
                    raise self.fail((*path, key), f"{str(gate[key])[:60]!r} is not a variant "
                                    "of this record")


def policy_schema() -> dict[str, Any]:
    """The gate as a record holds it: the config schema's gate (its own limits) plus the
    fields a resolved policy has."""
    from harness.config_records import GATE_SCHEMA as gate

    return {"type": "object",
            "properties": {**gate["properties"], "workload": {"type": ["string", "null"]},
                           "enabled": {"type": "boolean"}}}


def option(flag: str, key: str, value: float) -> None:
    """A command-line override of the gate's ``key`` (``--threshold 5``) within the config
    schema's limits; NaN and infinities refused (jsonschema lets NaN through every bound)."""
    bounds = policy_schema()["properties"][key]
    low, high = bounds.get("exclusiveMinimum"), bounds.get("maximum",
                                                           bounds.get("exclusiveMaximum"))
    inside = math.isfinite(value) and value > low and (
        value <= high if "maximum" in bounds else value < high)
    if not inside:
        closing = "at most" if "maximum" in bounds else "below"
        raise HarnessError(f"{flag} {value:g}: must be above {low:g} and {closing} {high:g}",
                           f"the limits of the config's gate.{key}")


def non_finite(data: Any) -> str | None:
    """The field path of the first NaN or infinity in parsed data (YAML has .nan), or None."""
    for path, value, _ in _walk(data):
        if isinstance(value, float) and not math.isfinite(value):
            return field_path(path)
    return None


def record(data: Mapping[str, Any], where: str, hint: str) -> None:
    """A measurement record (already checked against its JSON Schema): digest, policy, cells
    and every job's samples."""
    from harness import cells
    from harness.cells import matrix_cells
    from harness.serial import sha256_of

    door = Door(where, hint)
    if sha256_of(data["config"]) != data["config_digest"]:
        raise door.fail(("config_digest",), "does not match the config the record carries "
                        "(the record was edited, or ran another config)")
    variants = {v["name"] for v in data["variants"]}
    workloads = {w["name"] for w in data["workloads"]}
    door.policy(data["gate"], ("gate",), variants)
    door.matrix(data["config"].get("matrix"), ("config", "matrix"))
    allowed = set(matrix_cells(data["config"]))
    for i, name in enumerate(data.get("expected_cells", [])):
        if cells.key(name) not in allowed:
            raise door.fail(("expected_cells", i), f"{name[:80]!r} is not a cell of the "
                            "config's matrix")
    for j, job in enumerate(data["jobs"]):
        cell = job.get("cell", "")
        if (cell or allowed) and cells.key(cell) not in allowed:
            raise door.fail(("jobs", j, "cell"), f"{cell[:80]!r} is not a cell of the config's "
                            "matrix")
        door.samples(job["samples"], ("jobs", j, "samples"), variants=variants,
                     workloads=workloads, timing=job["timing"])
        if job["timing"].get("sequential") is not None:
            door.sequential(job["timing"]["sequential"], ("jobs", j, "timing", "sequential"),
                            data["gate"].get("confidence", 0.95))
        for k, sweep in enumerate(job.get("sweeps", [])):
            door.sweep(sweep, ("jobs", j, "sweeps", k), variants, workloads)


def report(data: Mapping[str, Any], where: str, hint: str, *, door: Door | None = None,
           path: tuple[str | int, ...] = ()) -> None:
    """A report.json: samples, policy, summaries, comparisons and gate, each cell's too."""
    door = door or Door(where, hint)
    for key in REPORT_KEYS:
        if key not in data:
            raise HarnessError(f"{where}: malformed report: {field_path((*path, key))} is "
                               "missing", hint)
    variants = {str(door.mapping(v, (*path, "variants", i)).get("name"))
                for i, v in enumerate(door.array(data.get("variants", []), (*path, "variants")))}
    workloads = {str(w) for w in door.array(data.get("workloads", []), (*path, "workloads"))}
    door.samples(data.get("samples", []), (*path, "samples"), variants=variants,
                 workloads=workloads, timing=None)
    if data.get("gate_config"):
        door.policy(data["gate_config"], (*path, "gate_config"), variants)
    summaries = door.mapping(data.get("summaries", {}), (*path, "summaries"))
    for variant, table in summaries.items():
        for key, summary in door.mapping(table, (*path, "summaries", variant)).items():
            at = (*path, "summaries", variant, key)
            summary = door.mapping(summary, at)
            for name in ("mean", "median", "min", "max"):
                door.number(summary.get(name), (*at, name),
                            "instructions" if "/instructions" in key else "wall")
            stddev = summary.get("stddev", 0)
            if type(stddev) not in (int, float) or stddev < 0:
                raise door.fail((*at, "stddev"), "not a standard deviation")
    for i, raw in enumerate(door.array(data.get("comparisons", []), (*path, "comparisons"))):
        at = (*path, "comparisons", i)
        c = door.mapping(raw, at)
        door.number(c.get("ratio"), (*at, "ratio"), "ratio")
        low, high = c.get("ci_low"), c.get("ci_high")
        for name, bound in (("ci_low", low), ("ci_high", high)):
            if bound is not None:
                door.number(bound, (*at, name), "ratio")
        if low is not None and high is not None and low > high:
            raise door.fail((*at, "ci_low"), "above ci_high")
    gate = door.mapping(data.get("gate", {}), (*path, "gate"))
    if gate.get("exit_code") not in (0, 1, 2) or isinstance(gate.get("exit_code"), bool):
        raise door.fail((*path, "gate", "exit_code"), "not 0, 1 or 2")
    if not path:
        for i, cell in enumerate(door.array(data.get("cells", []), ("cells",))):
            report(door.mapping(cell, ("cells", i)), where, hint, door=door, path=("cells", i))


def store_samples(data: Any, where: str, hint: str) -> None:
    """One line of a history store's ``samples/<run>.jsonl``: one Samples of the run."""
    door = Door(where, hint)
    line = door.mapping(data, ())
    for key in ("variant", "workload", "metric"):
        if not isinstance(line.get(key), str):
            raise door.fail((key,), "missing, or not a string")
    if line["metric"] not in METRICS:
        raise door.fail(("metric",), f"{line['metric'][:40]!r} is not one of "
                        f"{', '.join(METRICS)}")
    door.sample(line, (), None, 1)


def point(data: Mapping[str, Any]) -> None:
    """A history point's numbers (ValueError says what is wrong: the line is skipped)."""
    n = data.get("n")
    if type(n) is not int or n < 1:
        raise ValueError("field 'n' is not a positive count")
    top = MAX_COUNT if data.get("unit") == "count" else MAX_SECONDS
    for name in ("median", "ci_low", "ci_high", "mean", "min", "max"):
        value = data.get(name)
        if not (isinstance(value, (int, float)) and 0 < value <= top):
            raise ValueError(f"field {name!r} is not a positive measurement")
    stddev = data.get("stddev")
    if not (isinstance(stddev, (int, float)) and 0 <= stddev <= top):
        raise ValueError("field 'stddev' is not a standard deviation")
    if data["ci_low"] > data["ci_high"] or data["min"] > data["max"]:
        raise ValueError("field 'ci_low' is above 'ci_high' (or 'min' above 'max')")


#: Where a run line may say its raw samples are: a file of the store's samples/ directory.
SAMPLES_PATH = re.compile(r"samples/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,200}\.jsonl")


def samples_path(value: str) -> None:
    """A run line's ``samples``: empty or ``samples/NAME.jsonl`` (ValueError otherwise)."""
    if value and (not SAMPLES_PATH.fullmatch(value) or ".." in value):
        raise ValueError(f"field 'samples' {value[:80]!r} is not a file of the store's "
                         "samples/ directory")


def strict_line(text: str) -> Any:
    """One JSON line of the store, strict (ValueError says what is wrong)."""
    def refuse(token: str) -> Any:
        raise ValueError(f"{token[:20]} is not a finite number")

    def number(token: str) -> float:
        value = float(token)
        return value if math.isfinite(value) else refuse(token)

    try:
        return json.loads(text, parse_constant=refuse, parse_float=number)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
