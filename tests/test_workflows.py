"""The GitHub workflows and composite actions: the security properties the comment bot relies
on, asserted on the YAML (the linters in .ci/lint-workflows.sh check the rest)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
BENCH_WF = GITHUB / "workflows" / "startup-benchmark.yml"
COMMENT_WF = GITHUB / "workflows" / "startup-benchmark-comment.yml"
BENCH_ACTION = GITHUB / "actions" / "startup-benchmark" / "action.yml"
COMMENT_ACTION = GITHUB / "actions" / "startup-benchmark-comment" / "action.yml"
MATRIX_WF = GITHUB / "workflows" / "startup-matrix.yml"
ALL_FILES = (BENCH_WF, COMMENT_WF, BENCH_ACTION, COMMENT_ACTION, MATRIX_WF)
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def steps(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "runs" in data:
        yield from data["runs"]["steps"]
    for job in data.get("jobs", {}).values():
        yield from job.get("steps", [])


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_actions_are_pinned_and_run_blocks_expand_nothing(path: Path) -> None:
    for step in steps(load(path)):
        uses = step.get("uses")
        if uses is not None:
            assert uses.startswith("$/") or PINNED.match(uses), f"{path.name}: {uses}"
        if uses and uses.startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False
        # Untrusted data reaches scripts only through env:, never through ${{ }} expansion.
        assert "${{" not in step.get("run", ""), f"{path.name}: {step.get('name')}"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_no_unchecksummed_downloads(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for word in ("curl ", "wget ", ".deb", "dpkg", "apt-get"):
        assert word not in text, f"{path.name} uses {word!r}"
    assert not re.search(r"\$\{\{\s*secrets\.", text), f"{path.name} uses a secret"


def test_comment_workflow_permissions_are_minimal() -> None:
    data = load(COMMENT_WF)
    assert data["permissions"] == {}
    for name, job in data["jobs"].items():
        perms = job["permissions"]
        assert perms == {"actions": "read", "pull-requests": "write"}, name
        writes = [k for k, v in perms.items() if v == "write"]
        assert writes == ["pull-requests"], name


def test_comment_workflow_is_triggered_by_the_benchmark_only() -> None:
    data = load(COMMENT_WF)
    assert set(data["on"]) == {"workflow_run"}
    run = data["on"]["workflow_run"]
    assert run["types"] == ["completed"]
    assert run["workflows"] == [load(BENCH_WF)["name"]]
    assert data["concurrency"]["cancel-in-progress"] is False


def test_comment_side_never_checks_out_or_runs_the_pr() -> None:
    """Neither the comment workflow nor its action checks out anything (so never the PR
    head), nor names the PR's head in any input, nor installs code from the workspace."""
    for path in (COMMENT_WF, COMMENT_ACTION):
        data = load(path)
        for step in steps(data):
            uses = step.get("uses", "")
            assert not uses.startswith("actions/checkout"), f"{path.name} checks out"
            for value in strings(step.get("with", {})):
                for word in ("head_sha", "head_branch", "head_repository", "pull_request",
                             "github.head_ref", "refs/pull"):
                    assert word not in value, f"{path.name}: {step.get('name')}: {value}"
            run = step.get("run", "")
            assert "GITHUB_WORKSPACE" not in run and "pip install ." not in run
            if "pip install" in run:
                assert "--no-deps" in run and "$GITHUB_ACTION_PATH/../../.." in run
    uses = [s.get("uses", "") for s in steps(load(COMMENT_WF))]
    assert uses == ["$/.github/actions/startup-benchmark-comment"]


def test_comment_action_takes_the_pr_from_the_event_not_the_artifact() -> None:
    data = load(COMMENT_ACTION)
    download = next(s for s in steps(data) if s.get("uses", "").startswith(
        "actions/download-artifact@"))
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["path"].startswith("${{ runner.temp }}")  # not the workspace
    command = next(s["run"] for s in steps(data) if "harness comment" in s.get("run", ""))
    assert '--event "$GITHUB_EVENT_PATH"' in command
    assert "--pr" not in command and "--repo" not in command
    assert "--if-missing note" in command


