"""The bazel builder: one benchmark workspace built cold per variant in its own output base,
the ruleset swapped per variant (registry release, git ref or checkout), the server always
shut down.

Per variant: ``--output_base=<variant dir>/ob`` (own server, execroot, action cache),
``--disk_cache=``, a repository cache of its own (or Bazel's shared one), no ``bazel-*``
links in the workspace; ``info`` (server start), ``fetch`` and ``build`` timed separately;
the executable found with ``info execution_root`` + ``cquery``; ``shutdown`` in a ``finally``
(also on failure, Ctrl-C and SIGTERM), the server killed by its PID if it outlives that, and
the output base removed when the build failed (after a good build the run's scratch dir
removal takes it, after timing).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError, ProcessError, SourceError
from harness.files import remove_tree
from harness.measure import bazel_workspace as bw
from harness.measure.builders import BuiltEnv, SourceKind
from harness.measure.tools import INSTALL_HINTS

if TYPE_CHECKING:
    from harness import proc
    from harness.config_records import Source, VariantConfig

#: Runs one Bazel command of a variant: (step name, command, *arguments) -> its result.
BazelRun = Callable[..., "proc.Completed"]


#: On Ctrl-C or SIGTERM, the Bazel client gets SIGINT: it cancels the build on the server
#: (running actions are stopped) and exits; it is killed if it takes longer than this.
INTERRUPT = (signal.SIGINT, 20.0)


class BazelFailed(ProcessError):
    """A Bazel step failed; the message names the variant, the step and Bazel's lines."""


def server_pid(output_base: Path) -> int | None:
    """The PID of the output base's server, from ``server/server.pid.txt``."""
    try:
        return int((output_base / "server" / "server.pid.txt").read_text().strip())
    except (OSError, ValueError):
        return None



def stop_server(command: Sequence[str], startup: Sequence[str], output_base: Path,
                cwd: str, env: Mapping[str, str]) -> float:
    """``bazel shutdown`` for ``output_base``; if its server still lives, SIGTERM then SIGKILL
    by the PID it recorded. Never raises; returns the seconds it took."""
    from harness import proc

    start = time.perf_counter()
    pid = server_pid(output_base)
    if pid is None and not (output_base / "server").exists():
        return 0.0
    with contextlib.suppress(ProcessError):
        proc.run([*command, *startup, "shutdown"], env=env, cwd=cwd, timeout=120, check=False,
                 what="bazel shutdown")
    pid = pid or server_pid(output_base)
    if pid is not None:
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            if not proc.alive(pid):
                break
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while proc.alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
    return time.perf_counter() - start


def _module_file(workspace: str) -> Path | None:
    for name in ("MODULE.bazel",):
        path = Path(workspace) / name
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class BcrRelease:
    """A ``source: {bcr: ...}``: a ruleset's release from Bazel registries."""

    module: str
    version: str
    registries: tuple[str, ...] = (bw.BCR_URL,)


class BcrSource:
    """The ``bcr`` source kind, which only the bazel builder builds."""

    name = "bcr"
    schema: Mapping[str, Any] = {
        "type": "object", "additionalProperties": False,
        "required": ["module", "version"],
        "description": "A ruleset's release from a Bazel registry "
                       "(bazel builder; default registry: the BCR).",
        "properties": {
            "module": {"type": "string", "minLength": 1},
            "version": {"type": "string", "minLength": 1},
            "registry": {"oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1},
                 "minItems": 1}]},
        },
    }

    def record(self, raw: Any, base: Path) -> BcrRelease:
        registry = raw.get("registry", [bw.BCR_URL])
        return BcrRelease(raw["module"], raw["version"],
                          tuple([registry] if isinstance(registry, str) else registry))

    def check(self, spec: object) -> None:
        assert isinstance(spec, BcrRelease)
        for url in spec.registries:
            if not url.startswith(("https://", "http://", "file://")):
                raise SourceError(f"registry {url!r} is not a URL",
                                  "give https://... or file:///... (a local registry folder)")

    def describe(self, spec: object) -> str:
        assert isinstance(spec, BcrRelease)
        return f"bcr {spec.module}@{spec.version} ({', '.join(spec.registries)})"


def release_of(source: Source) -> BcrRelease | None:
    """The registry release a ``bcr`` source names; None for a git or path source."""
    return source.spec if isinstance(source.spec, BcrRelease) else None


