"""The run's configuration: a JSON Schema, loading from YAML into the typed records of
:mod:`harness.config_records`.

Every error names the file and the field (``demo.yaml: variants[1].source: ...``) and exits 2.
``startup-harness schema`` prints the schema for editors and docs.
"""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path
from typing import Any

from harness import defaults
from harness.config_records import (
    GATE_SCHEMA,
    MATRIX_SCHEMA,
    PLACEHOLDERS,
    BuildSpec,
    Config,
    Source,
    SweepConfig,
    TimingConfig,
    VariantConfig,
    WorkloadConfig,
)
from harness.errors import ConfigError, field_path
from harness.measure.builders import (
    block_schema,
    build_schema,
    get_builder,
    owned_source_kinds,
    registry,
    source_kind_names,
    source_schema,
)
from harness.measure.timer_registry import TIMERS
from harness.model import GatePolicy

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ENV_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$"
SWEEP_QUANTITIES = ("sys_path_entries", "site_roots", "distributions", "pth_files")

_COMMAND = {"oneOf": [{"type": "string", "minLength": 1},
                      {"type": "array", "items": {"type": "string"}, "minItems": 1}]}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "startup-harness config",
    "type": "object",
    "additionalProperties": False,
    "required": ["variants", "workloads"],
    "properties": {
        "title": {"type": "string", "description": "Heading of the comment."},
        "variants": {
            "type": "array", "minItems": 1,
            "description": "The environments to build and compare.",
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["name", "source"],
                "properties": {
                    "name": {"type": "string", "pattern": NAME_PATTERN},
                    "label": {"type": "string", "minLength": 1, "maxLength": 200},
                    "role": {"enum": ["baseline", "main", "pr", None]},
                    "source": source_schema(),
                    "build": build_schema(),
                },
            },
        },
        "workloads": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["name", "command"],
                "properties": {
                    "name": {"type": "string", "pattern": NAME_PATTERN},
                    "command": _COMMAND,
                    "metrics": {"type": "array", "items": {"enum": ["wall", "instructions"]},
                                "minItems": 1, "uniqueItems": True},
                    "scenarios": {"type": "array", "items": {"enum": ["warm", "cold", "stale"]},
                                  "uniqueItems": True},
                    "importtime": {"type": "boolean"},
                    "allow_failure": {"type": "boolean", "description":
                                      "A non-zero exit is expected (default false: any failing "
                                      "run makes the variant an error)."},
                    "env": {"type": "object", "description":
                            "Variables set for this workload only (on top of timing.env).",
                            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                            "additionalProperties": {"type": "string"}},
                },
            },
        },
        "timing": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "warmup": {"type": "integer", "minimum": 0, "maximum": 1000},
                "runs": {"anyOf": [{"type": "integer", "minimum": 2, "maximum": 100000},
                                   {"const": "auto"}],
                         "description": "measured runs per command, or `auto`: batches of "
                                        "`batch` rounds until the gated interval is decisive "
                                        "or `max_runs` / `max_seconds` is reached"},
                "batch": {"type": "integer", "minimum": 6, "maximum": 10000},
                "max_runs": {"type": "integer", "minimum": 6, "maximum": 100000},
                "max_seconds": {"type": "number", "exclusiveMinimum": 0},
                "order": {"enum": list(defaults.ORDERS)},
                "timer": {"enum": list(TIMERS)},
                "seed": {"type": "integer"},
                "timeout_s": {"type": "number", "exclusiveMinimum": 0},
                "instruction_runs": {"type": "integer", "minimum": 1, "maximum": 100},
                "env": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "pass": {"type": "array", "items": {"type": "string",
                                                            "pattern": ENV_NAME_PATTERN}},
                        "set": {"type": "object", "propertyNames": {
                            "pattern": ENV_NAME_PATTERN},
                            "additionalProperties": {"type": "string"}},
                    },
                },
            },
        },
        "gate": {"oneOf": [{"const": False}, {"const": "off"}, GATE_SCHEMA]},
        "matrix": MATRIX_SCHEMA,
        "sweep": {
            "type": "array", "minItems": 1,
            "description": "Time start-up while one quantity grows, on top of a variant.",
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["quantity", "levels"],
                "properties": {
                    "quantity": {"enum": list(SWEEP_QUANTITIES)},
                    "levels": {"type": "array", "minItems": 3, "maxItems": 20,
                               "uniqueItems": True,
                               "items": {"type": "integer", "minimum": 0, "maximum": 5000}},
                    "variant": {"type": "string", "description": "default: gate.against"},
                    "workload": {"type": "string", "description": "default: the first"},
                    "position": {"enum": ["end", "front"],
                                 "description": "sys_path_entries / site_roots: after "
                                                "site-packages (a .pth) or before the "
                                                "standard library (PYTHONPATH)"},
                    "import_lines": {"type": "boolean",
                                     "description": "pth_files: each also imports a module"},
                    "runs": {"type": "integer", "minimum": 3, "maximum": 10000},
                },
            },
        },
    },
}


