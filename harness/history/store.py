"""The history store: plain JSON Lines files in a directory, meant for a data branch.

Layout (every file append-only, one record per line, so git diffs and merges it line by line;
``.gitattributes`` asks git for the ``union`` merge driver, so two branches that each added
runs merge without conflict, and loading de-duplicates)::

    STORE/runs.jsonl              one RunRecord per line
    STORE/points/<workload>.jsonl one Point per (run, variant, metric, scenario)
    STORE/samples/<run_id>.jsonl  the run's raw samples (one file per run: never conflicts)

Adding takes an exclusive lock (``STORE/.lock``) and replaces each file atomically; the run
becomes visible when its line lands in ``runs.jsonl`` (written last), so a reader never sees
half a run. Loading validates every line: a bad one is reported with its file and line number,
and the rest loads.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.history.records import Point, RunRecord, parse_line, samples_from_lines, to_line
from harness.model import Samples
from harness.report import write_atomic

if TYPE_CHECKING:
    import pandas as pd

RUNS = "runs.jsonl"
POINTS = "points"
SAMPLES = "samples"
GITATTRIBUTES = "*.jsonl merge=union\n"
GITIGNORE = ".lock\n"


@dataclass(frozen=True)
class History:
    """A loaded store: runs in date order, every point as a DataFrame, and the bad lines."""

    runs: tuple[RunRecord, ...]
    points: pd.DataFrame  # one row per Point, ordered by (date, run_id)
    problems: tuple[str, ...]  # "FILE:LINE: what is wrong"
    root: Path

    def run(self, ref: str) -> RunRecord:
        """The run whose commit or run id starts with ``ref``; ``latest`` is the newest."""
        if not self.runs:
            raise HarnessError(f"{self.root}: the history has no runs",
                               "add one with startup-harness history add")
        if ref in ("latest", "HEAD", ""):
            return self.runs[-1]
        found = [r for r in self.runs if r.commit.startswith(ref) or r.run_id.startswith(ref)]
        if not found:
            raise HarnessError(f"{self.root}: no run for commit {ref!r}",
                               "see startup-harness history show for the commits")
        return found[-1]


def workload_file(workload: str) -> str:
    """File name of a workload's points: its name when that is a safe file name."""
    safe = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,100}", workload)
    if safe:
        return f"{workload}.jsonl"
    import hashlib

    return "w-" + hashlib.sha256(workload.encode()).hexdigest()[:12] + ".jsonl"


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """An exclusive lock on the store (waits for another writer)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _run_id_of(line: str) -> str | None:
    with contextlib.suppress(ValueError, AttributeError):
        return str(json.loads(line).get("run_id"))
    return None


def commit_of_run(root: str | Path, run_id: str) -> str | None:
    """The commit the store holds run ``run_id`` under, if it holds it."""
    for line in _read_lines(Path(root) / RUNS):
        if _run_id_of(line) == run_id:
            with contextlib.suppress(ValueError, AttributeError):
                return str(json.loads(line).get("commit", ""))
    return None


def add(root: str | Path, run: RunRecord, points: list[Point],
        samples_lines: list[str], *, replace: bool = False) -> bool:
    """Add one run; False when the store already has it (idempotent). ``replace``: a run
    already there is replaced (its line, points and samples), e.g. under another commit."""
    root = Path(root)
    with locked(root):
        runs_path = root / RUNS
        existing = _read_lines(runs_path)
        if replace:
            existing = [line for line in existing if _run_id_of(line) != run.run_id]
        elif any(_run_id_of(line) == run.run_id for line in existing):
            return False
        for name, text in ((".gitattributes", GITATTRIBUTES), (".gitignore", GITIGNORE)):
            if not (root / name).exists():
                write_atomic(root / name, text)
        samples_name = f"{SAMPLES}/{run.run_id}.jsonl"
        write_atomic(root / samples_name, "".join(line + "\n" for line in samples_lines))
        by_file: dict[str, list[Point]] = {}
        for point in points:
            by_file.setdefault(workload_file(point.workload), []).append(point)
        for name, new in by_file.items():
            path = root / POINTS / name
            old = [line for line in _read_lines(path) if f'"run_id": "{run.run_id}"' not in line]
            write_atomic(path, "".join(line + "\n" for line in
                                       [*old, *(to_line(p) for p in new)]))
        record = RunRecord(**{**asdict(run), "samples": samples_name})
        write_atomic(runs_path, "".join(line + "\n" for line in [*existing, to_line(record)]))
    return True


def load(root: str | Path) -> History:
    """Load and validate the store (pandas for the points)."""
    import pandas as pd

    root = Path(root)
    if not root.is_dir():
        raise HarnessError(f"{root}: no history store there",
                           "create one with startup-harness history add RUN --store DIR")
    problems: list[str] = []
    runs: dict[str, RunRecord] = {}
    for record in _parsed(root / RUNS, RunRecord, problems):
        assert isinstance(record, RunRecord)
        runs.setdefault(record.run_id, record)
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for path in sorted((root / POINTS).glob("*.jsonl")):
        for point in _parsed(path, Point, problems):
            assert isinstance(point, Point)
            if point.run_id not in runs:  # an unfinished add: the run line is written last
                continue
            key = (point.run_id, point.variant, point.workload, point.metric, point.scenario)
            rows.setdefault(key, dict(vars(point)))
    ordered = tuple(sorted(runs.values(), key=lambda r: (r.date, r.measured, r.run_id)))
    columns = [f for f in Point.__dataclass_fields__]
    frame = pd.DataFrame.from_records(list(rows.values()), columns=columns)
    if not frame.empty:
        order = {r.run_id: i for i, r in enumerate(ordered)}
        frame["seq"] = frame["run_id"].map(order)
        frame = frame.sort_values(["seq", "variant", "workload", "metric", "scenario"],
                                  kind="stable").reset_index(drop=True)
    else:
        frame["seq"] = pd.Series(dtype=int)
    return History(ordered, frame, tuple(problems), root)


def _parsed(path: Path, kind: type[RunRecord] | type[Point],
            problems: list[str]) -> Iterator[RunRecord | Point]:
    """Each valid line of ``path`` as a ``kind``; a bad one goes to ``problems`` as
    ``FILE:LINE: why`` and the rest still loads."""
    for number, text in enumerate(_read_lines(path), start=1):
        if not text.strip():
            continue
        try:
            record = parse_line(kind, text)
        except ValueError as exc:
            problems.append(f"{path}:{number}: {exc}")
            continue
        yield record


def load_samples(history: History, run: RunRecord) -> tuple[Samples, ...]:
    """The raw samples of one run of the store: a file inside the store (a line's path
    cannot lead out of it, nor can a symlink), every line checked at the door
    (:mod:`harness.validate`)."""
    from harness import validate

    hint = "restore the file from the data branch"
    root = history.root.resolve()
    path = history.root / (run.samples or f"{SAMPLES}/{run.run_id}.jsonl")
    try:
        validate.samples_path(run.samples)
        inside = path.resolve().is_relative_to(root / SAMPLES)
    except (ValueError, OSError):
        inside = False
    if not inside:
        raise HarnessError(f"{history.root / RUNS}: run {run.run_id}: its samples are outside "
                           "the store", hint)
    try:
        text = validate.read_text(path, hint)
    except HarnessError:
        if not path.exists():
            text = ""
        else:
            raise
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{path}:{number}"
        data = validate.parse_json(line, where, hint)
        validate.store_samples(data, where, hint)
        lines.append(data)
    if not lines:
        raise HarnessError(f"{path}: no raw samples for run {run.run_id}",
                           "was the store copied without its samples/ directory?")
    try:
        return samples_from_lines(lines)
    except (KeyError, TypeError, ValueError) as exc:
        raise HarnessError(f"{path}: malformed samples: {exc}", "") from exc
