"""git sources: refs resolve to SHAs, worktrees are always removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import proc
from harness.errors import SourceError
from harness.measure import sources
from tests.conftest import git


def worktrees(repo: Path) -> list[str]:
    return [line for line in git(repo, "worktree", "list", "--porcelain").splitlines()
            if line.startswith("worktree ")]


def test_resolve_ref(tiny_repo: Path) -> None:
    sha = sources.resolve_ref(str(tiny_repo), "v3", proc.scrubbed_env())
    assert sha == git(tiny_repo, "rev-parse", "v3^{commit}")


@pytest.mark.parametrize("ref", ["no-such-ref", "v1..v2"])
def test_unknown_ref(tiny_repo: Path, ref: str) -> None:
    with pytest.raises(SourceError, match=f"unknown git ref '{ref}'"):
        sources.resolve_ref(str(tiny_repo), ref, proc.scrubbed_env())


def test_option_like_ref_is_refused(tiny_repo: Path) -> None:
    with pytest.raises(SourceError, match="starts with '-'"):
        sources.resolve_ref(str(tiny_repo), "--output=/tmp/x", proc.scrubbed_env())


def test_worktree_removed_on_error(tiny_repo: Path, tmp_path: Path) -> None:
    env = proc.scrubbed_env()
    sha = sources.resolve_ref(str(tiny_repo), "v1", env)
    before = worktrees(tiny_repo)
    dest = tmp_path / "src"
    with pytest.raises(RuntimeError), sources.worktree(str(tiny_repo), sha, dest, env) as tree:
        assert (tree / "tinypkg" / "__init__.py").exists()
        assert len(worktrees(tiny_repo)) == len(before) + 1
        raise RuntimeError("boom")
    assert not dest.exists()
    assert worktrees(tiny_repo) == before


def test_worktree_removed_on_keyboard_interrupt(tiny_repo: Path, tmp_path: Path) -> None:
    env = proc.scrubbed_env()
    sha = sources.resolve_ref(str(tiny_repo), "v2", env)
    before = worktrees(tiny_repo)
    with pytest.raises(KeyboardInterrupt), sources.worktree(str(tiny_repo), sha,
                                                             tmp_path / "s", env):
        raise KeyboardInterrupt
    assert worktrees(tiny_repo) == before