def check_override(key: str, value: int) -> None:
    """A command-line override of ``timing.KEY`` gets the schema's bounds (``--runs``)."""
    bounds = SCHEMA["properties"]["timing"]["properties"][key]
    bounds = next((b for b in bounds.get("anyOf", bounds.get("oneOf", []))
                   if b.get("type") == "integer"), bounds)
    low, high = bounds.get("minimum"), bounds.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"--{key} {value}: must be between {low} and {high}",
                          f"the bounds of timing.{key} in `startup-harness schema`")


def load_config(path: str | Path) -> Config:
    """Read, validate and type the YAML config at ``path``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}",
                          "pass an existing file with --config") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset "
                          f"{exc.start})", "save the config as UTF-8") from exc
    return parse_config(parse_yaml(text, path), path)


#: How many nodes a config may hold once its YAML aliases are expanded: far above any real
#: config (a shared ``build:`` block, say), far below an alias bomb's billions.
MAX_EXPANDED_NODES = 100_000


def parse_yaml(text: str, path: Path) -> Any:
    """Parse YAML with the safe loader. Aliases (``*name``, ``<<: *name``) are allowed, but
    the document is measured with them expanded before anything is built from it: a few
    hundred bytes of nested aliases expand to gigabytes (an alias bomb), refused in
    milliseconds."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            size = expanded_size(node)
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}", "write the value out in full") from exc
        if size > MAX_EXPANDED_NODES:
            mark = node.start_mark
            raise ConfigError(f"{path}:{mark.line + 1}: YAML aliases expand this config to more "
                              f"than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?)",
                              "write the repeated values out, or share fewer of them")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f":{where.line + 1}" if where is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}",
                          "check indentation and quoting") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: nested too deeply", "flatten the config") from exc
    finally:
        loader.dispose()


