"""Pure helpers of the Bazel builder: its config block, command lines, MODULE.bazel rewriting
and reading Bazel's output. No processes, no files."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The default registry of ``bcr:`` sources.
BCR_URL = "https://bcr.bazel.build"
#: An unshut server exits by itself after this many idle seconds (Bazel's default: 3 h).
MAX_IDLE_SECS = 60
MODES = ("auto", "bzlmod", "workspace")
REPOSITORY_CACHES = ("isolated", "shared")

_LABEL = "^(@[A-Za-z0-9_.~+-]*)?//"
_FLAG = "^--?[A-Za-z@]"  # an option, not a target or a stray word
_ENV_NAME = "^[A-Za-z_][A-Za-z0-9_]*[*]?$"  # NAME, or a prefix ending in * (UV_*)

#: The bazel builder's own ``build:`` keys (JSON Schema properties).
OPTIONS_SCHEMA: dict[str, Any] = {
    "workspace": {"type": "string", "minLength": 1,
                  "description": "The benchmark workspace, relative to the config file."},
    "target": {"type": "string", "pattern": _LABEL,
               "description": "The executable target to time, e.g. //:bench."},
    "inspect_target": {"type": "string", "pattern": _LABEL,
                       "description": "Optional target whose output is the probe's report "
                                      "(its main: `startup-harness probe-script`)."},
    "module": {"type": "string", "pattern": "^[A-Za-z0-9_.~+-]+$",
               "description": "The ruleset's module (bzlmod) or repository (WORKSPACE) name."},
    "mode": {"enum": list(MODES), "description": "bzlmod, workspace, or auto (bzlmod when "
                                                 "the workspace has a MODULE.bazel)."},
    "command": {"oneOf": [{"type": "string", "minLength": 1},
                          {"type": "array", "items": {"type": "string"}, "minItems": 1}],
                "description": "The Bazel command (default bazel), e.g. a wrapper script."},
    "flags": {"type": "array", "items": {"type": "string", "pattern": _FLAG},
              "description": "Extra build options (--jobs=2, --copt=...), for build and "
                             "cquery only: fetch, query and mod reject them."},
    "common_flags": {"type": "array", "items": {"type": "string", "pattern": _FLAG},
                     "description": "Extra flags for every Bazel command the harness runs "
                                    "(info, fetch, query, mod, build, cquery): repository "
                                    "and registry options, --repo_env=..."},
    "pass_env": {"type": "array", "items": {"type": "string", "pattern": _ENV_NAME},
                 "description": "Variables of your environment that repository rules and "
                                "build actions see (--repo_env/--action_env), e.g. PIP_CERT, "
                                "PIP_INDEX_URL, UV_*; none by default (PIP_*, UV_*, PYTHON* "
                                "are removed). Their values are on Bazel's command line."},
    "startup_flags": {"type": "array", "items": {"type": "string", "minLength": 1},
                      "description": "Extra startup options (before the command)."},
    "repository_cache": {"enum": list(REPOSITORY_CACHES),
                         "description": "isolated (default): one per variant, cold; shared: "
                                        "Bazel's default cache of the user (the seed's way)."},
    "max_idle_secs": {"type": "integer", "minimum": 5,
                      "description": "An unshut server exits after this many idle seconds."},
}
REQUIRED = ("workspace", "target", "module")


@dataclass(frozen=True)
class BazelSpec:
    """The bazel builder's options, typed; ``workspace`` absolute."""

    workspace: str
    target: str
    module: str
    inspect_target: str | None = None
    mode: str = "auto"
    command: tuple[str, ...] = ("bazel",)
    flags: tuple[str, ...] = ()
    startup_flags: tuple[str, ...] = ()
    common_flags: tuple[str, ...] = ()
    pass_env: tuple[str, ...] = ()
    repository_cache: str = "isolated"
    max_idle_secs: int = MAX_IDLE_SECS


