"""Markdown for environment health and import time, pure.

* :func:`sys_path_table` – the seed's "sys.path quality" table;
* :func:`health_table` – one row per variant (``.pth`` exec lines, duplicate distributions,
  shadowed modules, ``.pyc`` coverage), ⚠️ where the PR is worse than main;
* :func:`details_block` – a ``<details>`` block with one variant's findings;
* :func:`importtime_block` – top modules by cumulative import time and the PR-vs-main diff;
* :func:`health_blocks` – all of it for a :class:`~harness.model.Report`, as blocks of
  alternatives that the comment fits whole with everything else (:func:`common.fit`).

Every string that came from an environment (paths, module names, ``.pth`` lines, labels) goes
through :mod:`harness.render.escape` and is clipped, so no finding can break the markup or
the size limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.inspection import checks, importtime
from harness.inspection.health import PYC_BAD, InspectedProcess, ProbeReport
from harness.inspection.importtime import ImportTimeDiff, ModuleTime
from harness.model import Report
from harness.render.common import importtime_trees, md_table, measured_change_us
from harness.render.escape import (
    clip,
    html_code,
    html_text,
    md_cell,
    md_code,
    md_code_cell,
    md_text,
)
from harness.serial import from_data

T = TypeVar("T")
WARN = "⚠️"
#: How many items of each kind a details block lists, from most to least detailed.
DETAIL_LEVELS = (25, 8, 3, 0)


@dataclass(frozen=True)
class VariantHealth:
    """One variant's probe with how the tables name it."""

    name: str
    label: str
    role: str | None
    probe: ProbeReport | None


def variant_health(report: Report) -> list[VariantHealth]:
    """Rows in the config's variant order."""
    return [VariantHealth(v.name, v.label, v.role, report.probes.get(v.name))
            for v in report.variants]


def _label(row: VariantHealth) -> str:
    text = md_cell(clip(row.label, 80))
    if row.probe is not None and row.probe.process is not None and not row.probe.process.program:
        text += " (inspected: the launcher only)"
    return text


def inspected_line(label: str, process: InspectedProcess | None) -> str:
    """``Inspected in PR: the program: `python -B app.py` (via shell exec: bin/app)``:
    which process the numbers describe (markdown, escaped, clipped)."""
    if process is None:
        return ""
    what = "the program" if process.program else "**the launcher only**"
    words = [clip(word, 70) for word in process.argv[:6]]
    if len(process.argv) > 6:
        words.append(f"… ({len(process.argv) - 6} more)")
    line = f"Inspected in {md_text(clip(label, 60))}: {what}: {md_code(' '.join(words))}"
    if process.python and process.python != (process.argv[:1] or ("",))[0]:
        line += f" in {md_code(clip(process.python, 100))}"
    if process.via:
        line += f" (via {md_text(clip(' → '.join(process.via), 160))})"
    if process.note:
        line += f" — {md_text(clip(process.note, 200))}"
    if not process.program:
        line += "; its numbers describe the launcher, not the program"
    return line


def _process_of(data: Any) -> InspectedProcess | None:
    """The process an import-time tree's record says it describes (None for older ones)."""
    raw = data.get("process") if isinstance(data, Mapping) else None
    if not isinstance(raw, Mapping):
        return None
    value = from_data(InspectedProcess, raw)
    return value if isinstance(value, InspectedProcess) else None


# -- tables ---------------------------------------------------------------------------------------

def sys_path_table(rows: Sequence[VariantHealth]) -> str:
    """The seed's sys.path quality table."""
    body = []
    for row in rows:
        p = row.probe
        if p is None:
            body.append([_label(row), "—", "—", "—"])
        else:
            body.append([_label(row), str(p.sys_path_entries), str(p.site_packages_roots),
                         str(p.duplicate_realpaths)])
    return md_table(["Version", "sys.path entries", "distinct site-packages roots",
                   "duplicate realpaths"], body)


