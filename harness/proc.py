"""The one door for subprocesses, and the controlled environment timed commands see.

Every child process of the harness is started by :func:`run` (or :func:`stream`, which also
hands over the child's stdout line by line): an argv list (never a shell),
an explicit environment, a timeout, captured output, and one error type on failure.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from harness.errors import ProcessError

#: Variables passed from the caller's environment to timed commands and the probe.
BASE_ALLOWED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM")

#: Prefixes never passed through implicitly: they change what the interpreter does at start-up.
SCRUBBED_PREFIXES = ("PYTHON", "PIP_", "UV_", "VIRTUAL_ENV", "CONDA_", "__PYVENV")


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
        if interrupt is None:
            proc = subprocess.run(  # noqa: S603 - argv list, never a shell
                argv, env=dict(env), cwd=cwd, timeout=timeout, capture_output=True, text=True,
                errors="replace", stdin=subprocess.DEVNULL, check=False,
            )
        else:
            proc = _run_interruptible(argv, env, cwd, timeout, interrupt)
    except FileNotFoundError as exc:
        raise ProcessError(f"{what}: cannot execute {argv[0]!r}",
                           hint or "is it installed and on PATH?") from exc
    except subprocess.TimeoutExpired as exc:
        raise ProcessError(f"{what}: timed out after {timeout:.0f}s: {describe(argv)}",
                           hint) from exc
    seconds = time.perf_counter() - start
    done = Completed(argv, proc.returncode, proc.stdout, proc.stderr, seconds)
    if check and proc.returncode != 0:
        tail = tail_lines(proc.stderr or proc.stdout)
        last = tail.splitlines()[-1] if tail else ""
        raise ProcessError(f"{what} failed (exit {proc.returncode}): {describe(argv)}"
                           + (f": {last}" if last else ""), hint,
                           returncode=proc.returncode, output_tail=tail)
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
            stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1)
    except FileNotFoundError as exc:
        raise ProcessError(f"{what}: cannot execute {argv[0]!r}",
                           hint or "is it installed and on PATH?") from exc
    err: list[str] = []
    out: list[str] = []
    reader = threading.Thread(target=lambda: err.append(child.stderr.read() if child.stderr
                                                        else ""), daemon=True)
    reader.start()
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        child.kill()

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
        child.kill()
        child.wait()
        raise
    finally:
        if timer:
            timer.cancel()
        reader.join(timeout=10)
        for pipe in (child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()
    if timed_out.is_set():
        raise ProcessError(f"{what}: timed out after {timeout:.0f}s: {describe(argv)}", hint)
    done = Completed(argv, child.returncode, "".join(out), "".join(err),
                     time.perf_counter() - start)
    if check and child.returncode != 0:
        tail = tail_lines(done.stderr or done.stdout)
        last = tail.splitlines()[-1] if tail else ""
        raise ProcessError(f"{what} failed (exit {child.returncode}): {describe(argv)}"
                           + (f": {last}" if last else ""), hint,
                           returncode=child.returncode, output_tail=tail)
    return done


def _run_interruptible(argv: Sequence[str], env: Mapping[str, str],
                       cwd: str | os.PathLike[str] | None, timeout: float | None,
                       interrupt: tuple[int, float]) -> subprocess.CompletedProcess[str]:
    """subprocess.run, except that an interruption is passed on to the child first."""
    signum, grace = interrupt
    with subprocess.Popen(  # noqa: S603 - argv list, never a shell
            argv, env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, errors="replace") as child:
        try:
            stdout, stderr = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise
        except BaseException:
            try:
                child.send_signal(signum)
                child.communicate(timeout=grace)
            finally:
                if child.poll() is None:
                    child.kill()
            raise
    return subprocess.CompletedProcess(argv, child.returncode, stdout, stderr)


def tail_lines(text: str, lines: int = 20) -> str:
    """The last ``lines`` non-empty lines of ``text``."""
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])
