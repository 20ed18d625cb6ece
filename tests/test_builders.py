"""The builder registry: each builder owns its `build:` options and the schema is assembled
from the registry."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.config import (
    SCHEMA,
    BuildSpec,
    Source,
    VariantConfig,
    WorkloadConfig,
    load_config,
)
from harness.errors import ConfigError
from harness.measure import builders
from harness.measure.builders import BuiltEnv, get_builder, registry
from harness.measure.builders.uv import UvOptions
from harness.pipeline import Prepared, workload_argv


def load_text(tmp_path: Path, text: str):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_config(path)


def test_every_registered_module_names_one_builder() -> None:
    found = registry()
    assert list(found) == ["uv", "existing", "bazel"]
    assert len(found) == len(builders.MODULES)
    for name, builder in found.items():
        assert builder.name == name
        assert not set(builder.options_schema) & set(builders.COMMON_OPTIONS)


def test_schema_is_assembled_from_the_registry() -> None:
    build = SCHEMA["properties"]["variants"]["items"]["properties"]["build"]
    assert build["properties"]["builder"]["enum"] == ["uv", "existing", "bazel"]
    assert {"python", "install", "timeout_s"} <= set(build["properties"])
    then = {b["if"]["properties"]["builder"]["const"]: b["then"] for b in build["allOf"]}
    assert set(then["existing"]["properties"]) == {"builder", "timeout_s"}


def test_uv_options_default_by_source(tmp_path: Path) -> None:
    config = load_text(tmp_path, """\
variants:
  - {name: a, source: {requirement: six}}
  - {name: b, source: {path: .}, build: {python: py3, timeout_s: 5}}
workloads: [{name: w, command: ["{python}", "-c", "pass"]}]
""")
    a, b = config.variants
    assert a.build == BuildSpec("uv", UvOptions(None, ("six",)))
    assert b.build.options == UvOptions("py3", ("{source}",)) and b.build.timeout_s == 5.0


@pytest.mark.parametrize(("build", "message"), [
    # an explicit builder: its own keys only
    ("{builder: existing, install: [x]}", r"variants\[0\].build: unknown key 'install'"),
    # the default builder of a python source (existing) has no install either
    ("{install: [x]}", r"variants\[0\].build: unknown key 'install'"),
    ("{builder: uv, install: 3}", r"variants\[0\].build.install: 3 is not of type 'array'"),
    ("{instal: [x]}", r"variants\[0\].build: unknown key 'instal'"),
    ("{builder: bazel9}", r"variants\[0\].build.builder: unknown builder 'bazel9'"),
])
def test_build_options_belong_to_their_builder(tmp_path: Path, build: str, message: str) -> None:
    text = f"""\
variants:
  - {{name: a, source: {{python: {sys.executable}}}, build: {build}}}
  - {{name: b, source: {{python: {sys.executable}}}}}
workloads: [{{name: w, command: ["{{python}}", "-c", "pass"]}}]
"""
    with pytest.raises(ConfigError, match=message) as info:
        load_text(tmp_path, text)
    assert "hint:" in info.value.one_line()


def test_unknown_builder_from_code() -> None:
    with pytest.raises(ConfigError, match="unknown builder 'nope'"):
        get_builder("nope")


def _existing(python: str = sys.executable) -> VariantConfig:
    return VariantConfig("v", "v", None, Source("python", path=python), BuildSpec("existing"))


def test_workload_argv_fills_the_builders_placeholders(tmp_path: Path) -> None:
    env = BuiltEnv(python="/e/bin/python", prefix="/e", bin_dir="/e/bin",
                   placeholders={"runfiles": "/r"})
    ready = Prepared(_existing(), env, "/src")
    workload = WorkloadConfig("w", ("{python}", "{runfiles}/main.py", "{bin}", "{source}",
                                    "{workdir}"))
    assert workload_argv(workload, ready, tmp_path) == (
        "/e/bin/python", "/r/main.py", "/e/bin", "/src", str(tmp_path))


def test_existing_builder_reports_site_roots(tmp_path: Path) -> None:
    from harness import proc

    built = get_builder("existing").build(_existing(), None, tmp_path, proc.scrubbed_env())
    assert built.python == sys.executable and built.prefix == sys.prefix
    assert all(Path(root).is_dir() for root in built.site_roots)


def test_timers_are_chosen_by_name() -> None:
    from harness.config import SCHEMA as schema
    from harness.measure.timer_registry import TIMERS, get_timer

    assert schema["properties"]["timing"]["properties"]["timer"]["enum"] == list(TIMERS)
    for name in TIMERS:
        assert get_timer(name).name == name
    assert "spawn-wait" in get_timer("spawn").describe({})
    with pytest.raises(ConfigError, match="unknown timer 'stopwatch'"):
        get_timer("stopwatch")


def test_find_tool_names_the_tool_and_how_to_install_it() -> None:
    from harness.errors import HarnessError
    from harness.measure.tools import find_tool, which_tool

    assert Path(find_tool("uv")).name == "uv"
    assert which_tool("bazel-that-is-not-there", path="") is None
    with pytest.raises(HarnessError, match="valgrind not found") as info:
        find_tool("valgrind", path="")
    assert "apt-get install valgrind" in info.value.one_line()


def test_readme_documents_every_builder_and_its_keys() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in readme.splitlines()
            if line.startswith("| `")}
    for name, builder in registry().items():
        row = rows.get(f"`{name}`")
        assert row is not None, f"README: no row for builder {name!r} under Builders"
        for key in builder.options_schema:
            assert f"`{key}`" in row, f"README: builder {name!r} key {key!r} undocumented"


def test_assembled_schema_is_a_valid_json_schema() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
