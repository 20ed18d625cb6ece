"""Find the Python process that runs a workload's code, whatever launcher starts it.

A workload is often not ``python app.py`` but a launcher: a console script, a Bazel binary's
``#!python`` stub that sets ``PYTHONPATH`` and ``execv``s another interpreter, a bash script
that ``exec``s a venv's interpreter with ``-B -s -I``, or a bash script that runs Python as a
child (``"$PYTHON" "$ENTRY" "$@"``). Import time and the probe must see the program, not the
launcher, so :func:`follow` walks the chain one hop at a time:

* **bash/sh launcher** – run once as itself (``$0`` and its arguments are those of a real run)
  with a shell function named ``exec`` defined first (bash finds functions before builtins):
  where it would replace itself by a program, the function records argv, exported environment
  and directory and exits. Nothing after the launcher runs.
* **Python launcher** (a script whose text starts processes: ``os.exec*``, ``os.spawn*``,
  ``os.posix_spawn*``, ``subprocess``) – run once with ``runpy`` in its own interpreter and
  options, those functions replaced by recorders: the first exec, or the first child that is
  Python or a shell script, is recorded with the environment it would get, and the process
  exits before the program starts. A script that starts nothing ran to its end: it is the
  program (a console script).
* **a launcher that runs Python as a child** (the bash ``exec`` trap saw no exec, or a binary
  launcher) – run once under ``strace -f`` (execve, chdir and forks only): the first process
  that becomes a Python interpreter is the program, with the argv, environment and directory
  it really got. Chosen over environment-carried instrumentation (``PYTHONPROFILEIMPORTTIME``,
  a ``sitecustomize`` on ``PYTHONPATH``) because those are dropped by ``-I``/``-E`` and cannot
  carry the probe without changing the sys.path being inspected; strace sees every exec of
  every descendant, for launchers written in anything. Without strace (or where ptrace is not
  allowed) such a launcher cannot be followed: :func:`follow` says so.

Every hop is recorded (:attr:`Start.via`). When a Python launcher cannot be followed past,
the result is that launcher with :attr:`Start.program` False: callers say "the launcher only"
instead of showing its numbers as the program's. Injected only for inspection runs, never for
timed runs; the built program is not modified.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness import proc
from harness.errors import HarnessError
from harness.inspection.runner import is_python, launch_of

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

#: Run as ``python [options] -c <this> OUT SCRIPT ARGS...``: runs SCRIPT as ``__main__`` with
#: every way of starting a process replaced by a recorder (see the module docstring).
_INTERPOSE = r'''
import os, sys, json, runpy, shutil
_out, _script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
if sys.path and sys.path[0] == "" and not getattr(sys.flags, "safe_path", False):
    sys.path[0] = os.path.dirname(os.path.realpath(_script))
_d = os.fsdecode

def _python_like(path):
    name = os.path.basename(_d(path)).lower()
    if name.startswith(("python", "pypy")):
        return True
    try:
        with open(path, "rb") as f:
            first = f.readline(512)
    except OSError:
        return False
    return first.startswith(b"#!") and any(w in first for w in (b"python", b"pypy", b"sh"))

def _record(how, path, args, env, cwd):
    env = os.environ if env is None else env
    data = {"how": how, "path": _d(path), "argv": [_d(a) for a in args],
            "env": {_d(k): _d(v) for k, v in env.items()},
            "cwd": os.path.abspath(_d(cwd)) if cwd else os.getcwd()}
    with open(os.path.join(_out, "start.json"), "w", encoding="utf-8") as f:
        json.dump(data, f)
    sys.stdout.flush()
    os._exit(0)

def _which(file, env):
    env = os.environ if env is None else env
    if os.sep in _d(file):
        return file
    return shutil.which(_d(file), path=_d(env.get("PATH", os.defpath))) or file

os.execv = lambda path, args: _record("execv", path, args, None, None)
os.execve = lambda path, args, env: _record("execve", path, args, env, None)
os.execvp = lambda file, args: _record("execvp", _which(file, None), args, None, None)
os.execvpe = lambda file, args, env: _record("execvpe", _which(file, env), args, env, None)

def _spawn(name, original, resolve):
    def spawn(mode, file, args, *env):
        path = _which(file, env[0] if env else None) if resolve else file
        if _python_like(path):
            _record(name, path, args, env[0] if env else None, None)
        return original(mode, file, args, *env)
    return spawn

for _name, _resolve in (("spawnv", False), ("spawnve", False), ("spawnvp", True),
                        ("spawnvpe", True)):
    if hasattr(os, _name):
        setattr(os, _name, _spawn(_name, getattr(os, _name), _resolve))

def _posix_spawn(name, original, resolve):
    def spawn(path, argv, env, **kwargs):
        where = _which(path, env) if resolve else path
        if _python_like(where):
            _record(name, where, argv, env, None)
        return original(path, argv, env, **kwargs)
    return spawn

for _name, _resolve in (("posix_spawn", False), ("posix_spawnp", True)):
    if hasattr(os, _name):
        setattr(os, _name, _posix_spawn(_name, getattr(os, _name), _resolve))

def _mentions_python(command):
    text = _d(command).lower()
    return "python" in text or "pypy" in text

import subprocess
_execute_child = subprocess.Popen._execute_child

def _child(self, args, executable, *rest):
    cwd, env = rest[3], rest[4]
    if isinstance(args, (str, bytes)):
        if rest[7] and _mentions_python(args):  # shell=True: follow the shell
            _record("subprocess shell", "/bin/sh", ["/bin/sh", "-c", _d(args)], env, cwd)
    elif args:
        args = list(args)
        path = _which(executable or args[0], env)
        if _python_like(path):
            _record("subprocess", path, args, env, cwd)
    return _execute_child(self, args, executable, *rest)

subprocess.Popen._execute_child = _child
_system = os.system

def _shell(command):
    if _mentions_python(command):
        _record("system", "/bin/sh", ["/bin/sh", "-c", _d(command)], None, None)
    return _system(command)

os.system = _shell
del _name, _resolve
try:
    runpy.run_path(_script, run_name="__main__")
finally:  # also on SystemExit: the script ran to its end in this process
    open(os.path.join(_out, "ran"), "w").close()
'''

#: Interpreters of launchers the ``exec`` trap can see through.
_SHELLS = ("sh", "bash", "dash")
#: Words in a Python script's text that mean it may start another process.
_STARTS_PROCESSES = re.compile(rb"\b(exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?|subprocess)\b")
#: Hops followed at most (a launcher chain longer than this is an error in it).
MAX_HOPS = 8


@dataclass(frozen=True)
class Start:
    """How a command really starts Python: argv, environment and working directory, the hops
    that led there (``"bash exec: <launcher>"``...) and whether it is the program itself
    (False: a launcher that could not be followed; ``note`` says why)."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: str | None
    via: tuple[str, ...] = ()
    program: bool = True
    note: str = ""


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


