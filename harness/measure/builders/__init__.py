"""Builders make one variant's environment; each registers itself here and owns its options.

A builder is one module in this package exposing ``BUILDER``, an object with:

* ``name`` – what ``build.builder`` says in the config;
* ``options_schema`` – the JSON Schema ``properties`` of its own ``build:`` keys (``builder``
  and ``timeout_s`` are common to all builders and need not be declared);
* ``placeholders`` – names of the extra workload placeholders its :class:`BuiltEnv` fills;
* ``tools`` – external programs it runs, found before anything is built (the preflight);
* ``options(raw, source, base)`` – the validated ``build:`` mapping made into its own frozen
  record (``base``: the config file's directory, for relative paths);
* ``build(variant, source_dir, out_base, env)`` – make the environment, return a
  :class:`BuiltEnv`.

Adding a builder is one module here and one line in :data:`MODULES`. The config schema is
assembled from this registry (:func:`build_schema`); importing it must stay light (no
subprocess work, no heavy imports at module level) because ``startup-harness schema`` loads it.
"""

from __future__ import annotations

import glob
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.config_records import Source, VariantConfig

#: Every builder module in this package, by module name; adding a builder = one line here.
MODULES: tuple[str, ...] = ("uv", "existing", "bazel")

#: ``build:`` keys every builder understands.
COMMON_OPTIONS: dict[str, Any] = {
    "builder": {"type": "string", "minLength": 1,
                "description": "Which builder makes the environment."},
    "timeout_s": {"type": "number", "exclusiveMinimum": 0,
                  "description": "Give up on the build after this many seconds."},
}


@dataclass(frozen=True)
class BuiltEnv:
    """What a build produced: the interpreter to run and where its environment lives."""

    python: str  # the interpreter workloads run as {python}
    prefix: str  # the environment's root ({prefix})
    bin_dir: str  # its scripts directory ({bin})
    site_roots: tuple[str, ...] = ()  # its own site-packages dirs (bytecode scenarios, probe)
    placeholders: Mapping[str, str] = field(default_factory=dict)  # builder's extra {names}
    installed: tuple[str, ...] = ()  # "name==version" of every distribution, when known
    #: variables every run of this variant's workloads gets (e.g. ``RUNFILES_DIR``)
    run_env: Mapping[str, str] = field(default_factory=dict)
    #: seconds per phase of the build (bazel: ``server_start``, ``fetch``, ``build``,
    #: ``shutdown``)
    phases: Mapping[str, float] = field(default_factory=dict)
    #: what the build tool reported (``tool_version``, ``resolved``, ``mode``, ...)
    details: Mapping[str, str] = field(default_factory=dict)
    #: a built program whose stdout is the probe's report (the seed's inspection target), and
    #: the variables it runs with
    inspect_command: tuple[str, ...] = ()
    inspect_env: Mapping[str, str] = field(default_factory=dict)
    #: False when nothing was built (an interpreter used as it is): no build time to report
    built: bool = True


class Builder(Protocol):
    """One way to make a variant's environment (see the module docstring)."""

    @property
    def name(self) -> str: ...

    @property
    def options_schema(self) -> Mapping[str, Any]: ...

    @property
    def placeholders(self) -> tuple[str, ...]: ...

    @property
    def tools(self) -> tuple[str, ...]:
        """External programs it runs, checked before anything is built."""
        ...

    def options(self, raw: Mapping[str, Any], source: Source, base: Path) -> object:
        """The builder's own frozen options from the validated ``build:`` mapping (relative
        paths are relative to ``base``, the config file's directory)."""
        ...

    def build(self, variant: VariantConfig, source_dir: str | None, out_base: Path,
              env: Mapping[str, str]) -> BuiltEnv:
        """Build ``variant`` into ``out_base`` (its own dir), from ``source_dir``."""
        ...


def registry() -> dict[str, Builder]:
    """Every registered builder by name, in registration order."""
    out: dict[str, Builder] = {}
    for module in MODULES:
        builder: Builder = importlib.import_module(f"{__name__}.{module}").BUILDER
        out[builder.name] = builder
    return out


def get_builder(name: str) -> Builder:
    """The builder registered as ``name``."""
    builders = registry()
    if name not in builders:
        raise ConfigError(f"unknown builder {name!r}", f"known: {', '.join(sorted(builders))}")
    return builders[name]


def block_schema(builder: Builder) -> dict[str, Any]:
    """The JSON Schema of a ``build:`` block for ``builder``: common keys plus its own."""
    return {"type": "object", "additionalProperties": False,
            "properties": {**COMMON_OPTIONS, **builder.options_schema}}


def build_schema() -> dict[str, Any]:
    """The config schema of ``variants[].build``: any registered builder's keys, and for an
    explicit ``builder:`` exactly that builder's keys."""
    builders = registry()
    keys: dict[str, Any] = {key: {} for b in builders.values() for key in b.options_schema}
    return {
        "type": "object", "additionalProperties": False,
        "description": "How the environment is built; the keys depend on the builder.",
        "properties": {**keys, **COMMON_OPTIONS,
                       "builder": {**COMMON_OPTIONS["builder"], "enum": list(builders)}},
        "allOf": [{"if": {"required": ["builder"], "properties": {"builder": {"const": name}}},
                   "then": block_schema(b)} for name, b in builders.items()],
    }


def site_roots(prefix: str | os.PathLike[str]) -> tuple[str, ...]:
    """The site-packages directories of the environment at ``prefix`` (distinct realpaths)."""
    base = Path(prefix)
    found = sorted(glob.glob(str(base / "lib" / "python*" / "site-packages"))
                   + glob.glob(str(base / "lib64" / "python*" / "site-packages"))
                   + glob.glob(str(base / "Lib" / "site-packages")))
    out: list[str] = []
    seen: set[str] = set()
    for path in found:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            out.append(path)
    return tuple(out)