def health_table(rows: Sequence[VariantHealth], *, pr: str | None = None,
                 main: str | None = None) -> str:
    """One row per variant, one column per health check
    (:mod:`harness.inspection.checks`); ⚠️ on a PR cell the check finds worse than main's.
    ``pr`` / ``main`` are variant names (default: the variants with those roles)."""
    pr = pr or next((r.name for r in rows if r.role == "pr"), None)
    main = main or next((r.name for r in rows if r.role == "main"), None)
    reference = next((r.probe for r in rows if r.name == main), None)
    probes = [r.probe for r in rows if r.probe is not None]
    columns = [c for c in checks.registry() if c.shown(probes)]
    body = []
    for row in rows:
        cells = [_label(row)]
        for check in columns:
            if row.probe is None:
                cells.append("—")
                continue
            text = md_cell(check.text(row.probe))
            if (row.name == pr and row.name != main and reference is not None
                    and check.worse(row.probe, reference)):
                text = f"{WARN} {text}"
            cells.append(text)
        body.append(cells)
    return md_table(["Version", *[md_cell(c.title) for c in columns]], body)


# -- details --------------------------------------------------------------------------------------

def findings(probe: ProbeReport, limit: int = DETAIL_LEVELS[0]) -> list[str]:
    """Markdown lines listing one probe's findings, at most ``limit`` items per kind (only
    those are formatted, so huge environments stay cheap to render)."""
    out: list[str] = []

    def group(title: str, items: Sequence[T], fmt: Callable[[T], str],
              count: int | None = None) -> None:
        n = len(items) if count is None else count
        if not n:
            return
        out.extend([f"**{title}** ({n})", ""])
        if not limit:
            out.append(f"- {n} (details in report.json)")
        else:
            out.extend(fmt(item) for item in items[:limit])
            if len(items) > limit:
                out.append(f"- … and {len(items) - limit} more")
        out.append("")

    info = probe.interpreter
    b = probe.bytecode
    if info is not None:
        head = [f"- interpreter: {md_code(clip(info.executable))} {md_text(probe.version)}"]
        if info.options:
            head.append(f"- options: {md_code(clip(' '.join(info.options)))}")
        if info.python_env and not info.env_ignored:
            env = ", ".join(f"{k}={v}" for k, v in sorted(info.python_env.items()))
            head.append(f"- `PYTHON*` environment: {md_code(clip(env, 300))}")
        if info.venv:
            head.append("- venv, include-system-site-packages = "
                        f"{md_text(info.include_system_site_packages)}")
        if info.user_site_enabled and info.user_site_in_path:
            head.append(f"- user site enabled and on sys.path: {md_code(clip(info.user_site))}")
        if b is not None and b.dont_write_bytecode:
            head.append(f"- `.pyc` writing disabled ({md_text(b.dont_write_by or 'unknown')})")
        if b is not None and b.pycache_prefix:
            head.append(f"- pycache prefix: {md_code(clip(b.pycache_prefix))}")
        out += [*head, ""]

    indexed = list(enumerate(probe.entries))
    group("nonexistent sys.path entries",
          [(i, e) for i, e in indexed if not e.exists and not e.expected_missing],
          lambda ie: f"- `[{ie[0]}]` {md_code(clip(ie[1].path))}")
    group("duplicate sys.path entries", probe.duplicates,
          lambda d: f"- {md_code(clip(d.realpath))} ← " + ", ".join(
              f"`[{i}]` {md_code(clip(p, 80))}"
              for i, p in list(zip(d.indices, d.paths, strict=False))[:5]))
    group("entries searched before the stdlib", [(i, e) for i, e in indexed if e.before_stdlib],
          lambda ie: f"- `[{ie[0]}]` {md_code(clip(ie[1].path))}")
    group("zip entries", probe.zips,
          lambda z: f"- {md_code(clip(z.path))}: {z.pyc_files} .pyc, {z.py_files} .py")
    group(".pth import lines (run at every start; cost: the line alone in a fresh "
          "interpreter, median)",
          [(p, line, p.import_costs_us[i] if i < len(p.import_costs_us) else -1)
           for p in probe.pth_files if p.processed for i, line in enumerate(p.import_lines)],
          lambda pl: f"- {md_code(clip(pl[0].path, 100))}: {md_code(clip(pl[1]))}"
          + (f" — {pl[2] / 1000:.1f} ms" if pl[2] >= 0 else ""),
          probe.pth_exec_lines)
    group("`.site.toml` files (PEP 829)", probe.site_toml,
          lambda t: f"- {md_code(clip(t.path, 100))}"
          + ("" if t.processed else " (not read by this interpreter)"))
    group(".pth path lines", [p for p in probe.pth_files if p.processed and p.n_path_lines],
          lambda p: f"- {md_code(clip(p.path, 100))}: {p.n_path_lines} path line(s)"
          + (f", {len(p.missing_paths)} missing" if p.missing_paths else ""),
          probe.pth_path_lines)
    group("start-up hooks", probe.extra_hooks,
          lambda h: f"- {md_text(h.kind)}: {md_code(clip(h.name, 100))}"
          + (f" ({md_code(clip(h.origin, 100))})" if h.origin else ""))
    group("duplicate distributions", probe.distributions.duplicates,
          lambda d: f"- {md_code(clip(d.name, 80))}: " + "; ".join(
              f"{md_text(clip(c.version, 40)) or '?'} in {md_code(clip(c.root, 100))}"
              for c in d.copies[:5]) + (" …" if len(d.copies) > 5 else ""))
    group("shadowed modules", probe.shadowed,
          lambda s: f"- {md_code(clip(s.name, 80))}{' (stdlib)' if s.stdlib else ''}: "
          f"imported from {md_code(clip(s.winner, 100))}, hiding "
          + ", ".join(md_code(clip(x, 100)) for x in s.shadowed[:3])
          + (" …" if len(s.shadowed) > 3 else ""))
    if b is not None and b.checked:
        counts = ", ".join(f"{md_text(k)}: {md_text(v)}" for k, v in sorted(b.counts.items()))
        out += [f"**bytecode** of the {b.requested} imported modules ({b.checked} from source "
                f"files): {counts}", ""]
        bad = [m for m in b.problems if m.status in PYC_BAD]
        if bad and limit:
            out.extend(f"- {md_code(clip(m.name, 80))}: {md_text(m.status)}"
                       for m in bad[:limit])
            if len(bad) > limit:
                out.append(f"- … and {len(bad) - limit} more")
            out.append("")
    if b is not None:
        group("`.pyc` compiled with unchecked-hash: never revalidated against the source "
              "(an edited source keeps running its old bytecode; fast, but only safe where "
              "sources never change)", b.unchecked,
              lambda m: f"- {md_code(clip(m.name, 80))}: {md_code(clip(m.pyc or '', 120))}",
              b.count("hash_unchecked") if b.check_hash_based_pycs != "always" else 0)
        group("site-packages where `__pycache__` cannot be written", b.unwritable_dirs,
              lambda d: f"- {md_code(clip(d))}")
    group("probe errors", probe.errors, lambda e: f"- {md_text(clip(e, 300))}")
    return out