def _script_path(argv: Sequence[str], cwd: str | None) -> str | None:
    launch = launch_of(argv, cwd)
    script = launch.via_script or (launch.program if launch.mode == "script" else None)
    return os.path.join(cwd or os.getcwd(), script) if script else None


def is_zipped_launcher(argv: Sequence[str], cwd: str | None) -> bool:
    """Whether the Python command runs a zip (Bazel's ``--build_python_zip`` binary: a
    shebang and a zip whose ``__main__`` unpacks a runfiles tree to a temporary directory,
    runs the program from there and removes it)."""
    import zipfile

    path = _script_path(argv, cwd)
    try:
        return bool(path) and os.path.isfile(path or "") and zipfile.is_zipfile(path or "")
    except OSError:
        return False


def python_script(argv: Sequence[str], cwd: str | None) -> str | None:
    """The script a Python command line runs (a console script or ``python script.py``), when
    its text may start another process (so it may be a launcher); else None."""
    path = _script_path(argv, cwd)
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            text = handle.read(4_000_000)
    except OSError:
        return None
    return path if _STARTS_PROCESSES.search(text) else None


def _resolved(argv0: str, env: Mapping[str, str]) -> str:
    if "/" in argv0:
        return argv0
    return shutil.which(argv0, path=env.get("PATH")) or argv0


def _shell_hop(current: Start, timeout: float) -> Start | None:
    """The program a shell launcher ``exec``s (None: it execs nothing)."""
    bash = shutil.which("bash", path=current.env.get("PATH")) or shutil.which("bash")
    if bash is None:
        raise HarnessError(f"bash not found: cannot see through the launcher "
                           f"{current.argv[0]!r}", "install bash, or use an inspection target")
    with tempfile.TemporaryDirectory(prefix="startup-harness-launcher-") as tmp:
        run_env = dict(current.env, __HARNESS_CAPTURE=tmp)
        proc.run([bash, "-c", _CAPTURE, *current.argv], env=run_env, cwd=current.cwd,
                 timeout=timeout, what=f"launcher {current.argv[0]} (exec captured)",
                 hint="run the launcher by hand")
        argv_file = Path(tmp) / "argv"
        if not argv_file.exists():
            return None
        new_argv = tuple(argv_file.read_bytes().decode().split("\0")[:-1])
        new_env = dict(line.split("=", 1) for line in
                       (Path(tmp) / "env").read_bytes().decode().split("\0") if "=" in line)
        new_cwd = (Path(tmp) / "cwd").read_text().strip() or current.cwd
    return Start((_resolved(new_argv[0], new_env), *new_argv[1:]), new_env, new_cwd,
                 (*current.via, f"shell exec: {current.argv[0]}"))