def expanded_size(root: Any) -> int:
    """Nodes of a composed YAML document with every alias expanded, counted without expanding
    anything: an alias is the same node object again, so each node's size is computed once."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the current path: meeting one again is a cycle
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if not done and id(node) in open_nodes:
            raise ValueError("a recursive YAML alias (a node that contains itself)")
        value = node.value
        children = ([item for pair in value for item in pair] if isinstance(value, list) and
                    value and isinstance(value[0], tuple) else
                    value if isinstance(value, list) else [])
        if done:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children),
                                  MAX_EXPANDED_NODES + 1)
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def config_schema() -> dict[str, Any]:
    """:data:`SCHEMA` with what the builder registry owns (``source`` kinds, ``build`` keys)
    as registered now, so a builder registered after this module was imported is known."""
    variants = SCHEMA["properties"]["variants"]
    items = {**variants["items"], "properties": {**variants["items"]["properties"],
                                                 "source": source_schema(),
                                                 "build": build_schema()}}
    return {**SCHEMA, "properties": {**SCHEMA["properties"],
                                     "variants": {**variants, "items": items}}}


def _schema_error(path: Path, data: Any, schema: dict[str, Any] = SCHEMA,
                  at: tuple[str | int, ...] = ()) -> None:
    """Raise a ConfigError naming file and field for the first problem of ``data`` (found at
    field path ``at`` of the file) against ``schema``."""
    import jsonschema  # only when a config is loaded: `schema` and `--help` stay light

    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    where = field_path((*at, *err.absolute_path))
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        unknown = sorted(set(err.instance) - set(allowed))
        raise ConfigError(f"{path}: {where}: unknown key {', '.join(map(repr, unknown))}",
                          f"allowed keys: {', '.join(allowed)}")
    if err.validator == "enum" and where.endswith("build.builder"):
        raise ConfigError(f"{path}: {where}: unknown builder {err.instance!r}",
                          f"known: {', '.join(sorted(err.validator_value))}")
    if err.validator in ("minProperties", "maxProperties") and where.endswith("source"):
        raise ConfigError(f"{path}: {where}: give exactly one source",
                          f"one of {', '.join(source_kind_names())}")
    if err.validator == "anyOf" and where == "timing.runs":
        raise ConfigError(f"{path}: {where}: {err.instance!r} is not a number of runs or 'auto'",
                          "give a number (at least 6) or auto")
    if err.validator == "required":
        raise ConfigError(f"{path}: {where}: {err.message}", "see README: Configuration")
    raise ConfigError(f"{path}: {where}: {err.message}", "see README: Configuration")


def _check_names(path: Path, data: dict[str, Any]) -> None:
    """Names match their pattern in full: JSON Schema's ``$`` also matches before a final
    newline, so ``"main\\n"`` would pass the schema alone."""
    import re

    checks = [(f"{key}[{i}].name", item["name"], NAME_PATTERN)
              for key in ("variants", "workloads") for i, item in enumerate(data[key])]
    env = data.get("timing", {}).get("env", {})
    checks += [(f"timing.env.pass[{i}]", name, ENV_NAME_PATTERN)
               for i, name in enumerate(env.get("pass", []))]
    checks += [("timing.env.set", name, ENV_NAME_PATTERN) for name in env.get("set", {})]
    for where, value, pattern in checks:
        if not re.fullmatch(pattern.strip("^$"), value):
            raise ConfigError(f"{path}: {where}: {value!r} does not match {pattern}",
                              "names are letters, digits, '_', '.' and '-'")


def parse_config(data: Any, path: str | Path = "<config>") -> Config:
    """Validate ``data`` (parsed YAML) against the schema and the cross-field rules."""
    path = Path(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping with variants and workloads",
                          "see harness/demo.yaml")
    from harness.validate import non_finite

    nan = non_finite(data)  # jsonschema lets NaN through every bound
    if nan:
        raise ConfigError(f"{path}: {nan}: not a finite number", "see README: Configuration")
    _schema_error(path, data, config_schema())
    _check_names(path, data)
    base = path.parent.resolve() if path.name != "<config>" else Path.cwd()

    variants: list[VariantConfig] = []
    seen: set[str] = set()
    roles: dict[str, str] = {}
    for i, raw in enumerate(data["variants"]):
        name = raw["name"]
        if name in seen:
            raise ConfigError(f"{path}: variants[{i}].name: duplicate variant name {name!r}",
                              "names must be unique")
        seen.add(name)
        role = raw.get("role")
        if role is not None:
            if role in roles:
                raise ConfigError(f"{path}: variants[{i}].role: role {role!r} already used by "
                                  f"variant {roles[role]!r}", "each role names one variant")
            roles[role] = name
        kind = next(iter(raw["source"]))
        try:
            source = _source(raw["source"], base)
        except ConfigError as exc:  # a builder's kind refusing a value its schema let through
            raise ConfigError(f"{path}: variants[{i}].source.{kind}: {exc.message}",
                              exc.hint) from exc
        except ValueError as exc:  # a path with a NUL byte (YAML's "\0")
            raise ConfigError(f"{path}: variants[{i}].source.{kind}: {exc}",
                              "give a path without NUL bytes") from exc
        build = _build(path, i, raw.get("build", {}), source, base)
        variants.append(VariantConfig(name, raw.get("label", name), role, source, build))

    known = _placeholders(variants)
    workloads: list[WorkloadConfig] = []
    wl_names: set[str] = set()
    for i, raw in enumerate(data["workloads"]):
        if raw["name"] in wl_names:
            raise ConfigError(f"{path}: workloads[{i}].name: duplicate workload {raw['name']!r}",
                              "names must be unique")
        wl_names.add(raw["name"])
        command = raw["command"]
        try:
            argv = tuple(shlex.split(command)) if isinstance(command, str) else tuple(command)
        except ValueError as exc:
            raise ConfigError(f"{path}: workloads[{i}].command: {exc}",
                              "give the command as a list of arguments") from exc
        _check_placeholders(path, f"workloads[{i}].command", argv, known)
        workloads.append(WorkloadConfig(
            name=raw["name"], argv=argv,
            metrics=tuple(raw.get("metrics", ["wall"])),
            scenarios=tuple(raw.get("scenarios", [])),
            importtime=raw.get("importtime", True),
            allow_failure=raw.get("allow_failure", False), env=dict(raw.get("env", {}))))

    timing_raw = data.get("timing", {})
    env_raw = timing_raw.get("env", {})
    runs_raw = timing_raw.get("runs", defaults.RUNS)  # no runs given: see auto_by_default
    timing = TimingConfig(
        warmup=timing_raw.get("warmup", defaults.WARMUP),
        runs=defaults.RUNS if runs_raw == "auto" else runs_raw,
        auto=runs_raw == "auto",
        batch=timing_raw.get("batch", defaults.AUTO_BATCH),
        max_runs=timing_raw.get("max_runs", defaults.AUTO_MAX_RUNS),
        max_seconds=float(timing_raw.get("max_seconds", defaults.AUTO_MAX_SECONDS)),
        order=timing_raw.get("order", defaults.ORDER),
        timer=timing_raw.get("timer", defaults.TIMER),
        seed=timing_raw.get("seed", 0),
        timeout_s=float(timing_raw.get("timeout_s", defaults.TIMING_TIMEOUT_S)),
        instruction_runs=timing_raw.get("instruction_runs", defaults.INSTRUCTION_RUNS),
        env_pass=tuple(env_raw.get("pass", [])), env_set=dict(env_raw.get("set", {})))

    if timing.timer == "hyperfine" and any(w.env for w in workloads):
        raise ConfigError(f"{path}: workloads: `env` per workload needs the spawn timer",
                          "drop `timing.timer: hyperfine`, or move the variables to timing.env")
    gate_raw = data.get("gate", {})
    if gate_raw is False or gate_raw == "off" or (len(variants) == 1 and "gate" not in data):
        gate = GatePolicy(compare="", against="", enabled=False)
    else:
        gate = _gate(path, gate_raw, variants, workloads)
    if "runs" not in timing_raw:
        timing = dataclasses.replace(timing, auto=auto_by_default(timing, gate))
    if gate.enabled or timing.auto:
        check_runs(timing, gate, f"{path}: timing.runs")
    matrix = _matrix(path, data.get("matrix", {}), variants)
    sweeps = tuple(_sweep(path, i, raw, gate, variants, workloads)
                   for i, raw in enumerate(data.get("sweep", [])))
    return Config(str(path), data.get("title", "Python start-up benchmark"), tuple(variants),
                  tuple(workloads), timing, gate, data, matrix, sweeps)


def _matrix(path: Path, raw: dict[str, list[str]],
            variants: list[VariantConfig]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The matrix axes; ``python`` needs builders that take a ``python`` option."""
    if "python" in raw:
        from harness.measure.builders import get_builder

        for i, variant in enumerate(variants):
            builder = get_builder(variant.build.builder)
            if "python" not in builder.options_schema:
                raise ConfigError(
                    f"{path}: matrix.python: variant {variant.name!r} (variants[{i}]) uses the "
                    f"{builder.name!r} builder, which does not take an interpreter",
                    "matrix.python expands variants built with uv")
            if getattr(variant.build.options, "python", None):
                raise ConfigError(
                    f"{path}: variants[{i}].build.python: set both here and by matrix.python",
                    "drop one of them")
    return tuple((axis, tuple(values)) for axis, values in raw.items())


