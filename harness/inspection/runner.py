"""Look inside a variant's interpreter: run the environment-health probe and ``-X importtime``.

Not pure: both start the variant's interpreter through :func:`harness.proc.run`. What to start
is decided by the pure :func:`launch_of` (which interpreter a workload argv runs, with which
options, and what its ``sys.path[0]`` will be), so the probe sees the interpreter exactly as
the workload does.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import statistics
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import proc, pyoptions
from harness.errors import HarnessError
from harness.inspection import importtime
from harness.inspection.health import ProbeReport
from harness.inspection.importtime import ImportTimeTree
from harness.pyoptions import short_flags, split_options

PROBE_MARKER = "@@startup-harness-probe@@"
#: Options that would stop the probe from running or make it interactive.
_DROPPED = ("-i", "-h", "-?", "--help", "-V", "--version", "--help-env", "--help-xoptions",
            "--help-all")
#: Above this many characters the module list goes to a file instead of the command line.
_MAX_ARG = 60_000


@functools.cache
def probe_source() -> str:
    """The probe script's source (run with ``python -c``), after the one interpreter-options
    parser it uses (:mod:`harness.pyoptions`: the probe cannot import the harness)."""
    return (Path(pyoptions.__file__).read_text(encoding="utf-8") + "\n"
            + (Path(__file__).parent / "probe.py").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Launch:
    """How a workload argv starts Python.

    ``python`` is the interpreter, ``options`` its options before the program (``-I``, ``-X
    frozen_modules=off``, ...), ``mode`` one of ``"-c"``, ``"-m"``, ``"script"``, ``"stdin"``;
    ``program`` the script path or module, ``args`` what follows; ``path0`` the directory the
    interpreter puts first on sys.path ("" = the cwd, as for ``-c``; None with -I or -P)."""

    python: str
    options: tuple[str, ...]
    mode: str
    program: str | None
    args: tuple[str, ...]
    path0: str | None
    via_script: str | None = None  # the console script whose shebang named ``python``

    def argv_with(self, *extra_options: str) -> tuple[str, ...]:
        """The same start, with ``extra_options`` added to the interpreter's options."""
        head = [self.python, *self.options, *extra_options]
        if self.mode in ("-c", "-m"):
            return (*head, self.mode, self.program or "", *self.args)
        if self.mode == "script":
            return (*head, self.program or "", *self.args)
        return (*head, *self.args)


def is_python(path: str) -> bool:
    """Whether ``path`` names a Python interpreter (``python``, ``python3.12``, ``pypy3``...)."""
    name = os.path.basename(path).lower().removesuffix(".exe")
    return name.startswith(("python", "pypy")) and not name.endswith(("-config", "-gdb.py"))


