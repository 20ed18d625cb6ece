"""Health and import-time markdown (pure): tables, ⚠️ marks, escaping, the size budget."""

from __future__ import annotations

import dataclasses

from markdown_it import MarkdownIt

from harness.inspection import importtime
from harness.inspection.health import (
    BytecodeReport,
    DistCopy,
    DistributionSummary,
    DuplicateDistribution,
    DuplicatePath,
    InspectedProcess,
    InterpreterInfo,
    ModuleBytecode,
    PathEntry,
    ProbeReport,
    PthFile,
    ShadowedModule,
    StartupHook,
)
from harness.model import Report
from harness.render import health
from harness.render.common import fit
from harness.render.health import VariantHealth
from harness.serial import to_data
from tests.mdtables import tables
from tests.sample_report import sample_report

HOSTILE = "evil | x\n| y <script>alert(1)</script> `tick` @octocat"


def health_sections(report: Report, budget: int = 40_000) -> list[str]:
    """The health part alone, fitted in ``budget`` bytes as the comment fits it."""
    text = fit(health.health_blocks(report), budget)
    return [text] if text else []


def entries(*paths: str, missing: str | None = None) -> tuple[PathEntry, ...]:
    out = [PathEntry("", "/w", True, "dir", False, is_path0=True),
           PathEntry("/usr/lib/python311.zip", "/usr/lib/python311.zip", False, "missing",
                     False, is_stdlib=True, expected_missing=True),
           PathEntry("/usr/lib/python3.11", "/usr/lib/python3.11", True, "dir", False,
                     is_stdlib=True)]
    out += [PathEntry(p, p, True, "dir", True) for p in paths]
    if missing:
        out.append(PathEntry(missing, missing, False, "missing", False))
    return tuple(out)


def clean_probe(**changes: object) -> ProbeReport:
    base = ProbeReport(
        python="/v/bin/python", version="3.11.7", prefix="/v", base_prefix="/usr",
        entries=entries("/v/site-packages"),
        bytecode=BytecodeReport(magic="a70d0d0a", requested=12, checked=10,
                                counts={"valid": 10, "builtin": 2}),
        interpreter=InterpreterInfo(executable="/v/bin/python", venv=True,
                                    include_system_site_packages=False))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def sick_probe(text: str = "pydantic_core") -> ProbeReport:
    """The seed's environment: one distribution in two roots, plus a .pth exec line."""
    return clean_probe(
        entries=(*entries("/v/site-packages", "/stripe/site-packages", missing="/gone"),
                 PathEntry("/v/l", "/v/site-packages", True, "dir", False)),
        duplicates=(DuplicatePath("/v/site-packages", (3, 5), ("/v/site-packages", "/v/l")),),
        pth_files=(PthFile("/v/site-packages/x.pth", True, 1, 1, ("/stripe/site-packages",),
                           (f"import {text}",)),),
        hooks=(StartupHook("meta_path", f"{text}.Finder", "/v/f.py"),),
        distributions=DistributionSummary(2, 1, (DuplicateDistribution(text, (
            DistCopy("2.41.5", f"/v/site-packages/{text}-2.41.5.dist-info", "/v/site-packages"),
            DistCopy("2.41.5", f"/s/{text}-2.41.5.dist-info", "/stripe/site-packages"))),)),
        shadowed=(ShadowedModule(text, "/v/site-packages", ("/stripe/site-packages",)),
                  ShadowedModule("json", "/w", ("/usr/lib/python3.11",), stdlib=True)),
        bytecode=BytecodeReport(magic="a70d0d0a", requested=10, checked=10,
                                counts={"valid": 4, "foreign_magic": 6},
                                problems=(ModuleBytecode(text, "foreign_magic"),),
                                dont_write_bytecode=True,
                                dont_write_by="PYTHONDONTWRITEBYTECODE"),
    )


def rows(main: ProbeReport | None, pr: ProbeReport | None,
         pr_label: str = "This PR") -> list[VariantHealth]:
    return [VariantHealth("main", "HEAD main", "main", main),
            VariantHealth("pr", pr_label, "pr", pr)]


def test_sys_path_table_keeps_the_seed_columns() -> None:
    (table,) = tables(health.sys_path_table(rows(clean_probe(), sick_probe())))
    assert table == [["Version", "sys.path entries", "distinct site-packages roots",
                      "duplicate realpaths"],
                     ["HEAD main", "4", "1", "0"],
                     ["This PR", "7", "2", "1"]]


