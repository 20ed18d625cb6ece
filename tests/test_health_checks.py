"""Each health check alone: its value, its cell and its own rule for "worse in the PR"."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.inspection import checks
from harness.inspection.health import BytecodeReport, ProbeReport, PthFile
from harness.render import health
from tests.mdtables import tables
from tests.test_render_health import clean_probe, rows, sick_probe


def with_pth(*costs_us: int, lines: int = 1) -> ProbeReport:
    return clean_probe(pth_files=(PthFile("/v/site-packages/x.pth", True, 0, lines, (),
                                          ("import x",) * lines, (), costs_us),))


def with_pyc(usable: int, checked: int) -> ProbeReport:
    return clean_probe(bytecode=BytecodeReport(
        requested=checked, checked=checked,
        counts={"valid": usable, "missing": checked - usable}))


def test_the_registry_lists_the_columns_in_order() -> None:
    assert [c.name for c in checks.registry()] == list(checks.CHECKS)
    assert [c.title for c in checks.registry()] == [
        ".pth exec lines", ".pth import cost (ms)", "duplicate distributions",
        "shadowed modules", ".pyc coverage"]


def test_pth_exec_lines_any_new_line_is_worse() -> None:
    c = checks.PTH_EXEC_LINES
    assert (c.value(with_pth(lines=2)), c.text(with_pth(lines=2))) == (2, "2")
    assert c.worse(with_pth(lines=2), with_pth(lines=1))
    assert not c.worse(with_pth(lines=1), with_pth(lines=1))
    assert not c.worse(clean_probe(), with_pth(lines=3))


def test_pth_import_cost_is_worse_only_beyond_a_millisecond_and_shown_when_measured() -> None:
    c = checks.PTH_IMPORT_COST
    assert c.text(with_pth(1500)) == "1.5" and c.text(clean_probe()) == "—"
    assert not c.worse(with_pth(1900), with_pth(1000))  # 0.9 ms: single-line timing noise
    assert c.worse(with_pth(2100), with_pth(1000))
    assert c.worse(with_pth(1500), clean_probe())  # new cost against none measured
    assert not c.shown([clean_probe(), clean_probe()])
    assert c.shown([clean_probe(), with_pth(10)])


def test_duplicate_distributions_and_shadowed_modules_are_counts() -> None:
    sick, clean = sick_probe(), clean_probe()
    assert checks.DUPLICATE_DISTRIBUTIONS.value(sick) == 1
    assert checks.SHADOWED_MODULES.value(sick) == 2
    for check in (checks.DUPLICATE_DISTRIBUTIONS, checks.SHADOWED_MODULES):
        assert check.worse(sick, clean) and not check.worse(clean, sick)


def test_pyc_coverage_lower_is_worse_and_unknown_is_never_worse() -> None:
    c = checks.PYC_COVERAGE
    assert c.text(with_pyc(97, 100)) == "97% (97/100)"
    assert c.worse(with_pyc(4, 10), with_pyc(10, 10))
    assert not c.worse(with_pyc(10, 10), with_pyc(4, 10))
    none = clean_probe(bytecode=None)
    assert c.text(none) == "—" and c.value(none) is None
    assert not c.worse(none, with_pyc(10, 10)) and not c.worse(with_pyc(1, 10), none)


TOY_CHECK = '''
from dataclasses import dataclass


@dataclass(frozen=True)
class SysPathLength:
    """More than two new sys.path entries is worse."""

    name: str = "sys_path_length"
    title: str = "sys.path | entries"

    def value(self, probe):
        return probe.sys_path_entries

    def text(self, probe):
        return str(probe.sys_path_entries)

    def worse(self, pr, main):
        return pr.sys_path_entries > main.sys_path_entries + 2

    def shown(self, probes):
        return True


CHECK = SysPathLength()
'''


def test_a_toy_health_check_is_one_module_and_one_line(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "toy_check.py").write_text(TOY_CHECK, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("toy_check", None)
    monkeypatch.setitem(checks.CHECKS, "sys_path_length", "toy_check:CHECK")  # the one line

    longer = sick_probe()  # 7 entries against main's 4
    (table,) = tables(health.health_table(rows(clean_probe(), longer)))
    assert table[0][-1] == "sys.path | entries"  # its title, escaped by the renderer
    assert table[1][-1] == "4" and table[2][-1] == "⚠️ 7"
