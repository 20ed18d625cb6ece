"""See through a shell launcher (a Bazel ``*_binary``): run it once with ``exec`` captured, to
learn the interpreter command line, environment and directory it would start Python with.

The launcher runs as itself (``$0``, ``BASH_SOURCE`` and its arguments are those of a real
run) in bash with a shell function named ``exec`` defined first: where the launcher would
replace itself by Python, the function writes the argv, the exported environment and the
working directory to files and exits. Nothing of Python runs, so the probe (or ``-X
importtime``) can then be started exactly that way: injected only for the inspection run,
never for timed runs, and the built program is not modified.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.errors import HarnessError
from harness.inspection.runner import launch_of

#: Defined before the launcher is sourced; bash looks functions up before builtins.
_CAPTURE = r'''
exec() {
  while [ "$#" -gt 0 ]; do
    case "$1" in
      -a) shift 2 ;;
      -c|-l|-cl|-lc) shift ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  [ "$#" -eq 0 ] && return 0
  printf '%s\0' "$@" > "$__HARNESS_CAPTURE/argv"
  pwd > "$__HARNESS_CAPTURE/cwd"
  ( unset __HARNESS_CAPTURE; env -0 ) > "$__HARNESS_CAPTURE/env"
  builtin exit 0
}
__launcher="$0"
. "$__launcher" "$@"
printf 'no-exec' > "$__HARNESS_CAPTURE/none"
'''

#: Interpreters of launchers this module can see through.
_SHELLS = ("sh", "bash", "dash")


@dataclass(frozen=True)
class Start:
    """How a command really starts Python: argv, environment and working directory."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: str | None


def is_shell_script(path: str) -> bool:
    """Whether ``path`` is a ``#!`` script run by sh or bash."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace")
    except OSError:
        return False
    if not first.startswith("#!"):
        return False
    words = first[2:].split()
    if words and os.path.basename(words[0]) == "env":
        words = words[1:]
    return bool(words) and os.path.basename(words[0]) in _SHELLS


def starts_python(argv: Sequence[str], cwd: str | None) -> bool:
    try:
        launch_of(argv, cwd)
    except HarnessError:
        return False
    return True


def capture(argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None,
            timeout: float = 120) -> Start:
    """What the shell launcher ``argv[0]`` execs, followed through nested shell launchers."""
    bash = shutil.which("bash", path=env.get("PATH"))
    if bash is None:
        raise HarnessError("bash not found: cannot see through the launcher "
                           f"{argv[0]!r}", "install bash, or use an inspection target")
    current = Start(tuple(argv), dict(env), cwd)
    for _ in range(5):
        if starts_python(current.argv, current.cwd) or not is_shell_script(current.argv[0]):
            return current
        with tempfile.TemporaryDirectory(prefix="startup-harness-launcher-") as tmp:
            run_env = dict(current.env, __HARNESS_CAPTURE=tmp)
            proc.run([bash, "-c", _CAPTURE, *current.argv], env=run_env, cwd=current.cwd,
                     timeout=timeout, what=f"launcher {current.argv[0]} (exec captured)",
                     hint="run the launcher by hand")
            argv_file = Path(tmp) / "argv"
            if not argv_file.exists():
                raise HarnessError(f"the launcher {current.argv[0]!r} never execs a program",
                                   "give the bazel builder an inspect_target, whose output "
                                   "is the probe (startup-harness probe-script)")
            new_argv = tuple(argv_file.read_bytes().decode().split("\0")[:-1])
            new_env = dict(line.split("=", 1) for line in
                           (Path(tmp) / "env").read_bytes().decode().split("\0") if "=" in line)
            new_cwd = (Path(tmp) / "cwd").read_text().strip() or current.cwd
        resolved = shutil.which(new_argv[0], path=new_env.get("PATH")) if "/" not in \
            new_argv[0] else new_argv[0]
        current = Start((resolved or new_argv[0], *new_argv[1:]), new_env, new_cwd)
    return current