def details_block(row: VariantHealth, limit: int = DETAIL_LEVELS[0]) -> str:
    """``<details>`` with one variant's findings (empty string without a probe)."""
    if row.probe is None:
        return ""
    n = row.probe.finding_count()
    summary = f"Environment health: {html_text(clip(row.label, 80))} — " + (
        f"{n} finding{'s' if n != 1 else ''}" if n else "no findings")
    body = "\n".join(findings(row.probe, limit)).strip()
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


# -- import time ----------------------------------------------------------------------------------

def _ms(us: int) -> str:
    return f"{us / 1000:.1f}"


def top_table(modules: Sequence[ModuleTime]) -> str:
    return md_table(["module", "cumulative (ms)", "self (ms)"],
                  [[md_code_cell(clip(m.name, 80)), _ms(m.cumulative_us), _ms(m.self_us)]
                   for m in modules])


def _signed_ms(us: int) -> str:
    return f"{us / 1000:+.1f}"


def ranked_table(diff: ImportTimeDiff, limit: int, main_l: str, pr_l: str) -> str:
    rows = []
    for c in diff.ranked[:limit]:
        name = md_code_cell(clip(c.name, 80))
        if c.modules > 1:
            name += f" (+{c.modules - 1} below)"
        main = _ms(c.main_us) if c.kind != "new" else "—"
        pr = _ms(c.pr_us) if c.kind != "removed" else "—"
        if c.kind == "new":
            pr = _ms(c.delta_us)
        elif c.kind == "removed":
            main = _ms(-c.delta_us)
        rows.append([c.kind, name, main, pr, _signed_ms(c.delta_us)])
    return md_table(["change", "module", f"{main_l} (ms)", f"{pr_l} (ms)", "Δ (ms)"], rows)


