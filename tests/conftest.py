"""Shared fixtures: a local git repository holding a tiny package at several refs."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

PYPROJECT = textwrap.dedent("""\
    [build-system]
    requires = ["flit_core>=3.4,<4"]
    build-backend = "flit_core.buildapi"

    [project]
    name = "tinypkg"
    version = "{version}"
    description = "a tiny package for startup-harness tests"
""")

FAST = '"""tinypkg: imports quickly."""\nVALUE = 1\n'
SLOW = textwrap.dedent('''\
    """tinypkg: burns ~60 ms of CPU at import (the regression under test)."""
    import time

    _end = time.perf_counter() + 0.06
    while time.perf_counter() < _end:
        pass
    VALUE = 1
''')


def git(repo: Path, *args: str) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(repo.parent), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def commit_package(repo: Path, version: str, body: str, tag: str) -> None:
    (repo / "tinypkg").mkdir(exist_ok=True)
    (repo / "pyproject.toml").write_text(PYPROJECT.format(version=version))
    (repo / "tinypkg" / "__init__.py").write_text(body)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"tinypkg {version}")
    git(repo, "tag", tag)


@pytest.fixture(scope="session")
def tiny_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repo with tags v1 (fast), v2 (fast, main), v3 (slow import: regression) and
    broken (a pyproject that cannot build)."""
    repo = tmp_path_factory.mktemp("tiny") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_package(repo, "1.0", FAST, "v1")
    commit_package(repo, "2.0", FAST + "# main\n", "v2")
    commit_package(repo, "3.0", SLOW, "v3")
    (repo / "pyproject.toml").write_text("[build-system]\nrequires = [\n")
    git(repo, "commit", "-q", "-am", "broken build")
    git(repo, "tag", "broken")
    git(repo, "checkout", "-q", "v2")
    return repo


def write_config(path: Path, repo: Path, refs: dict[str, str], *, runs: int = 12,
                 warmup: int = 2, extra: str = "") -> Path:
    """A config comparing git refs of ``repo``: {"main": "v2", "pr": "v3", ...}."""
    lines = ["title: tinypkg start-up", "variants:"]
    for name, ref in refs.items():
        role = name if name in ("baseline", "main", "pr") else None
        lines += [f"  - name: {name}", f"    label: \"tinypkg {ref} ({name})\""]
        if role:
            lines.append(f"    role: {role}")
        lines.append(f"    source: {{git: {{repo: \"{repo}\", ref: \"{ref}\"}}}}")
    lines += ["workloads:", "  - name: import",
              "    command: [\"{python}\", \"-c\", \"import tinypkg\"]",
              "timing:", f"  warmup: {warmup}", f"  runs: {runs}", extra]
    path.write_text("\n".join(lines) + "\n")
    return path
