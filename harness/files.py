"""Removing directory trees that tools made read-only (Bazel's output bases), never raising."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path


def _owner_rwx(path: str) -> None:
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            os.chmod(path, mode | stat.S_IRWXU)
    except OSError:
        pass


def remove_tree(path: str | os.PathLike[str]) -> bool:
    """Remove ``path`` even where directories are read-only (a read-only file in a writable
    directory can be removed); True when it is gone. Symlinks are removed, never followed."""
    target = Path(path)
    if target.is_symlink() or target.is_file():
        try:
            target.unlink()
        except OSError:
            return False
        return True
    if not target.exists():
        return True
    _owner_rwx(str(target))
    for root, dirs, _files in os.walk(target):  # top-down: a directory is opened before use
        for name in dirs:
            _owner_rwx(os.path.join(root, name))
    shutil.rmtree(target, ignore_errors=True)
    return not target.exists()
