"""The report's gate policy is a typed record in memory and the same JSON object on disk."""

from __future__ import annotations

import dataclasses
import json

from harness import defaults
from harness.model import GatePolicy
from harness.render import matrix
from harness.report import dumps, loads
from tests.sample_report import sample_report


def test_the_gate_policy_round_trips_as_a_record_with_the_same_json_shape() -> None:
    report = sample_report(status="regression")
    data = json.loads(dumps(report))
    assert set(data["gate_config"]) == {f.name for f in dataclasses.fields(GatePolicy)}
    assert data["gate_config"]["threshold_pct"] == 10.0
    again = loads(dumps(report))
    assert isinstance(again.gate_config, GatePolicy)
    assert again.gate_config == report.gate_config


def test_an_older_report_missing_policy_keys_gets_the_defaults_of_defaults_py() -> None:
    data = json.loads(dumps(sample_report()))
    data["gate_config"] = {"compare": "pr", "against": "main"}
    policy = loads(json.dumps(data)).gate_config
    assert (policy.threshold_pct, policy.confidence, policy.statistic) == (
        defaults.THRESHOLD_PCT, defaults.CONFIDENCE, defaults.STATISTIC)


def test_the_matrix_comment_states_the_policy_threshold_not_a_fallback_of_its_own() -> None:
    cell = sample_report(status="regression")
    cell = dataclasses.replace(cell, cell="python=3.12",
                               gate_config=dataclasses.replace(cell.gate_config,
                                                               threshold_pct=2.5))
    whole = dataclasses.replace(cell, cell="", cells=(cell,))
    text = matrix.render_markdown(whole, lambda c, room: "cell body\n", 60_000)
    assert "(threshold 2.5 %)" in text
