"""A tiny Bazel ruleset (``rules_tiny``) and a benchmark workspace, written by the tests.

``tiny_py_binary`` builds a venv-like tree with ``ctx.actions.declare_directory``
(``pyvenv.cfg``, ``bin/python`` -> the real interpreter, ``site-packages`` with a small
distribution) and an executable shell launcher that ``exec``s the venv's python on the main
script through the runfiles tree. No toolchains, no downloads: Bazel 4.2.3 builds it offline.

Versions (git tags of the ruleset repository):
  v1     the "release": one site-packages root, distribution ``tinylib 1.0``
  v2     "main": also a second site root (through a .pth) holding another ``tinylib``
         dist-info (the seed's duplicate ``pydantic_core`` case)
  v3     v2 plus a ``.pth`` that burns ~60 ms at start-up (the regression under test)
  broken the rule fails analysis
  sleepy v2 whose venv action sleeps a minute (to interrupt a build)
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

from tests.conftest import git

DEFS = textwrap.dedent("""\
    \"\"\"rules_tiny {version}: a venv-like tree and a launcher, no toolchains.\"\"\"

    RULES_TINY_VERSION = "{version}"

    _LAUNCHER = \"\"\"#!/bin/sh
    # rules_tiny {version} launcher
    if [ -z "$RUNFILES_DIR" ]; then RUNFILES_DIR="$0.runfiles"; fi
    exec "$RUNFILES_DIR/{{venv}}/bin/python" -B -s "$RUNFILES_DIR/{{main}}" "$@"
    \"\"\"

    def _impl(ctx):
        {fail}
        venv = ctx.actions.declare_directory(ctx.label.name + ".venv")
        tool = ctx.file._build_venv
        ctx.actions.run_shell(
            outputs = [venv],
            tools = [tool],
            command = "sh " + tool.path + ' "$@"',
            arguments = [venv.path, ctx.attr.python, ctx.attr.python_version],
            mnemonic = "TinyVenv",
        )
        launcher = ctx.actions.declare_file(ctx.label.name)
        ws = ctx.workspace_name
        ctx.actions.write(
            output = launcher,
            content = _LAUNCHER.format(
                venv = ws + "/" + venv.short_path,
                main = ws + "/" + ctx.file.main.short_path,
            ),
            is_executable = True,
        )
        runfiles = ctx.runfiles(files = [venv, ctx.file.main])
        return [DefaultInfo(executable = launcher, runfiles = runfiles)]

    tiny_py_binary = rule(
        implementation = _impl,
        executable = True,
        attrs = {{
            "main": attr.label(allow_single_file = [".py"], mandatory = True),
            "python": attr.string(mandatory = True),
            "python_version": attr.string(mandatory = True),
            "_build_venv": attr.label(default = Label("//:build_venv.sh"),
                                      allow_single_file = True),
        }},
    )
""")

#: The action that makes the venv-like tree: $1 the tree, $2 the interpreter, $3 its X.Y.
BUILD_VENV = textwrap.dedent(r"""
    set -e
    V="$1"; PY="$2"; XY="$3"
    SP="$V/lib/python$XY/site-packages"
    mkdir -p "$V/bin" "$SP/tinylib" "$SP/tinylib-1.0.dist-info"
    ln -s "$PY" "$V/bin/python"
    printf 'home = %s\ninclude-system-site-packages = false\nversion = %s\n' \
        "$(dirname "$PY")" "$XY" > "$V/pyvenv.cfg"
    echo 'VALUE = 1' > "$SP/tinylib/__init__.py"
    printf 'Metadata-Version: 2.1\nName: tinylib\nVersion: 1.0\n' \
        > "$SP/tinylib-1.0.dist-info/METADATA"
