"""The history, exports, plots and trend from a saved measurement record (analyse, no
process started): the path a CI run takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.history import store
from tests.history_fixtures import build_history, stepped_medians

GOLDEN = Path(__file__).resolve().parent / "golden" / "measurements-default.json"


def test_history_add_takes_a_measurement_record(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert main(["history", "add", str(GOLDEN), "--store", str(root), "--commit", "c1" * 20,
                 "--date", "2026-11-21T10:00:00Z"]) == 0
    assert main(["history", "add", str(GOLDEN), "--store", str(root), "--commit", "c1" * 20]) == 0
    history = store.load(root)
    (run,) = history.runs
    data = json.loads(GOLDEN.read_text())
    machine = data["jobs"][0]["machine"]
    assert run.machine["cpu_model"] == machine["cpu_model"]
    assert "hostname" not in run.machine
    assert set(history.points["variant"]) == {v["name"] for v in data["variants"]}


def test_analyse_with_history_exports_and_plots(tmp_path: Path) -> None:
    root = build_history(tmp_path, stepped_medians(12, {}))
    out = tmp_path / "out"
    code = main(["analyse", str(GOLDEN), "--out", str(out), "--quiet", "--history", str(root),
                 "--plots", "--export", f"bmf={out / 'bmf.json'}", "--export",
                 f"csv={out / 'samples.csv'}"])
    assert code in (0, 1)
    comment = (out / "comment.md").read_text()
    assert "```mermaid\nxychart-beta\n" in comment and '"PR"]' in comment
    assert (out / "bmf.json").is_file() and (out / "samples.csv").is_file()
    assert sorted(p.suffix for p in (out / "plots").iterdir()).count(".svg") >= 2


def test_compare_measurement_records_warns_on_another_machine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(GOLDEN.read_text())
    for job in data["jobs"]:
        job["machine"]["cpu_model"] = "Another CPU @ 9 GHz"
    other = tmp_path / "measurements.json"
    other.write_text(json.dumps(data))
    assert main(["compare", str(GOLDEN), str(other), "--gate"]) == 0
    err = capsys.readouterr().err
    assert "machine records differ (cpu_model: " in err and "Another CPU" in err


def test_analyse_exports_only_the_chosen_variants(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["analyse", str(GOLDEN), "--out", str(out), "--quiet", "--export",
                 f"gab={tmp_path / 'gab.json'}", "--export-variant", "main"])
    assert code in (0, 1)
    names = [e["name"] for e in json.loads((tmp_path / "gab.json").read_text())]
    assert names and all(name.startswith("main/") for name in names)


def test_run_refuses_an_unknown_export_variant_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_pipeline import config

    cfg = config(tmp_path, "pass", "pass")
    out = tmp_path / "out"
    assert main(["run", "--config", str(cfg), "--out", str(out), "--quiet", "--export",
                 f"gab={tmp_path / 'g.json'}", "--export-variant", "nightly"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--export-variant 'nightly'" in err and "main, pr" in err and "\n" not in err
    assert not out.exists()
