"""Pure helpers shared by the markdown and terminal renderers: which rows, which numbers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tabulate import tabulate

from harness.analyse.levels import levels_text
from harness.model import (
    Comparison,
    NoiseFinding,
    Report,
    SequentialRecord,
    Summary,
    VariantInfo,
)

_MD_ESCAPE = re.compile(r"([\\`*_\[\]|~])")

@dataclass(frozen=True)
class StartupRow:
    """One row of a start-up table, numbers still unformatted."""

    variant: str
    label: str
    summary: Summary | None
    vs_baseline: Comparison | None
    vs_main: Comparison | None
    build_seconds: float | None
    build_ok: bool
    instructions: Summary | None = None
    cpu: Summary | None = None  # user + system CPU time of the timed runs (spawn timer)
    fetch_seconds: float | None = None  # builders that time fetch and build apart (bazel)


def md_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table; cells must already be escaped."""
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def workload_key(workload: str, metric: str = "wall", scenario: str = "default") -> str:
    """Key of Report.summaries[variant]: ``workload/metric`` (``@scenario`` when not default)."""
    suffix = "" if scenario == "default" else f"@{scenario}"
    return f"{workload}/{metric}{suffix}"


def find_comparison(report: Report, subject: str, reference: str, workload: str,
                    metric: str = "wall") -> Comparison | None:
    return next((c for c in report.comparisons if c.subject == subject
                 and c.reference == reference and c.workload == workload
                 and c.metric == metric), None)


def startup_rows(report: Report, workload: str) -> list[StartupRow]:
    """Rows for ``workload``, in the config's variant order."""
    baseline = report.variant_with_role("baseline")
    main = report.variant_with_role("main")
    rows = []
    for info in report.variants:
        build = report.build(info.name)
        per_variant = report.summaries.get(info.name, {})
        rows.append(StartupRow(
            variant=info.name, label=info.label,
            summary=per_variant.get(workload_key(workload)),
            vs_baseline=(find_comparison(report, info.name, baseline.name, workload)
                         if baseline and baseline.name != info.name else None),
            vs_main=(find_comparison(report, info.name, main.name, workload)
                     if main and main.name != info.name else None),
            build_seconds=build.phases.get("build", build.seconds) if build else None,
            build_ok=bool(build and build.ok),
            instructions=per_variant.get(workload_key(workload, "instructions")),
            cpu=per_variant.get(workload_key(workload, "cpu")),
            fetch_seconds=build.phases.get("fetch") if build else None,
        ))
    return rows


def fmt_seconds(value: float | None, ok: bool = True, failed: str = "failed") -> str:
    """A build column's cell: seconds, ``failed``, or a dash when not measured."""
    if not ok:
        return failed
    return "—" if value is None else f"{value:.2f}"


def fmt_ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.3f}"


def fmt_delta(comparison: Comparison | None, with_ci: bool = True) -> str:
    """``+4.1%`` or ``+4.1% [+2.9, +5.3]`` when the comparison has a confidence interval."""
    if comparison is None:
        return ""
    text = f"{comparison.delta_pct:+.1f}%"
    if with_ci and comparison.ci_low is not None and comparison.ci_high is not None:
        text += f" [{(comparison.ci_low - 1) * 100:+.1f}, {(comparison.ci_high - 1) * 100:+.1f}]"
    return text


def fmt_count(value: float | None) -> str:
    return "—" if value is None else f"{value / 1e6:,.2f}M"


# -- machine paths ----------------------------------------------------------------------------

def locations(report: Report) -> list[tuple[str, str]]:
    """(absolute path, what a reader sees instead), longest path first: each built
    environment is ``<venv>``, the repository ``<repo>``, the run's scratch dir ``<work>``."""
    found = dict(report.locations)
    for build in report.builds:
        if build.prefix and build.prefix not in found and any(
                build.prefix.startswith(p + "/") for p, name in found.items()
                if name == "<work>"):
            found[build.prefix] = "<venv>"
    return sorted(((p, n) for p, n in found.items() if len(p) > 1),
                  key=lambda item: -len(item[0]))


