"""Builders make one variant's environment in its own output base; chosen by name.

A builder is one module here with a class implementing :class:`Builder`; register it in
``BUILDERS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.config import VariantConfig
from harness.errors import ConfigError


@dataclass(frozen=True)
class BuiltEnv:
    """What a build produced: the interpreter to run and the environment's root."""

    python: str
    prefix: str
    bin_dir: str
    installed: tuple[str, ...] = ()  # "name==version" of every distribution, when known


class Builder(Protocol):
    """Build ``variant`` into ``out_base`` (its own dir: env + cache), from ``source_dir``."""

    name: str

    def build(self, variant: VariantConfig, source_dir: str | None, out_base: Path,
              env: Mapping[str, str]) -> BuiltEnv: ...


def get_builder(name: str) -> Builder:
    """The builder registered as ``name``."""
    from harness.measure.builders.existing import ExistingBuilder
    from harness.measure.builders.uv import UvBuilder

    builders: dict[str, Builder] = {"uv": UvBuilder(), "existing": ExistingBuilder()}
    if name not in builders:
        raise ConfigError(f"unknown builder {name!r}", f"known: {', '.join(sorted(builders))}")
    return builders[name]