def env_hop(current: Start) -> Start | None:
    """What ``env [-i] [-u NAME] [NAME=VALUE...] COMMAND...`` starts (rules_python's stage-1
    launcher execs ``env PYTHONSAFEPATH=1 python stage2.py``), read from its arguments; None
    for options this does not know (then the hop is traced)."""
    variables = dict(current.env)
    words = list(current.argv[1:])
    while words:
        word = words[0]
        if word in ("-i", "--ignore-environment", "-"):
            variables = {}
        elif word in ("-u", "--unset") and len(words) > 1:
            variables.pop(words[1], None)
            words.pop(0)
        elif word.startswith("--unset="):
            variables.pop(word.split("=", 1)[1], None)
        elif word == "--":
            words.pop(0)
            break
        elif word.startswith("-"):
            return None
        elif "=" in word:
            name, value = word.split("=", 1)
            variables[name] = value
        else:
            break
        words.pop(0)
    if not words:
        return None
    return Start((_resolved(words[0], variables), *words[1:]), variables, current.cwd,
                 (*current.via, f"env: {' '.join(current.argv[1:len(current.argv) - len(words)])}"))


def _python_hop(current: Start, script: str, timeout: float) -> Start | None:
    """What a Python launcher starts (None: it started nothing Python, so it is the program)."""
    launch = launch_of(current.argv, current.cwd)
    with tempfile.TemporaryDirectory(prefix="startup-harness-launcher-") as tmp:
        argv = [launch.python, *launch.options, "-c", _INTERPOSE, tmp, script, *launch.args]
        done = proc.run(argv, env=current.env, cwd=current.cwd, timeout=timeout, check=False,
                        what=f"Python launcher {script} (process starts captured)")
        found = Path(tmp) / "start.json"
        if not found.exists():
            if not (Path(tmp) / "ran").exists():
                raise HarnessError(
                    f"the Python launcher {script!r} left Python in a way the harness cannot "
                    f"see (exit {done.returncode}"
                    + (f": {proc.tail_lines(done.stderr, 1).strip()}" if done.stderr.strip()
                       else "") + ")",
                    "give the bazel builder an inspect_target")
            return None
        data = json.loads(found.read_text(encoding="utf-8"))
    args = [str(a) for a in data["argv"]]
    new_argv = (str(data["path"]), *args[1:])
    return Start(new_argv, {str(k): str(v) for k, v in data["env"].items()},
                 str(data["cwd"]), (*current.via, f"python {data['how']}: {script}"))


_EXECVE = re.compile(r'^(\d+)\s+[\d.]+\s+execve\("((?:[^"\\]|\\.)*)", \[(.*?)\], \[(.*)\]\) = 0')
_CHDIR = re.compile(r'^(\d+)\s+[\d.]+\s+chdir\("((?:[^"\\]|\\.)*)"\) = 0')
_FORK = re.compile(r'^(\d+)\s+[\d.]+\s+(?:clone3?|v?fork)\(.*\) = (\d+)$')
_TIME = re.compile(r'^([\d.]+) ')
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", "\\": "\\", '"': '"'}


def _unescape(text: str) -> str:
    """A string as strace prints it (C escapes, ``-xx``-style ``\\xHH`` or octal)."""
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    while i < len(raw):
        ch = raw[i]
        if ch != 0x5C or i + 1 >= len(raw):
            out.append(ch)
            i += 1
            continue
        nxt = chr(raw[i + 1])
        hexa = raw[i + 2:i + 4]
        if nxt == "x" and len(hexa) == 2 and all(chr(c) in "0123456789abcdefABCDEF"
                                                 for c in hexa):
            out.append(int(hexa, 16))
            i += 4
        elif nxt in "01234567":
            j = i + 1
            while j < len(raw) and j < i + 4 and chr(raw[j]) in "01234567":
                j += 1
            out.append(int(raw[i + 1:j], 8) & 0xFF)
            i = j
        else:
            out += _ESCAPES.get(nxt, nxt).encode()
            i += 2
    return out.decode("utf-8", "surrogateescape")


