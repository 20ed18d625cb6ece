"""Read one saved run for the history, compare and exports: a report.json (or, once the
measurement record exists, a measurements.json analysed on load)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.history.records import machine_of, run_digest
from harness.model import Report


@dataclass(frozen=True)
class SavedRun:
    """A run read from a file: its report, its machine record and its digest (the run id)."""

    report: Report
    machine: dict[str, Any]
    digest: str
    path: str


def load_run(path: str | Path) -> SavedRun:
    """A report.json or measurements.json as a SavedRun."""
    from harness import measurements
    from harness import report as report_io
    from harness.validate import parse_json, read_text

    path = Path(path)
    hint = "pass a report.json or measurements.json written by startup-harness run"
    text = read_text(path, hint)
    data = parse_json(text, str(path), hint)  # parsed again below, checked as what it is

    if isinstance(data, dict) and data.get("format") == measurements.FORMAT:
        from harness.analyse.analysis import analyse

        record = measurements.loads(text, str(path))
        report = analyse(record)
        return SavedRun(report, machine_of(report, _machine(record)), run_digest(report),
                        str(path))
    if isinstance(data, dict) and "schema_version" in data and "samples" in data:
        report = report_io.loads(text, str(path))
        return SavedRun(report, machine_of(report, _sibling_machine(path, report)),
                        run_digest(report), str(path))
    raise HarnessError(f"{path}: neither a report.json nor a measurements.json",
                       "pass a file written by startup-harness run")


def _machine(record: Any) -> dict[str, Any] | None:
    from harness.serial import to_data

    return to_data(record.jobs[0].machine) if record.jobs else None


def _sibling_machine(path: Path, report: Report) -> dict[str, Any] | None:
    """The machine of the measurements.json beside a report.json, when it is the one the
    report was analysed from (same digest)."""
    from harness import measurements

    sibling = path.with_name(measurements.FILE_NAME)
    if not report.measurements.get("digest") or not sibling.is_file():
        return None
    try:
        record = measurements.load(sibling)
    except HarnessError:
        return None
    if measurements.digest(record) != report.measurements["digest"]:
        return None
    return _machine(record)