def explained(diff: ImportTimeDiff, shown: int, measured_us: int | None) -> str:
    """How much of the change the ``shown`` top entries account for."""
    total = sum(c.delta_us for c in diff.ranked[:shown])
    text = (f"The {'entry above adds' if shown == 1 else f'{shown} entries above add'} up to "
            f"{_signed_ms(total)} ms")
    parts = []
    if abs(diff.delta_us) >= diff.min_us:
        parts.append(f"{total / diff.delta_us:.0%} of the import-time change "
                     f"({_signed_ms(diff.delta_us)} ms)")
    if measured_us is not None and abs(measured_us) >= diff.min_us:
        parts.append(f"{total / measured_us:.0%} of the measured start-up change "
                     f"({_signed_ms(measured_us)} ms, difference of the medians)")
    return text + (": " + " and ".join(parts) if parts else "") + "."


def importtime_block(diff: ImportTimeDiff | None, *, pr_label: str, main_label: str,
                     top_pr: Sequence[ModuleTime] = (), top_main: Sequence[ModuleTime] = (),
                     workload: str | None = None, limit: int = DETAIL_LEVELS[0],
                     measured_us: int | None = None) -> str:
    """``<details>`` with the PR-vs-main import-time diff (new, removed, slower and faster
    modules ranked by the time each adds or saves, and how much of the change they explain)
    and each side's top modules. ⚠️ only when the PR imports slower overall."""
    what = f" ({html_code(clip(workload, 60))})" if workload else ""
    pr_h, main_h = html_text(clip(pr_label, 60)), html_text(clip(main_label, 60))
    pr_l, main_l = md_text(clip(pr_label, 60)), md_text(clip(main_label, 60))
    parts: list[str] = []
    if diff is None:
        summary = f"Import time{what}"
    else:
        counts = ", ".join(f"{n} {kind}" for n, kind in (
            (len(diff.new), "new"), (len(diff.removed), "removed"),
            (len(diff.slower), "slower"), (len(diff.faster), "faster")) if n)
        summary = (f"Import time{what}: {pr_h} {_ms(diff.pr_total_us)} ms vs {main_h} "
                   f"{_ms(diff.main_total_us)} ms ({_signed_ms(diff.delta_us)} ms)"
                   + (f" — {counts} modules" if counts else ""))
        if diff.slower_overall():
            summary = f"{WARN} {summary}"
        if limit and diff.ranked:
            shown = min(limit, len(diff.ranked))
            parts += ["**Largest changes**, by the import time each adds or saves (self time; "
                      "a new or removed package counts with the modules only it imports; "
                      f"slower or faster: by more than {diff.threshold_pct:g} % and "
                      f"{diff.min_us / 1000:g} ms)", "",
                      ranked_table(diff, limit, main_l, pr_l), ""]
            if len(diff.ranked) > limit:
                parts += [f"… and {len(diff.ranked) - limit} more", ""]
            parts += [explained(diff, shown, measured_us), ""]
        if diff.empty:
            parts += ["No new or removed modules and none slower or faster beyond the "
                      "threshold.", ""]
    if limit:
        for label, modules in ((pr_l, top_pr), (main_l, top_main)):
            if modules:
                parts += [f"**Top {min(len(modules), limit)} of {label} by cumulative time**",
                          "", top_table(list(modules)[:limit]), ""]
    body = "\n".join(parts).strip() or "No import-time data."
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def _tree_process(report: Report, variant: str, workload: str) -> InspectedProcess | None:
    raw: Mapping[str, Any] = (report.extras.get("importtime") or {}).get(variant) or {}
    return _process_of(raw.get(workload)) if isinstance(raw, Mapping) else None


