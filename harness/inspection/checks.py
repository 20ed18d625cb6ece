"""Health checks: one per column of the comment's environment-health table, each owning its
value, its cell text and its rule for "worse in the PR than in main" (pure).

A check is an object with ``name``, ``title``, ``value(probe)``, ``text(probe)``,
``worse(pr, main)`` and ``shown(probes)``; :data:`CHECKS` registers each by name as
``"module:attribute"``. Adding a check is one module (or one object here) and one line there;
the renderer only lays out what :func:`registry` returns.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from harness.inspection.health import ProbeReport


class HealthCheck(Protocol):
    """One thing the probe measures about an environment, and when the PR made it worse."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    def value(self, probe: ProbeReport) -> float | None:
        """The number (None: not measured)."""
        ...

    def text(self, probe: ProbeReport) -> str:
        """The table cell (plain text; the renderer escapes and marks it)."""
        ...

    def worse(self, pr: ProbeReport, main: ProbeReport) -> bool:
        """Whether the PR's environment is worse than main's on this check."""
        ...

    def shown(self, probes: Sequence[ProbeReport]) -> bool:
        """Whether the column is worth showing for these probes."""
        ...


@dataclass(frozen=True)
class Count:
    """A count of problems: any increase in the PR is worse."""

    name: str
    title: str
    get: Callable[[ProbeReport], int]

    def value(self, probe: ProbeReport) -> float | None:
        return self.get(probe)

    def text(self, probe: ProbeReport) -> str:
        return str(self.get(probe))

    def worse(self, pr: ProbeReport, main: ProbeReport) -> bool:
        return self.get(pr) > self.get(main)

    def shown(self, probes: Sequence[ProbeReport]) -> bool:
        return True


@dataclass(frozen=True)
class PthImportCost:
    """The measured cost of the ``.pth`` import lines: worse by more than ``margin_us``
    (single-line timings are noisy); shown only when some probe measured it."""

    name: str = "pth_import_cost"
    title: str = ".pth import cost (ms)"
    margin_us: int = 1000

    def value(self, probe: ProbeReport) -> float | None:
        return probe.pth_import_cost_us

    def text(self, probe: ProbeReport) -> str:
        cost = probe.pth_import_cost_us
        return "—" if cost is None else f"{cost / 1000:.1f}"

    def worse(self, pr: ProbeReport, main: ProbeReport) -> bool:
        return (pr.pth_import_cost_us or 0) > (main.pth_import_cost_us or 0) + self.margin_us

    def shown(self, probes: Sequence[ProbeReport]) -> bool:
        return any(p.pth_import_cost_us is not None for p in probes)


@dataclass(frozen=True)
class PycCoverage:
    """The share of the workload's source modules with a usable ``.pyc``: lower is worse."""

    name: str = "pyc_coverage"
    title: str = ".pyc coverage"

    def value(self, probe: ProbeReport) -> float | None:
        return probe.pyc_coverage

    def text(self, probe: ProbeReport) -> str:
        b = probe.bytecode
        if b is None or not b.checked:
            return "—"
        return f"{b.usable / b.checked:.0%} ({b.usable}/{b.checked})"

    def worse(self, pr: ProbeReport, main: ProbeReport) -> bool:
        a, b = pr.pyc_coverage, main.pyc_coverage
        return a is not None and b is not None and a < b - 1e-9

    def shown(self, probes: Sequence[ProbeReport]) -> bool:
        return True


PTH_EXEC_LINES = Count("pth_exec_lines", ".pth exec lines", lambda p: p.pth_exec_lines)
PTH_IMPORT_COST = PthImportCost()
DUPLICATE_DISTRIBUTIONS = Count("duplicate_distributions", "duplicate distributions",
                                lambda p: p.duplicate_distributions)
SHADOWED_MODULES = Count("shadowed_modules", "shadowed modules", lambda p: p.shadowed_modules)
PYC_COVERAGE = PycCoverage()

#: Every health check in column order: name -> "module:attribute". Adding one is one line.
CHECKS: dict[str, str] = {
    "pth_exec_lines": f"{__name__}:PTH_EXEC_LINES",
    "pth_import_cost": f"{__name__}:PTH_IMPORT_COST",
    "duplicate_distributions": f"{__name__}:DUPLICATE_DISTRIBUTIONS",
    "shadowed_modules": f"{__name__}:SHADOWED_MODULES",
    "pyc_coverage": f"{__name__}:PYC_COVERAGE",
}


def registry() -> list[HealthCheck]:
    """Every registered check, in registration (column) order."""
    out: list[HealthCheck] = []
    for spec in CHECKS.values():
        module, attribute = spec.split(":")
        check: HealthCheck = getattr(importlib.import_module(module), attribute)
        out.append(check)
    return out


if TYPE_CHECKING:  # mypy checks every built-in check against the protocol
    _CHECKS: tuple[HealthCheck, ...] = (PTH_EXEC_LINES, PTH_IMPORT_COST,
                                        DUPLICATE_DISTRIBUTIONS, SHADOWED_MODULES, PYC_COVERAGE)
