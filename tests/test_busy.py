"""The machine-load note and the remedies a note may advise (pure)."""

from __future__ import annotations

from harness.analyse import busy
from harness.analyse.gate import remedies
from harness.model import LoadSample, TimingLoad


def load(others: float | None, steal: float | None = 0.0, loadavg: float = 2.9) -> TimingLoad:
    return TimingLoad(2, (LoadSample("before", 0.0, 0.1), LoadSample("during", 2.0, loadavg),
                          LoadSample("after", 4.0, 1.0)), others, steal)


def test_a_busy_machine_is_named_with_its_numbers():
    (note,) = busy.diagnose_load(load(1.7), "wall")
    assert note.kind == "busy" and note.severity == "warning" and note.variant == ""
    assert note.message == ("machine busy: load average 2.9 during timing; other processes "
                            "kept 1.7 of 2 CPUs busy")
    assert "metric: cpu" in note.advice


def test_a_quiet_machine_has_no_note():
    assert busy.diagnose_load(load(0.1), "wall") == ()
    assert busy.diagnose_load(None, "wall") == ()
    assert busy.diagnose_load(load(None, None), "wall") == ()


def test_steal_is_a_cause_too():
    assert "stole 12 %" in busy.busy_cause(load(0.0, 12.0))


def test_advice_never_names_the_metric_already_gated():
    assert "metric: cpu" not in busy.diagnose_load(load(1.7), "cpu")[0].advice
    assert "instructions" not in remedies("instructions")
    assert "metric: cpu" not in remedies("cpu") and "instructions" in remedies("cpu")
    assert "metric: cpu" in remedies("wall")
