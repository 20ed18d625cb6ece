"""The output directory (``--out``): checked up front, locked, written whole, swapped in.

Everything a run writes (``raw/``, ``measurements.json``, ``report.json``, ``comment.md``, ...)
goes into a staging directory beside ``OUT`` (``.OUT.staging-PID``); when the run finishes the
staging directory replaces ``OUT`` with one ``rename`` (an atomic exchange on Linux), so a reader
sees the previous run's output or this one's, never a mix. If anything fails (a full disk, a
crash, Ctrl-C), the staging directory is removed and the previous output stays as it was.

``OUT`` is refused before anything is built when it is a file, not writable, on a read-only
mount, or holds files the harness did not write (they would be lost in the swap). A lock
(``.OUT.lock`` beside it, holding the PID, removed when the run ends) keeps a second run from
writing the same ``OUT``: it is refused with one line. Staging and old directories left by a
killed run are removed (and said) by the next run that holds the lock.

Usage::

    with outputs.claim(out) as staging:      # checks and lock: before building anything
        ... write files into ``staging`` ...
    # here OUT holds exactly what was written into staging
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from harness.errors import HarnessError

#: Names the harness writes into OUT; anything else in an existing OUT is the user's.
KNOWN_NAMES = frozenset({"raw", "measurements.json", "report.json", "comment.md",
                         "terminal.txt", "error.log", "plots"})

#: The list of what the harness wrote into OUT (names beyond KNOWN_NAMES: exports).
MANIFEST = ".startup-harness"

_HINT = "give a new or empty directory with --out"


def written_before(out: Path) -> set[str]:
    """Top-level names in ``out`` that a previous run wrote (KNOWN_NAMES and its manifest)."""
    names = set(KNOWN_NAMES) | {MANIFEST}
    try:
        listed = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        names |= {str(n) for n in listed if isinstance(n, str) and "/" not in n}
    except (OSError, ValueError, TypeError):
        pass
    return names


def redirect(path: str, out: Path, staging: Path) -> str:
    """``path`` moved into ``staging`` when it lies inside ``out`` (an export written into the
    output directory must be staged too, or the swap would drop it)."""
    target = Path(path).absolute()
    try:
        rest = target.relative_to(out.absolute())
    except ValueError:
        return path
    return str(staging / rest)


def check(out: Path) -> None:
    """Refuse ``out`` (one line) if a run could not write it or would destroy foreign files."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise HarnessError(f"--out {out}: exists and is not a directory", _HINT)
        known = written_before(out)
        foreign = sorted(p.name for p in out.iterdir() if p.name not in known)
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise HarnessError(f"--out {out}: holds files startup-harness did not write "
                               f"({shown}); they would be replaced by this run's output",
                               _HINT)
    parent = _existing_parent(out)
    if not parent.is_dir():
        raise HarnessError(f"--out {out}: {parent} is not a directory", _HINT)
    if _read_only(parent):
        raise HarnessError(f"--out {out}: {parent} is on a read-only file system", _HINT)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise HarnessError(f"--out {out}: {parent} is not writable", _HINT)


def _existing_parent(out: Path) -> Path:
    parent = out.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


@contextlib.contextmanager
def claim(out: str | Path, *, carry: Iterable[str] = (),
          say: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Check and lock ``out``; yield an empty staging directory; swap it in on success.

    ``carry`` names entries of the current ``out`` copied into staging first (for a command
    that rewrites part of a previous run's output, e.g. ``analyse`` keeping ``raw/``)."""
    out = Path(out).absolute()
    check(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _lock(out):
        _prune(out, say)
        staging = out.with_name(f".{out.name}.staging-{os.getpid()}")
        staging.mkdir()
        try:
            for name in carry:
                _copy(out / name, staging / name)
            yield staging
            names = sorted(p.name for p in staging.iterdir() if p.name != MANIFEST)
            (staging / MANIFEST).write_text(json.dumps(names) + "\n", encoding="utf-8")
            _swap(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _copy(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dest)
    elif src.exists():
        shutil.copy2(src, dest)


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    import fcntl

    path = out.with_name(f".{out.name}.lock")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise HarnessError(f"--out {out}: another run (pid {holder}) is writing it",
                               "wait for it to finish, or give another --out") from None
        if _same_file(fd, path):
            break
        os.close(fd)  # the run that held it removed the file as we opened it: again
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # still locked: nobody can hold the name we remove
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path`` (not one a finishing run unlinked)."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def _prune(out: Path, say: Callable[[str], None] | None) -> None:
    """Remove staging/old directories of runs that died (we hold the lock: none is live)."""
    for prefix in (f".{out.name}.staging-", f".{out.name}.old-"):
        for path in out.parent.glob(prefix + "*"):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
                if say:
                    say(f"removed {path}, left by a run that was killed")


def _swap(staging: Path, out: Path) -> None:
    """Put ``staging`` at ``out``: one atomic exchange (Linux ``renameat2``), else two renames;
    then remove the previous output (only names the harness writes; ``check`` made sure)."""
    if not out.exists():
        os.rename(staging, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if _exchange(staging, out):
        os.rename(staging, old)  # staging now holds the previous output
    else:
        os.rename(out, old)
        os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))