def test_health_table_warns_where_pr_is_worse() -> None:
    (table,) = tables(health.health_table(rows(clean_probe(), sick_probe())))
    assert table[0] == ["Version", ".pth exec lines", "duplicate distributions",
                        "shadowed modules", ".pyc coverage"]
    assert table[1] == ["HEAD main", "0", "0", "0", "100% (10/10)"]
    assert table[2] == ["This PR", "⚠️ 1", "⚠️ 1", "⚠️ 2", "⚠️ 40% (4/10)"]
    # the other way round: main is worse, nothing to warn about
    (table,) = tables(health.health_table(rows(sick_probe(), clean_probe())))
    assert "⚠️" not in str(table)
    (table,) = tables(health.health_table(rows(None, clean_probe())))
    assert table[1][1:] == ["—"] * 4 and "⚠️" not in str(table)


def test_clean_details_say_no_findings() -> None:
    block = health.details_block(VariantHealth("pr", "This PR", "pr", clean_probe()))
    assert "no findings" in block
    assert block.startswith("<details><summary>") and block.endswith("</details>")


def test_details_list_every_kind_of_finding() -> None:
    block = health.details_block(VariantHealth("pr", "This PR", "pr", sick_probe()))
    for needle in ("nonexistent sys.path entries", "`/gone`", "duplicate sys.path entries",
                   ".pth import lines", "`import pydantic_core`", "start-up hooks",
                   "duplicate distributions", "`pydantic_core`: 2.41.5 in",
                   "shadowed modules", "`json` (stdlib)", "foreign\\_magic: 6",
                   "PYTHONDONTWRITEBYTECODE"):
        assert needle in block, needle


def test_hostile_strings_are_escaped() -> None:
    probe = sick_probe(HOSTILE)
    r = rows(clean_probe(), probe, pr_label=HOSTILE)
    text = "\n\n".join([health.sys_path_table(r), health.health_table(r),
                        *filter(None, map(health.details_block, r))])
    assert "@octocat" not in text
    for table in tables(text):
        assert len({len(row) for row in table}) == 1, table
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script>" not in html
    assert html.count("<details>") == html.count("</details>") == 2


def tree(*modules: tuple[str, int]) -> importtime.ImportTimeTree:
    return importtime.ImportTimeTree(tuple(importtime.ImportNode(n, us, us)
                                           for n, us in modules))


def test_importtime_block() -> None:
    main = tree(("json", 2000), ("re", 1500))
    pr = tree(("json", 5000), ("re", 1500), (HOSTILE, 9000))
    d = importtime.diff(pr, main, threshold_pct=20, min_us=1000)
    block = health.importtime_block(d, pr_label="This PR", main_label="HEAD main",
                                    top_pr=importtime.top(pr, 5), top_main=importtime.top(main))
    assert block.startswith("<details><summary>⚠️ Import time: This PR 15.5 ms vs HEAD main "
                            "3.5 ms (+12.0 ms) — 1 new, 1 slower modules</summary>")
    assert "<script>" not in MarkdownIt("commonmark").enable("table").render(block)
    parsed = tables(block)
    assert parsed[0][2] == ["slower", "`json`", "2.0", "5.0", "+3.0"]
    assert all(len({len(row) for row in t}) == 1 for t in parsed)
    assert "The 2 entries above add up to +12.0 ms: 100% of the import-time change" in block
    quiet = health.importtime_block(importtime.diff(main, main), pr_label="a", main_label="b")
    assert "No new or removed modules" in quiet and "⚠️" not in quiet


def test_an_improvement_from_a_removed_import_tops_the_diff() -> None:
    """requests 2.32.3 -> 2.32.5: the PR is faster because a heavy import is gone, while
    noise makes a few small modules look slower; the removed import leads, no ⚠️."""
    heavy = importtime.ImportNode("requests.adapters", 40_000, 52_000, (
        importtime.ImportNode("ssl_helpers", 12_000, 12_000),))
    main = importtime.ImportTimeTree((
        importtime.ImportNode("requests", 3000, 60_000, (
            heavy, importtime.ImportNode("urllib3", 5000, 5000))),
        importtime.ImportNode("json", 1000, 1000)))
    pr = importtime.ImportTimeTree((
        importtime.ImportNode("requests", 3000, 10_300, (
            importtime.ImportNode("urllib3", 7300, 7300),)),
        importtime.ImportNode("json", 2500, 2500)))
    d = importtime.diff(pr, main)
    assert [(c.kind, c.name, c.modules) for c in d.ranked] == [
        ("removed", "requests.adapters", 2), ("slower", "urllib3", 1), ("slower", "json", 1)]
    assert d.ranked[0].delta_us == -52_000
    block = health.importtime_block(d, pr_label="PR", main_label="main", measured_us=-50_000)
    assert "⚠️" not in block
    assert tables(block)[0][1][:2] == ["removed", "`requests.adapters` (+1 below)"]
    assert "The 3 entries above add up to -48.2 ms" in block
    assert "96% of the measured start-up change (-50.0 ms" in block