def parse_spec(raw: Mapping[str, Any], base_dir: str) -> BazelSpec:
    """The typed options (already schema-checked); ``workspace`` is resolved against
    ``base_dir`` (the config file's directory). Raises ValueError naming a missing key."""
    import os

    missing = [key for key in REQUIRED if key not in raw]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    command = raw.get("command", "bazel")
    return BazelSpec(
        workspace=os.path.normpath(os.path.join(base_dir, raw["workspace"])),
        target=raw["target"], module=raw["module"], inspect_target=raw.get("inspect_target"),
        mode=raw.get("mode", "auto"),
        command=tuple([command] if isinstance(command, str) else command),
        flags=tuple(raw.get("flags", ())), startup_flags=tuple(raw.get("startup_flags", ())),
        common_flags=tuple(raw.get("common_flags", ())), pass_env=tuple(raw.get("pass_env", ())),
        repository_cache=raw.get("repository_cache", "isolated"),
        max_idle_secs=int(raw.get("max_idle_secs", MAX_IDLE_SECS)))


def startup_options(spec: BazelSpec, output_base: str) -> list[str]:
    """Startup options: the variant's own output base (own server, execroot, caches) and an
    idle limit, so a server that escaped ``shutdown`` still goes away."""
    return [f"--output_base={output_base}", f"--max_idle_secs={spec.max_idle_secs}",
            *spec.startup_flags]


#: Commands that take only the repository flags (no --disk_cache, no --symlink_prefix).
REPOSITORY_COMMANDS = ("fetch", "mod", "sync", "query")
#: Commands that take build options: ``flags`` and ``--action_env`` go to these only.
BUILD_COMMANDS = ("build", "cquery")
#: Where pip and uv (run by a ruleset's repository rules or actions) keep their caches.
TOOL_CACHE_VARIABLES = ("PIP_CACHE_DIR", "UV_CACHE_DIR", "XDG_CACHE_HOME")


def tool_caches(root: str) -> dict[str, str]:
    """The variant's own cache directories for pip and uv (and anything following XDG), so a
    cold build never reads or fills the user's ``~/.cache/pip`` or ``~/.cache/uv``."""
    return {"PIP_CACHE_DIR": f"{root}/pip", "UV_CACHE_DIR": f"{root}/uv",
            "XDG_CACHE_HOME": f"{root}/xdg"}