def read_shebang(path: str) -> list[str] | None:
    """The interpreter argv of a ``#!`` script whose interpreter is Python (also uv's and pip's
    ``#!/bin/sh`` + ``'''exec' python`` trampoline for long paths), or None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1024)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    lines = head.decode("utf-8", "replace").splitlines()
    words = lines[0][2:].split()
    if words and os.path.basename(words[0]) == "env" and len(words) > 1:
        words = [w for w in words[1:] if w != "-S"]
    if words and is_python(words[0]):
        return words
    if words and words[0] in ("/bin/sh", "/usr/bin/sh") and len(lines) > 1:
        second = lines[1].split()
        if second[:1] == ["'''exec'"] and len(second) > 1:
            inner = [w.strip("'\"") for w in second[1:] if w not in ('"$0"', '"$@"', "'''")]
            if inner and is_python(inner[0]):
                return inner
    return None


def launch_of(argv: Sequence[str], cwd: str | None = None) -> Launch:
    """How ``argv`` starts Python: an interpreter command line, or a script with a Python
    shebang (a venv's console script). Raises :class:`HarnessError` otherwise."""
    if not argv:
        raise HarnessError("empty workload command", "give the workload an argv")
    base = os.path.abspath(cwd or os.getcwd())
    if is_python(argv[0]):
        python, pre, rest, via = argv[0], [], list(argv), None
    else:
        shebang = read_shebang(argv[0])
        if shebang is None:
            raise HarnessError(f"cannot tell which Python {argv[0]!r} starts",
                               "start the workload as '{python} ...' or with a console "
                               "script whose shebang names a Python interpreter")
        python, pre, via = shebang[0], shebang[1:], argv[0]
        rest = [python, *pre, argv[0], *argv[1:]]
    options, mode, program, args = split_options(rest)
    if set(short_flags(options)) & {"I", "P"}:  # nothing is put in front of sys.path
        path0 = None
    elif mode == "script" and program:
        path0 = os.path.dirname(os.path.realpath(os.path.join(base, program)))
    elif mode == "-m":
        path0 = base
    else:
        path0 = ""
    del pre
    return Launch(python, tuple(options), mode, program, tuple(args), path0, via)


def probe_options(options: Sequence[str]) -> tuple[str, ...]:
    """The workload's interpreter options the probe runs with (minus interactive/help ones and
    ``-X importtime``, which would only add noise)."""
    out: list[str] = []
    skip_next = False
    for i, opt in enumerate(options):
        if skip_next:
            skip_next = False
            continue
        if opt in _DROPPED:
            continue
        if opt == "-X" and i + 1 < len(options) and options[i + 1].startswith("importtime"):
            skip_next = True
            continue
        out.append(opt)
    return tuple(out)


def probe_argv(python: str, *, interpreter_args: Sequence[str] = (), path0: str | None = None,
               modules: Sequence[str] = (), modules_file: str | None = None) -> list[str]:
    """The probe's command line (pure)."""
    argv = [python, *interpreter_args, "-c", probe_source()]
    if path0 is not None:
        argv += ["--path0", path0]
    if modules_file is not None:
        argv += ["--modules-file", modules_file]
    elif modules:
        argv += ["--modules", ",".join(modules)]
    return argv


def parse_probe_output(stdout: str, where: str = "probe") -> ProbeReport:
    """The ProbeReport in the probe's stdout (after its marker; other output is ignored)."""
    import json

    for line in reversed(stdout.splitlines()):
        if line.startswith(PROBE_MARKER):
            try:
                return ProbeReport.from_dict(json.loads(line[len(PROBE_MARKER):]))
            except (ValueError, KeyError, TypeError) as exc:
                raise HarnessError(f"{where}: unreadable probe output: {exc}",
                                   "report this as a startup-harness bug") from exc
    raise HarnessError(f"{where}: the probe printed no result",
                       "does the interpreter start? run it by hand")


def run_probe(python: str, *, interpreter_args: Sequence[str] = (), path0: str | None = None,
              cwd: str | None = None, env: Mapping[str, str],
              modules: Sequence[str] = (), timeout: float = 120) -> ProbeReport:
    """Run the probe in ``python`` (started with ``interpreter_args``, in ``cwd``, with ``env``
    exactly) and return what it found. ``path0`` replaces the probe's own sys.path[0];
    ``modules`` are the workload's modules whose bytecode is checked (never imported)."""
    what = f"environment probe in {python}"
    modules = [m for m in modules if m]
    if len(",".join(modules)) <= _MAX_ARG:
        done = proc.run(probe_argv(python, interpreter_args=interpreter_args, path0=path0,
                                   modules=modules),
                        env=env, cwd=cwd, timeout=timeout, what=what)
        return with_pth_costs(parse_probe_output(done.stdout, what), python, env=env, cwd=cwd,
                              timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="startup-harness-probe-") as tmp:
        listing = Path(tmp) / "modules.txt"
        listing.write_text("\n".join(modules), encoding="utf-8")
        done = proc.run(probe_argv(python, interpreter_args=interpreter_args, path0=path0,
                                   modules_file=str(listing)),
                        env=env, cwd=cwd, timeout=timeout, what=what)
    return with_pth_costs(parse_probe_output(done.stdout, what), python, env=env, cwd=cwd,
                          timeout=timeout)


#: Runs per ``.pth`` import line (median), and how many lines are measured at most.
PTH_COST_RUNS = 5
PTH_COST_MAX_LINES = 20

#: Run as ``python -S -c <this> PTH INDEX``: executes the INDEX-th import line of the ``.pth``
#: file PTH, read whole from the file the way ``site`` reads it (never the probe's shortened
#: copy), with the file's directory on sys.path, and prints how long it took.
_PTH_TIMER = """import sys, time, os
pth, index = sys.argv[1], int(sys.argv[2])
sys.path.append(os.path.dirname(pth))
with open(pth, "rb") as f:
    raw = f.read()
try:
    text = raw.decode("utf-8-sig")
except UnicodeDecodeError:
    import locale
    text = raw.decode(locale.getpreferredencoding(False))
lines = [l for l in text.splitlines(keepends=True)
         if not l.startswith("#") and l.startswith(("import ", "import\t"))]
line = lines[index]
start = time.perf_counter_ns()
try:
    exec(line)
finally:
    print("cost:", time.perf_counter_ns() - start)
"""


def pth_line_cost_us(python: str, pth: str, index: int, *, env: Mapping[str, str],
                     cwd: str | None = None, runs: int = PTH_COST_RUNS,
                     timeout: float = 60) -> int:
    """What the ``index``-th import line of the ``.pth`` file ``pth`` costs at start-up: the
    median wall time of executing the whole line alone in a fresh ``python -S`` (so nothing
    it imports is loaded yet) with its site directory on sys.path, in microseconds; -1 when
    it cannot be measured."""
    costs = []
    for _ in range(runs):
        done = proc.run([python, "-S", "-c", _PTH_TIMER, pth, str(index)], env=env, cwd=cwd,
                        timeout=timeout, check=False, what=".pth line cost")
        found = [w for w in done.stdout.split() if w.isdigit()]
        if not found:
            return -1
        costs.append(int(found[-1]) // 1000)
    return int(statistics.median(costs))


def with_pth_costs(report: ProbeReport, python: str, *, env: Mapping[str, str],
                   cwd: str | None = None, timeout: float = 60) -> ProbeReport:
    """``report`` with the measured cost of every processed ``.pth`` import line (the first
    :data:`PTH_COST_MAX_LINES`; the rest -1)."""
    budget = PTH_COST_MAX_LINES
    files = []
    for pth in report.pth_files:
        if not pth.processed or not pth.import_lines:
            files.append(pth)
            continue
        costs = []
        for index in range(len(pth.import_lines)):
            if budget <= 0:
                costs.append(-1)
                continue
            budget -= 1
            costs.append(pth_line_cost_us(python, pth.path, index, env=env, cwd=cwd,
                                          timeout=timeout))
        files.append(dataclasses.replace(pth, import_costs_us=tuple(costs)))
    return dataclasses.replace(report, pth_files=tuple(files))


def probe_for_workload(argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None = None,
                       modules: Sequence[str] = (), timeout: float = 120) -> ProbeReport:
    """Run the probe in the interpreter ``argv`` starts, with the same options and sys.path[0]
    (a console script's shebang interpreter for ``bin/tool`` workloads)."""
    launch = launch_of(argv, cwd)
    path0 = launch.path0
    if env.get("PYTHONSAFEPATH") and not set(short_flags(launch.options)) & {"E", "I"}:
        path0 = None  # 3.11+: nothing is put in front of sys.path (rules_python's stage 1)
    return run_probe(launch.python, interpreter_args=probe_options(launch.options),
                     path0=path0, cwd=cwd, env=env, modules=modules, timeout=timeout)


def run_inspect_command(argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None = None,
                        timeout: float = 300) -> ProbeReport:
    """Run a built program whose output is the probe's (the seed's inspection target, its
    ``main`` printed by ``startup-harness probe-script``) and read its report, with the cost
    of its ``.pth`` import lines measured in the interpreter it ran in."""
    what = f"inspection program {argv[0]}"
    done = proc.run(argv, env=env, cwd=cwd, timeout=timeout, what=what,
                    hint="its main must be the output of `startup-harness probe-script`")
    report = parse_probe_output(done.stdout, what)
    python = (report.interpreter.executable if report.interpreter else "") or report.python
    return with_pth_costs(report, python, env=env, cwd=cwd, timeout=timeout)


def importtime_argv(argv: Sequence[str], cwd: str | None = None) -> tuple[str, ...]:
    """``argv`` with ``-X importtime`` added to the interpreter's options (pure apart from
    reading a console script's shebang)."""
    return launch_of(argv, cwd).argv_with("-X", "importtime")


def adds_only_importtime(argv: Sequence[str], timed: Sequence[str]) -> bool:
    """Whether ``timed`` is ``argv`` itself with ``-X importtime`` among the interpreter's
    options (pure): the same interpreter started the same way, no launcher or shebang hop."""
    words, plain = list(timed), list(argv)
    return any(words[i:i + 2] == ["-X", "importtime"] and words[:i] + words[i + 2:] == plain
               for i in range(1, len(words) - 1))


def importtime_once(argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None = None,
                    timeout: float = 600) -> ImportTimeTree:
    """One run of the workload with ``-X importtime`` (it must exit 0): its tree."""
    done = proc.run(importtime_argv(argv, cwd), env=env, cwd=cwd, timeout=timeout,
                    what="workload with -X importtime",
                    hint="run the workload by hand with -X importtime")
    return importtime.parse(done.stderr)


def module_names(tree: ImportTimeTree) -> list[str]:
    """Modules the workload imported (for the probe's bytecode check)."""
    return importtime.module_names(tree)


def importtime_by_env_once(argv: Sequence[str], *, env: Mapping[str, str],
                           cwd: str | None = None, timeout: float = 600) -> ImportTimeTree:
    """Import times of a launcher that could not be followed, one run: ``argv`` run as it is
    with ``PYTHONPROFILEIMPORTTIME=1``, which every Python process it starts inherits (unless
    it runs with ``-E`` or ``-I``); the tree of the last process that printed one (a
    launcher's own Python prints first). Raises :class:`HarnessError` when none did."""
    done = proc.run(argv, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, cwd=cwd,
                    timeout=timeout, what="workload with PYTHONPROFILEIMPORTTIME=1",
                    hint="run the workload by hand with PYTHONPROFILEIMPORTTIME=1")
    parts = importtime.sections(done.stderr)
    if not parts:
        raise HarnessError(f"no Python process started by {argv[0]!r} printed import "
                           "times (does it run Python with -E or -I?)",
                           "give the bazel builder an inspect_target")
    return importtime.parse(parts[-1])
