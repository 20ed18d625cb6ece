"""Bytecode scenarios: time a workload with warm, cold or stale ``.pyc`` files.

* **warm** – every imported module has a valid ``.pyc`` (the normal case);
* **cold** – no ``.pyc``, writing allowed: ``__pycache__`` is removed before each run, so each
  run compiles and writes (a fresh install without ``--compile-bytecode``);
* **stale** – every ``.pyc`` carries a foreign magic number (the seed's 3.14rc3 bump) and
  writing is prevented (``-B`` / ``PYTHONDONTWRITEBYTECODE=1``), so every start recompiles.

Only ``__pycache__`` directories under the variant's own roots (its site-packages by default)
are touched: never the base interpreter's stdlib, never sourceless ``.pyc`` files.

Use from the timing code::

    roots = bytecode.site_roots(prefix)
    commands = bytecode.scenario_commands(variant, workload, argv, prefix, ("warm", "stale"))
    with bytecode.preserved(roots):                       # restores every .pyc afterwards
        bytecode.compile_all(python, roots, env=env)      # warm-up: valid .pyc everywhere
        timing.measure(commands, ...)                     # each has its own --prepare

Each scenario's ``--prepare`` command (:func:`prepare_argv`) puts the roots in its state
before every run, so scenarios can be interleaved in one hyperfine call. It runs the variant's
own interpreter (``-I -S -B``, stdlib only), which knows its magic number. A command without
a scenario timed in the same call should get ``prepare_argv("warm", ...)`` too, or it sees
whatever the previous command left behind.

:func:`stale` is a context manager for one-off experiments: every ``.pyc`` under the roots is
given a foreign magic number until the block ends. :func:`preserved` (which :func:`stale` uses)
snapshots every ``__pycache__`` under the roots and ALWAYS restores it — on exceptions and
KeyboardInterrupt too — removing ``.pyc`` files and directories the block created.

From a shell: ``python -m harness.measure.bytecode {cold,stale,warm} ROOT...`` (uses this
interpreter's magic number: run it with the variant's interpreter).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.errors import HarnessError
from harness.inspection.runner import launch_of
from harness.measure.builders import site_roots
from harness.measure.timing import TimedCommand

SCENARIOS = ("warm", "cold", "stale")

#: Run as ``python -I -S -B -c PREPARE_SCRIPT MODE ROOT...`` with the variant's interpreter.
PREPARE_SCRIPT = """\
import os, shutil, sys
from importlib.util import MAGIC_NUMBER as M
F = ((int.from_bytes(M[:2], "little") - 1) & 0xFFFF).to_bytes(2, "little") + M[2:]
mode, roots = sys.argv[1], sys.argv[2:]
old, new = (M, F) if mode == "stale" else (F, M)
for root in roots:
    for d, dirs, files in os.walk(root):
        if os.path.basename(d) != "__pycache__":
            continue
        dirs[:] = []
        if mode == "cold":
            shutil.rmtree(d, ignore_errors=True)
            continue
        for f in files:
            if f.endswith(".pyc"):
                p = os.path.join(d, f)
                with open(p, "r+b") as h:
                    if h.read(4) == old:
                        h.seek(0)
                        h.write(new)
"""


def foreign_magic(magic: bytes) -> bytes:
    """A magic number one below ``magic`` (like an older release candidate's): never valid
    for the interpreter whose magic is ``magic``."""
    number = (int.from_bytes(magic[:2], "little") - 1) & 0xFFFF
    return number.to_bytes(2, "little") + magic[2:4]


def env_python(prefix: str | os.PathLike[str]) -> str:
    """The interpreter of the environment at ``prefix``."""
    base = Path(prefix)
    for candidate in (base / "bin" / "python", base / "bin" / "python3",
                      base / "Scripts" / "python.exe"):
        if candidate.exists():
            return str(candidate)
    return str(base / "bin" / "python")


def prepare_argv(scenario: str, python: str, roots: Sequence[str]) -> tuple[str, ...] | None:
    """The ``--prepare`` argv putting ``roots`` in ``scenario``'s state (pure). hyperfine
    runs it through a shell: join it with :func:`shlex.join`."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown bytecode scenario {scenario!r} (known: {SCENARIOS})")
    if not roots:
        return None
    return (python, "-I", "-S", "-B", "-c", PREPARE_SCRIPT, scenario, *roots)


