"""The one door for subprocesses, and the controlled environment timed commands see.

Every child process of the harness is started by :func:`run` (or :func:`stream`, which also
hands over the child's stdout line by line): an argv list (never a shell),
an explicit environment, a timeout, captured output, and one error type on failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ProcessError

#: Variables passed from the caller's environment to timed commands and the probe.
BASE_ALLOWED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM")

#: Prefixes never passed through implicitly: they change what the interpreter does at start-up.
SCRUBBED_PREFIXES = ("PYTHON", "PIP_", "UV_", "VIRTUAL_ENV", "CONDA_", "__PYVENV")


#: In a run's scratch dir: one line ``PGID START`` per child process group the run started
#: (``START``: the leader's start time in clock ticks since boot, from ``/proc``). Every child
#: has a group of its own, so a SIGKILL of the harness's group does not reach it: the next run
#: ends the groups a killed run recorded (:func:`end_recorded_groups`) before it removes the
#: scratch dir they may still run in.
GROUPS_FILE = ".startup-harness-groups"
_groups_log: list[Path | None] = [None]


def record_groups_in(path: Path | None) -> None:
    """Record every child's process group in ``path`` from now on (``None``: stop)."""
    _groups_log[0] = path


def _record_group(pid: int) -> None:
    path = _groups_log[0]
    if path is None:
        return
    started = start_time(pid)
    with contextlib.suppress(OSError), open(path, "a", encoding="ascii") as handle:
        handle.write(f"{pid} {started if started is not None else 0}\n")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (None when it is gone)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def group_members(pgid: int, since: int = 0) -> list[int]:
    """Live processes (zombies excluded) of process group ``pgid`` that started at or after
    ``since`` (clock ticks since boot)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if (fields and len(fields) > 19 and fields[0] != "Z" and int(fields[2]) == pgid
                and int(fields[19]) >= since):
            found.append(int(entry))
    return found


def uses_dir(pid: int, root: str) -> bool:
    """Whether process ``pid`` works in ``root``: its working directory, a command-line
    argument or an environment value (e.g. its TMPDIR) lies inside it."""
    root = root.rstrip("/") + "/"
    try:
        if (os.readlink(f"/proc/{pid}/cwd") + "/").startswith(root):
            return True
        for name in ("cmdline", "environ"):
            with open(f"/proc/{pid}/{name}", "rb") as handle:
                if root.rstrip("/").encode() in handle.read():
                    return True
    except OSError:
        return False
    return False


def end_recorded_groups(path: Path, wait: float = 5.0) -> int:
    """SIGKILL what is left of the process groups a dead run recorded in ``path`` (a file in
    its scratch dir); the number of processes ended. Only while they are still the run's: a
    group whose leader still runs with the recorded start time is ended whole; one whose
    leader is gone loses only the members started since then that work in the scratch dir
    (a PID in use as a group id is not reused, but a reused one could lead a stranger's group
    once the first has died)."""
    try:
        lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return 0
    scratch = str(path.parent)
    doomed: set[int] = set()
    for line in dict.fromkeys(lines):
        try:
            pgid, started = (int(x) for x in line.split())
        except ValueError:
            continue
        if pgid <= 1 or pgid == os.getpgrp():
            continue
        leader = start_time(pgid)
        if leader is not None and leader != started:
            continue  # the PID now belongs to another process: not ours
        members = group_members(pgid, started)
        if leader is None:
            members = [pid for pid in members if uses_dir(pid, scratch)]
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        elif members:
            signal_group(pgid, signal.SIGKILL)
        doomed.update(members)
    ended = len(doomed)
    deadline = time.monotonic() + wait
    while doomed and time.monotonic() < deadline:
        doomed = {pid for pid in doomed if alive(pid)}
        if doomed:
            time.sleep(0.05)
    return ended


@dataclass(frozen=True)
class Completed:
    """A finished process: its argv, return code, output and wall time."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def controlled_env(passthrough: Iterable[str] = (), extra: Mapping[str, str] | None = None,
                   source: Mapping[str, str] | None = None) -> dict[str, str]:
    """Build the allow-listed environment: base names + ``passthrough`` from ``source``, then
    ``extra`` set explicitly. Nothing else of the caller's environment leaks in."""
    source = os.environ if source is None else source
    env: dict[str, str] = {}
    for name in (*BASE_ALLOWED_ENV, *passthrough):
        if name in source:
            env[name] = source[name]
    for name in list(source):
        if name.startswith("LC_") and name not in env:
            env[name] = source[name]
    env.update(extra or {})
    return env


