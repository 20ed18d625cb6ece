"""A cold CI job end to end: install the tool, then answer "did this PR slow start-up?".

    python bench/cold_ci_job.py [--tools harness,asv,pyperf] [--workdir DIR] [--keep]

Each tool starts from nothing, as on a fresh hosted runner: an empty package cache (its own
``UV_CACHE_DIR``, pip with ``--no-cache-dir``), a fresh venv made by the real interpreter, and
a small git repository made here whose PR commit adds ``import asyncio`` to a package's
``__init__`` (main imports only ``json``). Printed per tool: the install time, the pair
job's time (main vs PR: build both, time start-up, compare) and the total, and the ratio of
each total to asv's, with the load average before and after (the machine may be shared).

* **startup-harness**, installed as the action installs it (``action.yml``): pip installs the
  hash-pinned uv, uv installs the hash-pinned lock, the harness runs from this checkout; the
  job is ``startup-harness run`` on a two-variant config (git refs, uv builder, defaults).
* **asv** (``pip install asv virtualenv``): ``asv machine --yes`` then ``asv continuous
  main pr`` with a ``timeraw_`` benchmark (``import demo_pkg`` in a fresh interpreter); asv
  builds each commit's environment itself (virtualenv + pip).
* **pyperf** (``pip install pyperf``): per ref a git worktree, a venv with the package pip-
  installed, ``python -m pyperf command`` on ``python -c "import demo_pkg"``, then
  ``pyperf compare_to``.

Nothing is cached between tools or kept afterwards (``--keep`` keeps the work dir).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import proc
from harness.measure.builders.uv import default_python

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / ".github" / "actions" / "startup-benchmark"
PYTHON = default_python()  # the real interpreter, not a pyenv shim

MAIN_INIT = '"""A package whose start-up the PR changes."""\nimport json  # noqa: F401\n'
PR_INIT = MAIN_INIT + "import asyncio  # noqa: F401  (the PR's new import)\n"
PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "demo-pkg"
version = "0.1"
"""
ASV_CONF = {
    "version": 1, "project": "demo-pkg", "repo": ".", "branches": ["main"],
    "environment_type": "virtualenv", "benchmark_dir": "benchmarks",
    "env_dir": ".asv/env", "results_dir": ".asv/results", "html_dir": ".asv/html",
}
ASV_BENCH = '''def timeraw_import_demo_pkg():
    return "import demo_pkg"
'''
HARNESS_CONFIG = """\
title: cold CI job
variants:
  - {name: main, role: main, source: {git: {repo: "REPO", ref: main}}, build: {builder: uv}}
  - {name: pr, role: pr, source: {git: {repo: "REPO", ref: pr}}, build: {builder: uv}}
workloads:
  - {name: import, command: ["{python}", "-c", "import demo_pkg"]}
"""


def git(repo: Path, *args: str) -> None:
    proc.run(["git", "-C", str(repo), *args], env=clean_env(), what=f"git {args[0]}")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this machine's PIP_*/UV_*/PYTHON* settings (a fresh runner)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "UV_", "PYTHON", "VIRTUAL_ENV", "CONDA"))}
    env.update(GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.invalid",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.invalid", **extra)
    return env


def make_repo(root: Path) -> Path:
    """A git repository with a ``main`` and a ``pr`` branch (pr: one commit on main)."""
    repo = root / "project"
    (repo / "src" / "demo_pkg").mkdir(parents=True)
    (repo / "benchmarks").mkdir()
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / "src" / "demo_pkg" / "__init__.py").write_text(MAIN_INIT)
    (repo / "asv.conf.json").write_text(json.dumps(
        {**ASV_CONF, "pythons": [f"{sys.version_info.major}.{sys.version_info.minor}"]},
        indent=1))
    (repo / "benchmarks" / "__init__.py").write_text("")
    (repo / "benchmarks" / "bench_import.py").write_text(ASV_BENCH)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main")
    git(repo, "checkout", "-qb", "pr")
    (repo / "src" / "demo_pkg" / "__init__.py").write_text(PR_INIT)
    git(repo, "commit", "-qam", "pr: import asyncio")
    git(repo, "checkout", "-q", "main")
    return repo


def timed(what: str, argv: list[str], env: dict[str, str], cwd: Path | None = None,
          check: bool = True) -> float:
    start = time.perf_counter()
    done = proc.run(argv, env=env, cwd=cwd, check=check, what=what, timeout=1800)
    seconds = time.perf_counter() - start
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    print(f"    {what}: {seconds:.1f} s (exit {done.returncode})" +
          "".join(f"\n      | {line[:100]}" for line in tail), flush=True)
    return seconds


def base_venv(where: Path, env: dict[str, str]) -> Path:
    """setup-python's stand-in: a venv of the real interpreter with its bundled pip."""
    proc.run([PYTHON, "-m", "venv", str(where)], env=env, what="venv")
    return where / "bin" / "python"