#: After a replaced path: not a character that would continue its last name (``-pr``, ``2``).
_PATH_CONTINUES = r"(?![\w.~+\\-]*[\w~+-])"


def relative_paths(text: str, places: Sequence[tuple[str, str]]) -> str:
    """``text`` with every path of ``places`` replaced by its short name (also inside
    ``file://`` URLs, and in the markdown-escaped spelling of the path)."""
    for path, name in places:
        escaped = _MD_ESCAPE.sub(r"\\\1", path)
        literal = name.replace("\\", "\\\\")  # a replacement template, no group references
        for spelling in {path, escaped}:
            if spelling in text:  # a whole path only: <x>/rules is not <x>/rules-pr
                text = re.sub(re.escape(spelling) + _PATH_CONTINUES, literal, text)
    return text


# -- installed distributions ------------------------------------------------------------------

def installed_packages(report: Report, variant: str) -> dict[str, str]:
    """Normalised name -> how a reader sees what is installed: ``1.2.3`` for a release,
    ``@ origin/main (abc123def456)`` for the variant's own git checkout, ``@ <path>`` for a
    local path (scratch paths made relative), ``@ git+https://host/repo (sha)`` for a URL."""
    build = report.build(variant)
    info = next((v for v in report.variants if v.name == variant), None)
    places = locations(report)
    out: dict[str, str] = {}
    for line in build.installed if build else ():
        line = line.strip().removeprefix("-e ").strip()
        if " @ " in line:
            name, _, url = line.partition(" @ ")
            out[_norm(name)] = "@ " + _describe_url(url.strip(), info, places)
        elif "==" in line:
            name, _, version = line.partition("==")
            out[_norm(name)] = version.strip()
        elif line.startswith(("file:", "git+")):
            out[_norm(line)] = "@ " + _describe_url(line, info, places)
        else:
            out[_norm(line)] = ""
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _describe_url(url: str, info: VariantInfo | None, places: Sequence[tuple[str, str]]) -> str:
    if url.startswith("file://"):
        path = url.removeprefix("file://")
        short = relative_paths(path, places)
        if info is not None and info.revision and short.startswith("<repo>") and any(
                name == "<repo>" and path.startswith(p) for p, name in places):
            return f"{info.ref or short} ({info.revision[:12]})"
        return short
    if url.startswith("git+") and "@" in url.rsplit("/", 1)[-1]:
        base, _, rev = url.rpartition("@")
        return f"{base} ({rev[:12]})"
    return relative_paths(url, places)


def fmt_package(name: str, version: str) -> str:
    """``name==1.2`` or ``name @ ref (sha)``."""
    if not version:
        return name
    return f"{name} {version}" if version.startswith("@") else f"{name}=={version}"


def package_changes(report: Report, subject: str, reference: str) -> list[str]:
    """What differs between two variants' installed distributions (added, removed, changed),
    by name and version."""
    new, old = installed_packages(report, subject), installed_packages(report, reference)
    lines = [f"+ {fmt_package(name, new[name])}" for name in sorted(set(new) - set(old))]
    lines += [f"- {fmt_package(name, old[name])}" for name in sorted(set(old) - set(new))]
    lines += [f"~ {name} {old[name] or '?'} → {new[name] or '?'}"
              for name in sorted(set(new) & set(old)) if new[name] != old[name]]
    return lines


# -- the verdict --------------------------------------------------------------------------------

STATISTIC_SHORT = {"paired": "paired", "median": "medians", "mean": "means"}
VERDICT_ICON = {"regression": "❌", "inconclusive": "⚠️", "error": "❌", "pass": "✅",
                "off": "ℹ️"}


def headline_comparison(report: Report) -> Comparison | None:
    """The gated comparison the verdict is about: the worst regression, else the worst
    inconclusive one, else the largest ratio."""
    gated = list(report.gate.comparisons)
    if not gated:
        return None
    for verdict in ("regression", "inconclusive"):
        hits = [c for c in gated if c.verdict == verdict]
        if hits:
            return max(hits, key=lambda c: c.ratio)
    return max(gated, key=lambda c: c.ratio)