def no_write_argv(argv: Sequence[str], cwd: str | None = None) -> tuple[str, ...]:
    """``argv`` started with ``-B`` (no ``.pyc`` written); a console script is started through
    its shebang interpreter. Falls back to ``env PYTHONDONTWRITEBYTECODE=1 argv``."""
    try:
        return launch_of(argv, cwd).argv_with("-B")
    except HarnessError:
        env = shutil.which("env") or "/usr/bin/env"
        return (env, "PYTHONDONTWRITEBYTECODE=1", *argv)


def scenario_commands(variant: str, workload: str, argv: Sequence[str],
                      prefix: str | os.PathLike[str], scenarios: Sequence[str], *,
                      python: str | None = None,
                      roots: Sequence[str] | None = None) -> tuple[TimedCommand, ...]:
    """One TimedCommand per scenario, each with the ``--prepare`` putting the environment at
    ``prefix`` (or ``roots``) in that scenario's state. Time them inside :func:`preserved`."""
    roots = tuple(roots) if roots is not None else site_roots(prefix)
    python = python or env_python(prefix)
    out = []
    for scenario in scenarios:
        command = tuple(argv) if scenario != "stale" else no_write_argv(argv)
        out.append(TimedCommand(variant, workload, command, scenario=scenario,
                                prepare=prepare_argv(scenario, python, roots)))
    return tuple(out)


def compile_all(python: str, roots: Sequence[str], *, env: Mapping[str, str],
                timeout: float = 1800) -> None:
    """Write a valid ``.pyc`` for every module under ``roots`` with the variant's own
    interpreter (``compileall``, all CPUs; existing valid ``.pyc`` are kept)."""
    if not roots:
        return
    proc.run([python, "-I", "-m", "compileall", "-q", "-j", "0", *roots], env=env,
             timeout=timeout, what=f"compileall in {python}", check=False)


# -- in-process helpers (for tests, the CLI below and one-off use) -----------------------------

def pycache_dirs(roots: Sequence[str]) -> list[str]:
    """Every ``__pycache__`` directory under ``roots``."""
    found = []
    for root in roots:
        for directory, dirs, _files in os.walk(root):
            if os.path.basename(directory) == "__pycache__":
                found.append(directory)
                dirs[:] = []
    return found


def strip(roots: Sequence[str]) -> int:
    """Remove every ``__pycache__`` under ``roots`` (the cold state); returns how many."""
    dirs = pycache_dirs(roots)
    for directory in dirs:
        shutil.rmtree(directory, ignore_errors=True)
    return len(dirs)


def set_magic(roots: Sequence[str], *, stale: bool, magic: bytes | None = None) -> int:
    """Stale: give every ``.pyc`` whose magic is ``magic`` a foreign one (any magic when
    ``magic`` is None: then each file's own number minus one). Not stale: undo that.
    Files are rewritten in place; returns how many changed."""
    changed = 0
    for directory in pycache_dirs(roots):
        for name in os.listdir(directory):
            if not name.endswith(".pyc"):
                continue
            path = os.path.join(directory, name)
            with open(path, "r+b") as handle:
                current = handle.read(4)
                if len(current) < 4:
                    continue
                if stale:
                    if magic is not None and current != magic:
                        continue
                    new = foreign_magic(current)
                else:
                    target = magic or importlib.util.MAGIC_NUMBER
                    if current != foreign_magic(target):
                        continue
                    new = target
                handle.seek(0)
                handle.write(new)
                changed += 1
    return changed


@dataclass(frozen=True)
class Snapshot:
    """What :func:`preserved` saved: each ``__pycache__`` that existed, copied to ``store``."""

    roots: tuple[str, ...]
    store: str
    dirs: tuple[str, ...]