def _sweep(path: Path, i: int, raw: dict[str, Any], gate: GatePolicy,
           variants: list[VariantConfig], workloads: list[WorkloadConfig]) -> SweepConfig:
    where = f"{path}: sweep[{i}]"
    variant = raw.get("variant", gate.against or variants[0].name)
    if variant not in {v.name for v in variants}:
        raise ConfigError(f"{where}.variant: no variant named {variant!r}",
                          f"one of: {', '.join(v.name for v in variants)}")
    workload = raw.get("workload", workloads[0].name)
    if workload not in {w.name for w in workloads}:
        raise ConfigError(f"{where}.workload: no workload named {workload!r}",
                          f"one of: {', '.join(w.name for w in workloads)}")
    quantity = raw["quantity"]
    if "position" in raw and quantity not in ("sys_path_entries", "site_roots"):
        raise ConfigError(f"{where}.position: only for sys_path_entries and site_roots", "")
    if "import_lines" in raw and quantity != "pth_files":
        raise ConfigError(f"{where}.import_lines: only for pth_files", "")
    return SweepConfig(quantity=quantity, levels=tuple(sorted(raw["levels"])), variant=variant,
                       workload=workload, position=raw.get("position", "end"),
                       import_lines=bool(raw.get("import_lines", False)),
                       runs=int(raw.get("runs", 20)))


