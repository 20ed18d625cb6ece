"""Resolve each variant's source: git worktrees (always removed), requirements, paths,
existing interpreters; a kind a builder owns (``bcr``) is checked and named by that builder's
:class:`~harness.measure.builders.SourceKind`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.config_records import Source, VariantConfig
from harness.errors import ProcessError, SourceError
from harness.measure.builders import SourceKind, owned_source_kinds


@dataclass(frozen=True)
class ResolvedSource:
    """A source ready to build: a directory (worktree or path), or nothing for requirements."""

    variant: str
    description: str
    directory: str | None = None
    revision: str | None = None


def owned_kind(source: Source) -> SourceKind | None:
    """The builder-owned kind of ``source`` (None for the common kinds)."""
    found = owned_source_kinds().get(source.kind)
    return found[1] if found else None


def describe(source: Source) -> str:
    """How the report names a source."""
    if source.kind == "requirement":
        return " ".join(source.requirements)
    if source.kind == "git":
        return f"git {source.ref} in {source.repo}"
    owned = owned_kind(source)
    if owned is not None:
        return owned.describe(source.spec)
    return f"{source.kind} {source.path}"


def _git(repo: str, *args: str, env: Mapping[str, str], what: str,
         hint: str = "") -> proc.Completed:
    return proc.run(["git", "-C", repo, *args], env=env, what=what, hint=hint, timeout=600)


def resolve_ref(repo: str, ref: str, env: Mapping[str, str]) -> str:
    """The commit SHA ``ref`` names in ``repo``; a clear error for a missing repo or ref."""
    if ref.startswith("-"):
        raise SourceError(f"git ref {ref!r} starts with '-'", "give a branch, tag or commit")
    if not Path(repo).is_dir():
        raise SourceError(f"git repository {repo!r} does not exist",
                          "set source.git.repo to a local clone")
    try:
        _git(repo, "rev-parse", "--git-dir", env=env, what=f"git repository {repo!r}")
    except ProcessError as exc:
        raise SourceError(f"{repo} is not a git repository",
                          "set source.git.repo to a local clone, or use source.path") from exc
    try:
        done = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                    f"{ref}^{{commit}}", env=env, what=f"git ref {ref!r}")
    except ProcessError as exc:
        raise SourceError(f"unknown git ref {ref!r} in {repo}",
                          "fetch it first (git fetch origin REF) or check the spelling") from exc
    return done.stdout.strip()


@contextlib.contextmanager
def worktree(repo: str, sha: str, dest: Path, env: Mapping[str, str]) -> Iterator[Path]:
    """A detached ``git worktree`` of ``sha`` at ``dest``, removed on exit whatever happens."""
    _git(repo, "worktree", "add", "--detach", "--quiet", str(dest), sha, env=env,
         what="git worktree add")
    try:
        yield dest
    finally:
        remove_worktree(repo, dest, env)


def remove_worktree(repo: str, dest: Path, env: Mapping[str, str]) -> None:
    """Remove a worktree and prune its record; never raises."""
    with contextlib.suppress(ProcessError):
        _git(repo, "worktree", "remove", "--force", str(dest), env=env,
             what="git worktree remove")
    with contextlib.suppress(ProcessError):
        _git(repo, "worktree", "prune", env=env, what="git worktree prune")


def prune_worktrees(repo: str, env: Mapping[str, str]) -> None:
    """Drop ``repo``'s records of worktrees whose directories are gone (a killed run's)."""
    _git(repo, "worktree", "prune", env=env, what="git worktree prune")


def check(variant: VariantConfig, env: Mapping[str, str]) -> str | None:
    """Validate a source before anything is built; returns the SHA for git sources."""
    source = variant.source
    if source.kind == "git":
        assert source.repo is not None and source.ref is not None
        return resolve_ref(source.repo, source.ref, env)
    if source.kind == "path":
        assert source.path is not None
        if not Path(source.path).is_dir():
            raise SourceError(f"variant {variant.name!r}: source.path {source.path!r} is not a "
                              "directory", "point it at a project directory")
    owned = owned_kind(source)
    if owned is not None:
        try:
            owned.check(source.spec)
        except SourceError as exc:
            raise SourceError(f"variant {variant.name!r}: {exc.message}", exc.hint) from exc
    if source.kind == "python":
        assert source.path is not None
        if not (os.path.isfile(source.path) and os.access(source.path, os.X_OK)):
            raise SourceError(f"variant {variant.name!r}: source.python {source.path!r} is not "
                              "an executable file",
                              "give a command on PATH or the interpreter's path")
    return None


@contextlib.contextmanager
def materialize(variant: VariantConfig, sha: str | None, base: Path,
                env: Mapping[str, str]) -> Iterator[ResolvedSource]:
    """Make the source available under ``base`` for the build; cleans up on exit."""
    source = variant.source
    if source.kind == "git":
        assert source.repo is not None and sha is not None
        with worktree(source.repo, sha, base / "src", env) as tree:
            directory = confined(tree, source.subdir, variant.name)
            yield ResolvedSource(variant.name, f"git {source.ref} ({sha[:12]})", str(directory),
                                 sha)
        return
    if source.kind == "path":
        assert source.path is not None
        copy = base / "src"
        copy_tree(source.path, copy, env)
        yield ResolvedSource(variant.name, describe(source), str(copy))
        return
    yield ResolvedSource(variant.name, describe(source), source.path)


def confined(tree: Path, subdir: str, variant: str) -> Path:
    """``tree/subdir``, refused unless it stays inside ``tree`` (no absolute path, no ``..``
    out, no symlink out): a git variant builds only what is in its worktree."""
    if not subdir:
        return tree
    target = (tree / subdir).resolve()
    if Path(subdir).is_absolute() or not target.is_relative_to(tree.resolve()):
        raise SourceError(f"variant {variant!r}: source.git.subdir {subdir!r} leaves the "
                          "worktree", "give a directory inside the repository, relative to "
                          "its root")
    return target


#: Never copied from a ``path:`` source that is not a git repository (build output, caches,
#: environments): the build must start from sources only, and cold.
NOT_COPIED = (".git", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".venv", "venv",
              ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules")


def copy_tree(src: str, dest: Path, env: Mapping[str, str]) -> None:
    """Copy a ``path:`` source into the scratch dir, so the build never writes into the user's
    tree (``build/``, ``*.egg-info``) nor packages stale build output. In a git repository: the
    files ``git ls-files`` lists (tracked, and untracked but not ignored) that exist; elsewhere
    everything but :data:`NOT_COPIED` and the patterns of a top-level ``.gitignore``."""
    import shutil

    root = Path(src)
    try:
        listed = _git(src, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                      env=env, what="git ls-files").stdout
    except ProcessError:
        listed = None
    if listed is not None:
        dest.mkdir(parents=True)
        for name in dict.fromkeys(n for n in listed.split("\0") if n):
            path = root / name
            if not (path.is_file() or path.is_symlink()):
                continue  # deleted in the working tree, or a submodule
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target, follow_symlinks=False)
        return
    patterns = list(NOT_COPIED)
    ignore_file = root / ".gitignore"
    if ignore_file.is_file():
        for line in ignore_file.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip().strip("/")
            if line and not line.startswith(("#", "!")):
                patterns.append(line)
    shutil.copytree(root, dest, symlinks=True, ignore=shutil.ignore_patterns(*patterns))
