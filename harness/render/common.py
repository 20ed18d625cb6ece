"""Pure helpers shared by the markdown and terminal renderers: which rows, which numbers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
from harness.render.escape import clip, size

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
    """A change column's cell: ``+4.1 % [+2.9, +5.3]`` (see :func:`fmt_change`; empty when
    there is no comparison)."""
    if comparison is None:
        return ""
    return fmt_change(comparison) if with_ci else f"{pct(comparison.ratio)} %"


def fmt_count(value: float | None) -> str:
    return "—" if value is None else f"{value / 1e6:,.2f}M"


# -- machine paths ----------------------------------------------------------------------------

#: The short names a machine path may be given (a record that names others is not believed).
PLACE_NAMES = ("<work>", "<repo>", "<venv>")
#: A path is only replaced when it cannot match across markup: absolute, not tiny, and free
#: of characters that markdown or HTML give a meaning.
_UNSAFE_PATH = re.compile(r"[`<>|*&\\\[\]~\s]")


def locations(report: Report) -> list[tuple[str, str]]:
    """(absolute path, what a reader sees instead), longest path first: each built
    environment is ``<venv>``, the repository ``<repo>``, the run's scratch dir ``<work>``."""
    found = dict(report.locations)
    for build in report.builds:
        if build.prefix and build.prefix not in found and any(
                build.prefix.startswith(p + "/") for p, name in found.items()
                if name == "<work>"):
            found[build.prefix] = "<venv>"
    return sorted(((p, n) for p, n in found.items()
                   if n in PLACE_NAMES and p.startswith("/") and 4 <= len(p) <= 4096
                   and not _UNSAFE_PATH.search(p)),
                  key=lambda item: -len(item[0]))


#: After a replaced path: not a character that would continue its last name (``-pr``, ``2``).
_PATH_CONTINUES = r"(?![\w.~+\\-]*[\w~+-])"