class BazelBuilder:
    """A benchmark workspace built by Bazel with the variant's ruleset swapped in."""

    name = "bazel"
    options_schema: Mapping[str, Any] = bw.OPTIONS_SCHEMA
    placeholders: tuple[str, ...] = ("exe", "runfiles")
    #: none for the preflight: the Bazel command is per variant (build.command) and a missing
    #: one fails that variant only, the others are still measured
    tools: tuple[str, ...] = ()
    source_kinds: Mapping[str, SourceKind] = {"bcr": BcrSource()}

    def options(self, raw: Mapping[str, Any], source: Source, base: Path) -> bw.BazelSpec:
        if source.kind not in ("bcr", "git", "path"):
            raise ConfigError(f"source: the bazel builder takes bcr, git or path sources, not "
                              f"{source.kind}", "name the ruleset's release (bcr), a git ref "
                              "or a checkout")
        try:
            spec = bw.parse_spec(raw, str(base))
        except ValueError as exc:
            raise ConfigError(f"build: {exc}", "the bazel builder needs workspace, target "
                              "and module") from exc
        release = release_of(source)
        if release is not None and release.module != spec.module:
            raise ConfigError(f"source.bcr.module: {release.module!r} is not the builder's "
                              f"module {spec.module!r}",
                              "the release must be of the ruleset the workspace depends on")
        return spec

    def build(self, variant: VariantConfig, source_dir: str | None, out_base: Path,
              env: Mapping[str, str]) -> BuiltEnv:
        from harness import proc  # here: `startup-harness schema` imports this module

        spec = variant.build.options
        assert isinstance(spec, bw.BazelSpec)
        who = f"variant {variant.name!r}"
        tool = shutil.which(spec.command[0], path=env.get("PATH"))
        if tool is None:
            raise BazelFailed(f"{who}: Bazel command {spec.command[0]!r} not found",
                              INSTALL_HINTS["bazel"])
        command = (tool, *spec.command[1:])
        if not Path(spec.workspace).is_dir():
            raise BazelFailed(f"{who}: Bazel workspace {spec.workspace!r} does not exist",
                              "set build.bazel.workspace (relative to the config file)")
        timeout = variant.build.timeout_s
        version = proc.run([*command, "--version"], env=env, cwd=spec.workspace, timeout=120,
                           check=False, what=f"{who}: bazel --version")
        tool_version = (version.stdout.strip() or version.stderr.strip()).splitlines()
        details = {"tool_version": tool_version[-1] if tool_version else "unknown"}

        source = variant.source
        module_file = _module_file(spec.workspace)
        bzlmod = bw.use_bzlmod(spec.mode, module_file is not None)
        details["mode"] = "bzlmod" if bzlmod else "workspace"
        override = os.path.realpath(source_dir) if source_dir else None
        workspace = spec.workspace
        if bzlmod:
            workspace = str(self._variant_workspace(spec, source, override, out_base))
            override = None  # the rewritten MODULE.bazel carries it (the seed's way)
        output_base = out_base / "ob"
        startup = bw.startup_options(spec, str(output_base))
        repo_cache = (str(out_base / "repository-cache") if spec.repository_cache == "isolated"
                      else None)
        release = release_of(source)
        registries = release.registries if bzlmod and release is not None else ()
        # pip and uv run by repository rules: the user's settings only when asked for (by
        # name: values stay off the command line), caches of the variant's own when cold
        passed = [n for n in bw.passed_names(spec.pass_env, os.environ)
                  if not (repo_cache and n in bw.TOOL_CACHE_VARIABLES)]
        repo_env: dict[str, str | None] = {name: os.environ[name] for name in passed}
        bazel_env = {**env, **{name: os.environ[name] for name in passed}}
        if repo_cache is not None:
            repo_env.update(bw.tool_caches(str(out_base / "tool-caches")))
            details["tool_caches"] = "per variant: " + ", ".join(bw.TOOL_CACHE_VARIABLES)
        else:
            details["tool_caches"] = "the user's (repository_cache: shared)"
        details["passed_env"] = ", ".join(passed) or "none"

        def flags(cmd: str) -> list[str]:
            return bw.command_flags(spec, cmd, bzlmod=bzlmod, override=override,
                                    repository_cache=repo_cache, registries=registries,
                                    repo_env=repo_env)

        def bazel(step: str, cmd: str, *args: str) -> proc.Completed:
            done = proc.run([*command, *startup, cmd, *flags(cmd), *args], env=bazel_env,
                            cwd=workspace, timeout=timeout, check=False,
                            what=f"{who}: bazel {step}", interrupt=INTERRUPT)
            if done.returncode != 0:
                lines = bw.relevant_lines(done.stderr + "\n" + done.stdout)
                raise BazelFailed(f"{who}: bazel {step} failed (exit {done.returncode}): "
                                  + " | ".join(lines),
                                  "run it by hand in the workspace to see all of Bazel's output",
                                  returncode=done.returncode,
                                  output_tail=proc.tail_lines(done.stderr, 40))
            return done

        targets = [spec.target] + ([spec.inspect_target] if spec.inspect_target else [])
        phases: dict[str, float] = {}
        ok = False
        try:
            info = bazel("info execution_root", "info", "execution_root")
            phases["server_start"] = round(info.seconds, 4)
            execution_root = info.stdout.strip().splitlines()[-1]
            declaration = (self._check_declared_release(bazel, spec, source, who)
                           if not bzlmod and source.kind == "bcr" else None)
            phases["fetch"] = round(bazel(f"fetch {' '.join(targets)}", "fetch",
                                          *targets).seconds, 4)
            phases["build"] = round(bazel(f"build {' '.join(targets)}", "build",
                                          *targets).seconds, 4)
            exe = self._executable(bazel, execution_root, spec.target, who)
            inspect_exe = (self._executable(bazel, execution_root, spec.inspect_target, who)
                           if spec.inspect_target else None)
            details["resolved"] = self._resolved(bazel, spec, source, bzlmod, override,
                                                 declaration)
            details["execution_root"] = execution_root
            ok = True
        finally:
            phases["shutdown"] = round(stop_server(command, startup, output_base, workspace,
                                                   env), 4)
            if not ok:
                remove_tree(output_base)
        runfiles = exe + ".runfiles"
        run_env = {"RUNFILES_DIR": runfiles} if os.path.isdir(runfiles) else {}
        inspect_command: tuple[str, ...] = (inspect_exe,) if inspect_exe else ()
        inspect_env = ({"RUNFILES_DIR": inspect_exe + ".runfiles"}
                       if inspect_exe and os.path.isdir(inspect_exe + ".runfiles") else {})
        return BuiltEnv(python=exe, prefix=runfiles, bin_dir=os.path.dirname(exe),
                        site_roots=(),
                        placeholders={"exe": exe, "runfiles": runfiles}, run_env=run_env,
                        phases=phases, details=details, inspect_command=inspect_command,
                        inspect_env=inspect_env,
                        short_names={details["execution_root"]: "<execroot>"})

    @staticmethod
    def _executable(bazel: BazelRun, execution_root: str, target: str, who: str) -> str:
        done = bazel(f"cquery {target}", "cquery", target, "--output=starlark",
                     "--starlark:expr=target.files_to_run.executable.path")
        try:
            return bw.executable_path(execution_root, done.stdout)
        except ValueError as exc:
            raise BazelFailed(f"{who}: {target} is not an executable target ({exc})",
                              "build.bazel.target must be a *_binary") from exc

    @staticmethod
    def _check_declared_release(bazel: BazelRun, spec: bw.BazelSpec, source: Source,
                                who: str) -> str | None:
        """WORKSPACE mode, ``bcr:`` variant: the release is what the WORKSPACE declares, so
        it must be ``bcr.version``; a mismatch fails the variant (one line, exit 2). Returns
        the declaration (``query --output=build``), None when it cannot be read."""
        try:
            done = bazel(f"query //external:{spec.module}", "query",
                         f"//external:{spec.module}", "--output=build")
        except BazelFailed:
            return None
        module_file = None
        path = re.search(r'^\s*path\s*=\s*"([^"]+)"', done.stdout, re.M)
        if path:
            where = Path(spec.workspace, path.group(1)) / "MODULE.bazel"
            with contextlib.suppress(OSError, UnicodeDecodeError):
                module_file = where.read_text(encoding="utf-8")
        release = release_of(source)
        problem = bw.release_mismatch(done.stdout, spec.module,
                                      release.version if release else "",
                                      module_file)
        if problem:
            raise BazelFailed(f"{who}: {problem}",
                              "set bcr.version to the release the WORKSPACE declares, or "
                              "declare that release in the WORKSPACE")
        return done.stdout

    @staticmethod
    def _resolved(bazel: BazelRun, spec: bw.BazelSpec, source: Source, bzlmod: bool,
                  override: str | None, declaration: str | None = None) -> str:
        """What the ruleset resolved to, as Bazel says it (bzlmod: ``bazel mod deps``)."""
        if bzlmod:
            try:
                done = bazel(f"mod deps {spec.module}", "mod", "deps", spec.module)
            except BazelFailed:
                return "unknown (bazel mod deps failed)"
            found = bw.resolved_version(done.stdout + done.stderr, spec.module)
            if found == "_":
                return f"{spec.module}@_ (local_path_override)"
            return f"{spec.module}@{found}" if found else "unknown"
        if override:
            # name what the user gave, not the scratch copy a path: source is built from
            where = (f"git {source.ref}" if source.kind == "git" else
                     f"path {source.path}" if source.kind == "path" and source.path else override)
            return f"{spec.module} overridden by {where} (--override_repository)"
        if declaration is None:
            try:
                declaration = bazel(f"query //external:{spec.module}", "query",
                                    f"//external:{spec.module}", "--output=build").stdout
            except BazelFailed:
                return f"{spec.module} as declared in WORKSPACE"
        return f"{spec.module} as declared in WORKSPACE: " + bw.declaration_summary(declaration)

    @staticmethod
    def _variant_workspace(spec: bw.BazelSpec, source: Source, override: str | None,
                           out_base: Path) -> Path:
        """bzlmod: a copy of the workspace with MODULE.bazel pinned to the release or
        overridden with the checkout (``local_path_override``)."""
        dest = out_base / "workspace"
        shutil.copytree(spec.workspace, dest, symlinks=True,
                        ignore=shutil.ignore_patterns("bazel-*", ".git", "MODULE.bazel.lock"))
        module_file = dest / "MODULE.bazel"
        text = module_file.read_text(encoding="utf-8") if module_file.exists() else ""
        release = release_of(source)
        if release is not None:
            text = bw.rewrite_module_file(text, spec.module, version=release.version)
        else:
            assert override is not None
            text = bw.rewrite_module_file(text, spec.module, path=override)
        module_file.write_text(text, encoding="utf-8")
        return dest


BUILDER = BazelBuilder()
