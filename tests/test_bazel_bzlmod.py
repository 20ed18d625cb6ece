"""The seed's own mode with real Bazel 7: bzlmod, a BCR-style release from a local ``file://``
registry (``bazel_dep``), main and the PR through ``local_path_override``, a ruleset whose
launcher is rules_py's (bash, ``exec "$VENV/bin/python" -B -s -I ...``).

STARTUP_HARNESS_BAZEL7 is the Bazel 7 command (``.ci/bazel7.sh`` makes a bubblewrap wrapper
entering a cached Debian sid root); STARTUP_HARNESS_BAZEL7_FLAGS are flags every command gets
(its registry of stand-in modules), written to the workspace's ``.bazelrc`` as a user would.
Without it the test skips locally and fails under CI (``CI`` set): ``.ci/run`` sets it up.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from harness.cli import main
from harness.inspection.runner import probe_source
from tests.bazel_fixture import (
    RULES_PY_LAUNCHER,
    export_release,
    make_bzlmod_workspace,
    make_registry,
    make_ruleset_repo,
)
from tests.test_bazel import bazel_processes, variant, write

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def bazel7() -> list[str]:
    """The Bazel 7 command; fails under CI when there is none or it is not Bazel 7."""
    command = shlex.split(os.environ.get("STARTUP_HARNESS_BAZEL7", ""))
    problem = ""
    if not command:
        problem = ("STARTUP_HARNESS_BAZEL7 names no Bazel 7 command ("
                   + os.environ.get("STARTUP_HARNESS_BAZEL7_ERROR",
                                    "bash .ci/bazel7.sh RUN_DIR makes one") + ")")
    else:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, check=False)
        if not done.stdout.startswith("bazel 7."):
            problem = (f"STARTUP_HARNESS_BAZEL7={command[0]} is not Bazel 7: "
                       f"{(done.stdout + done.stderr).strip()[-300:]!r}")
    if problem:
        if os.environ.get("CI") or command:
            pytest.fail(problem + ": required in CI, .ci/run sets it up")
        pytest.skip("opt-in: " + problem)
    return command


@pytest.fixture(scope="module")
def seed(bazel7: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The ruleset (rules_py's launcher), its registry at 1.0 and 2.0, a checkout of v3 (the
    PR) and the bzlmod workspace."""
    base = tmp_path_factory.mktemp("bzlmod")
    repo = make_ruleset_repo(base / "rules_tiny", launcher=RULES_PY_LAUNCHER)
    registry = make_registry(base / "registry", repo, {"1.0": "v1", "2.0": "v2"})
    checkout = export_release(repo, "v3", base / "pr-checkout")
    flags = shlex.split(os.environ.get("STARTUP_HARNESS_BAZEL7_FLAGS", ""))
    # a server shows as "bazel(<workspace folder>)" in ps: a name of this session's own
    workspace = make_bzlmod_workspace(base / f"bench{os.getpid()}", registry, flags,
                                      probe_source())
    return {"repo": repo, "registry": registry, "checkout": checkout, "workspace": workspace}


def test_bzlmod_release_main_pr_the_seeds_way(
        bazel7: list[str], seed: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The seed's three variants: the release 1.0 from the registry (bazel_dep pinned in a
    copy of the workspace, which asks for 2.0), main (git v2) and the PR (a checkout of v3,
    +60 ms in a .pth) through local_path_override; fetch and build timed, the gate says
    regression, the probe (the seed's //:bench_syspath) describes each variant's venv, and
    no server, output base or workspace file is left."""
    repo, registry, workspace = seed["repo"], seed["registry"], seed["workspace"]
    module_before = (workspace / "MODULE.bazel").read_text()
    block = json.dumps({"builder": "bazel", "workspace": str(workspace), "target": "//:bench",
                        "inspect_target": "//:bench_syspath", "module": "rules_tiny",
                        "mode": "bzlmod", "command": bazel7, "max_idle_secs": 30})
    config = write(tmp_path / "c.yaml", {}, [
        variant("release", f'{{bcr: {{module: rules_tiny, version: "1.0", '
                f'registry: "{registry.as_uri()}"}}}}', role="baseline", build=block),
        variant("main", f'{{git: {{repo: "{repo}", ref: v2}}}}', role="main", build=block),
        variant("pr", f'{{path: "{seed["checkout"]}"}}', role="pr", build=block),
    ])
    work, out = tmp_path / "work", tmp_path / "out"
    code = main(["run", "--config", str(config), "--out", str(out), "--work-dir", str(work),
                 "--quiet"])
    assert code == 1, capsys.readouterr().err
    data = json.loads((out / "report.json").read_text())
    builds = {b["variant"]: b for b in data["builds"]}
    assert set(builds) == {"release", "main", "pr"}
    for b in builds.values():
        assert b["ok"] and b["details"]["mode"] == "bzlmod"
        assert b["details"]["tool_version"].startswith("bazel 7.")
        assert b["phases"]["fetch"] > 0 and b["phases"]["build"] > 0
        assert b["details"]["execution_root"].startswith(str(work))
        assert b["details"]["execution_root"].endswith("/_main")
    # the release came from the registry at the pinned version, not the 2.0 it also holds
    assert builds["release"]["details"]["resolved"] == "rules_tiny@1.0"
    for name in ("main", "pr"):
        assert builds[name]["details"]["resolved"].startswith("rules_tiny@_")
    assert data["gate"]["status"] == "regression"
    # the venv the rules_py-style launcher execs, as the inspection target saw it: 1.0 has
    # one tinylib, 2.0 and 3.0 a second dist-info through a .pth; isolated mode (-I)
    dups = {name: [d["name"] for d in p["distributions"]["duplicates"]]
            for name, p in data["probes"].items()}
    assert dups == {"release": [], "main": ["tinylib"], "pr": ["tinylib"]}
    for name, probe in data["probes"].items():
        assert "bench_syspath.venv" in probe["python"], name
        assert "-I" in probe["interpreter"]["options"], probe["interpreter"]
    comment = (out / "comment.md").read_text()
    header = next(line for line in comment.splitlines() if line.startswith("| Version"))
    assert "Fetch (s)" in header and "Build (s)" in header
    assert "slow.pth" in comment
    # nothing left: no server (its command line names its output base under work), no
    # output base, no lockfile or bazel-* link in the workspace, MODULE.bazel as it was
    assert not work.exists()
    assert bazel_processes(str(work)) == []
    assert bazel_processes(f"bazel({workspace.name})") == []
    assert sorted(os.listdir(workspace)) == [".bazelrc", "BUILD.bazel", "MODULE.bazel",
                                             "main.py", "syspath.py"]
    assert (workspace / "MODULE.bazel").read_text() == module_before
