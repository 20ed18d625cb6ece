"""What a person watching a run sees while it works: nothing (piped, ``--quiet``), plain lines
(``--verbose`` when not a terminal), or a live bar with an ETA (a terminal; rich).

A progress object is called with a message (one line of log) and told about counted steps:
``start(what, total)`` then ``advance(done)`` (the number done so far). Code that only has a
``Callable[[str], None]`` keeps working: :func:`start` and :func:`advance` do nothing for a
plain callable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any


class Silent:
    """Shows nothing (``--quiet``, or stdout is not a terminal)."""

    def __call__(self, message: str, *, important: bool = False) -> None:
        return None

    def start(self, what: str, total: int) -> None:
        return None

    def advance(self, done: int) -> None:
        return None

    def close(self) -> None:
        return None


class Lines(Silent):
    """Plain lines on a stream: every message, and a counted step at start and end (for logs
    and ``--verbose`` without a terminal)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self._what = ""
        self._total = 0

    def __call__(self, message: str, *, important: bool = False) -> None:
        print(f"[startup-harness] {message}", file=self.stream, flush=True)

    def start(self, what: str, total: int) -> None:
        self._what, self._total = what, total
        self(f"{what}: 0/{total}")

    def advance(self, done: int) -> None:
        if self._total and done >= self._total:
            self(f"{self._what}: {done}/{self._total}")
            self._total = 0


class Live(Silent):
    """A rich progress bar on stderr with elapsed time and ETA; important messages (and all of
    them with ``verbose``) print above it."""

    def __init__(self, verbose: bool = False, stream: IO[str] | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.verbose = verbose
        self.console = Console(file=stream or sys.stderr, highlight=False)
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(bar_width=None),
                            MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                            TimeRemainingColumn(), console=self.console, transient=True,
                            expand=True)
        self.task: Any = None
        self.bar.start()

    def __call__(self, message: str, *, important: bool = False) -> None:
        if important or self.verbose:
            self.bar.console.print(message, markup=False)
        if self.task is not None and not important:
            self.bar.update(self.task, description=_short(message))

    def start(self, what: str, total: int) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(_short(what), total=max(total, 1))

    def advance(self, done: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=done)

    def close(self) -> None:
        self.bar.stop()


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def choose(*, quiet: bool, verbose: bool, stdout: IO[str] | None = None,
           stderr: IO[str] | None = None) -> Silent:
    """Live on a terminal, plain lines with ``verbose`` when piped, else nothing."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    if quiet:
        return Silent()
    if _tty(out) and _tty(err):
        return Live(verbose=verbose, stream=err)
    return Lines(err) if verbose else Silent()


def _tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def start(progress: Callable[..., None] | None, what: str, total: int) -> None:
    """Begin a counted step on ``progress`` (nothing for a plain callable)."""
    method = getattr(progress, "start", None)
    if method is not None:
        method(what, total)
    elif progress is not None:
        progress(what)


def advance(progress: Callable[..., None] | None, done: int) -> None:
    """``done`` units of the current step are finished (nothing for a plain callable)."""
    method = getattr(progress, "advance", None)
    if method is not None:
        method(done)


def important(progress: Callable[..., None] | None, message: str) -> None:
    """A message worth showing even without ``--verbose`` (a finished build, a failure)."""
    if progress is None:
        return
    if isinstance(progress, Silent):
        progress(message, important=True)
    else:
        progress(message)


class Throttle:
    """Calls ``advance`` at most every ``seconds`` (a timer may finish thousands of runs)."""

    def __init__(self, progress: Callable[..., None] | None, seconds: float = 0.1) -> None:
        self.progress = progress
        self.seconds = seconds
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= self.seconds:
            self._last = now
            advance(self.progress, done)
