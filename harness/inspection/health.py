"""Typed records of what the probe (:mod:`harness.inspection.probe`) found inside a
variant's interpreter.

Pure: no I/O. :meth:`ProbeReport.from_dict` reads the probe's JSON and older reports (every
field added after the first version has a default); :meth:`ProbeReport.to_dict` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.serial import from_data, to_data

#: .pyc states the probe reports for a module with a source file (others: builtin, frozen,
#: extension, sourceless, namespace, not_found, other).
PYC_OK = ("valid", "hash_checked", "hash_unchecked")
PYC_BAD = ("missing", "foreign_magic", "stale_mtime", "stale_size", "stale_hash", "corrupt",
           "no_cache_tag")


@dataclass(frozen=True)
class PathEntry:
    """One sys.path entry as the interpreter saw it."""

    path: str
    realpath: str
    exists: bool
    kind: str  # "dir", "zip", "missing", "file"
    is_site_packages: bool
    is_stdlib: bool = False
    is_path0: bool = False  # the script's dir / cwd the interpreter put first
    before_stdlib: bool = False  # not path0, yet searched before the stdlib
    expected_missing: bool = False  # the stdlib zip CPython always lists, usually absent


@dataclass(frozen=True)
class DuplicatePath:
    """Several sys.path entries resolving to one directory (symlinks, or the same string)."""

    realpath: str
    indices: tuple[int, ...]
    paths: tuple[str, ...]
    identical: bool = False  # the same string listed twice


@dataclass(frozen=True)
class ZipEntry:
    """A zip archive on sys.path and whether it carries bytecode (zipimport never writes it)."""

    path: str
    pyc_files: int
    py_files: int
    error: str | None = None


@dataclass(frozen=True)
class PthFile:
    """One ``.pth`` file: its path lines (added to sys.path) and ``import`` lines (executed at
    every start). Line lists are capped by the probe; the counts are exact."""

    path: str
    processed: bool
    n_path_lines: int
    n_import_lines: int
    path_lines: tuple[str, ...] = ()
    import_lines: tuple[str, ...] = ()
    missing_paths: tuple[str, ...] = ()
    #: per import line: its cost in microseconds, the median of running that line alone in a
    #: fresh interpreter (``-S``, the .pth's directory on sys.path); -1 when not measured
    import_costs_us: tuple[int, ...] = ()


@dataclass(frozen=True)
class SiteToml:
    """A ``*.site.toml`` file (PEP 829) in a site directory; ``processed``: this interpreter's
    ``site`` reads such files."""

    path: str
    processed: bool = False


@dataclass(frozen=True)
class StartupHook:
    """Code run or consulted on every start: sitecustomize/usercustomize, an extra
    ``sys.meta_path`` finder or ``sys.path_hooks`` entry."""

    kind: str  # "sitecustomize", "usercustomize", "meta_path", "path_hooks"
    name: str
    origin: str = ""
    imported: bool = True


@dataclass(frozen=True)
class DistCopy:
    """One metadata directory of a distribution."""

    version: str
    path: str
    root: str


@dataclass(frozen=True)
class DuplicateDistribution:
    """A distribution (PEP 503 name) whose metadata importlib.metadata finds more than once."""

    name: str
    copies: tuple[DistCopy, ...]


@dataclass(frozen=True)
class DistributionSummary:
    total: int = 0  # metadata directories on sys.path
    names: int = 0  # distinct canonical names
    duplicates: tuple[DuplicateDistribution, ...] = ()


@dataclass(frozen=True)
class ShadowedModule:
    """A top-level module provided by several sys.path entries: only ``winner`` is imported."""

    name: str
    winner: str
    shadowed: tuple[str, ...]
    stdlib: bool = False  # a stdlib module is among the shadowed ones


@dataclass(frozen=True)
class ModuleBytecode:
    """A workload module whose bytecode is not usable as is."""

    name: str
    status: str
    origin: str | None = None
    pyc: str | None = None


@dataclass(frozen=True)
class BytecodeReport:
    """The .pyc state of the modules the workload imports, and whether .pyc can be written."""

    magic: str = ""
    requested: int = 0
    checked: int = 0  # modules with a source file
    counts: dict[str, int] = field(default_factory=dict)
    problems: tuple[ModuleBytecode, ...] = ()
    dont_write_bytecode: bool = False
    dont_write_by: str = ""
    pycache_prefix: str | None = None
    check_hash_based_pycs: str = "default"
    unwritable_dirs: tuple[str, ...] = ()

    @property
    def unchecked(self) -> tuple[ModuleBytecode, ...]:
        """Modules whose ``.pyc`` is unchecked-hash based (flags field of its header: hash
        based, check_source off) and used as is: never revalidated against the source, so an
        edited source keeps running its old bytecode. None when the interpreter runs with
        ``--check-hash-based-pycs always``."""
        if self.check_hash_based_pycs == "always":
            return ()
        return tuple(m for m in self.problems if m.status == "hash_unchecked")

    @property
    def usable(self) -> int:
        return sum(self.counts.get(s, 0) for s in PYC_OK)

    @property
    def coverage(self) -> float | None:
        """Share of source modules with a usable .pyc (None when none were checked)."""
        return self.usable / self.checked if self.checked else None

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)


@dataclass(frozen=True)
class InterpreterInfo:
    """How the interpreter was started: flags, -X options, PYTHON* variables, venv, user site."""

    executable: str = ""
    implementation: str = ""
    version_info: str = ""
    cache_tag: str | None = None
    flags: dict[str, int] = field(default_factory=dict)
    xoptions: dict[str, str] = field(default_factory=dict)
    argv: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    python_env: dict[str, str] = field(default_factory=dict)
    env_ignored: bool = False
    venv: bool = False
    pyvenv_cfg: str | None = None
    include_system_site_packages: bool | None = None
    user_site: str | None = None
    user_site_enabled: bool = False
    user_site_in_path: bool = False


@dataclass(frozen=True)
class InspectedProcess:
    """Which process was inspected: its argv and interpreter, the launcher hops that led to
    it (``"shell exec: bin/app"``, ``"python execv: bin/app.py"``, ``"child (traced): ..."``,
    ``"inspect_target"``), and whether it is the program (False: only a launcher could be
    inspected; ``note`` says why)."""

    argv: tuple[str, ...] = ()
    python: str = ""
    via: tuple[str, ...] = ()
    program: bool = True
    note: str = ""

    def describe(self) -> str:
        """``the program: python -B app.py (via shell exec: bin/app)`` or ``the launcher
        only: ... (why)``, for a reader."""
        what = "the program" if self.program else "the launcher only"
        line = f"{what}: {' '.join(self.argv)}"
        if self.via:
            line += f" (via {' → '.join(self.via)})"
        if self.note:
            line += f" — {self.note}"
        return line


@dataclass(frozen=True)
class ProbeReport:
    """What the probe saw. Fields after ``entries`` were added later and default to empty."""

    python: str
    version: str
    prefix: str
    base_prefix: str
    entries: tuple[PathEntry, ...]
    duplicates: tuple[DuplicatePath, ...] = ()
    zips: tuple[ZipEntry, ...] = ()
    pth_files: tuple[PthFile, ...] = ()
    hooks: tuple[StartupHook, ...] = ()
    distributions: DistributionSummary = field(default_factory=DistributionSummary)
    shadowed: tuple[ShadowedModule, ...] = ()
    bytecode: BytecodeReport | None = None
    interpreter: InterpreterInfo | None = None
    errors: tuple[str, ...] = ()
    probe_seconds: float | None = None
    process: InspectedProcess | None = None  # set by the harness, not the probe
    site_toml: tuple[SiteToml, ...] = ()

    # -- the seed's sys.path quality numbers ------------------------------------------------

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

    # -- health numbers (one per column of the health table) ---------------------------------

    @property
    def missing_entries(self) -> tuple[PathEntry, ...]:
        """Nonexistent entries, except the stdlib zip every CPython lists."""
        return tuple(e for e in self.entries if not e.exists and not e.expected_missing)

    @property
    def entries_before_stdlib(self) -> tuple[PathEntry, ...]:
        return tuple(e for e in self.entries if e.before_stdlib)

    @property
    def pth_exec_lines(self) -> int:
        """``import`` lines executed from ``.pth`` files at every start."""
        return sum(p.n_import_lines for p in self.pth_files if p.processed)

    @property
    def pth_import_cost_us(self) -> int | None:
        """Measured cost of the ``.pth`` import lines together (None when none was measured)."""
        costs = [c for p in self.pth_files if p.processed for c in p.import_costs_us if c >= 0]
        return sum(costs) if costs else None

    @property
    def pth_path_lines(self) -> int:
        return sum(p.n_path_lines for p in self.pth_files if p.processed)

    @property
    def duplicate_distributions(self) -> int:
        return len(self.distributions.duplicates)

    @property
    def shadowed_modules(self) -> int:
        return len(self.shadowed)

    @property
    def pyc_coverage(self) -> float | None:
        return self.bytecode.coverage if self.bytecode else None

    @property
    def extra_hooks(self) -> tuple[StartupHook, ...]:
        return tuple(h for h in self.hooks if h.imported)

    def finding_count(self) -> int:
        """How many problems the probe found (0 for a clean environment)."""
        bad_pyc = (sum(self.bytecode.count(s) for s in PYC_BAD) + len(self.bytecode.unchecked)
                   if self.bytecode else 0)
        return (len(self.missing_entries) + len(self.duplicates) + self.pth_exec_lines
                + len(self.extra_hooks) + self.duplicate_distributions + self.shadowed_modules
                + len(self.entries_before_stdlib) + bad_pyc + len(self.errors))

    # -- serialization --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return to_data(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeReport:
        """Rebuild from the probe's JSON or a report (unknown keys ignored, missing defaulted)."""
        value = from_data(cls, data)
        assert isinstance(value, ProbeReport)
        return value