def timed_gate(gate: GatePolicy) -> bool:
    """The gate judges a timed metric (what ``runs: auto`` stops on)."""
    return gate.enabled and gate.metric != "instructions"


def check_runs(timing: TimingConfig, gate: GatePolicy, where: str) -> None:
    """Refuse, before anything is built, fewer timed runs than a confidence interval needs when
    the gate is on a timed metric (a point estimate must never pass the gate), ``runs: auto``
    without paired spawn-timer rounds, and a CPU-time gate without the spawn timer."""
    if gate.metric != "instructions" and not timing.auto and timing.runs < defaults.MIN_PAIRS:
        raise ConfigError(f"{where}: {timing.runs} runs are too few for a confidence interval "
                          f"(the gate needs at least {defaults.MIN_PAIRS} paired runs)",
                          f"set at least {defaults.MIN_PAIRS} runs, or gate on "
                          "`metric: instructions`")
    if timing.auto and not timed_gate(gate):
        raise ConfigError(f"{where}: runs: auto stops when the gated interval is decisive, "
                          "and nothing timed is gated", f"give a number of runs (default "
                          f"{defaults.RUNS})")
    if timing.auto and (timing.timer != "spawn" or timing.order == "blocks"):
        raise ConfigError(f"{where}: runs: auto needs the spawn timer and paired rounds",
                          "use timing.timer: spawn with order: interleaved or shuffled")
    if timing.auto and timing.max_runs < timing.batch:
        raise ConfigError(f"{where}: max_runs {timing.max_runs} is below one batch "
                          f"({timing.batch})", "raise timing.max_runs or lower timing.batch")
    if timing.order == "duet" and timing.timer != "spawn":
        raise ConfigError(f"{where}: order: duet starts the commands together, which only "
                          "the spawn timer does", "use timing.timer: spawn")
    if gate.metric == "cpu" and timing.timer != "spawn":
        raise ConfigError(f"{where}: gate.metric cpu: CPU time is measured by the spawn timer "
                          "only", "use timing.timer: spawn, or gate on wall")


def auto_by_default(timing: TimingConfig, gate: GatePolicy) -> bool:
    """Whether a config that gives no timing.runs measures with ``runs: auto``
    (:data:`defaults.TIMING_RUNS`): where it can stop, i.e. the spawn timer, rounds that pair
    the commands, and a gate on a timed metric; else the fixed :data:`defaults.RUNS`."""
    return (defaults.TIMING_RUNS == "auto" and timing.timer == "spawn"
            and timing.order != "blocks" and timed_gate(gate))


def _source(raw: dict[str, Any], base: Path) -> Source:
    if "requirement" in raw:
        reqs = raw["requirement"]
        return Source("requirement", requirements=tuple([reqs] if isinstance(reqs, str) else reqs))
    if "git" in raw:
        git = raw["git"]
        repo = str((base / git.get("repo", ".")).resolve())
        return Source("git", repo=repo, ref=git["ref"], subdir=git.get("subdir", ""))
    if "path" in raw:
        return Source("path", path=str((base / raw["path"]).resolve()))
    if "python" in raw:
        return Source("python", path=_interpreter_path(raw["python"], base))
    ((name, value),) = raw.items()  # the schema allows exactly one key: a builder's own kind
    _, kind = owned_source_kinds()[name]
    return Source(name, spec=kind.record(value, base))


def _interpreter_path(value: str, base: Path) -> str:
    """``python3.12`` is looked up on PATH (a pyenv shim is resolved to the real interpreter
    by the existing builder); a relative path is relative to the config file."""
    import shutil

    if "/" not in value and "\\" not in value:
        return shutil.which(value) or value
    return str((base / value).resolve()) if not Path(value).is_absolute() else value


#: The builder of a common source kind when ``build.builder`` is not given (otherwise uv); a
#: kind a builder owns is built by that builder.
DEFAULT_BUILDER = {"python": "existing"}