def harness_job(work: Path, repo: Path) -> tuple[float, float]:
    env = clean_env(UV_CACHE_DIR=str(work / "uv-cache"), PIP_NO_CACHE_DIR="1")
    start = time.perf_counter()
    python = base_venv(work / "setup-python", env)
    step_env = {**env, "PATH": f"{python.parent}:{env['PATH']}",
                "GITHUB_ACTION_PATH": str(ACTION), "RUNNER_TEMP": str(work),
                "HARNESS": "", "PLOTS": "false"}
    script = work / "install.sh"
    script.write_text(install_step())
    proc.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=step_env,
             what="the action's install step", timeout=1800)
    install = time.perf_counter() - start
    print(f"    install (the action's step): {install:.1f} s", flush=True)
    config = work / "startup.yaml"
    config.write_text(HARNESS_CONFIG.replace("REPO", str(repo)))
    venv_bin = work / "startup-harness-venv" / "bin"  # what the action's run step calls
    job = timed("startup-harness run", [str(venv_bin / "startup-harness"), "run", "--config",
                                        str(config), "--out", str(work / "out")],
                {**env, "PATH": f"{venv_bin}:{env['PATH']}"}, check=False)
    return install, job


def install_step() -> str:
    import yaml

    steps = yaml.safe_load((ACTION / "action.yml").read_text())["runs"]["steps"]
    return next(s["run"] for s in steps if s.get("name", "").startswith("Install"))


def asv_job(work: Path, repo: Path) -> tuple[float, float]:
    env = clean_env(PIP_NO_CACHE_DIR="1")
    start = time.perf_counter()
    python = base_venv(work / "venv", env)
    proc.run([str(python), "-m", "pip", "install", "-q", "asv", "virtualenv"], env=env,
             what="pip install asv", timeout=1800)
    install = time.perf_counter() - start
    print(f"    install (pip install asv virtualenv): {install:.1f} s", flush=True)
    bindir = work / "python-bin"  # asv looks for pythonX.Y on PATH: the real one, not a shim
    bindir.mkdir()
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (bindir / f"python{version}").symlink_to(PYTHON)
    job_env = {**env, "PATH": f"{python.parent}:{bindir}:{env['PATH']}"}
    asv = str(python.parent / "asv")
    job = timed("asv machine", [asv, "machine", "--yes"], job_env, cwd=repo)
    job += timed("asv continuous main pr", [asv, "continuous", "--factor", "1.05", "main", "pr"],
                 job_env, cwd=repo, check=False)
    return install, job


def pyperf_job(work: Path, repo: Path) -> tuple[float, float]:
    env = clean_env(PIP_NO_CACHE_DIR="1")
    start = time.perf_counter()
    python = base_venv(work / "venv", env)
    proc.run([str(python), "-m", "pip", "install", "-q", "pyperf"], env=env,
             what="pip install pyperf", timeout=1800)
    install = time.perf_counter() - start
    print(f"    install (pip install pyperf): {install:.1f} s", flush=True)
    job_start = time.perf_counter()
    results = []
    for ref in ("main", "pr"):
        tree = work / f"tree-{ref}"
        git(repo, "worktree", "add", "-q", "--detach", str(tree), ref)
        env_python = base_venv(work / f"env-{ref}", env)
        proc.run([str(env_python), "-m", "pip", "install", "-q", str(tree)], env=env,
                 what=f"pip install {ref}", timeout=1800)
        out = work / f"{ref}.json"
        proc.run([str(python), "-m", "pyperf", "command", "-q", "-o", str(out), "--",
                  str(env_python), "-c", "import demo_pkg"], env=env, what=f"pyperf {ref}",
                 timeout=1800)
        results.append(str(out))
        git(repo, "worktree", "remove", "--force", str(tree))
    done = proc.run([str(python), "-m", "pyperf", "compare_to", *results], env=env,
                    what="pyperf compare_to", check=False)
    job = time.perf_counter() - job_start
    print(f"    pyperf pair job: {job:.1f} s | {done.stdout.strip().splitlines()[-1][:100]}",
          flush=True)
    return install, job


JOBS: dict[str, Callable[[Path, Path], tuple[float, float]]] = {
    "harness": harness_job, "asv": asv_job, "pyperf": pyperf_job}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", default="harness,asv,pyperf")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="cold-ci-"))
    root.mkdir(parents=True, exist_ok=True)
    totals: dict[str, tuple[float, float]] = {}
    try:
        for tool in args.tools.split(","):
            work = root / tool
            work.mkdir()
            repo = make_repo(work)
            load = os.getloadavg()[0]
            print(f"{tool} (load average {load:.2f} before)", flush=True)
            totals[tool] = JOBS[tool](work, repo)
        print(f"\n{'tool':<10}{'install':>10}{'pair job':>10}{'total':>10}{'vs asv':>9}"
              f"   (load average {os.getloadavg()[0]:.2f} after, {os.cpu_count()} CPUs)")
        asv_total = sum(totals["asv"]) if "asv" in totals else None
        for tool, (install, job) in totals.items():
            share = f"{(install + job) / asv_total:8.2f}" if asv_total else "       -"
            print(f"{tool:<10}{install:9.1f}s{job:9.1f}s{install + job:9.1f}s{share}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
