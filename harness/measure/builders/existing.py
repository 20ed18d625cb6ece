"""The "existing" builder: an interpreter that is already there; nothing is built."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from harness import proc
from harness.config import VariantConfig
from harness.measure.builders import BuiltEnv


class ExistingBuilder:
    name = "existing"

    def build(self, variant: VariantConfig, source_dir: str | None, out_base: Path,
              env: Mapping[str, str]) -> BuiltEnv:
        python = variant.source.path or ""
        done = proc.run([python, "-c", "import json,sys; print(json.dumps(sys.prefix))"],
                        env=env, what=f"variant {variant.name!r}: interpreter check", timeout=60)
        prefix = json.loads(done.stdout)
        return BuiltEnv(python=python, prefix=prefix, bin_dir=str(Path(python).parent))
