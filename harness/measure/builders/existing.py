"""The "existing" builder: an interpreter that is already there; nothing is built."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.measure.builders import Builder, BuiltEnv, SourceKind, site_roots

if TYPE_CHECKING:
    from harness.config_records import Source, VariantConfig


class ExistingBuilder:
    """The variant's ``source: {python: ...}`` interpreter, used as it is."""

    name = "existing"
    options_schema: Mapping[str, Any] = {}
    placeholders: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    source_kinds: Mapping[str, SourceKind] = {}

    def options(self, raw: Mapping[str, Any], source: Source, base: Path) -> None:
        return None

    def build(self, variant: VariantConfig, source_dir: str | None, out_base: Path,
              env: Mapping[str, str]) -> BuiltEnv:
        from harness import proc  # here: `startup-harness schema` imports this module

        given = variant.source.path or ""
        done = proc.run([given, "-c", "import json,sys; print(json.dumps([sys.prefix, "
                         "sys.executable]))"],
                        env=env, what=f"variant {variant.name!r}: interpreter check", timeout=60)
        prefix, executable = json.loads(done.stdout)
        # what the interpreter says it is: a pyenv shim or a wrapper on PATH execs the real one,
        # and timing the shim would time pyenv (a venv's python keeps its own path)
        python = executable or given
        return BuiltEnv(python=python, prefix=prefix, bin_dir=str(Path(python).parent),
                        site_roots=site_roots(prefix), built=False)


BUILDER: Builder = ExistingBuilder()