def _build(path: Path, i: int, raw: dict[str, Any], source: Source, base: Path) -> BuildSpec:
    """The build spec of ``variants[i]``: its builder (default by source kind) and the
    builder's own options, checked against that builder's schema block."""
    owner = owned_source_kinds().get(source.kind, (None, None))[0]
    name = raw.get("builder", owner or DEFAULT_BUILDER.get(source.kind, "uv"))
    try:
        builder = get_builder(name)
    except ConfigError as exc:
        raise ConfigError(f"{path}: variants[{i}].build.builder: {exc.message}",
                          exc.hint) from exc
    _schema_error(path, raw, block_schema(builder), ("variants", i, "build"))
    if owner is not None and name != owner:
        raise ConfigError(f"{path}: variants[{i}].source.{source.kind}: built by the {owner} "
                          f"builder only", f"set build.builder: {owner} (or leave it out)")
    try:
        options = builder.options(raw, source, base)
    except ConfigError as exc:
        raise ConfigError(f"{path}: variants[{i}].{exc.message}", exc.hint) from exc
    return BuildSpec(builder=name, options=options,
                     timeout_s=float(raw.get("timeout_s", defaults.BUILD_TIMEOUT_S)))


def _placeholders(variants: list[VariantConfig]) -> tuple[str, ...]:
    """The placeholders a workload may use: the common ones and those every variant's builder
    fills (a workload runs in every variant)."""
    builders = registry()
    extra = [set(builders[v.build.builder].placeholders) for v in variants]
    return PLACEHOLDERS + tuple(sorted(set.intersection(*extra))) if extra else PLACEHOLDERS


def _check_placeholders(path: Path, where: str, argv: tuple[str, ...],
                        known: tuple[str, ...] = PLACEHOLDERS) -> None:
    import string

    for arg in argv:
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(arg) if f is not None]
        except ValueError as exc:
            raise ConfigError(f"{path}: {where}: {arg!r}: {exc}",
                              "write a literal brace as {{ or }}") from exc
        for name in names:
            if name not in known:
                raise ConfigError(f"{path}: {where}: unknown placeholder {{{name}}}",
                                  f"known: {', '.join('{' + p + '}' for p in known)}")


def _gate(path: Path, raw: dict[str, Any], variants: list[VariantConfig],
          workloads: list[WorkloadConfig]) -> GatePolicy:
    by_role = {v.role: v.name for v in variants if v.role}
    names = {v.name for v in variants}

    def resolve(key: str, default_role: str) -> str:
        wanted = raw.get(key)
        if wanted is None:
            if default_role in by_role:
                return by_role[default_role]
            if len(variants) >= 2:
                return variants[-1 if default_role == "pr" else -2].name
            raise ConfigError(f"{path}: gate.{key}: needs two variants to compare",
                              "add a variant or set gate.compare and gate.against")
        if wanted in names:
            return wanted
        if wanted in by_role:
            return by_role[wanted]
        raise ConfigError(f"{path}: gate.{key}: no variant named {wanted!r}",
                          f"variants: {', '.join(sorted(names))}")

    compare, against = resolve("compare", "pr"), resolve("against", "main")
    if compare == against:
        raise ConfigError(f"{path}: gate: compares variant {compare!r} with itself",
                          "set gate.compare and gate.against to two different variants")
    workload = raw.get("workload")
    if workload is not None and workload not in {w.name for w in workloads}:
        raise ConfigError(f"{path}: gate.workload: no workload named {workload!r}",
                          f"workloads: {', '.join(w.name for w in workloads)}")
    metric = raw.get("metric", defaults.GATE_METRIC)
    gated = [w for w in workloads if workload in (None, w.name)]
    if metric == "instructions" and not any("instructions" in w.metrics for w in gated):
        raise ConfigError(f"{path}: gate.metric: instructions are not measured by the gated "
                          "workload", "add `metrics: [wall, instructions]` to the workload")
    default = GatePolicy()
    return GatePolicy(
        compare=compare, against=against, workload=workload, metric=metric,
        statistic=raw.get("statistic", default.statistic),
        threshold_pct=float(raw.get("threshold_pct", default.threshold_pct)),
        confidence=float(raw.get("confidence", default.confidence)),
        inconclusive=raw.get("inconclusive", default.inconclusive),
        carryover=raw.get("carryover", default.carryover))