""")

#: v2: a second site root added by a .pth, with another copy of tinylib's dist-info.
DUPLICATE = textwrap.dedent(r"""
    mkdir -p "$V/extra/tinylib-1.0.dist-info"
    printf 'Metadata-Version: 2.1\nName: tinylib\nVersion: 1.0\n' \
        > "$V/extra/tinylib-1.0.dist-info/METADATA"
    echo ../../../extra > "$SP/extra.pth"
""")
#: v3: a .pth whose import line burns ~60 ms of CPU at every start.
SLOW = textwrap.dedent(r"""
    cat > "$SP/slow.pth" <<'EOF'
    import time; exec("e = time.perf_counter() + 0.06\nwhile time.perf_counter() < e: pass")
    EOF
""")


def defs(version: str, broken: bool = False) -> str:
    fail = 'fail("rules_tiny is broken at this commit")' if broken else "pass"
    return DEFS.format(version=version, fail=fail)


#: sleepy: the venv action takes a minute (to interrupt a build).
SLEEPY = "\nsleep 60\n"

FILES = ("WORKSPACE", "MODULE.bazel", "BUILD.bazel", "defs.bzl", "build_venv.sh")


def commit_ruleset(repo: Path, version: str, tag: str, *, extra: str = "",
                   broken: bool = False) -> None:
    (repo / "WORKSPACE").write_text('workspace(name = "rules_tiny")\n')
    (repo / "MODULE.bazel").write_text(f'module(name = "rules_tiny", version = "{version}")\n')
    (repo / "BUILD.bazel").write_text('exports_files(["build_venv.sh"])\n')
    (repo / "defs.bzl").write_text(defs(version, broken))
    (repo / "build_venv.sh").write_text(BUILD_VENV + extra)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"rules_tiny {version}")
    git(repo, "tag", tag)


def make_ruleset_repo(repo: Path) -> Path:
    """The ruleset's git repository with tags v1, v2, v3 and broken; HEAD at v2."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    commit_ruleset(repo, "1.0", "v1")
    commit_ruleset(repo, "2.0", "v2", extra=DUPLICATE)
    commit_ruleset(repo, "3.0", "v3", extra=DUPLICATE + SLOW)
    commit_ruleset(repo, "4.0", "broken", broken=True)
    git(repo, "checkout", "-q", "v2")
    commit_ruleset(repo, "2.1", "sleepy", extra=SLEEPY)
    git(repo, "checkout", "-q", "v2")
    return repo


def export_release(repo: Path, ref: str, dest: Path) -> Path:
    """A copy of ``ref`` as a release archive would unpack (no .git)."""
    dest.mkdir(parents=True)
    for name in FILES:
        (dest / name).write_text(git(repo, "show", f"{ref}:{name}") + "\n")
    return dest


def real_python() -> str:
    """The interpreter the fake venv links to (not a venv link or a pyenv shim)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def make_workspace(dest: Path, release: Path, probe_source: str = "") -> Path:
    """The benchmark workspace: ``//:bench`` imports tinylib; ``//:bench_syspath`` prints the
    probe (the seed's inspection target) when ``probe_source`` is given. The release is
    declared with ``local_repository``, as a WORKSPACE would declare a downloaded release."""
    dest.mkdir(parents=True)
    (dest / "WORKSPACE").write_text(
        f'workspace(name = "bench")\n\nlocal_repository(name = "rules_tiny", '
        f'path = "{release}")\n')
    python = real_python()
    xy = f"{sys.version_info.major}.{sys.version_info.minor}"
    build = ['load("@rules_tiny//:defs.bzl", "tiny_py_binary")', ""]
    targets = [("bench", "main.py")] + ([("bench_syspath", "syspath.py")] if probe_source
                                       else [])
    for name, main in targets:
        build.append(f'tiny_py_binary(name = "{name}", main = "{main}", '
                     f'python = "{python}", python_version = "{xy}")')
    (dest / "BUILD.bazel").write_text("\n".join(build) + "\n")
    (dest / "main.py").write_text("import tinylib\n")
    if probe_source:
        (dest / "syspath.py").write_text(probe_source)
    return dest