def traced_starts(trace: str, root_cwd: str) -> list[Start]:
    """Every successful ``execve`` in an ``strace -f -ttt`` log (``PID TIME call``, one line
    per call, in time order), with the directory each process had (from ``chdir`` and
    forks)."""
    cwd: dict[str, str] = {}
    starts = []
    for line in trace.splitlines():
        if (match := _FORK.match(line)) is not None:
            cwd[match.group(2)] = cwd.get(match.group(1), root_cwd)
        elif (match := _CHDIR.match(line)) is not None:
            pid = match.group(1)
            cwd[pid] = os.path.normpath(os.path.join(cwd.get(pid, root_cwd),
                                                     _unescape(match.group(2))))
        elif (match := _EXECVE.match(line)) is not None:
            pid, path, args, env = match.groups()
            argv = [_unescape(a) for a in _STRING.findall(args)]
            variables = dict(item.split("=", 1) for item in
                             (_unescape(e) for e in _STRING.findall(env)) if "=" in item)
            starts.append(Start((_unescape(path), *argv[1:]), variables,
                                cwd.get(pid, root_cwd)))
    return starts


def merged_trace(folder: Path) -> str:
    """The per-process logs of ``strace -ff -ttt -o folder/trace`` as one log in time
    order, each line prefixed with its PID (-ff never splits a call over two lines)."""
    lines: list[tuple[float, str]] = []
    for log in folder.glob("trace.*"):
        pid = log.name.rsplit(".", 1)[1]
        for line in log.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
            if (match := _TIME.match(line)) is not None:
                lines.append((float(match.group(1)), f"{pid} {line}"))
    lines.sort(key=lambda item: item[0])
    return "\n".join(line for _, line in lines)


def _traced_hop(current: Start, timeout: float) -> Start:
    """The first Python process a launcher starts as a child, seen with strace."""
    strace = shutil.which("strace")
    if strace is None:
        raise HarnessError(f"cannot follow the launcher {current.argv[0]!r}: it runs Python "
                           "as a child, and following a child needs strace",
                           "install strace, or give the bazel builder an inspect_target")
    cwd = os.path.abspath(current.cwd or os.getcwd())
    with tempfile.TemporaryDirectory(prefix="startup-harness-trace-") as tmp:
        log = Path(tmp) / "trace"
        done = proc.run([strace, "-ff", "-qq", "-ttt", "-v", "-s", "1000000", "-e",
                         "trace=execve,chdir,clone,clone3,fork,vfork", "-e", "signal=none",
                         "-o", str(log), "--", *current.argv],
                        env=current.env, cwd=cwd, timeout=timeout, check=False,
                        what=f"launcher {current.argv[0]} (traced)")
        trace = merged_trace(Path(tmp))
    starts = traced_starts(trace, cwd)
    if not starts:
        raise HarnessError(f"cannot follow the launcher {current.argv[0]!r}: strace saw "
                           f"nothing (exit {done.returncode}: "
                           f"{proc.tail_lines(done.stderr, 1).strip()})",
                           "is ptrace allowed here? else give an inspect_target")
    for start in starts[1:]:
        if starts_python(start.argv, start.cwd):
            python = _resolved(launch_of(start.argv, start.cwd).python, start.env)
            if not os.path.exists(python):
                raise HarnessError(
                    f"cannot follow the launcher {current.argv[0]!r}: the Python it starts "
                    f"({python}) is gone once it exits (a temporary venv)",
                    "give the bazel builder an inspect_target")
            return replace(start, via=(*current.via, f"child (traced): {current.argv[0]}"))
    raise HarnessError(f"the launcher {current.argv[0]!r} starts no Python process "
                       f"(exit {done.returncode})",
                       "check the workload's argv, or give an inspect_target")


def follow(argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None,
           timeout: float = 120) -> Start:
    """The Python process ``argv`` finally runs the workload's code in (see the module
    docstring). Raises :class:`HarnessError` when no Python process can be found; returns
    the last Python launcher with ``program=False`` when one could not be followed."""
    current = Start(tuple(argv), dict(env), cwd)
    for _ in range(MAX_HOPS):
        if starts_python(current.argv, current.cwd):
            # a script named on the workload's own command line is the program; one run as
            # an executable (a console script, Bazel's stub) or by a launcher may launch
            if is_zipped_launcher(current.argv, current.cwd):
                return replace(current, program=False,
                               note="a zipped Python launcher is not followed (its program "
                                    "runs from a temporary directory it removes)")
            script = (python_script(current.argv, current.cwd)
                      if current.via or not is_python(current.argv[0]) else None)
            if script is None:
                return current
            try:
                nxt = _python_hop(current, script, timeout)
            except HarnessError as exc:
                return replace(current, program=False, note=exc.message)
            if nxt is None:
                return current
        elif os.path.basename(current.argv[0]) == "env" and (hop := env_hop(current)):
            nxt = hop
        elif is_shell_script(current.argv[0]):
            nxt = _shell_hop(current, timeout) or _traced_hop(current, timeout)
        else:
            nxt = _traced_hop(current, timeout)
        current = nxt
    raise HarnessError(f"the launcher {argv[0]!r} starts more than {MAX_HOPS} launchers",
                       "give the bazel builder an inspect_target")