def passed_names(patterns: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """The names of ``environ`` that ``pass_env`` asks for (``UV_*`` = every UV_ name),
    sorted; a pattern matching nothing passes nothing."""
    out = set()
    for pattern in patterns:
        if pattern.endswith("*"):
            out |= {name for name in environ if name.startswith(pattern[:-1])}
        elif pattern in environ:
            out.add(pattern)
    return sorted(out)


def command_flags(spec: BazelSpec, command: str, *, bzlmod: bool, override: str | None,
                  repository_cache: str | None, registries: Sequence[str] = (),
                  repo_env: Mapping[str, str | None] | None = None) -> list[str]:
    """Flags ``command`` gets for one variant; every command sees the same repository flags,
    so info, fetch, build, cquery and mod resolve the same repositories. ``override``: the
    ruleset's checkout replacing the declared release; ``repository_cache``: its directory
    (None: Bazel's default, shared by every output base of the user); ``repo_env``: variables
    for repository rules (and, for build commands, actions). ``common_flags`` go to every
    command, ``flags`` (build options) to build and cquery only."""
    flags = [] if command in REPOSITORY_COMMANDS else ["--disk_cache=", "--symlink_prefix=/"]
    if repository_cache is not None:
        flags.append(f"--repository_cache={repository_cache}")
    for name, value in (repo_env or {}).items():
        flags.append(f"--repo_env={name}={value if value is not None else ''}")
        if command in BUILD_COMMANDS:  # NAME alone: the action takes the client's value
            flags.append(f"--action_env={name}" if value is None else
                         f"--action_env={name}={value}")
    if bzlmod:
        flags += ["--enable_bzlmod", "--lockfile_mode=off"]
        flags += [f"--registry={url}" for url in registries]
        if override:
            flags.append(f"--override_module={spec.module}={override}")
    elif override:
        flags.append(f"--override_repository={spec.module}={override}")
    return [*flags, *spec.common_flags, *(spec.flags if command in BUILD_COMMANDS else ())]


def use_bzlmod(mode: str, has_module_file: bool) -> bool:
    """``auto``: bzlmod when the workspace has a MODULE.bazel."""
    if mode == "auto":
        return has_module_file
    return mode == "bzlmod"


_DEP = re.compile(r"bazel_dep\s*\((?P<args>[^()]*)\)", re.S)
_OVERRIDES = ("local_path_override", "archive_override", "git_override",
              "single_version_override", "multiple_version_override")


def _kwarg(args: str, key: str) -> str | None:
    found = re.search(rf"\b{key}\s*=\s*\"([^\"]*)\"", args)
    return found.group(1) if found else None


def _calls(text: str, names: Sequence[str]) -> list[tuple[int, int, str, str]]:
    """(start, end, name, argument text) of top-level calls of ``names`` (parentheses balanced,
    strings respected)."""
    out = []
    for match in re.finditer(rf"\b({'|'.join(map(re.escape, names))})\s*\(", text):
        depth, i, quote = 1, match.end(), ""
        while i < len(text) and depth:
            ch = text[i]
            if quote:
                if ch == "\\":
                    i += 1
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            i += 1
        out.append((match.start(), i, match.group(1), text[match.end():i - 1]))
    return out


def rewrite_module_file(text: str, module: str, *, version: str | None = None,
                        path: str | None = None) -> str:
    """MODULE.bazel the seed's way: ``bazel_dep(name = module)`` pinned to ``version`` (a
    release from the registry), or kept and overridden with ``local_path_override`` to
    ``path`` (a checkout). Existing overrides of ``module`` are dropped; a missing
    ``bazel_dep`` is added. Raises ValueError for neither or both of version and path."""
    if (version is None) == (path is None):
        raise ValueError("give exactly one of version and path")
    pieces, last = [], 0
    found = False
    for start, end, name, args in _calls(text, ("bazel_dep", *_OVERRIDES)):
        if name == "bazel_dep":
            if _kwarg(args, "name") != module:
                continue
            found = True
            new_args = args
            if version is not None:
                if _kwarg(args, "version") is not None:
                    new_args = re.sub(r"(\bversion\s*=\s*)\"[^\"]*\"",
                                      lambda m: f'{m.group(1)}"{version}"', args, count=1)
                else:
                    new_args = args.rstrip().rstrip(",") + f', version = "{version}"'
            pieces += [text[last:start], f"bazel_dep({new_args})"]
            last = end
        elif _kwarg(args, "module_name") == module:
            pieces.append(text[last:start].rstrip(" \t"))
            last = end
            if text[last:last + 1] == "\n":
                last += 1
    pieces.append(text[last:])
    out = "".join(pieces)
    if not found:
        dep = f'bazel_dep(name = "{module}"' + (f', version = "{version}")' if version
                                                 else ")")
        out = out.rstrip("\n") + ("\n" if out.strip() else "") + dep + "\n"
    if path is not None:
        out = (out.rstrip("\n") + f'\n\nlocal_path_override(\n    module_name = "{module}",\n'
               f'    path = "{path}",\n)\n')
    return out


def declared_version(text: str, module: str) -> str | None:
    """The version MODULE.bazel's ``bazel_dep`` asks for, if any."""
    for _start, _end, _name, args in _calls(text, ("bazel_dep",)):
        if _kwarg(args, "name") == module:
            return _kwarg(args, "version")
    return None


def resolved_version(mod_output: str, module: str) -> str | None:
    """What ``bazel mod deps|graph`` says ``module`` resolved to: ``1.11.7``, or ``_`` for
    an override."""
    found = re.search(rf"(?<![\w.-]){re.escape(module)}@([^\s,)]+)", mod_output)
    return found.group(1) if found else None


def declaration_summary(query_build_output: str) -> str:
    """A short form of a WORKSPACE repository rule (``query //external:NAME --output=build``):
    its kind and where it comes from (path, urls, commit, sha256)."""
    kind = re.search(r"^\s*([A-Za-z_]+)\(", query_build_output, re.M)
    parts = [kind.group(1) if kind else "repository"]
    for key in ("path", "url", "urls", "remote", "commit", "tag", "sha256", "strip_prefix"):
        found = re.search(rf"^\s*{key}\s*=\s*(.+?),?\s*$", query_build_output, re.M)
        if found:
            parts.append(f"{key}={found.group(1).strip()}")
    return " ".join(parts)


_VERSIONISH = re.compile(r"(?<![0-9A-Za-z])v?(\d+(?:\.\d+)+(?:-?(?:rc|alpha|beta|a|b)\.?\d+)?)"
                        r"(?![0-9A-Za-z])")
_ATTRIBUTE = r"^\s*{key}\s*=\s*(.+?),?\s*$"


def declared_release(query_build_output: str,
                     module_file_of_path: str | None = None) -> tuple[set[str], str]:
    """Which version of the ruleset a WORKSPACE declaration names (``query //external:NAME
    --output=build``): the version-like words of its ``urls``/``url``/``strip_prefix``/
    ``tag`` (``rules_py-v1.11.7.tar.gz`` -> 1.11.7), or for a ``local_repository`` the
    ``module(version = ...)`` of the MODULE.bazel at its path (``module_file_of_path``).
    Returns (versions, what they were read from); no versions when it cannot be told (an
    archive named by a commit, a path without MODULE.bazel)."""
    versions: set[str] = set()
    read: list[str] = []
    for key in ("urls", "url", "strip_prefix", "tag"):
        found = re.search(_ATTRIBUTE.format(key=key), query_build_output, re.M)
        if found:
            value = found.group(1).strip()
            versions |= set(_VERSIONISH.findall(value))
            read.append(f"{key}={value}")
    if module_file_of_path is not None:
        for _start, _end, _name, args in _calls(module_file_of_path, ("module",)):
            version = _kwarg(args, "version")
            if version:
                versions.add(version)
                read.append(f"the MODULE.bazel at its path (version {version})")
    return versions, ", ".join(read)


def release_mismatch(query_build_output: str, module: str, version: str,
                     module_file_of_path: str | None = None) -> str | None:
    """One line when the WORKSPACE declares another release of ``module`` than the
    variant's ``bcr.version``; None when it declares that one or cannot be told."""
    versions, read = declared_release(query_build_output, module_file_of_path)
    wanted = version.removeprefix("v")
    if not versions or wanted in {v.removeprefix("v") for v in versions}:
        return None
    return (f"the WORKSPACE declares {module} {', '.join(sorted(versions))} ({read}), "
            f"not bcr.version {version}")


def executable_path(execution_root: str, cquery_output: str) -> str:
    """The executable's absolute path from ``info execution_root`` and the cquery's
    ``target.files_to_run.executable.path`` (relative to the execution root)."""
    import posixpath

    lines = [line.strip() for line in cquery_output.splitlines() if line.strip()]
    if not lines or lines[-1] == "None":
        raise ValueError("the target has no executable")
    rel = lines[-1]
    return rel if rel.startswith("/") else posixpath.join(execution_root.strip(), rel)


_RELEVANT = re.compile(r"^(ERROR|FATAL|Error|error:|Exception|Caused by)|"
                       r"(Unknown host|not found|No such|does not exist|no such|"
                       r"Failed to|failed to|connect timed out|Connection refused|"
                       r"is not a (module|registry)|couldn't|could not)")
#: Lines that only say that something failed, not what: kept only when nothing else says it.
_GENERIC = re.compile(r"build aborted|Build did NOT complete|^FAILED:|"
                      r"^ERROR: Analysis of target .* failed$|command failed$")


def relevant_lines(output: str, limit: int = 3) -> list[str]:
    """The lines of Bazel's output that say what went wrong, in order, at most ``limit``
    (generic "build aborted" lines only when nothing more specific is there; the last lines
    when nothing matches)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    picked = [line for line in lines if _RELEVANT.search(line)
              and not line.startswith(("INFO:", "Loading:", "Analyzing:", "WARNING:"))]
    specific = [line for line in picked if not _GENERIC.search(line)]
    chosen = specific or picked or lines[-limit:]
    seen: list[str] = []
    for line in chosen:
        if line not in seen:
            seen.append(line)
    return [line if len(line) <= 400 else line[:397] + "..." for line in seen[:limit]]
