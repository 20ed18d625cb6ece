"""Resolve each variant's source: git worktrees (always removed), requirements, paths,
existing interpreters."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.config import Source, VariantConfig
from harness.errors import ProcessError, SourceError


@dataclass(frozen=True)
class ResolvedSource:
    """A source ready to build: a directory (worktree or path), or nothing for requirements."""

    variant: str
    description: str
    directory: str | None = None
    revision: str | None = None


def describe(source: Source) -> str:
    """How the report names a source."""
    if source.kind == "requirement":
        return " ".join(source.requirements)
    if source.kind == "git":
        return f"git {source.ref} in {source.repo}"
    if source.kind == "bcr":
        return f"bcr {source.module}@{source.version} ({', '.join(source.registries)})"
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
    if source.kind == "bcr":
        for url in source.registries:
            if not url.startswith(("https://", "http://", "file://")):
                raise SourceError(f"variant {variant.name!r}: registry {url!r} is not a URL",
                                  "give https://... or file:///... (a local registry folder)")
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
            directory = tree / source.subdir if source.subdir else tree
            yield ResolvedSource(variant.name, f"git {source.ref} ({sha[:12]})", str(directory),
                                 sha)
        return
    yield ResolvedSource(variant.name, describe(source), source.path)
