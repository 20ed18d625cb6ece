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


# -- issue 13, case 7 and 12: cold, read-only builds from paths; confined subdirs ------------

def _materialized(tmp_path: Path, source: str, **kw: str) -> list[str]:
    from harness.config import parse_config

    cfg = parse_config({"variants": [{"name": "a", "source": {"path": source}},
                                     {"name": "b", "source": {"path": source}}],
                        "workloads": [{"name": "w", "command": ["{python}", "-c", "pass"]}]},
                       tmp_path / "c.yaml")
    base = tmp_path / "base"
    with sources.materialize(cfg.variants[0], None, base, proc.scrubbed_env()) as resolved:
        root = Path(resolved.directory or "")
        assert root.is_relative_to(base)
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_path_source_in_a_repo_copies_what_git_lists(tmp_path: Path) -> None:
    repo = tmp_path / "proj"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "gone.py").write_text("")
    (repo / ".gitignore").write_text("build/\n*.egg-info/\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "x")
    (repo / "pkg" / "gone.py").unlink()  # deleted in the working tree: must not be built
    (repo / "pkg" / "new.py").write_text("")  # untracked, not ignored: the user's work
    (repo / "build" / "lib" / "pkg").mkdir(parents=True)
    (repo / "build" / "lib" / "pkg" / "gone.py").write_text("stale")
    (repo / "pkg.egg-info").mkdir()
    (repo / "pkg.egg-info" / "PKG-INFO").write_text("")
    assert _materialized(tmp_path, str(repo)) == [".gitignore", "pkg/__init__.py",
                                                  "pkg/new.py"]


def test_path_source_outside_git_skips_build_output_and_gitignored(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "pkg").mkdir(parents=True)
    (proj / "pkg" / "__init__.py").write_text("")
    (proj / "build" / "lib").mkdir(parents=True)
    (proj / "build" / "lib" / "x.py").write_text("")
    (proj / "secret.txt").write_text("")
    (proj / ".gitignore").write_text("secret.txt\n")
    assert _materialized(tmp_path, str(proj)) == [".gitignore", "pkg/__init__.py"]


@pytest.mark.parametrize("subdir", ["/etc", "../outside", "a/../../x"])
def test_git_subdir_is_confined_to_the_worktree(tmp_path: Path, subdir: str) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    with pytest.raises(SourceError, match="leaves the worktree"):
        sources.confined(tree, subdir, "v")
    assert sources.confined(tree, "pkg", "v") == (tree / "pkg").resolve()


def test_a_directory_that_is_not_a_repository_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is not a git repository"):
        sources.resolve_ref(str(tmp_path), "main", proc.scrubbed_env())
