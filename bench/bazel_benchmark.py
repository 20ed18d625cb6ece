"""The three-variant Bazel fixture end to end, and where the time goes.

    python bench/bazel_benchmark.py [--runs 20] [--keep DIR] [--bzlmod]

Writes the tests' tiny ruleset (a venv-like tree + launcher; v1 release, v2 main, v3 PR with
a slow .pth) and a benchmark workspace into a temp dir, runs ``startup-harness run`` on
release-as-declared / ``git:`` v2 / ``path:`` v3, and prints: per variant the Bazel phases
(server start, fetch, build, shutdown) and the rest of its build step (``bazel --version``,
``cquery``, ``query``, the git worktree); per run phase (build, smoke, timing, inspection,
cleanup); and the harness's overhead on top of Bazel's own commands and the timed runs.
Needs ``bazel`` (``apt-get install -y bazel-bootstrap``). ``--bzlmod``: the seed's own mode
with Bazel 7 instead (STARTUP_HARNESS_BAZEL7 and _FLAGS as ``.ci/bazel7.sh`` writes them):
release 1.0 from a ``file://`` registry holding 1.0 and 2.0, main and PR through
``local_path_override``, rules_py's bash launcher, ``//:bench_syspath`` inspected.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.cli import main  # noqa: E402
from harness.inspection.runner import probe_source  # noqa: E402
from tests.bazel_fixture import (  # noqa: E402
    RULES_PY_LAUNCHER,
    export_release,
    make_bzlmod_workspace,
    make_registry,
    make_ruleset_repo,
    make_workspace,
)

CONFIG = """\
title: {title}
variants:
  - name: release
    role: baseline
    source: {release}
    build: &bz {block}
  - name: main
    role: main
    source: {{git: {{repo: "{repo}", ref: v2}}}}
    build: *bz
  - name: pr
    role: pr
    source: {{path: "{checkout}"}}
    build: *bz
workloads:
  - name: start
    command: ["{{exe}}"]
timing: {{warmup: 3, runs: {runs}}}
"""

BAZEL_PHASES = ("server_start", "fetch", "build", "shutdown")


def write_config(base: Path, runs: int, bzlmod: bool) -> Path:
    """The ruleset, its release(s), the PR's checkout, the workspace and the config."""
    config = base / "bazel.yaml"
    if not bzlmod:
        repo = make_ruleset_repo(base / "rules_tiny")
        release = export_release(repo, "v1", base / "release")
        checkout = export_release(repo, "v3", base / "pr-checkout")
        workspace = make_workspace(base / "bench", release, probe_source())
        config.write_text(CONFIG.format(
            title="rules_tiny start-up (bench/bazel_benchmark.py)",
            release=json.dumps({"bcr": {"module": "rules_tiny", "version": "1.0"}}),
            block=json.dumps({"builder": "bazel", "workspace": str(workspace),
                              "target": "//:bench", "module": "rules_tiny"}),
            repo=repo, checkout=checkout, runs=runs))
        return config
    repo = make_ruleset_repo(base / "rules_tiny", launcher=RULES_PY_LAUNCHER)
    registry = make_registry(base / "registry", repo, {"1.0": "v1", "2.0": "v2"})
    checkout = export_release(repo, "v3", base / "pr-checkout")
    flags = shlex.split(os.environ.get("STARTUP_HARNESS_BAZEL7_FLAGS", ""))
    workspace = make_bzlmod_workspace(base / "bench", registry, flags, probe_source())
    block = json.dumps({"builder": "bazel", "workspace": str(workspace), "target": "//:bench",
                        "inspect_target": "//:bench_syspath", "module": "rules_tiny",
                        "mode": "bzlmod",
                        "command": shlex.split(os.environ["STARTUP_HARNESS_BAZEL7"])})
    config.write_text(CONFIG.format(
        title="rules_tiny start-up, bzlmod (bench/bazel_benchmark.py --bzlmod)",
        release=json.dumps({"bcr": {"module": "rules_tiny", "version": "1.0",
                                    "registry": registry.as_uri()}}),
        block=block, repo=repo, checkout=checkout, runs=runs))
    return config


def run(runs: int, base: Path, bzlmod: bool = False) -> int:
    config = write_config(base, runs, bzlmod)
    out = base / "out"
    start = time.perf_counter()
    code = main(["run", "--config", str(config), "--out", str(out), "--quiet"])
    total = time.perf_counter() - start
    record = json.loads((out / "measurements.json").read_text())
    job = record["jobs"][0]
    print(f"exit code {code}, total wall time {total:.2f} s\n")
    print(f"{'variant':<10}" + "".join(f"{p:>14}" for p in (*BAZEL_PHASES, "rest", "step")))
    bazel_own = 0.0
    for build in job["builds"]:
        phases = build.get("phases", {})
        own = sum(phases.get(p, 0.0) for p in BAZEL_PHASES)
        bazel_own += own
        step = build["seconds"] or 0.0
        cells = [f"{phases.get(p, 0.0):14.2f}" for p in BAZEL_PHASES]
        print(f"{build['variant']:<10}" + "".join(cells) + f"{step - own:14.2f}{step:14.2f}")
    print()
    for name, seconds in job["phases_s"].items():
        print(f"  run phase {name:<14}{seconds:8.2f} s")
    measured = sum(sum(s["values"]) for s in job["samples"] if s["metric"] == "wall")
    print(f"\nBazel's own commands      {bazel_own:8.2f} s (server start + fetch + build + "
          "shutdown)")
    print(f"sum of timed runs         {measured:8.2f} s")
    overhead = total - bazel_own - measured
    print(f"harness overhead          {overhead:8.2f} s ({overhead / total:.0%} of the run: "
          "version/cquery/query calls, worktree, warmups, smoke test, inspection, analysis)")
    return code


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", help="write the fixture and the output here (kept)")
    parser.add_argument("--bzlmod", action="store_true",
                        help="the seed's mode with Bazel 7 (STARTUP_HARNESS_BAZEL7)")
    args = parser.parse_args()
    if args.bzlmod and not os.environ.get("STARTUP_HARNESS_BAZEL7"):
        sys.exit("STARTUP_HARNESS_BAZEL7 names no Bazel 7 command: bash .ci/bazel7.sh DIR "
                 "writes DIR/env")
    if not args.bzlmod and shutil.which("bazel") is None:
        sys.exit("bazel not found: apt-get install -y bazel-bootstrap")
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=False)
        run(args.runs, Path(args.keep), args.bzlmod)
    else:
        with tempfile.TemporaryDirectory(prefix="bazel-benchmark-") as tmp:
            run(args.runs, Path(tmp), args.bzlmod)
    sys.exit(0)
