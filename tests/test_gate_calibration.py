"""bench/gate_calibration.py's load profiles and their table (issue 22): the profiles start
and always stop their hogs, and the table computes coverage, false-regression, inconclusive
and detection rates from saved trials (no timing here)."""

from __future__ import annotations

import importlib.util
import math
import os
import random
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "gate_calibration.py"


@pytest.fixture(scope="module")
def cal():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gate_calibration", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gate_calibration"] = module
    spec.loader.exec_module(module)
    return module


def test_profile_names(cal) -> None:  # type: ignore[no-untyped-def]
    assert [cal.profile_name(x) for x in ("0", 0, "2", "hog3", "bursty", "quiet")] == \
        ["quiet", "quiet", "hog2", "hog3", "bursty", "quiet"]
    with pytest.raises(SystemExit, match="unknown load profile"):
        cal.profile_name("stormy")


def _children() -> set[int]:
    import psutil

    return {c.pid for c in psutil.Process().children(recursive=True)}


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0]


def test_bursty_switches_hogs_and_always_stops_them(cal, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("psutil")
    monkeypatch.setattr(cal, "BURSTY_INTERVAL_S", (0.05, 0.1))
    before = _children()
    seen_stopped = False
    with cal.background_load("bursty", seed=1):
        hogs = _children() - before
        assert len(hogs) == cal.BURSTY_HOGS
        end = time.monotonic() + 3
        while time.monotonic() < end and not seen_stopped:
            seen_stopped = any(_state(pid) == "T" for pid in hogs)
            time.sleep(0.01)
    assert seen_stopped  # switched off at some point
    assert _children() - before == set()


def _record(effect: float, shift: float, *, design: str = "duet-spawn", load: str = "hog1",
            n: int = 40, seed: int = 0) -> dict:  # type: ignore[type-arg]
    rng = random.Random(seed)
    ref = [0.02 * math.exp(rng.gauss(0, 0.01)) for _ in range(n)]
    # the per-pair noise is symmetric, so an A/A trial's interval surely covers 1
    subj = [r * (1 + shift) * (1.005 if i % 2 else 1 / 1.005) for i, r in enumerate(ref)]
    return {"design": design, "effect": effect, "load": load, "subject": subj,
            "reference": ref, "rounds_s": list(range(n)), "rounds_r": list(range(n)),
            "subject_cpu": subj, "reference_cpu": ref, "loadavg_max": 3.5,
            "others_cpus": 1.1, "seconds": 1.0}


def test_profile_rows_count_what_they_claim(cal) -> None:  # type: ignore[no-untyped-def]
    records = [_record(0.0, 0.0, seed=1), _record(0.0, 0.0, seed=2),
               _record(0.0, 0.04, seed=3),  # an A/A trial that went wrong: a false regression
               _record(5.0, 0.05, seed=4), _record(3.0, 0.03, seed=5)]
    (cpu, wall) = cal.profile_rows(records, confidence=0.95, statistic="paired")
    assert (wall["profile"], wall["design"], wall["metric"]) == ("hog1", "duet-spawn", "wall")
    assert cpu["metric"] == "cpu"
    assert wall["aa_trials"] == 3 and wall["pairs"] == 120
    assert wall["coverage"] == pytest.approx(2 / 3)
    assert wall["fr2"] == (1, 3) and wall["fr5"] == (0, 3)
    assert wall["det5@2"] == (1, 1) and wall["det3@2"][1] == 1
    assert set(wall["split"]) == {"reference first", "subject first"}
    assert wall["loadavg"] == 3.5 and wall["others"] == 1.1
    table = cal.profile_table(records, confidence=0.95)
    assert "| hog1 | duet-spawn | wall | 66.7 % (3) |" in table


def test_the_saved_records_reanalyse_without_timing(cal, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    saved = tmp_path / "cal.jsonl"
    saved.write_text("".join(json.dumps({**_record(0.0, 0.0, seed=s), "design": d})
                             + "\n" for s in range(3) for d in ("balanced-spawn",
                                                                 "duet-spawn")))
    assert cal.main(["--reanalyze", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "### load profiles" in out and "| hog1 | balanced-spawn | wall |" in out
    assert os.environ  # nothing was timed: no env, no processes needed