def take_snapshot(roots: Sequence[str], store: str) -> Snapshot:
    """Copy every ``__pycache__`` under ``roots`` (with mtimes) into ``store``."""
    dirs = pycache_dirs(roots)
    for i, directory in enumerate(dirs):
        shutil.copytree(directory, os.path.join(store, str(i)), symlinks=True)
    return Snapshot(tuple(roots), store, tuple(dirs))


def restore_snapshot(snapshot: Snapshot) -> None:
    """Make every ``__pycache__`` under the roots what it was when ``snapshot`` was taken."""
    saved = set(snapshot.dirs)
    for directory in pycache_dirs(snapshot.roots):
        if directory not in saved:
            shutil.rmtree(directory, ignore_errors=True)
    for i, directory in enumerate(snapshot.dirs):
        copy = os.path.join(snapshot.store, str(i))
        if os.path.isdir(directory):
            wanted = set(os.listdir(copy))
            for name in os.listdir(directory):
                if name not in wanted:
                    path = os.path.join(directory, name)
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.unlink(path)
        shutil.copytree(copy, directory, symlinks=True, dirs_exist_ok=True)


def verify_restored(snapshot: Snapshot) -> list[str]:
    """What differs between the live ``__pycache__`` dirs and the snapshot (names, sizes and
    modification times); empty when the restore is exact."""
    problems = []
    live = set(pycache_dirs(snapshot.roots))
    problems += [f"{d} was not there before" for d in sorted(live - set(snapshot.dirs))]
    for i, directory in enumerate(snapshot.dirs):
        copy = os.path.join(snapshot.store, str(i))
        if not os.path.isdir(directory):
            problems.append(f"{directory} is missing")
            continue
        for name in sorted(set(os.listdir(copy)) | set(os.listdir(directory))):
            a, b = os.path.join(copy, name), os.path.join(directory, name)
            try:
                sa, sb = os.lstat(a), os.lstat(b)
            except FileNotFoundError:
                problems.append(f"{b} differs from the snapshot")
                continue
            if (sa.st_size, sa.st_mtime_ns) != (sb.st_size, sb.st_mtime_ns) and \
                    not os.path.isdir(a):
                problems.append(f"{b} differs from the snapshot")
    return problems


