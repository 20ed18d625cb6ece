"""Builders make one variant's environment; each registers itself here and owns its options.

A builder is one module in this package exposing ``BUILDER``, an object with:

* ``name`` – what ``build.builder`` says in the config;
* ``options_schema`` – the JSON Schema ``properties`` of its own ``build:`` keys (``builder``
  and ``timeout_s`` are common to all builders and need not be declared);
* ``placeholders`` – names of the extra workload placeholders its :class:`BuiltEnv` fills;
* ``tools`` – external programs it runs, found before anything is built (the preflight);
* ``source_kinds`` – the ``source:`` kinds it owns beyond the common ones (``requirement``,
  ``git``, ``path``, ``python``), each a :class:`SourceKind` (the bazel builder's ``bcr``): the
  config accepts them, builds them with this builder by default and with no other;
* ``options(raw, source, base)`` – the validated ``build:`` mapping made into its own frozen
  record (``base``: the config file's directory, for relative paths);
* ``build(variant, source_dir, out_base, env)`` – make the environment, return a
  :class:`BuiltEnv`.

Adding a builder is one module and one line in :data:`MODULES`, with its source kinds if it
has any. The config schema is assembled from this registry (:func:`build_schema`,
:func:`source_schema`); importing it must stay light (no subprocess work, no heavy imports at
module level) because ``startup-harness schema`` loads it.
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

#: Every builder module (relative names are in this package); adding a builder = one line here.
MODULES: tuple[str, ...] = (".uv", ".existing", ".bazel")

#: The source kinds every builder may take; a builder adds its own (``Builder.source_kinds``).
COMMON_SOURCE_KINDS = ("requirement", "git", "path", "python")

#: ``source:`` keys of the common kinds.
COMMON_SOURCE_SCHEMA: dict[str, Any] = {
    "requirement": {"oneOf": [{"type": "string", "minLength": 1},
                              {"type": "array", "items": {"type": "string", "minLength": 1},
                               "minItems": 1}]},
    "git": {
        "type": "object", "additionalProperties": False,
        "required": ["ref"],
        "properties": {
            "repo": {"type": "string", "minLength": 1},
            "ref": {"type": "string", "minLength": 1},
            "subdir": {"type": "string"},
        },
    },
    "path": {"type": "string", "minLength": 1},
    "python": {"type": "string", "minLength": 1},
}

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
    #: paths of this build the comment shows by a short name (bazel: its execution root is
    #: ``<execroot>``); the JSON keeps the full paths
    short_names: Mapping[str, str] = field(default_factory=dict)


class SourceKind(Protocol):
    """A ``source:`` kind a builder owns: its config block, its record, its check before
    anything is built and how the report names it. Its record is ``Source.spec``."""

    @property
    def name(self) -> str:
        """The key under ``source:`` (``bcr``)."""
        ...

    @property
    def schema(self) -> Mapping[str, Any]:
        """The JSON Schema of the value under ``source.NAME``."""
        ...

    def record(self, raw: Any, base: Path) -> object:
        """The validated value made into a frozen record (defaults filled, relative paths
        against ``base``, the config file's directory); a value the schema let through but
        the kind refuses raises :class:`harness.errors.ConfigError` (the loader adds the file
        and field)."""
        ...

    def check(self, spec: object) -> None:
        """Raise :class:`harness.errors.SourceError` (message without the variant's name) if
        the source cannot be built; no network, no subprocess."""
        ...

    def describe(self, spec: object) -> str:
        """How the report and the comment name the source (one line)."""
        ...


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

    @property
    def source_kinds(self) -> Mapping[str, SourceKind]:
        """The source kinds it owns, by name (most builders: none)."""
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
        builder: Builder = importlib.import_module(module, __name__).BUILDER
        out[builder.name] = builder
    return out


def owned_source_kinds() -> dict[str, tuple[str, SourceKind]]:
    """Every source kind a builder owns: name -> (its builder's name, the kind)."""
    out: dict[str, tuple[str, SourceKind]] = {}
    for builder in registry().values():
        for name, kind in builder.source_kinds.items():
            if name in COMMON_SOURCE_KINDS or name in out:
                owner = out[name][0] if name in out else "every builder"
                raise ConfigError(f"builder {builder.name!r}: source kind {name!r} is already "
                                  f"owned by {owner}", "give the source kind another name")
            out[name] = (builder.name, kind)
    return out


def source_kind_names() -> tuple[str, ...]:
    """Every source kind the config accepts, the common ones first."""
    return (*COMMON_SOURCE_KINDS, *owned_source_kinds())


def source_schema() -> dict[str, Any]:
    """The config schema of ``variants[].source``: exactly one of the common kinds and the
    kinds the registered builders own."""
    owned = owned_source_kinds()
    return {
        "type": "object", "additionalProperties": False,
        "minProperties": 1, "maxProperties": 1,
        "description": f"Exactly one of {', '.join(source_kind_names())}.",
        "properties": {**COMMON_SOURCE_SCHEMA,
                       **{name: dict(kind.schema) for name, (_, kind) in owned.items()}},
    }


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