def fmt_change(c: Comparison) -> str:
    """``+436 % [+422, +454]`` (precision by size; the interval when there is one)."""
    def pct(ratio: float) -> str:
        value = (ratio - 1.0) * 100.0
        return f"{value:+.0f}" if abs(value) >= 100 else f"{value:+.1f}"

    text = f"{pct(c.ratio)} %"
    if c.ci_low is not None and c.ci_high is not None and c.ci_low != c.ci_high:
        text += f" [{pct(c.ci_low)}, {pct(c.ci_high)}]"
    return text


def headline(report: Report, code: Callable[[str], str] = lambda s: f"`{s}`",
             text: Callable[[str], str] = lambda s: s,
             icons: Mapping[str, str] = VERDICT_ICON) -> str:
    """The verdict in one line: icon, gated workload, change with interval, threshold.
    ``code`` and ``text`` format a workload name and a label (markdown or plain)."""
    g = report.gate
    status = "inconclusive" if any(c.verdict == "inconclusive" for c in g.comparisons) and \
        g.status == "pass" else g.status
    icon = icons.get(status, icons["error"])
    if g.status == "off":
        return _ungated_headline(report, icon, code, text)
    c = headline_comparison(report)
    if g.status == "error" or c is None:
        return f"{icon} {text(g.headline)}"
    threshold = report.gate_config.threshold_pct
    what = code(c.workload) + ("" if c.metric == "wall" else f" ({c.metric})")
    reference = text(_label_of(report, c.reference))
    subject = next((v for v in report.variants if v.name == c.subject), None)
    by = ("" if subject is not None and subject.role == "pr"
          else f" in {text(_label_of(report, c.subject))}")
    more = len({(x.workload, x.metric) for x in g.comparisons}) - 1
    tail = f"; worst of {more + 1} gated" if more else ""
    change = fmt_change(c)
    if c.verdict == "regression":
        return (f"{icon} {what}{by} is {change} slower than {reference} "
                f"(threshold {threshold:g} %{tail})")
    if c.verdict == "improvement":
        return (f"{icon} {what}{by} is {change} faster than {reference} "
                f"(threshold {threshold:g} %{tail})")
    if c.verdict == "no change":
        return (f"{icon} {what}{by} is {change} vs {reference}: within the {threshold:g} % "
                f"threshold{tail}")
    return (f"{icon} {what}{by} is {change} vs {reference}: inconclusive, the interval reaches "
            f"past the {threshold:g} % threshold{tail}")


def _ungated_headline(report: Report, icon: str, code: Callable[[str], str],
                      text: Callable[[str], str]) -> str:
    """No gate: the PR-vs-main change (or the first comparison) without a verdict, or the
    median of a lone variant."""
    roles = {v.name: v.role for v in report.variants}
    wall = [c for c in report.comparisons if c.metric == "wall"]
    c = next((c for c in wall if roles.get(c.subject) == "pr" and roles.get(c.reference) ==
              "main"), wall[0] if wall else None)
    if c is not None:
        return (f"{icon} {code(c.workload)}: {text(_label_of(report, c.subject))} is "
                f"{fmt_change(c)} vs {text(_label_of(report, c.reference))} (no gate)")
    medians = [(v.label, w, report.summaries.get(v.name, {}).get(workload_key(w)))
               for v in report.variants for w in report.workloads]
    shown = [f"{text(label)} {code(w)} median {s.median * 1000:.1f} ms"
             for label, w, s in medians if s is not None]
    return f"{icon} " + ("; ".join(shown[:3]) + " (nothing to compare, no gate)" if shown
                         else text(report.gate.headline))


def _label_of(report: Report, name: str) -> str:
    return next((v.label for v in report.variants if v.name == name), name)


def change_header(report: Report, workload: str, role: str) -> str:
    """Header of a change column: ``vs main (paired Δ, 95 % CI)`` names the statistic, so a
    reader does not take a paired estimate for the ratio of the medians beside it."""
    reference = report.variant_with_role(role)
    stats_used = {c.statistic for c in report.comparisons
                  if reference and c.reference == reference.name and c.workload == workload}
    short = "/".join(sorted(STATISTIC_SHORT.get(s, s) for s in stats_used)) or \
        STATISTIC_SHORT.get(report.gate_config.statistic, "Δ")
    return f"vs {role} ({short})"