def with_health(report: Report, main: ProbeReport, pr: ProbeReport,
                trees: dict[str, importtime.ImportTimeTree] | None = None) -> Report:
    extras = {"importtime": {k: {"import": to_data(v)} for k, v in (trees or {}).items()}}
    return dataclasses.replace(report, probes={"baseline": clean_probe(), "main": main,
                                               "pr": pr}, extras=extras)


def test_health_sections_for_a_report() -> None:
    report = with_health(sample_report(), clean_probe(), sick_probe(),
                         {"main": tree(("json", 2000)), "pr": tree(("json", 2000),
                                                                   ("numpy", 80_000))})
    (section,) = health_sections(report)
    assert section.startswith("#### Environment health")
    assert section.count("<details>") == 2  # the sick PR + import time
    assert "No environment findings in BCR 1.11.7 (baseline), HEAD main." in section
    assert "`numpy`" in section and "truncated" not in section.lower()
    assert health_sections(dataclasses.replace(report, probes={}, extras={})) == []


def test_huge_findings_fit_the_budget() -> None:
    many = tuple(ShadowedModule(f"mod_{i}_" + "x" * 300, "/a" * 200, ("/b" * 200,) * 50)
                 for i in range(5000))
    dists = tuple(DuplicateDistribution(f"d{i}", (DistCopy("1", "/p", "/r"),) * 9)
                  for i in range(3000))
    pth = tuple(PthFile(f"/s/{i}.pth", True, 2000, 1, ("x" * 5000,) * 50, ("import y",))
                for i in range(2000))
    probe = sick_probe().__class__(**{**sick_probe().__dict__, "shadowed": many,
                                      "pth_files": pth,
                                      "distributions": DistributionSummary(9000, 3000, dists)})
    big_tree = tree(*((f"m{i}" + "z" * 500, i * 10) for i in range(4000)))
    report = with_health(sample_report(), probe, probe, {"main": tree(), "pr": big_tree})
    for budget in (40_000, 10_000, 3_000, 500):
        (section,) = health_sections(report, budget)
        assert len(section) <= budget
        if budget < 40_000:
            assert "65,536" in section
    (section,) = health_sections(report, 40_000)
    html = MarkdownIt("commonmark").enable("table").render(section)
    assert html.count("<details>") == html.count("</details>") >= 3


def test_fit_prefers_less_detail_to_leaving_out() -> None:
    blocks = [["a" * 50], ["b" * 500, "b" * 40], ["c" * 500]]
    text = fit(blocks, 300, note="NOTE")
    assert text == "a" * 50 + "\n\n" + "b" * 40 + "\n\nNOTE"
    assert fit([["x"]], 100, note="NOTE") == "x"
    assert len(fit([["y" * 100]], 2, note="NOTE")) <= 2


def test_the_comment_names_the_inspected_process_and_never_a_launcher_as_the_program() -> None:
    program = InspectedProcess(("/v/bin/python", "-B", "-s", "-I", "/r/app.py"),
                               "/v/bin/python", ("shell exec: bazel-bin/app",))
    launcher_only = InspectedProcess(("/r/bin/app",), "/usr/bin/python3", (), False,
                                     f"it left Python in a way the harness cannot see {HOSTILE}")
    trees = {"main": tree(("json", 2000)), "pr": tree(("json", 2000), ("zipfile", 9000))}
    report = with_health(sample_report(), clean_probe(process=program),
                         clean_probe(process=launcher_only), trees)
    report.extras["importtime"]["main"]["import"]["process"] = to_data(program)
    report.extras["importtime"]["pr"]["import"]["process"] = to_data(launcher_only)
    (section,) = health_sections(report)
    assert "Inspected in HEAD main: the program: `/v/bin/python -B -s -I /r/app.py` " \
           "(via shell exec: bazel-bin/app)" in section
    assert "(inspected: the launcher only)" in section  # its health row
    assert "**the launcher only**: `/r/bin/app` in `/usr/bin/python3` — it left" in section
    assert "Import time: not compared — inspected: the launcher only." in section
    assert "zipfile" not in section  # the launcher's imports are not shown as the program's
    assert "<script>" not in MarkdownIt("commonmark").enable("table").render(section)


def test_all_clean_health_is_one_line_not_a_table_of_zeros() -> None:
    report = dataclasses.replace(sample_report(), probes={
        "baseline": clean_probe(), "main": clean_probe(), "pr": clean_probe()}, extras={})
    (section,) = health_sections(report)
    assert "<details>" not in section and "\n|" not in section
    assert section.count("\n") <= 2
    assert "no findings in any variant: no `.pth` exec lines, duplicate distributions or "\
           "shadowed modules," in section
    assert "No environment findings in" not in section  # said once