def md_places(places: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """:func:`locations` for markdown: ``‹venv›`` rather than ``<venv>``, which GitHub would
    take for an HTML tag and hide."""
    return [(p, n.replace("<", "‹").replace(">", "›")) for p, n in places]


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


def pct(ratio: float, signed: bool = True) -> str:
    """A ratio as a percent change, rounded the one way every output uses: whole percent
    from 100 % up, one decimal below; never ``-0.0``."""
    value = (ratio - 1.0) * 100.0
    if not signed:
        value = abs(value)
    text = f"{value:+.0f}" if abs(value) >= 99.95 else f"{value:+.1f}"
    if text.lstrip("+-").strip("0.") == "":
        return "0.0"
    return text if signed else text.lstrip("+-")


def fmt_change(c: Comparison) -> str:
    """``+436 % [+422, +454]`` (precision by size; the interval when there is one)."""
    text = f"{pct(c.ratio)} %"
    if c.ci_low is not None and c.ci_high is not None and c.ci_low != c.ci_high:
        text += f" [{pct(c.ci_low)}, {pct(c.ci_high)}]"
    return text


def change_words(ratio: float) -> str:
    """``25.0 % slower`` / ``24.9 % faster`` / ``unchanged`` (no signs to read twice)."""
    size_ = pct(ratio, signed=False)
    if size_ == "0.0":
        return "unchanged"
    return f"{size_} % {'slower' if ratio > 1 else 'faster'}"


def interval_words(c: Comparison) -> str:
    """The interval in the same words: ``interval 23.8 to 26.3 % slower``, ``interval 3.0 %
    faster to 7.0 % slower``; empty without one."""
    lo, hi = c.ci_low, c.ci_high
    if lo is None or hi is None or lo == hi:
        return ""
    if lo >= 1.0:
        return f"interval {pct(lo, False)} to {pct(hi, False)} % slower"
    if hi <= 1.0:
        return f"interval {pct(hi, False)} to {pct(lo, False)} % faster"
    return f"interval {pct(lo, False)} % faster to {pct(hi, False)} % slower"


def headline(report: Report, code: Callable[[str], str] = lambda s: f"`{clip(s)}`",
             text: Callable[[str], str] = clip,
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
    reference = text(variant_label(report, c.reference))
    subject = next((v for v in report.variants if v.name == c.subject), None)
    by = ("" if subject is not None and subject.role == "pr"
          else f" in {text(variant_label(report, c.subject))}")
    more = len({(x.workload, x.metric) for x in g.comparisons}) - 1
    tail = f"; worst of {more + 1} gated" if more else ""
    words = change_words(c.ratio)
    interval = interval_words(c)
    if c.verdict in ("regression", "improvement"):
        what_change = f"{words} than {reference}" if words != "unchanged" else \
            f"unchanged vs {reference}"
        return (f"{icon} {what}{by} is {what_change} "
                f"({interval + '; ' if interval else ''}threshold {threshold:g} %{tail})")
    verb = f"is {words} than" if words != "unchanged" else "is unchanged vs"
    if c.verdict == "no change":
        extra = "; ".join(x for x in (interval, tail.removeprefix("; ")) if x)
        return (f"{icon} {what}{by} {verb} {reference}: within the {threshold:g} % "
                f"threshold" + (f" ({extra})" if extra else ""))
    return (f"{icon} {what}{by} {verb} {reference}: inconclusive, the interval reaches "
            f"past the {threshold:g} % threshold ({interval}{tail})")


def _ungated_headline(report: Report, icon: str, code: Callable[[str], str],
                      text: Callable[[str], str]) -> str:
    """No gate: the PR-vs-main change (or the first comparison) without a verdict, or the
    median of a lone variant."""
    roles = {v.name: v.role for v in report.variants}
    wall = [c for c in report.comparisons if c.metric == "wall"]
    c = next((c for c in wall if roles.get(c.subject) == "pr" and roles.get(c.reference) ==
              "main"), wall[0] if wall else None)
    if c is not None:
        words = change_words(c.ratio)
        return (f"{icon} {code(c.workload)}: {text(variant_label(report, c.subject))} is "
                f"{words}{' than' if words != 'unchanged' else ' vs'} "
                f"{text(variant_label(report, c.reference))} (no gate)")
    medians = [(v.label, w, report.summaries.get(v.name, {}).get(workload_key(w)))
               for v in report.variants for w in report.workloads]
    shown = [f"{text(label)} {code(w)} median {s.median * 1000:.1f} ms"
             for label, w, s in medians if s is not None]
    return f"{icon} " + ("; ".join(shown[:3]) + " (nothing to compare, no gate)" if shown
                         else text(report.gate.headline))


def variant_label(report: Report, name: str) -> str:
    """A variant's label (its name when the report does not know it)."""
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
    confidence = levels_text(wall, sep="", label=lambda name: variant_label(report, name)) or \
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
        labels = [variant_label(report, n) for n in names]
        return f"vs {labels[1]}: {rest}" if labels[0] else text
    return text


def gate_warnings(report: Report) -> list[str]:
    """The gate's warnings with "subject vs reference" given by the variants' labels."""
    pairs = {f"{c.subject} vs {c.reference}":
             f"{variant_label(report, c.subject)} vs {variant_label(report, c.reference)}"
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
    known = ["warm", "cold", "stale"]
    scenarios = sorted({s.scenario for s in report.samples
                        if s.workload == workload and s.scenario != "default"},
                       key=lambda x: (known.index(x) if x in known else len(known), x))
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


# -- the budget ---------------------------------------------------------------------------------

#: Said once, when anything had to be shortened or left out to fit GitHub's limit.
CUT_NOTE = ("_Shortened to fit GitHub's 65,536-character comment limit: {what}; report.json "
            "has everything._")


def fit(alternatives: Sequence[Sequence[str]], budget: int, note: str = CUT_NOTE,
        names: Sequence[str] = ()) -> str:
    """The one budget fitter: join whole blocks within ``budget`` UTF-8 bytes (never more
    characters either). Each block comes as alternatives, most detailed first; a later block
    gets less detail, then is left out whole; nothing is ever cut inside a block, so no code
    span, table row or ``<details>`` can be left open. When anything was shortened ``note``
    is appended once (``{what}`` names the blocks, from ``names``, of harness-made text)."""
    sep = "\n\n"
    chosen: list[str] = []
    shortened: list[str] = []
    dropped: list[str] = []
    used = 0
    for i, options in enumerate(alternatives):
        options = [o for o in options if o]
        if not options:
            continue
        name = names[i] if i < len(names) else "details"
        reserve = size(note) + size(sep) + (200 if "{what}" in note else 0)
        pick = next((o for o in options if used + size(o) + size(sep) + reserve <= budget),
                    None)
        if pick is None:
            dropped.append(name)
            continue
        if pick is not options[0]:
            shortened.append(name)
        chosen.append(pick)
        used += size(pick) + size(sep)
    text = sep.join(chosen)
    if shortened or dropped:
        what = "; ".join(part for part in (
            _listed("shortened", shortened), _listed("left out", dropped)) if part)
        said = note.replace("{what}", what)
        text = (text + sep + said) if text else said
    return text if size(text) <= budget else ""


def _listed(verb: str, names: list[str]) -> str:
    if not names:
        return ""
    unique = list(dict.fromkeys(names))
    shown = ", ".join(unique[:4]) + (f" and {len(unique) - 4} more" if len(unique) > 4 else "")
    return f"{verb} {shown}"


# -- the verdict's first and last lines, and the "why" ----------------------------------------

def bold_verdict(text: str) -> str:
    """A headline in bold up to its details (interval, threshold or explanation)."""
    cuts = [i for i in (text.find(c) for c in (" (interval", " (threshold", ": within",
                                               ": inconclusive", " (no gate)")) if i > 0]
    if not cuts:
        return f"**{text}**"
    at = min(cuts)
    return f"**{text[:at]}**{text[at:]}"


def final_line(report: Report, text: Callable[[str], str]) -> str:
    """The seed's closing ✅ / ❌ line, from the gate's decision, with the change in the
    headline's words and rounding."""
    g = report.gate
    icon = {"pass": "✅", "regression": "❌", "off": "ℹ️"}.get(g.status, "❌")
    line = f"{icon} {text(g.headline)}"
    compared = [c for c in g.comparisons if c.subject == report.gate_config.compare]
    if compared and g.status != "error":
        c = max(compared, key=lambda x: x.ratio)
        words = change_words(c.ratio)
        line += (f": {text(variant_label(report, c.subject))} is {words}"
                 f"{' than' if words != 'unchanged' else ' vs'} "
                 f"{text(variant_label(report, c.reference))} ({fmt_change(c)})")
    return line


#: Import-time diff settings shared by the "why" and the import-time details.
IMPORTTIME_THRESHOLD_PCT = 20.0
IMPORTTIME_MIN_US = 1000
KIND_WORDS = {"new": "new", "removed": "no longer imported", "slower": "slower",
              "faster": "faster"}


def importtime_trees(report: Report, variant: str) -> dict[str, Any]:
    """The variant's import-time trees by workload, as :class:`ImportTimeTree`."""
    from harness.inspection.importtime import ImportTimeTree

    raw = (report.extras.get("importtime") or {}).get(variant) or {}
    out: dict[str, Any] = {}
    if not isinstance(raw, Mapping):
        return out
    for workload, data in raw.items():
        if isinstance(data, ImportTimeTree):
            out[workload] = data
        elif isinstance(data, Mapping):
            try:
                out[workload] = ImportTimeTree.from_dict(data)
            except (KeyError, TypeError, ValueError):
                continue
    return out


def measured_change_us(report: Report, subject: str, reference: str,
                       workload: str) -> int | None:
    """Subject median minus reference median of the workload's wall time, in microseconds."""
    key = workload_key(workload)
    a = report.summaries.get(subject, {}).get(key)
    b = report.summaries.get(reference, {}).get(key)
    return None if a is None or b is None else round((a.median - b.median) * 1e6)


def why(report: Report, code: Callable[[str], str] = clip,
        text: Callable[[str], str] = clip, top: int = 3) -> tuple[str, list[str]]:
    """What explains the verdict, reader first: (which two variants, lines). The import-time diff's
    top entries in the direction of the change with how much of the measured change each
    explains (when the gated comparison changed), then what the PR's environment gained
    over its reference: ``.pth`` lines run at every start, duplicate distributions, sys.path
    entries. Empty when there is nothing to say."""
    from harness.inspection import importtime

    subject = report.gate_config.compare
    reference = report.gate_config.against
    names = {v.name for v in report.variants}
    if subject not in names or reference not in names:
        return "", []
    lines: list[str] = []
    c = next((x for x in (headline_comparison(report),) if x is not None
              and x.subject == subject and x.reference == reference), None)
    if c is not None and c.verdict in ("regression", "improvement", "inconclusive") \
            and change_words(c.ratio) != "unchanged":
        a = importtime_trees(report, subject).get(c.workload)
        b = importtime_trees(report, reference).get(c.workload)
        if a is not None and b is not None:
            d = importtime.diff(a, b, threshold_pct=IMPORTTIME_THRESHOLD_PCT,
                                min_us=IMPORTTIME_MIN_US)
            sign = 1 if c.ratio > 1 else -1
            measured = measured_change_us(report, subject, reference, c.workload)
            whole = measured if measured and measured * sign > 0 else (
                d.delta_us if d.delta_us * sign > 0 else 0)
            for e in [e for e in d.ranked if e.delta_us * sign > 0][:top]:
                below = f" (+{e.modules - 1} below)" if e.modules > 1 else ""
                share = (f", {e.delta_us / whole * 100:.0f} % of the {whole / 1000:+.1f} ms "
                         f"{'measured' if whole == measured else 'import-time'} change"
                         if whole else "")
                lines.append(f"import of {code(e.name)}{below}: {KIND_WORDS.get(e.kind, e.kind)}"
                             f", {e.delta_us / 1000:+.1f} ms{share}")
    pa, pb = report.probes.get(subject), report.probes.get(reference)
    if pa is not None and pb is not None:
        old = {line for p in pb.pth_files if p.processed for line in p.import_lines}
        new = [(line, p.import_costs_us[i] if i < len(p.import_costs_us) else -1)
               for p in pa.pth_files if p.processed
               for i, line in enumerate(p.import_lines) if line not in old]
        if new:
            shown = ", ".join(code(line) + (f" ({cost / 1000:.1f} ms)" if cost >= 0 else "")
                              for line, cost in new[:top])
            lines.append(f"{len(new)} new {code('.pth')} line{'s' if len(new) > 1 else ''} run at "
                         f"every start: {shown}" + (" …" if len(new) > top else ""))
        had = {d.name for d in pb.distributions.duplicates}
        dups = [d.name for d in pa.distributions.duplicates if d.name not in had]
        if dups:
            lines.append(f"{len(dups)} new duplicate distribution{'s' if len(dups) > 1 else ''}"
                         f" (installed twice): " + ", ".join(code(n) for n in dups[:top])
                         + (" …" if len(dups) > top else ""))
        grown = pa.sys_path_entries - pb.sys_path_entries
        roots = pa.site_packages_roots - pb.site_packages_roots
        if grown > 0 or roots > 0:
            lines.append(f"sys.path: {pa.sys_path_entries} entries ({grown:+d}), "
                         f"{pa.site_packages_roots} site-packages roots ({roots:+d}); every "
                         "import searches them in order")
    if not lines:
        return "", []
    return (f"{text(variant_label(report, subject))} vs "
            f"{text(variant_label(report, reference))}"), lines


def decisive(report: Report) -> bool:
    """Whether every gated comparison's interval settles its verdict: a regression or an
    improvement (the interval wholly past the threshold), or no change with the interval
    wholly inside it. A note asking for more runs would then contradict the verdict."""
    gated = report.gate.comparisons
    return bool(gated) and report.gate.status != "error" and all(
        c.verdict in ("regression", "improvement", "no change") for c in gated)


def shown_notes(report: Report) -> list[tuple[str, list[NoiseFinding]]]:
    """The warnings worth a reader's time, grouped by their advice (first seen first):
    duplicates dropped; notes about variants the gate does not compare, or about a
    comparison it does not make (main vs baseline), left to report.json (the machine's are
    kept); "noisy" notes (add runs, the run resolves ±X %) dropped when the verdict is
    decisive, as they would contradict it."""
    gated = {report.gate_config.compare, report.gate_config.against}
    gated |= {x for c in report.gate.comparisons for x in (c.subject, c.reference)}
    settled = decisive(report)
    pairs = {(c.subject, c.reference) for c in report.gate.comparisons}
    pairs.add((report.gate_config.compare, report.gate_config.against))
    groups: dict[str, list[NoiseFinding]] = {}
    seen: set[tuple[str, str, str, str, str]] = set()
    for f in report.noise:
        key = (f.variant, f.workload, f.scenario, f.metric, f.message)
        if f.severity != "warning" or key in seen:
            continue
        seen.add(key)
        if f.variant and report.gate.status != "off" and f.variant not in gated \
                and f.kind != "failures":
            continue
        if settled and f.kind == "noisy":
            continue
        head, sep, _rest = f.message.partition(": ")
        pair = tuple(head.split(" vs "))
        if sep and len(pair) == 2 and pair[0] == f.variant and pair not in pairs:
            continue  # about a comparison the gate does not make (main vs baseline)
        groups.setdefault(f.advice, []).append(f)
    return list(groups.items())