STATISTIC_TEXT = {
    "paired": "pseudo-median of the per-round ratios",
    "median": "ratio of medians",
    "mean": "ratio of means",
}


def change_legend(report: Report, workload: str) -> str:
    """What the change columns show, in words (empty without comparisons)."""
    wall = [c for c in report.comparisons if c.workload == workload and c.metric == "wall"]
    shown = {c.statistic for c in wall}
    if not shown:
        return ""
    # each interval's own level (runs: auto gates at the last look's, e.g. 99.75 %)
    confidence = levels_text(wall, sep="", label=lambda name: _label_of(report, name)) or \
        f"{report.gate_config.confidence * 100:g}%"
    if shown == {"paired"}:
        return (f"Change columns: the pseudo-median of the per-round ratios (paired), with its "
                f"{confidence} interval. Load bursts that slow both runs of a round cancel "
                "in it, so it can differ from the ratio of the medians beside it.")
    names = ", ".join(STATISTIC_TEXT.get(x, x) for x in sorted(shown))
    return f"Change columns: {names}, with the {confidence} interval."


def sequential_text(record: SequentialRecord) -> str:
    """``stopped after 120 runs: interval decisive (look 8 of 20, ...)`` for ``runs: auto``."""
    if record.decisive:
        head = f"stopped after {record.runs} runs: interval decisive"
    else:
        budget = record.stopped.removeprefix("budget reached: ")
        head = f"budget reached ({budget}) after {record.runs} runs: inconclusive"
    return (f"{head} (look {len(record.looks)} of {len(record.planned)} planned, every "
            f"{record.batch} runs; the interval is at {record.confidence * 100:.2f} % so that "
            f"all looks together keep the {(1 - record.alpha) * 100:g} % level)")


def note_message(report: Report, finding: NoiseFinding) -> str:
    """A finding's message with the variant names it starts with ("pr vs main: ...") given as
    their labels, as everywhere else a reader looks."""
    text = finding.message
    head, sep, rest = text.partition(": ")
    names = head.split(" vs ")
    if sep and len(names) == 2 and names[0] == finding.variant:
        labels = [_label_of(report, n) for n in names]
        return f"vs {labels[1]}: {rest}" if labels[0] else text
    return text


def gate_warnings(report: Report) -> list[str]:
    """The gate's warnings with "subject vs reference" given by the variants' labels."""
    pairs = {f"{c.subject} vs {c.reference}":
             f"{_label_of(report, c.subject)} vs {_label_of(report, c.reference)}"
             for c in report.gate.comparisons}
    out = []
    for warning in report.gate.warnings:
        for ids, labels in pairs.items():
            warning = warning.replace(f": {ids} on ", f": {labels} on ")
        out.append(warning)
    return out


def scenario_rows(report: Report, workload: str, label: Callable[[str], str],
                  ratio: Callable[[str, float], str]) -> tuple[list[str], list[list[str]]]:
    """The bytecode scenarios of ``workload`` (warm / cold / stale) measured, and one row per
    variant: its label, then each scenario's median, ``ratio(median, times warm)`` after warm."""
    scenarios = sorted({s.scenario for s in report.samples
                        if s.workload == workload and s.scenario != "default"},
                       key=["warm", "cold", "stale"].index)
    rows: list[list[str]] = []
    for info in report.variants if scenarios else ():
        per = report.summaries.get(info.name, {})
        warm = per.get(workload_key(workload, scenario="warm"))
        cells = [label(info.label)]
        for scenario in scenarios:
            s = per.get(workload_key(workload, scenario=scenario))
            if s is None:
                cells.append("—")
            elif scenario == "warm" or warm is None:
                cells.append(fmt_ms(s.median))
            else:
                cells.append(ratio(fmt_ms(s.median), s.median / warm.median))
        rows.append(cells)
    return scenarios, rows