def _clean(probe: ProbeReport) -> bool:
    """Nothing in the health table worth a row: no exec lines, duplicates or shadowing, and
    full (or unmeasured) ``.pyc`` coverage."""
    if probe.process is not None and not probe.process.program:
        return False  # the launcher's figures: never summed up as "no findings"
    coverage = probe.pyc_coverage
    return not (probe.pth_exec_lines or probe.duplicate_distributions
                or probe.shadowed_modules) and (coverage is None or coverage >= 1.0 - 1e-9)


def health_blocks(report: Report, *, top_n: int = 10, threshold_pct: float = 20.0,
                  min_us: int = 1000) -> list[list[str]]:
    """:func:`health_sections` before fitting: its blocks, each as alternatives (most
    detailed first), for a caller that fits the whole comment at once (and says once what
    it shortened)."""
    rows = variant_health(report)
    if not any(r.probe for r in rows) and not report.extras.get("importtime"):
        return []
    blocks: list[list[str]] = []
    if any(r.probe for r in rows):
        inspected = "  \n".join(line for line in (
            inspected_line(r.label, r.probe.process) for r in rows if r.probe is not None) if line)
        if all(_clean(r.probe) for r in rows if r.probe is not None):
            every = all(not r.probe.finding_count() for r in rows if r.probe is not None)
            blocks.append([("Environment health: no findings in any variant: no "
                            if every else "Environment health: no variant has ") +
                           "`.pth` exec lines, duplicate distributions or shadowed modules, "
                           "and every imported module from a source file has a valid `.pyc`"
                           + ("." if every else " (other findings below).")
                           + (f"\n\n{inspected}" if inspected else "")])
        else:
            blocks.append(["#### Environment health\n\n" + health_table(rows) + "\n\n"
                           f"{WARN} marks a value worse in the PR than in main. .pyc coverage "
                           "counts the workload's imported modules that have a valid bytecode "
                           "cache." + (f"\n\n{inspected}" if inspected else "")])
        quiet = [r for r in rows if r.probe is not None and not r.probe.finding_count()]
        if quiet and len(quiet) < sum(r.probe is not None for r in rows):
            blocks.append(["No environment findings in " + ", ".join(
                md_text(r.label, 60) for r in quiet[:8]) + (
                f" and {len(quiet) - 8} more" if len(quiet) > 8 else "") + "."])
        for row in rows:
            if row.probe is not None and row.probe.finding_count():
                blocks.append([details_block(row, level) for level in DETAIL_LEVELS])
    pr = next((r for r in rows if r.role == "pr"), None)
    main = next((r for r in rows if r.role == "main"), None)
    if pr is not None and main is not None:
        pr_trees = importtime_trees(report, pr.name)
        main_trees = importtime_trees(report, main.name)
        for workload in report.workloads:
            a, b = pr_trees.get(workload), main_trees.get(workload)
            if a is None or b is None:
                continue
            only_launcher = [(row.label, process) for row in (pr, main)
                             if (process := _tree_process(report, row.name, workload))
                             is not None and not process.program]
            if only_launcher:
                what = f" of {md_code(clip(workload, 60))}" if len(report.workloads) > 1 else ""
                blocks.append([f"Import time{what}: not compared — inspected: the launcher "
                               "only. " + "  \n".join(inspected_line(label, process)
                                                       for label, process in only_launcher)])
                continue
            d = importtime.diff(a, b, threshold_pct=threshold_pct, min_us=min_us)
            name = workload if len(report.workloads) > 1 else None
            measured = measured_change_us(report, pr.name, main.name, workload)
            blocks.append([importtime_block(d, pr_label=pr.label, main_label=main.label,
                                            top_pr=importtime.top(a, top_n),
                                            top_main=importtime.top(b, top_n),
                                            workload=name, limit=level, measured_us=measured)
                           for level in (top_n, 3, 0)])
    return blocks
