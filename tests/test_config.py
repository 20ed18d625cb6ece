"""Config validation: every bad input is a one-line error naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import defaults
from harness.config import SCHEMA, load_config
from harness.errors import ConfigError

GOOD = """\
variants:
  - {name: main, role: main, source: {requirement: "six==1.16.0"}}
  - {name: pr, role: pr, source: {path: "."}}
workloads:
  - {name: import, command: ["{python}", "-c", "import six"]}
"""


def load_text(tmp_path: Path, text: str):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_config(path)


def test_good_config_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, GOOD)
    assert [v.name for v in config.variants] == ["main", "pr"]
    assert config.gate.compare == "pr" and config.gate.against == "main"
    assert config.gate.threshold_pct == defaults.THRESHOLD_PCT
    assert config.gate.statistic == "paired" and config.gate.metric == "auto"
    assert (config.timing.warmup, config.timing.runs, config.timing.order,
            config.timing.timer) == (5, 50, "balanced", "spawn")
    assert config.timing.auto  # runs: auto by default where it can run
    assert config.variants[0].build.options.install == ("six==1.16.0",)
    assert config.variants[1].build.options.install == ("{source}",)
    assert config.variants[1].source.path == str(tmp_path.resolve())
    assert config.workloads[0].argv == ("{python}", "-c", "import six")


def test_string_command_is_split_without_a_shell(tmp_path: Path) -> None:
    config = load_text(tmp_path, GOOD.replace('["{python}", "-c", "import six"]',
                                              "\"{python} -c 'import six; print(1)'\""))
    assert config.workloads[0].argv == ("{python}", "-c", "import six; print(1)")


@pytest.mark.parametrize(("text", "message"), [
    (GOOD + "colour: red\n", r"c.yaml: \(top level\): unknown key 'colour'"),
    (GOOD.replace("role: main,", "role: main, lable: x,"), r"variants\[0\]: unknown key 'lable'"),
    (GOOD.replace("name: import", "name: 3"), r"workloads\[0\].name: 3 is not of type 'string'"),
    (GOOD + "timing: {runs: many}\n", r"timing.runs: 'many' is not a number of runs or 'auto'"),
    (GOOD + "gate: {against: nope}\n", r"gate.against: no variant named 'nope'"),
    (GOOD + "gate: {compare: main}\n", r"gate: compares variant 'main' with itself"),
    (GOOD.replace('{requirement: "six==1.16.0"}', '{requirement: "six", path: "."}'),
     r"variants\[0\].source: give exactly one source"),
    (GOOD.replace("{python}", "{pyth0n}"), r"workloads\[0\].command: unknown placeholder"),
    (GOOD.replace("name: pr,", "name: main,"), r"variants\[1\].name: duplicate variant name"),
    (GOOD.replace("role: pr", "role: main"), r"variants\[1\].role: role 'main' already used"),
    ("variants: [\n", r"c.yaml:2: not valid YAML"),
    ("- 1\n", r"c.yaml: the config must be a mapping"),
    (GOOD + "timing: {order: random}\n", r"timing.order: 'random' is not one of"),
    (GOOD + "timing: {runs: auto, timer: hyperfine}\n", r"runs: auto needs the spawn timer"),
    (GOOD + "timing: {runs: auto, batch: 20, max_runs: 10}\n", r"max_runs 10 is below"),
    (GOOD + "timing: {timer: hyperfine}\ngate: {metric: cpu}\n", r"spawn timer only"),
    (GOOD + "timing: {runs: 5}\n", r"timing.runs: 5 runs are too few .* at least 6 paired"),
])
def test_bad_config_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_text(tmp_path, text)
    line = info.value.one_line()
    assert "\n" not in line and line.startswith("error: ") and "hint:" in line


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_demo_config_is_valid_and_bundled() -> None:
    from harness.cli import demo_config_path

    bundled = demo_config_path()
    root = Path(__file__).parent.parent
    assert bundled.read_bytes() == (root / "harness" / "demo.yaml").read_bytes()
    assert not (root / "bench" / "demo.yaml").exists()  # one demo config, not two copies
    config = load_config(bundled)
    assert {v.role for v in config.variants} == {"baseline", "main", "pr"}


def test_schema_documents_every_top_level_key() -> None:
    readme = (Path(__file__).parent.parent / "README.md")
    if not readme.exists():
        pytest.skip("README not written yet")
    text = readme.read_text()
    for key in SCHEMA["properties"]:
        assert f"`{key}" in text, key


def test_demo_config_is_a_file_not_a_link() -> None:
    """The packaged demo is the one copy: a symlink would not survive every sdist or wheel."""
    from harness.cli import demo_config_path

    assert not demo_config_path().is_symlink()


def test_yaml_aliases_are_allowed_but_a_bomb_or_a_cycle_is_refused(tmp_path: Path) -> None:
    """A shared build block (``&bz`` / ``*bz`` / ``<<: *bz``) is ordinary YAML; what its
    aliases expand to is measured before anything is built from it."""
    import time

    from harness.config import parse_yaml

    shared = parse_yaml("a: &a {x: 1, y: [1, 2]}\nb: *a\nc: {<<: *a, x: 2}\n",
                        tmp_path / "c.yaml")
    assert shared == {"a": {"x": 1, "y": [1, 2]}, "b": {"x": 1, "y": [1, 2]},
                      "c": {"x": 2, "y": [1, 2]}}
    lines = ["a: &a [" + ",".join(["x"] * 9) + "]"]
    for i, name in enumerate("bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{'abcdefghi'[i]}"] * 9) + "]")
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="more than 100,000 nodes"):
        parse_yaml("\n".join(lines), tmp_path / "bomb.yaml")
    assert time.perf_counter() - start < 5  # milliseconds here; a wide margin when shared
    with pytest.raises(ConfigError, match="recursive YAML alias"):
        parse_yaml("a: &a [1, *a]\n", tmp_path / "cycle.yaml")


@pytest.mark.parametrize("extra", [
    "timing: {timer: hyperfine}\n", "timing: {order: blocks}\n", "gate: false\n",
    "gate: {metric: instructions}\n"])
def test_fixed_runs_by_default_where_runs_auto_cannot_stop(tmp_path: Path, extra: str) -> None:
    """runs: auto needs the spawn timer, paired rounds and a timed gate to stop on; without
    them the default is the fixed runs."""
    text = GOOD.replace('"import six"]}', '"import six"], metrics: [wall, instructions]}')
    config = load_text(tmp_path, text + extra)
    assert not config.timing.auto and config.timing.runs == defaults.RUNS


def test_explicit_runs_auto_without_a_timed_gate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_text(tmp_path, GOOD + "timing: {runs: auto}\ngate: false\n")
    assert "nothing timed is gated" in err.value.message
    assert "give a number of runs" in err.value.hint