@contextlib.contextmanager
def _no_interrupt() -> Iterator[None]:
    """Defer SIGINT and SIGTERM while the environment is being restored (main thread only):
    an interruption, first or second, never leaves it half restored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {signum: signal.signal(signum, lambda n, _frame: pending.append(n))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending:
        raise KeyboardInterrupt


#: Prefix of a snapshot store in the temp dir, and the files in it that say whose it is (the
#: owner's PID and start time, written first) and that the copy is complete (written last).
STORE_PREFIX = "startup-harness-pyc-"
OWNER_FILE = "owner.json"
MANIFEST_FILE = "manifest.json"


def _write_json(path: str, data: object) -> None:
    import json

    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(path + ".tmp", path)


def _owner_alive(owner: Mapping[str, object]) -> bool:
    """Whether the run that wrote ``owner`` still runs (same PID and start time)."""
    pid, started = owner.get("pid"), owner.get("start")
    if not isinstance(pid, int) or pid == os.getpid():
        return pid == os.getpid()
    return proc.alive(pid) and proc.start_time(pid) == started


def recover_snapshots(tmp: str | None = None) -> list[str]:
    """Find the ``__pycache__`` snapshots of runs that were killed (SIGKILL) inside
    :func:`preserved`, in ``tmp`` (default: the temp dir); restore each (verified) and remove
    it, or, when that fails, keep it and say where. One line per snapshot, for the user.
    A snapshot whose copy never completed is removed: its environment was not changed yet."""
    import json

    found = []
    for store in Path(tmp or tempfile.gettempdir()).glob(f"{STORE_PREFIX}*"):
        try:
            owner = json.loads((store / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not ours, or from a harness that did not record its owner
        if isinstance(owner, dict) and not _owner_alive(owner):
            found.append((owner, store))
    # newest first: nested snapshots of one environment unwind as the run would have
    found.sort(key=lambda item: (-int(item[0].get("taken") or 0), str(item[1])))
    said = []
    for owner, store in found:
        pid = owner.get("pid")
        try:
            manifest = json.loads((store / MANIFEST_FILE).read_text(encoding="utf-8"))
            snapshot = Snapshot(tuple(manifest["roots"]), str(store), tuple(manifest["dirs"]))
        except (OSError, ValueError, KeyError, TypeError):
            shutil.rmtree(store, ignore_errors=True)
            said.append(f"removed {store}, an incomplete bytecode snapshot of a run that was "
                        f"killed (pid {pid}) before it changed any __pycache__")
            continue
        try:
            restore_snapshot(snapshot)
            problems = verify_restored(snapshot)
        except OSError as exc:
            problems = [f"{exc.filename or ''}: {exc.strerror or exc}"]
        roots = ", ".join(snapshot.roots)
        if problems:
            said.append(f"could not restore the __pycache__ of {roots}, changed by a run that "
                        f"was killed (pid {pid}): {problems[0]}; the snapshot is kept in "
                        f"{store} (snapshot dir N is the N-th __pycache__ in os.walk order)")
            continue
        shutil.rmtree(store, ignore_errors=True)
        said.append(f"restored the __pycache__ of {roots} from the snapshot a killed run "
                    f"(pid {pid}) left in {store} (verified; snapshot removed)")
    return said


@contextlib.contextmanager
def preserved(roots: Sequence[str]) -> Iterator[Snapshot]:
    """Snapshot every ``__pycache__`` under ``roots``; on exit (always) restore them exactly and
    remove any the block created. The snapshot names its owner and, once complete, its roots,
    so the next run restores it if this one is killed (:func:`recover_snapshots`)."""
    store = tempfile.mkdtemp(prefix=STORE_PREFIX)
    try:
        _write_json(os.path.join(store, OWNER_FILE),
                    {"pid": os.getpid(), "start": proc.start_time(os.getpid()),
                     "taken": time.time_ns()})
        snapshot = take_snapshot(roots, store)
        _write_json(os.path.join(store, MANIFEST_FILE),
                    {"roots": list(snapshot.roots), "dirs": list(snapshot.dirs)})
    except BaseException:
        shutil.rmtree(store, ignore_errors=True)
        raise
    unwinding = True
    try:
        yield snapshot
        unwinding = False
    finally:
        with _no_interrupt():
            try:
                restore_snapshot(snapshot)
                problems = verify_restored(snapshot)
            except OSError as exc:
                problems = [f"{exc.filename or ''}: {exc.strerror or exc}"]
            if not problems:
                shutil.rmtree(store, ignore_errors=True)
        if problems:
            more = "" if len(problems) == 1 else f" and {len(problems) - 1} more"
            message = (f"the __pycache__ of {', '.join(roots)} could not be restored "
                       f"({problems[0]}{more}); the snapshot is kept in {store}")
            hint = "copy it back by hand: snapshot dir N is the N-th __pycache__ in os.walk order"
            if not unwinding:
                raise HarnessError(message, hint)
            print(f"error: {message} (hint: {hint})", file=sys.stderr)


@contextlib.contextmanager
def stale(roots: Sequence[str], magic: bytes | None = None) -> Iterator[int]:
    """Every ``.pyc`` under ``roots`` has a foreign magic number inside the block (yields how
    many were changed); the originals are always restored."""
    with preserved(roots):
        yield set_magic(roots, stale=True, magic=magic)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m harness.measure.bytecode {cold,stale,warm} ROOT...`` (this magic)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] not in ("cold", "strip", "stale", "warm"):
        print("usage: python -m harness.measure.bytecode {cold,stale,warm} ROOT...",
              file=sys.stderr)
        return 2
    mode, roots = args[0], args[1:]
    if mode in ("cold", "strip"):
        print(f"removed {strip(roots)} __pycache__ directories")
    else:
        changed = set_magic(roots, stale=mode == "stale", magic=importlib.util.MAGIC_NUMBER)
        print(f"rewrote the magic number of {changed} .pyc files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
