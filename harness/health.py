"""Typed records of what the probe found inside a variant's interpreter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PathEntry:
    """One sys.path entry as the interpreter saw it."""

    path: str
    realpath: str
    exists: bool
    kind: str  # "dir", "zip", "missing", "file"
    is_site_packages: bool


@dataclass(frozen=True)
class ProbeReport:
    """What the probe saw; grows with later findings (``.pth``, distributions, bytecode)."""

    python: str
    version: str
    prefix: str
    base_prefix: str
    entries: tuple[PathEntry, ...]

    @property
    def sys_path_entries(self) -> int:
        return len(self.entries)

    @property
    def site_packages_roots(self) -> int:
        return len({e.realpath for e in self.entries if e.is_site_packages})

    @property
    def duplicate_realpaths(self) -> int:
        seen: set[str] = set()
        dups = 0
        for entry in self.entries:
            if not entry.exists:
                continue
            if entry.realpath in seen:
                dups += 1
            seen.add(entry.realpath)
        return dups

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeReport:
        return cls(
            python=data["python"], version=data["version"], prefix=data["prefix"],
            base_prefix=data["base_prefix"],
            entries=tuple(PathEntry(**e) for e in data["entries"]),
        )
