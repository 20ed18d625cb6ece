"""The PR comment under hostile input: every string a record, a config, a ref or an
environment can carry is put through the renderer, and the result must fit GitHub's limit,
start with the verdict, render no HTML but the harness's own, ping nobody, and keep every
table's rows whole. Property-based (hypothesis) plus the cases of issue 20 as they were found."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from harness.inspection import importtime
from harness.inspection.health import (
    DistCopy,
    DistributionSummary,
    DuplicateDistribution,
    PathEntry,
    PthFile,
)
from harness.model import BuildResult, GateResult, NoiseFinding, Report, Samples, VariantInfo
from harness.render import markdown, terminal
from harness.render.escape import size
from harness.serial import to_data
from tests.sample_report import sample_report

#: Inputs of up to a few hundred kB are the point; hypothesis warns when it prints them.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
GITHUB_LIMIT = 65_536
#: Tags the harness writes itself (and the marker comment); any other raw HTML is a leak.
OWN_TAG = re.compile(r"<(?:/?(?:details|summary|code|sub|br)\s*/?|!-- startup-harness:comment "
                     r"--)>")
MENTION = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9]")
ICONS = ("❌", "✅", "⚠️", "ℹ️")
PAYLOADS = ["<img src=x onerror=1>", "</details>", "<details>", "`", "``", "|", "\\|", "\\",
            "@octocat", "@org/team", "#12", "GH-3", "&#64;alice", "&commat;bob", "\n", "\n\n",
            "<!--", "-->", "***", "_", "[x](javascript:alert(1))", "![i](http://x/i.png)",
            "<script>alert(1)</script>", "\u202e", "\x00", "\x1b[31m", "\ud800", "- ", "# ",
            "| --- |", "<summary>", "</summary>", "é", "😀", "\u200b", "$x$", "<venv>",
            "https://github.com/o/r/issues/1"]


def _hostile() -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=20))
    small = st.lists(piece, max_size=8).map("".join)
    big = st.tuples(st.lists(st.sampled_from(PAYLOADS), min_size=1, max_size=4),
                    st.integers(1, 20_000)).map(lambda t: "".join(t[0]) * t[1])
    return st.one_of(small, small, big)


HOSTILE = _hostile()


def _tree(*modules: tuple[str, int]) -> importtime.ImportTimeTree:
    return importtime.ImportTimeTree(tuple(importtime.ImportNode(n, us, us) for n, us in modules))


def hostile_report(s: dict[str, str], *, status: str = "regression", many: int = 1) -> Report:
    """The sample report with ``s``'s strings in every user-controlled field; ``many``
    repeats the warnings, notes and findings."""
    base = sample_report(status=status, pr_label=s["label"])
    workload = s["workload"] or "w"

    def renamed(key: str) -> str:
        return key.replace("import/", f"{workload}/", 1)

    variants = tuple(dataclasses.replace(v, label=s["label"] if v.name != "main" else s["ref"],
                                         source=s["path"], ref=s["ref"], revision=s["ref"])
                     for v in base.variants)
    comparisons = tuple(dataclasses.replace(c, workload=workload) for c in base.comparisons)
    gated = tuple(c for c in comparisons if c.subject == "pr" and c.reference == "main")
    probe = dataclasses.replace(
        base.probes["pr"],
        entries=(*base.probes["pr"].entries, PathEntry(s["path"], s["path"], False, "missing",
                                                       False)),
        pth_files=(PthFile(s["path"], True, 0, 1, import_lines=(s["name"],) * many,
                           import_costs_us=(1000,)),),
        distributions=DistributionSummary(3, 2, tuple(DuplicateDistribution(s["name"], (
            DistCopy(s["ref"], s["path"], s["path"]),) * 2) for _ in range(many))))
    trees = {"main": {workload: to_data(_tree(("json", 2000)))},
             "pr": {workload: to_data(_tree(("json", 2000), (s["name"] or "m", 80_000)))}}
    return dataclasses.replace(
        base, title=s["title"], variants=variants, workloads=(workload,),
        summaries={v: {renamed(k): x for k, x in d.items()} for v, d in base.summaries.items()},
        comparisons=comparisons,
        samples=(Samples("main", workload, "wall", (0.05, 0.06), (0, 1),
                         scenario=s["scenario"]),),
        builds=(*base.builds[:2], BuildResult("pr", "uv", False, 1.0, s["path"], s["path"],
                                              error=s["error"])),
        probes={**base.probes, "pr": probe},
        gate=GateResult(base.gate.status, base.gate.exit_code, s["error"] or "x", gated,
                        warnings=(s["warning"],) * many),
        extras={"warnings": [s["warning"]] * many, "importtime": trees},
        noise=tuple(NoiseFinding("noisy", "pr", workload, "wall", "warning", s["error"],
                                 s["warning"], scenario=s["scenario"]) for _ in range(many)),
        errors=(s["error"],),
        locations={s["path"]: "<work>", "/tmp/x": s["label"]})


#: How many hostile comments each property renders (``HOSTILE_EXAMPLES=50`` for a quick look).
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "1000"))
FIELDS = ("label", "ref", "title", "workload", "path", "name", "error", "warning", "scenario")


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for tok in tokens:
        yield tok
        if tok.children:
            yield from _walk(tok.children)


def check_comment(text: str) -> None:
    """What every comment must be, whatever went into it."""
    assert size(text) <= markdown.BUDGET < GITHUB_LIMIT and len(text) <= GITHUB_LIMIT
    lines = text.splitlines()
    assert lines[0] == markdown.MARKER
    assert lines[1].startswith(tuple(f"**{icon}" for icon in ICONS)), lines[1][:200]
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(text)
    for tok in _walk(tokens):
        if tok.type in ("html_block", "html_inline"):
            leaked = re.sub(OWN_TAG, "", tok.content)
            assert "<" not in leaked, leaked[:300]
        assert tok.type != "image"
        if tok.type == "link_open":
            assert str(tok.attrs.get("href", "")).startswith(("https://", "http://"))
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<img" not in html and "<script" not in html
    assert html.count("<details>") == html.count("</details>")
    assert not MENTION.search(text), MENTION.search(text)
    # a table's rows keep the header's number of cells: no "|" from a string splits a cell
    table: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            # GFM splits a row at each "|" not right after a backslash (cmark-gfm, markdown-it)
            counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
            assert len(counts) == 1, table[:3]
            table = []


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries({f: HOSTILE for f in FIELDS}),
       st.sampled_from(["regression", "pass"]), st.sampled_from([1, 3, 400]))
def test_hostile_strings_in_every_field(strings: dict[str, str], status: str, many: int) -> None:
    report = hostile_report(strings, status=status, many=many)
    check_comment(markdown.render(report))
    plain = terminal.render(report, width=80)
    assert "\x1b" not in plain and "\u202e" not in plain  # nothing drives the terminal
    assert max(len(line) for line in plain.splitlines()) <= 80
    assert size(plain) < 200_000


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.fixed_dictionaries({f: HOSTILE for f in FIELDS}), min_size=1, max_size=4),
       st.lists(HOSTILE, min_size=1, max_size=4), st.integers(1, 300))
def test_hostile_matrix(cells: list[dict[str, str]], names: list[str], copies: int) -> None:
    made = [dataclasses.replace(hostile_report(s), cell=names[i % len(names)])
            for i, s in enumerate(cells)] * copies
    top = dataclasses.replace(sample_report(status="regression"), cells=tuple(made),
                              title=cells[0]["title"], errors=(cells[0]["error"],))
    check_comment(markdown.render(top))


# -- the cases of issue 20, as found -------------------------------------------------------------

def test_huge_labels_fit() -> None:
    """70,000-character labels gave a 1,153,135-character comment."""
    label = "L" * 70_000
    text = markdown.render(hostile_report({f: "x" for f in FIELDS} | {"label": label,
                                                                      "ref": label}))
    check_comment(text)
    assert size(text) < 30_000


def test_a_thousand_closing_details_in_warnings() -> None:
    strings = {f: "x" for f in FIELDS} | {"warning": "</details>" * 1000,
                                          "error": "E" * 143_000}
    text = markdown.render(hostile_report(strings, many=1000))
    check_comment(text)
    assert "… and" in text  # the warnings are counted, not all listed


def test_backticks_in_a_huge_workload_name_leave_no_live_html() -> None:
    """An 87,000-character workload name with backticks left 2,296 live <img> after cutting."""
    name = ("`<img src=x onerror=1>`" * 4000)[:87_000]
    text = markdown.render(hostile_report({f: "x" for f in FIELDS} | {"workload": name}))
    check_comment(text)


def test_cut_comment_says_so_in_one_line_and_keeps_the_verdict_first() -> None:
    huge = ["<details><summary>x</summary>\n\n" + "y" * 5000 + "\n\n</details>"] * 40
    text = markdown.render(sample_report(status="regression"), extra_sections=huge)
    check_comment(text)
    said = [line for line in text.splitlines() if "Shortened to fit" in line]
    assert len(said) == 1 and "left out" in said[0]
    assert text.rstrip().splitlines()[-1].startswith("❌ Regression detected")


def test_mentions_are_neutralised_one_way() -> None:
    from harness.github import bot
    from harness.render.escape import INVISIBLE, md_text

    assert md_text("@alice #3 GH-4") == f"@{INVISIBLE}alice #{INVISIBLE}3 GH-{INVISIBLE}4"
    body = bot.sanitize_body(markdown.MARKER + "\n" + md_text("@alice"))
    assert body.count(INVISIBLE) == 1  # idempotent: the bot adds nothing to the renderer's


def test_hostile_scenario_and_locations_do_not_crash_or_inject() -> None:
    strings = {f: "x" for f in FIELDS} | {"scenario": "<b>odd</b>", "path": "`",
                                          "label": "<img src=x onerror=1>"}
    report = hostile_report(strings)
    report = dataclasses.replace(report, locations={"`": "<img src=x onerror=1>",
                                                    "/x": "<work>"})
    check_comment(markdown.render(report))


def test_multibyte_text_is_budgeted_in_bytes() -> None:
    huge = ["😀" * 20_000] * 5  # 80,000 bytes each, 20,000 characters
    text = markdown.render(sample_report(), extra_sections=huge)
    check_comment(text)


def test_variant_names_from_a_record_are_escaped_too() -> None:
    base = sample_report(status="regression")
    variants = (*base.variants[:2], VariantInfo("pr", "@x <img src=x onerror=1>", "pr",
                                                "`a` | b", "uv"))
    check_comment(markdown.render(dataclasses.replace(base, variants=variants)))


def test_shortened_health_is_said_once_with_the_rest() -> None:
    many = 2000
    strings = {f: "x" for f in FIELDS} | {"name": "n" * 100, "path": "/p" * 60}
    text = markdown.render(hostile_report(strings, many=many),
                           extra_sections=["y" * 20_000] * 3)
    check_comment(text)
    said = [line for line in text.splitlines() if "shortened" in line.lower()]
    assert len(said) == 1 and "left out details" in said[0], said
    tiny = markdown.render_body(hostile_report(strings, many=many), 6_000)
    said = [line for line in tiny.splitlines() if "shortened" in line.lower()]
    assert len(said) == 1 and "environment health" in said[0], said