def scrubbed_env(extra: Mapping[str, str] | None = None,
                 source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus interpreter/installer variables, for build tools."""
    source = os.environ if source is None else source
    env = {k: v for k, v in source.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env.update(extra or {})
    return env


def describe(argv: Sequence[str]) -> str:
    """A short, readable form of an argv for messages."""
    import shlex

    text = shlex.join(argv)
    return text if len(text) <= 200 else text[:197] + "..."


def run(argv: Sequence[str], *, env: Mapping[str, str], cwd: str | os.PathLike[str] | None = None,
        timeout: float | None = 3600, check: bool = True, what: str = "command",
        hint: str = "", interrupt: tuple[int, float] | None = None) -> Completed:
    """Run ``argv`` (no shell) and return its result; raise :class:`ProcessError` on failure
    when ``check`` is true. ``what`` names the step in error messages. ``interrupt``: when the
    harness is interrupted (Ctrl-C, SIGTERM) while the child runs, send it this signal and
    give it that many seconds to wind down (a Bazel client cancels the build on its server on
    SIGINT) before it is killed; without it the child is killed at once."""
    argv = tuple(str(a) for a in argv)
    start = time.perf_counter()
    try:
        proc = _run_grouped(argv, env, cwd, timeout, interrupt)
    except FileNotFoundError as exc:
        raise ProcessError(f"{what}: cannot execute {argv[0]!r}",
                           hint or "is it installed and on PATH?") from exc
    except subprocess.TimeoutExpired as exc:
        raise ProcessError(f"{what}: timed out after {timeout:.0f}s: {describe(argv)}",
                           hint) from exc
    return _checked(Completed(argv, proc.returncode, proc.stdout, proc.stderr,
                              time.perf_counter() - start), check, what, hint)


def _checked(done: Completed, check: bool, what: str, hint: str) -> Completed:
    """``done``, or with ``check`` a ProcessError naming the command, its exit code and the
    last line of its output when it failed."""
    if check and done.returncode != 0:
        tail = tail_lines(done.stderr or done.stdout)
        last = tail.splitlines()[-1] if tail else ""
        raise ProcessError(f"{what} failed (exit {done.returncode}): {describe(done.argv)}"
                           + (f": {last}" if last else ""), hint,
                           returncode=done.returncode, output_tail=tail)
    return done


def stream(argv: Sequence[str], *, env: Mapping[str, str], on_line: Callable[[str], None],
           cwd: str | os.PathLike[str] | None = None, timeout: float | None = 3600,
           check: bool = True, what: str = "command", hint: str = "") -> Completed:
    """Like :func:`run`, but each line the child writes to stdout is passed to ``on_line``
    as it arrives (progress of a long child); stderr is captured."""
    import threading

    argv = tuple(str(a) for a in argv)
    start = time.perf_counter()
    try:
        child = subprocess.Popen(  # noqa: S603 - argv list, never a shell
            argv, env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1,
            start_new_session=True)
    except FileNotFoundError as exc:
        raise ProcessError(f"{what}: cannot execute {argv[0]!r}",
                           hint or "is it installed and on PATH?") from exc
    _record_group(child.pid)
    err: list[str] = []
    out: list[str] = []
    reader = threading.Thread(target=lambda: err.append(child.stderr.read() if child.stderr
                                                        else ""), daemon=True)
    reader.start()
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        signal_group(child.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill) if timeout else None
    if timer:
        timer.start()
    try:
        assert child.stdout is not None
        for line in child.stdout:
            out.append(line)
            on_line(line.rstrip("\n"))
        child.wait()
    except BaseException:
        signal_group(child.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=2)
        signal_group(child.pid, signal.SIGKILL)
        child.wait()
        raise
    finally:
        signal_group(child.pid, signal.SIGKILL)
        if timer:
            timer.cancel()
        reader.join(timeout=10)
        for pipe in (child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()
    if timed_out.is_set():
        raise ProcessError(f"{what}: timed out after {timeout:.0f}s: {describe(argv)}", hint)
    return _checked(Completed(argv, child.returncode, "".join(out), "".join(err),
                              time.perf_counter() - start), check, what, hint)


def _run_grouped(argv: Sequence[str], env: Mapping[str, str],
                 cwd: str | os.PathLike[str] | None, timeout: float | None,
                 interrupt: tuple[int, float] | None) -> subprocess.CompletedProcess[str]:
    """subprocess.run in a process group of its own, which the harness stops as a whole: on a
    timeout (SIGTERM, then SIGKILL after 2 s) or an interruption of the harness (``interrupt``'s
    signal, default SIGTERM, then SIGKILL after its grace), so no build backend or workload
    outlives it; whatever the child left running in its group is killed when it exits."""
    signum, grace = interrupt or (signal.SIGTERM, 2.0)
    with subprocess.Popen(  # noqa: S603 - argv list, never a shell
            argv, env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, errors="replace",
            start_new_session=True) as child:
        _record_group(child.pid)
        try:
            stdout, stderr = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(child, signal.SIGTERM, 2.0)
            raise
        except BaseException:
            stop_group(child, signum, grace)
            raise
        signal_group(child.pid, signal.SIGKILL)  # leftovers (the leader is gone)
    return subprocess.CompletedProcess(argv, child.returncode, stdout, stderr)


def signal_group(pgid: int, signum: int) -> None:
    """Send ``signum`` to the process group ``pgid``; nothing if it is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def stop_group(child: subprocess.Popen[str], signum: int, grace: float) -> None:
    """Ask ``child``'s process group to stop with ``signum``, wait ``grace`` seconds, then kill
    the group; reap the child. Safe to call again from a second interruption."""
    signal_group(child.pid, signum)
    try:
        child.communicate(timeout=grace)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        pass
    finally:
        signal_group(child.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            child.wait(timeout=10)


def tail_lines(text: str, lines: int = 20) -> str:
    """The last ``lines`` non-empty lines of ``text``."""
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is gone for our purposes
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
