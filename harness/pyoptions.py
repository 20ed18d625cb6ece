"""Python's interpreter command line, parsed in one place: options, mode, program, arguments.

Stdlib only, and written for any Python 3.7+: the health probe runs inside the measured
interpreter, where it cannot import the harness, so :func:`harness.inspection.runner.
probe_source` puts this module's source in front of the probe's.
"""

from __future__ import annotations

TYPE_CHECKING = False  # imports nothing at run time: inside the probe, a workload's own
if TYPE_CHECKING:      # collections.py could stand in for the stdlib's
    from collections.abc import Sequence

#: Interpreter options that take a value as the next argument (or attached: ``-Xdev``).
OPTIONS_WITH_VALUE = ("-X", "-W", "--check-hash-based-pycs")


def split_options(argv: Sequence[str]) -> tuple[list[str], str, str | None, list[str]]:
    """Split a Python command line after ``argv[0]``: its options (``-X``/``-W`` values given
    as a separate word: ``-Xdev`` becomes ``-X dev``), the mode (``-c``, ``-m``, ``script``,
    ``stdin``), the program (code, module or script path) and the program's arguments."""
    options: list[str] = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in OPTIONS_WITH_VALUE:
            options += [arg, argv[i + 1]] if i + 1 < len(argv) else [arg]
            i += 2
            continue
        if arg in ("-c", "-m"):
            return options, arg, argv[i + 1] if i + 1 < len(argv) else "", list(argv[i + 2:])
        if arg == "-":
            return options, "stdin", None, list(argv[i + 1:])
        if arg.startswith("--check-hash-based-pycs="):
            options.append(arg)
        elif arg.startswith("-") and len(arg) > 1 and not arg.startswith("--"):
            # combined short flags: "-IS", "-Xdev", "-cCODE", "-mmod"
            for j, letter in enumerate(arg[1:], start=1):
                if letter in "XW":
                    rest = arg[j + 1:]
                    if j > 1:
                        options.append("-" + arg[1:j])
                    if rest:
                        options += ["-" + letter, rest]
                        break
                    options.append("-" + letter)
                    if i + 1 < len(argv):
                        options.append(argv[i + 1])
                        i += 1
                    break
                if letter in "cm":
                    if j > 1:
                        options.append("-" + arg[1:j])
                    rest = arg[j + 1:]
                    mode = "-" + letter
                    if rest:
                        return options, mode, rest, list(argv[i + 1:])
                    return options, mode, argv[i + 1] if i + 1 < len(argv) else "", \
                        list(argv[i + 2:])
            else:
                options.append(arg)
        elif arg.startswith("--"):
            options.append(arg)
        else:
            return options, "script", arg, list(argv[i + 1:])
        i += 1
    return options, "stdin", None, []


def short_flags(options: Sequence[str]) -> str:
    """The single-letter flags among ``options`` (as :func:`split_options` returns them):
    ``-IS -X dev -B`` gives ``"ISB"``; option values are skipped."""
    letters = ""
    skip = False
    for opt in options:
        if skip:
            skip = False
            continue
        if opt in OPTIONS_WITH_VALUE:
            skip = True
            continue
        if opt.startswith("-") and not opt.startswith("--"):
            letters += opt[1:]
    return letters


def has_flag(argv: Sequence[str], letter: str) -> bool:
    """Whether the Python command line ``argv`` passes the flag ``-<letter>`` (alone or
    combined, as in ``-IB``) before its program."""
    return letter in short_flags(split_options(argv)[0])