def test_benchmark_workflow_is_read_only_and_cancels_older_runs() -> None:
    """Read-only everywhere except the history job; older PR runs are cancelled, pushes to
    main queue (each commit reaches the history)."""
    data = load(BENCH_WF)
    assert set(data["on"]) == {"pull_request", "push"}
    assert data["on"]["push"]["branches"] == ["main"]
    assert data["permissions"] == {"contents": "read"}
    for name, job in data["jobs"].items():
        if name != "history":
            assert "permissions" not in job or set(job["permissions"].values()) <= {"read"}
    assert "github.event.pull_request.number" in data["concurrency"]["group"]
    assert data["concurrency"]["cancel-in-progress"] == (
        "${{ github.event_name == 'pull_request' }}")
    checkout = next(s for s in steps(data) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    bench = next(s for s in steps(data) if s.get("uses", "").startswith("$/"))
    assert bench["with"]["config"] == "bench/dogfood.yaml"


def test_history_job_writes_only_on_push_to_main_and_runs_no_pr_code() -> None:
    data = load(BENCH_WF)
    job = data["jobs"]["history"]
    assert job["permissions"] == {"contents": "write"}
    assert "github.event_name == 'push'" in job["if"]
    assert "github.ref == 'refs/heads/main'" in job["if"]
    assert job["needs"] == "benchmark"
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert "ref" not in checkout.get("with", {})  # the pushed commit of main, nothing else
    script = next(s["run"] for s in job["steps"] if "history add" in s.get("run", ""))
    assert "startup-history" in script and "history html" in script
    assert "--force" not in script and " -f " not in script  # never rewrites the data branch
    read = next(s for s in data["jobs"]["benchmark"]["steps"]
                if "git archive" in s.get("run", ""))
    assert "refs/remotes/origin/startup-history" in read["run"]
    bench = next(s for s in data["jobs"]["benchmark"]["steps"]
                 if s.get("uses", "").startswith("$/"))
    assert bench["with"]["history"] == "${{ runner.temp }}/history"


def test_benchmark_action_uploads_even_when_the_run_fails() -> None:
    data = load(BENCH_ACTION)
    by_name = {s["name"]: s for s in steps(data)}
    run = next(s for s in by_name.values() if s.get("id") == "run")
    assert "exit-code=$code" in run["run"]
    upload = next(s for s in by_name.values()
                  if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "${{ !cancelled() }}"
    summary = next(s for s in by_name.values() if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    assert summary["if"] == "${{ !cancelled() }}"
    last = list(steps(data))[-1]
    assert last["env"]["CODE"] == "${{ steps.run.outputs.exit-code }}" and "exit 1" in last["run"]
    # Both actions agree on the artifact's name.
    assert (data["inputs"]["artifact-name"]["default"]
            == load(COMMENT_ACTION)["inputs"]["artifact-name"]["default"])


def test_dogfood_config_validates() -> None:
    from harness.config import load_config

    config = load_config(ROOT / "bench" / "dogfood.yaml")
    assert {v.role for v in config.variants} == {"baseline", "main", "pr"}
    assert config.gate.compare == "pr" and config.gate.against == "main"
    refs = {v.source.ref for v in config.variants if v.source.kind == "git"}
    assert refs == {"refs/startup-harness/baseline", "origin/main"}
    assert "refs/startup-harness/baseline" in BENCH_WF.read_text(encoding="utf-8")


def test_readme_snippets_parse_and_pin() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        data = yaml.safe_load(block)
        for value in strings(data):
            if "actions/checkout@" in value or "startup-harness/.github/actions/" in value:
                assert re.search(r"@[0-9a-f]{40}$|@<[A-Za-z-]+>$", value), value


# The linters may sit next to the interpreter (a venv run without activation).
LINT_PATH = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


@pytest.mark.skipif(not (shutil.which("actionlint", path=LINT_PATH)
                         and shutil.which("zizmor", path=LINT_PATH)),
                    reason="actionlint and zizmor are not installed (pip install -e '.[lint]')")
def test_linters_report_nothing() -> None:
    done = subprocess.run(["bash", str(ROOT / ".ci" / "lint-workflows.sh")],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PATH": LINT_PATH})
    assert done.returncode == 0, done.stdout + done.stderr


def _run_step(tmp_path: Path, env: dict[str, str], exit_code: int) -> tuple[str, str]:
    """Run the action's run step as GitHub does (``bash --noprofile --norc -eo pipefail``)
    with a stand-in ``startup-harness`` that records its argv and exits ``exit_code``."""
    run = next(s for s in steps(load(BENCH_ACTION)) if s.get("id") == "run")
    bindir = tmp_path / "startup-harness-venv" / "bin"  # where the install step puts it
    bindir.mkdir(parents=True, exist_ok=True)
    fake = bindir / "startup-harness"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/argv\nexit {exit_code}\n")
    fake.chmod(0o755)
    output = tmp_path / "output"
    output.write_text("")
    script = tmp_path / "step.sh"
    script.write_text(run["run"])
    full = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output),
            "CONFIG": "", "OUT": "o", "CELL": "", "JOB_ID": "", "MERGE_FROM": "",
            "HISTORY": "", "PLOTS": "false", **env}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          env=full, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return output.read_text(), (tmp_path / "argv").read_text()


@pytest.mark.parametrize("code", [0, 1, 2])
def test_action_run_step_records_every_exit_code_under_pipefail(tmp_path: Path,
                                                                code: int) -> None:
    out, argv = _run_step(tmp_path, {"CONFIG": "c.yaml", "CELL": "python=3.12,os=x",
                                     "JOB_ID": "x-3.12"}, code)
    assert f"exit-code={code}" in out
    assert argv.split() == ["run", "--config", "c.yaml", "--out", "o", "--cell",
                            "python=3.12,os=x", "--job-id", "x-3.12"]
    out, argv = _run_step(tmp_path, {"MERGE_FROM": "parts"}, code)
    assert f"exit-code={code}" in out and argv.split() == ["merge", "parts", "--out", "o"]


def test_matrix_workflow_fans_out_and_merges_read_only() -> None:
    data = load(MATRIX_WF)
    assert data["permissions"] == {"contents": "read"}
    assert "workflow_call" in data["on"]
    cell, merge = data["jobs"]["cell"], data["jobs"]["merge"]
    assert cell["strategy"]["fail-fast"] is False
    measure = next(s for s in cell["steps"] if "startup-benchmark" in s.get("uses", ""))
    assert measure["with"]["cell"] == "python=${{ matrix.python }},os=${{ matrix.os }}"
    assert measure["with"]["artifact-name"].startswith("startup-part-")
    assert merge["needs"] == "cell" and merge["if"] == "${{ !cancelled() }}"
    assert not any("checkout" in s.get("uses", "") for s in merge["steps"])
    download = next(s for s in merge["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"]["pattern"] == "startup-part-*"
    merged = next(s for s in merge["steps"] if "startup-benchmark" in s.get("uses", ""))
    # the comment workflow posts the merged artifact unchanged
    assert merged["with"]["artifact-name"] == load(COMMENT_ACTION)["inputs"]["artifact-name"][
        "default"]


def test_comment_job_installs_and_downloads_nothing(tmp_path: Path) -> None:
    """Issue 13: `pip install --no-deps` of the checkout still fetched setuptools through
    build isolation. The comment step runs from the pinned checkout with `python -S` (no
    site-packages at all), which proves the command needs nothing installed."""
    import os

    data = load(COMMENT_ACTION)
    for step in steps(data):
        assert "pip install" not in step.get("run", "") and "uv " not in step.get("run", "")
    body = tmp_path / "comment.md"
    body.write_text("<!-- startup-harness:comment -->\nhello @you\n")
    root = Path(__file__).resolve().parent.parent
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-S", "-m", "harness", "comment", "--repo", "o/r",
                           "--pr", "3", "--body-file", str(body), "--dry-run"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "hello @\u200byou" in done.stdout


#: Commands that would resolve, build or fetch something not pinned by hash.
RESOLVING = re.compile(r"\b(uv (pip|sync|tool|run|add)|uvx|pipx|npm (install|ci)|yarn|poetry|"
                       r"pdm|conda|apt-get install|apt install|curl|wget|easy_install|"
                       r"setup\.py)\b")
PIP_INSTALL = re.compile(r"pip3?\s+install\b([^\n]*)")
LOCK_LINE = re.compile(r"^[A-Za-z0-9_.-]+==[A-Za-z0-9_.+!-]+( ; [^\\]+)? \\$")


def _write_jobs() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every job of every workflow whose token can write anything (its own permissions, or
    the workflow's when it sets none)."""
    for path in sorted((GITHUB / "workflows").glob("*.yml")):
        data = load(path)
        default = data.get("permissions", {})
        for name, job in data.get("jobs", {}).items():
            perms = job.get("permissions", default)
            if perms == "write-all" or (isinstance(perms, dict) and "write" in perms.values()):
                yield f"{path.name}:{name}", job


def _run_blocks(job: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, script) of each run step of ``job``, following local composite actions."""
    for step in job.get("steps", []):
        uses = step.get("uses", "")
        if uses.startswith(("./", "$/")):
            action = load(ROOT / uses.split("/", 1)[1] / "action.yml")
            yield from _run_blocks({"steps": action["runs"]["steps"]})
        elif uses:
            assert PINNED.match(uses), uses
        if "run" in step:
            yield step.get("name", "?"), step["run"]


def _check_lock(path: Path) -> None:
    """Every requirement pinned to one version and followed by its sha256 hashes."""
    lines = [line for line in path.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines, path
    for i, line in enumerate(lines):
        if line.startswith(" "):
            assert line.strip().startswith("--hash=sha256:"), (path, line)
        else:
            assert LOCK_LINE.match(line), (path, line)
            assert lines[i + 1].strip().startswith("--hash=sha256:"), (path, line)


def _installs_nothing_resolvable(where: str, job: dict[str, Any]) -> None:
    for name, script in _run_blocks(job):
        assert not RESOLVING.search(script), (where, name)
        for match in PIP_INSTALL.finditer(script.replace("\\\n", " ")):
            args = match.group(1).split()
            assert {"--require-hashes", "--no-deps", "--only-binary"} <= set(args), (
                where, name, args)
            assert args[args.index("--only-binary") + 1] == ":all:", (where, name)
            requirements = [args[i + 1] for i, a in enumerate(args) if a == "-r"]
            positional = [a for i, a in enumerate(args) if not a.startswith("-")
                          and args[i - 1] not in ("-r", "--only-binary")]
            assert requirements and not positional, (where, name, args)  # no `.`, no names
            for requirement in requirements:
                _check_lock(ROOT / requirement)


def test_every_job_holding_a_write_token_installs_nothing_resolvable() -> None:
    """Issue 20: the history job ran `pip install .` (every dependency and the build backend
    unpinned from PyPI) with `contents: write` in its environment. A job that can write
    installs nothing, or only hash-pinned wheels with --no-deps, and runs the harness from
    the checkout."""
    jobs = dict(_write_jobs())
    assert set(jobs) >= {"startup-benchmark.yml:history", "startup-benchmark-comment.yml:comment"}
    for where, job in jobs.items():
        _installs_nothing_resolvable(where, job)
    history = next(s["run"] for s in jobs["startup-benchmark.yml:history"]["steps"]
                   if "history add" in s.get("run", ""))
    assert "startup-harness " not in history  # no console script: nothing was installed
    assert 'PYTHONPATH="$GITHUB_WORKSPACE" python -m harness' in history
    assert "--export-variant main" in history


@pytest.mark.parametrize("script", [
    "python -m pip install --disable-pip-version-check .\n",
    "pip install --require-hashes --no-deps --only-binary :all: -r .github/"
    "history-requirements.txt .\n",
    "pip install --require-hashes --no-deps \\\n  --only-binary :all: numpy\n",
    "pip install --no-deps --only-binary :all: -r .github/history-requirements.in\n",
    "uv pip install -r x.txt\n",
    "curl -sSL https://example.invalid/x | sh\n"])
def test_the_write_job_check_refuses_what_resolves(script: str) -> None:
    with pytest.raises(AssertionError):
        _installs_nothing_resolvable("test", {"steps": [{"run": script}]})


ACTION_DIR = GITHUB / "actions" / "startup-benchmark"


def test_the_action_installs_only_hash_pinned_wheels_with_uv() -> None:
    """Issue 22: the action installed the harness with pip, resolving every dependency (37 s
    cold). Now pip installs only uv, hash-checked; uv installs the lock with --require-hashes
    --no-deps --only-binary :all:; the harness runs from the action's checkout."""
    install = next(s["run"] for s in steps(load(BENCH_ACTION))
                   if s.get("name", "").startswith("Install startup-harness"))
    text = re.sub(r"[ \t]+", " ", install.replace("\\\n", " "))
    pip = PIP_INSTALL.search(text)
    assert pip and "-r" in pip.group(1) and "uv-requirements.txt" in pip.group(1)
    assert {"--require-hashes", "--no-deps", "--only-binary"} <= set(pip.group(1).split())
    assert "uv pip install --python \"$venv/bin/python\" --quiet --require-hashes --no-deps " \
        "--only-binary :all: -r \"$lock\"" in text
    for lock in ("uv-requirements.txt", "requirements.txt", "plots-requirements.txt"):
        _check_lock(ACTION_DIR / lock)
    pins = {line.split(" ")[0] for line in (ACTION_DIR / "requirements.txt").read_text(
        ).splitlines() if "==" in line and not line.startswith("#")}
    assert next(line for line in (ACTION_DIR / "uv-requirements.txt").read_text().splitlines()
                if line.startswith("uv==")).split(" ")[0] in pins  # one uv version
    plots = (ACTION_DIR / "plots-requirements.txt").read_text()
    assert pins <= {line.split(" ")[0] for line in plots.splitlines() if "==" in line}
    block = (ROOT / "pyproject.toml").read_text().split("\ndependencies = [", 1)[1]
    declared = {re.split(r"[<>=\[ ]", d)[0].lower().replace("_", "-")
                for d in re.findall(r'^\s*"([^"]+)"', block.split("\n]", 1)[0], re.M)}
    locked = {p.split("==")[0].lower() for p in pins}
    assert declared <= locked, declared - locked  # the lock covers pyproject's dependencies


@pytest.mark.slow
def test_the_action_install_step_really_installs_and_runs_the_harness(tmp_path: Path) -> None:
    """The install step run as GitHub runs it, with a throwaway venv as setup-python's
    interpreter: the locked wheels install (network: PyPI) and the harness starts and imports
    its analysis from the checkout."""
    install = next(s["run"] for s in steps(load(BENCH_ACTION))
                   if s.get("name", "").startswith("Install startup-harness"))
    base = tmp_path / "setup-python"
    subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
    script = tmp_path / "install.sh"
    script.write_text(install)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL"))}
    env.update(PATH=f"{base / 'bin'}:{env['PATH']}", GITHUB_ACTION_PATH=str(ACTION_DIR),
               RUNNER_TEMP=str(tmp_path), HARNESS="", PLOTS="false")
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("startup-harness ")
    venv_bin = tmp_path / "startup-harness-venv" / "bin"  # what the run step calls
    probe = subprocess.run([str(venv_bin / "python"), "-c",
                            "import harness, harness.analyse.analysis, pandas, scipy; "
                            "print(harness.__file__)"],
                           env=env, capture_output=True, text=True, check=True)
    assert Path(probe.stdout.strip()).is_relative_to(ROOT)
    assert (venv_bin / "uv").exists() and (venv_bin / "hyperfine").exists()
    # found by this test: run as `python -m uv`, uv installed into setup-python's interpreter
    leaked = subprocess.run([str(base / "bin" / "python"), "-c", "import numpy"], env=env,
                            capture_output=True)
    assert leaked.returncode != 0
