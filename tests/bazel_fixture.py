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

bzlmod (Bazel 7): ``make_registry`` puts tags in a BCR-style ``file://`` registry as release
archives, ``make_bzlmod_workspace`` writes a workspace that ``bazel_dep``s on the ruleset;
``RULES_PY_LAUNCHER`` makes the rule write current rules_py's bash launcher instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import textwrap
from pathlib import Path

from tests.conftest import git

DEFS = textwrap.dedent("""\
    \"\"\"rules_tiny {version}: a venv-like tree and a launcher, no toolchains.\"\"\"

    RULES_TINY_VERSION = "{version}"

    _LAUNCHER = \"\"\"{launcher}\"\"\"

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


#: The launcher: POSIX sh, exec's the venv's python with -B -s ({venv} and {main} are filled
#: in by the rule, {{version}} here).
SH_LAUNCHER = """#!/bin/sh
# rules_tiny {version} launcher
if [ -z "$RUNFILES_DIR" ]; then RUNFILES_DIR="$0.runfiles"; fi
exec "$RUNFILES_DIR/{{venv}}/bin/python" -B -s "$RUNFILES_DIR/{{main}}" "$@"
"""
#: The launcher current rules_py writes (py/private/py_venv/entrypoint.tmpl.sh): bash, the
#: venv activated, its python exec'd with -B -s -I (isolated: no PYTHONPATH, no script dir).
RULES_PY_LAUNCHER = """#!/usr/bin/env bash
# rules_tiny {version} launcher (rules_py style)
set -o errexit -o pipefail
if [ -z "$RUNFILES_DIR" ]; then RUNFILES_DIR="$0.runfiles"; fi
export VIRTUAL_ENV="$RUNFILES_DIR/{{venv}}"
export PATH="$VIRTUAL_ENV/bin:$PATH"
exec "$VIRTUAL_ENV/bin/python" -B -s -I "$RUNFILES_DIR/{{main}}" "$@"
"""


def defs(version: str, broken: bool = False, launcher: str = SH_LAUNCHER) -> str:
    fail = 'fail("rules_tiny is broken at this commit")' if broken else "pass"
    return DEFS.format(version=version, fail=fail, launcher=launcher.format(version=version))


#: sleepy: the venv action takes a minute (to interrupt a build).
SLEEPY = "\nsleep 60\n"

FILES = ("WORKSPACE", "MODULE.bazel", "BUILD.bazel", "defs.bzl", "build_venv.sh")


def commit_ruleset(repo: Path, version: str, tag: str, *, extra: str = "",
                   broken: bool = False, launcher: str = SH_LAUNCHER) -> None:
    (repo / "WORKSPACE").write_text('workspace(name = "rules_tiny")\n')
    (repo / "MODULE.bazel").write_text(f'module(name = "rules_tiny", version = "{version}")\n')
    (repo / "BUILD.bazel").write_text('exports_files(["build_venv.sh"])\n')
    (repo / "defs.bzl").write_text(defs(version, broken, launcher))
    (repo / "build_venv.sh").write_text(BUILD_VENV + extra)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"rules_tiny {version}")
    git(repo, "tag", tag)


def make_ruleset_repo(repo: Path, launcher: str = SH_LAUNCHER) -> Path:
    """The ruleset's git repository with tags v1, v2, v3 and broken; HEAD at v2. ``launcher``:
    the template of the launcher the rule writes (SH_LAUNCHER or RULES_PY_LAUNCHER)."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    commit_ruleset(repo, "1.0", "v1", launcher=launcher)
    commit_ruleset(repo, "2.0", "v2", extra=DUPLICATE, launcher=launcher)
    commit_ruleset(repo, "3.0", "v3", extra=DUPLICATE + SLOW, launcher=launcher)
    commit_ruleset(repo, "4.0", "broken", broken=True, launcher=launcher)
    git(repo, "checkout", "-q", "v2")
    commit_ruleset(repo, "2.1", "sleepy", extra=SLEEPY, launcher=launcher)
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


def make_registry(dest: Path, repo: Path, releases: dict[str, str]) -> Path:
    """A BCR-style registry: per version a ``MODULE.bazel`` and a ``source.json`` naming a
    ``file://`` archive of the ruleset's tag with its integrity and strip_prefix."""
    (dest / "archives").mkdir(parents=True)
    (dest / "bazel_registry.json").write_text("{}\n")
    module_dir = dest / "modules" / "rules_tiny"
    for version, tag in releases.items():
        prefix = f"rules_tiny-{version}"
        archive = dest / "archives" / f"{prefix}.tar.gz"
        git(repo, "archive", "--format=tar.gz", f"--prefix={prefix}/", "-o", str(archive), tag)
        digest = base64.b64encode(hashlib.sha256(archive.read_bytes()).digest()).decode()
        (module_dir / version).mkdir(parents=True)
        (module_dir / version / "MODULE.bazel").write_text(git(repo, "show",
                                                                f"{tag}:MODULE.bazel") + "\n")
        (module_dir / version / "source.json").write_text(json.dumps({
            "url": archive.as_uri(), "integrity": f"sha256-{digest}", "strip_prefix": prefix}))
    (module_dir / "metadata.json").write_text(json.dumps({
        "homepage": "https://example.invalid/rules_tiny", "maintainers": [],
        "versions": list(releases), "yanked_versions": {}}))
    return dest


def make_bzlmod_workspace(dest: Path, registry: Path, flags: list[str],
                          probe_source: str = "") -> Path:
    """The benchmark workspace the seed's way: MODULE.bazel depends on the newest release,
    .bazelrc names the registry and ``flags`` for every command, no WORKSPACE."""
    make_workspace(dest, registry, probe_source)
    (dest / "WORKSPACE").unlink()
    (dest / "MODULE.bazel").write_text(
        'module(name = "bench")\n\nbazel_dep(name = "rules_tiny", version = "2.0")\n')
    rc = ["common --noenable_workspace", f"common --registry={registry.as_uri()}"]
    (dest / ".bazelrc").write_text("\n".join(rc + [f"common {flag}" for flag in flags]) + "\n")
    return dest
