"""The deterministic metric: instructions executed by a workload.

Two counters, chosen by :func:`detect_instruction_counter`:

* ``perf``: hyperfine ``--metrics instructions`` (hardware counters via perf_event_open), where
  the kernel lets us read them; fast, counts user space of the timed process.
* ``cachegrind``: ``valgrind --tool=cachegrind --cache-sim=no``; about 100x slower than a native
  run (1.2-2.5 s for ``python -c pass``) but available without counter permissions, and
  run-to-run identical for the same environment when ``PYTHONHASHSEED=0`` (hash randomisation
  otherwise changes dict/set layouts and the work done).

``-E`` and ``-I`` make Python ignore ``PYTHONHASHSEED``: such workloads count differently run to
run (about 0.1 %); :func:`hash_seed_ignored` spots them so the report can say so.

Either way the count covers user-space work only: no kernel time, I/O, page faults or waits on
a clock, and (cachegrind) not the children the workload starts. It complements wall time; it
does not replace it. Building command lines and parsing output are pure functions; only
:func:`measure_instructions` and :func:`detect_instruction_counter` run processes, through
:func:`harness.proc.run`.
"""

from __future__ import annotations

import json
import re
import shlex
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import proc
from harness.errors import HarnessError, ProcessError
from harness.measure.tools import INSTALL_HINTS, which_tool

#: Set for every counted run: hash randomisation changes the work done at start-up.
DETERMINISM_ENV = {"PYTHONHASHSEED": "0"}

_I_REFS = re.compile(r"^==\d+==\s+I\s+refs:\s+([\d,]+)\s*$", re.MULTILINE)
_SUMMARY = re.compile(r"^summary:\s+(\d+)", re.MULTILINE)


def describe_counter(counter: str) -> str:
    """One sentence for the report: which counter was used and what it leaves out."""
    if counter == "perf":
        return ("instructions counted by hardware counters (hyperfine --metrics instructions); "
                "user space only: excludes kernel time, I/O and waits")
    if counter == "cachegrind":
        return ("instructions counted by valgrind cachegrind (PYTHONHASHSEED=0; nearly "
                "identical run to run, the measured spread is reported); user space only: "
                "excludes kernel time, I/O, page faults, clock-based waits and child processes")
    return "instructions not counted: no readable perf counters and no valgrind"


def counted_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus :data:`DETERMINISM_ENV` (which wins)."""
    return {**env, **DETERMINISM_ENV}


def cachegrind_argv(argv: Sequence[str], *, valgrind: str = "valgrind",
                    out_file: str = "/dev/null") -> list[str]:
    """valgrind cachegrind counting instructions only (no cache simulation) of ``argv``."""
    return [valgrind, "--tool=cachegrind", "--cache-sim=no", "--branch-sim=no",
            f"--cachegrind-out-file={out_file}", "--", *argv]


def parse_cachegrind(stderr: str) -> int:
    """The ``I refs`` count from cachegrind's summary on stderr (the last one printed)."""
    found = _I_REFS.findall(stderr)
    if not found:
        raise HarnessError("cachegrind printed no 'I refs' summary",
                           "is valgrind run without -q, and did the workload start?")
    return int(found[-1].replace(",", ""))


def perf_hyperfine_argv(hyperfine: str, argv: Sequence[str], *, runs: int,
                        export_json: Path | str) -> list[str]:
    """hyperfine timing ``argv`` ``runs`` times with the instructions counter."""
    return [hyperfine, "-N", "--style", "none", "--runs", str(runs), "--warmup", "0",
            "--metrics", "instructions", "--export-json", str(export_json), shlex.join(argv)]


def parse_hyperfine_instructions(data: Mapping[str, Any]) -> tuple[int, ...]:
    """Per-run instruction counts of the first command of a hyperfine 2.x JSON export."""
    try:
        measurements = data["results"][0]["measurements"]
        return tuple(round(float(m["instructions"]["value"])) for m in measurements)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise HarnessError("hyperfine export has no instruction counts",
                           "does this hyperfine support --metrics instructions?") from exc


def detect_instruction_counter(*, env: Mapping[str, str], hyperfine: str | None = None,
                               valgrind: str | None = None,
                               probe: Sequence[str] = ("true",)) -> str:
    """``"perf"`` when hyperfine can read the instructions counter, else ``"cachegrind"`` when
    valgrind runs, else ``"none"``."""
    if hyperfine:
        with tempfile.TemporaryDirectory(prefix="harness-perf-") as tmp:
            export = Path(tmp) / "probe.json"
            done = proc.run(perf_hyperfine_argv(hyperfine, probe, runs=1, export_json=export),
                            env=env, check=False, timeout=60, what="perf counter probe")
            if done.returncode == 0:
                try:
                    parse_hyperfine_instructions(json.loads(export.read_text("utf-8")))
                    return "perf"
                except (OSError, ValueError, HarnessError):
                    pass
    valgrind = valgrind or which_tool("valgrind", env.get("PATH"))
    if valgrind:
        done = proc.run([valgrind, "--version"], env=env, check=False, timeout=60,
                        what="valgrind --version")
        if done.returncode == 0 and done.stdout.startswith("valgrind"):
            return "cachegrind"
    return "none"


def measure_instructions(argv: Sequence[str], *, env: Mapping[str, str], runs: int,
                         cwd: str | None = None, counter: str = "cachegrind",
                         hyperfine: str | None = None, valgrind: str = "valgrind",
                         timeout_s: float = 600.0) -> tuple[int, ...]:
    """Instructions executed by ``argv``, once per run, with ``PYTHONHASHSEED=0`` added to
    ``env``. ``counter`` is ``"cachegrind"`` or ``"perf"`` (needs ``hyperfine``)."""
    counted = counted_env(env)
    if counter == "perf":
        if not hyperfine:
            raise HarnessError("the perf counter needs hyperfine", "pass hyperfine=...")
        with tempfile.TemporaryDirectory(prefix="harness-perf-") as tmp:
            export = Path(tmp) / "instructions.json"
            proc.run(perf_hyperfine_argv(hyperfine, argv, runs=runs, export_json=export),
                     env=counted, cwd=cwd, timeout=timeout_s, what="hyperfine --metrics "
                     "instructions", hint="are perf counters readable (perf_event_paranoid)?")
            return parse_hyperfine_instructions(json.loads(export.read_text("utf-8")))
    if counter != "cachegrind":
        raise HarnessError(f"no instruction counter {counter!r}",
                           "install valgrind, or allow perf counters")
    counts = []
    for _ in range(runs):
        try:
            done = proc.run(cachegrind_argv(argv, valgrind=valgrind), env=counted, cwd=cwd,
                            timeout=timeout_s, what="cachegrind",
                            hint="run the workload under valgrind by hand to see why it fails")
        except ProcessError as exc:
            if exc.returncode is None:
                raise HarnessError("valgrind not found", INSTALL_HINTS["valgrind"]) from exc
            raise
        counts.append(parse_cachegrind(done.stderr))
    return tuple(counts)
