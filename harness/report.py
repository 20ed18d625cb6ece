"""The versioned JSON report: serialization of the model, upgrade on load, atomic writes."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.model import REPORT_SCHEMA_VERSION, Report
from harness.serial import from_data, to_data

SCHEMA_VERSION = REPORT_SCHEMA_VERSION


def dumps(report: Report) -> str:
    """The report as JSON text (stable key order, trailing newline)."""
    return json.dumps(to_data(report), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older report to SCHEMA_VERSION; refuse newer ones."""
    version = data.get("schema_version")
    if not isinstance(version, int):
        raise HarnessError("report has no schema_version", "is this a startup-harness report?")
    if version > SCHEMA_VERSION:
        raise HarnessError(f"report schema {version} is newer than this harness "
                           f"({SCHEMA_VERSION})", "upgrade startup-harness")
    return data


def loads(text: str, where: str = "<report>") -> Report:
    """Parse (strict JSON) and check a report (:mod:`harness.validate`): a report.json may come
    from a job that ran PR code."""
    from harness import validate

    hint = "pass a report.json written by startup-harness run"
    try:
        data = validate.parse_json(text, where, hint)
        if not isinstance(data, dict):
            raise HarnessError(f"{where}: not a report", "pass a report.json")
        if data.get("format") == "startup-harness measurements":
            raise HarnessError(f"{where}: a measurement record, not a report",
                               f"judge it first: startup-harness analyse {where}")
        upgrade(data)
        validate.report(data, where, hint)
        return from_data(Report, data)
    except HarnessError as exc:
        if exc.message.startswith(where):
            raise
        raise HarnessError(f"{where}: {exc.message}", exc.hint) from exc
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise HarnessError(f"{where}: malformed report: {str(exc)[:120]}", "was it written by "
                           "startup-harness run?") from exc


def load(path: str | Path) -> Report:
    """Read report.json at ``path`` (size-bounded: :mod:`harness.validate`)."""
    from harness.validate import read_text

    return loads(read_text(path, "pass the path of a report.json", "report"), str(path))


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same directory and a rename: readers
    see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's 0600 is not what a user expects
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
