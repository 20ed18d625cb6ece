"""The one error type the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations

from collections.abc import Iterable


class HarnessError(Exception):
    """An error the user can act on: a message, and a hint saying what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """``error: MESSAGE (hint: HINT)`` on one line; a message or hint echoing a huge value
        (a 70,000-character label) is clipped in its middle, so the end (what is wrong with
        it) stays."""
        text = f"error: {clip(self.message, MAX_MESSAGE)}"
        if self.hint:
            text += f" (hint: {clip(self.hint, MAX_MESSAGE // 2)})"
        return " ".join(text.split())


#: The longest message (and twice the longest hint) an error line shows.
MAX_MESSAGE = 600


def clip(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters: its start and end, " … " between."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    return f"{text[:limit - tail - 3]} … {text[-tail:]}"


class ConfigError(HarnessError):
    """The config file is invalid; the message names the file and the field."""


class SourceError(HarnessError):
    """A source (git ref, path, requirement) cannot be resolved."""


class ProcessError(HarnessError):
    """A subprocess failed; carries its return code and the tail of its output."""

    def __init__(self, message: str, hint: str = "", returncode: int | None = None,
                 output_tail: str = "") -> None:
        super().__init__(message, hint)
        self.returncode = returncode
        self.output_tail = output_tail


def field_path(parts: Iterable[str | int]) -> str:
    """``variants[1].source`` from a validator's path (``("variants", 1, "source")``)."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"
