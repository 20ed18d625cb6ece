"""Renderers are pure: a report in, the same text out; golden files pin the comment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import report
from harness.render import markdown, terminal
from tests.mdtables import tables
from tests.sample_report import sample_report

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text()


@pytest.mark.parametrize("status", ["pass", "regression", "improvement"])
def test_comment_golden(status: str) -> None:
    check_golden(f"comment-{status}.md",
                 markdown.render(sample_report(status=status, importtime=True)))


def test_terminal_golden() -> None:
    check_golden("terminal.txt", terminal.render(sample_report()))


def test_hostile_label_cannot_break_tables_or_ping() -> None:
    text = markdown.render(sample_report(pr_label="evil | x\n| y <script>@octocat"))
    parsed = tables(text)
    assert len(parsed) >= 2
    for table in parsed:
        widths = {len(row) for row in table}
        assert len(widths) == 1, table
    assert "<script>" not in text
    assert "@octocat" not in text
    assert text.startswith(markdown.MARKER + "\n")


def test_seed_sections_present() -> None:
    text = markdown.render(sample_report())
    (startup, syspath, *_rest) = tables(text)
    assert startup[0] == ["Version", "Mean (ms)", "Median (ms)", "± stddev",
                          "vs baseline (medians)", "vs main (medians)", "Build (s)"]
    assert syspath[0] == ["Version", "sys.path entries", "distinct site-packages roots",
                          "duplicate realpaths"]
    assert "Gate:" in text and "threshold: 10%" in text
    assert text.rstrip().splitlines()[-1].startswith("✅ No regression detected")
    assert "-1.8 % [-3.0, -0.5]" in text


def test_regression_final_line() -> None:
    text = markdown.render(sample_report(status="regression"))
    assert text.rstrip().splitlines()[-1].startswith("❌ Regression detected")


def test_render_roundtrip_through_json(tmp_path: Path) -> None:
    original = sample_report()
    path = tmp_path / "report.json"
    report.write_atomic(path, report.dumps(original))
    loaded = report.load(path)
    assert loaded == original
    assert markdown.render(loaded) == markdown.render(original)


def test_comment_stays_under_github_limit() -> None:
    huge = ["<details><summary>x</summary>\n\n" + "y" * 5000 + "\n</details>"] * 40
    text = markdown.render(sample_report(), extra_sections=huge)
    assert len(text.encode()) <= markdown.BUDGET < markdown.GITHUB_LIMIT
    assert "Shortened to fit GitHub's 65,536-character comment limit" in text
    assert text.rstrip().splitlines()[-1].startswith("✅")


def test_noise_warnings_fold_into_details() -> None:
    text = markdown.render(sample_report(status="regression"))
    assert "<summary>⚠️ Measurement notes (1)</summary>" in text
    assert ("- This PR \\| feat/x next · `import` · wall time: 3 of 50 runs were outliers — "
            "use a quieter runner") in text
    assert "no drift" not in text  # info-level findings stay in the JSON


def _with_paths() -> report.Report:
    """The sample report as a run in a scratch dir would leave it: git checkouts installed
    from file:// URLs inside the work dir, interpreters inside it too."""
    import dataclasses

    from harness.model import BuildResult

    work = "/tmp/startup-harness-ab_c1"
    base = sample_report()
    variants = tuple(dataclasses.replace(v, ref={"main": "origin/main", "pr": "HEAD"}.get(v.name),
                                         source=f"git {v.name} in /home/me/proj")
                     if v.name != "baseline" else v for v in base.variants)
    builds = tuple(BuildResult(
        v.name, "uv", True, 1.0, f"{work}/variants/{v.name}/venv/bin/python",
        f"{work}/variants/{v.name}/venv",
        installed=(f"slow_pkg @ file://{work}/variants/{v.name}/src", "rich==13.0")
        if v.name != "baseline" else ("slow-pkg==1.0", "rich==12.0"))
        for v in base.variants)
    return dataclasses.replace(
        base, variants=variants, builds=builds,
        locations={work: "<work>", f"{work}/variants/main/src": "<repo>",
                   f"{work}/variants/pr/src": "<repo>", "/home/me/proj": "<repo>"},
        errors=(f"workload 'import' of variant 'pr' failed: {work}/variants/pr/venv/bin/python",))


def test_headline_is_the_first_line_after_the_marker() -> None:
    lines = markdown.render(sample_report(status="regression")).splitlines()
    assert lines[0] == markdown.MARKER
    assert lines[1] == ("**❌ `import` is 25.0 % slower than HEAD main** "
                        "(interval 23.8 to 26.3 % slower; threshold 10 %)")
    passing = markdown.render(sample_report()).splitlines()[1]
    assert passing.startswith("**✅ `import` is 1.8 % faster than HEAD main**: within")
    better = markdown.render(sample_report(status="improvement")).splitlines()[1]
    assert better == ("**✅ `import` is 24.9 % faster than HEAD main** "
                      "(interval 23.6 to 26.1 % faster; threshold 10 %)")


def test_comment_has_no_scratch_paths_and_readable_package_diff() -> None:
    text = markdown.render(_with_paths())
    assert "/tmp/startup-harness" not in text
    assert "startup\\-harness\\-ab" not in text
    assert "/home/me/proj" not in text
    assert "~ slow-pkg @ origin/main (aaaaaaaaaaaa) → @ HEAD (bbbbbbbbbbbb)" in text
    assert "slow-pkg @ HEAD (bbbbbbbbbbbb)" in text  # the Installed column
    assert "+ slow" not in text and "- slow" not in text
    # the JSON keeps the full paths
    assert "/tmp/startup-harness-ab_c1/variants/pr/venv" in report.dumps(_with_paths())


def test_messages_keep_code_spans_and_refs_get_no_invisible_character() -> None:
    import dataclasses

    from harness.model import GateResult

    base = sample_report()
    warned = dataclasses.replace(base, gate=GateResult(
        "pass", 0, "No regression detected", base.gate.comparisons,
        warnings=("inconclusive: gate on `metric: instructions`",)))
    text = markdown.render(warned)
    assert "gate on `metric: instructions`" in text and "\\`" not in text
    paths = _with_paths()
    variants = tuple(dataclasses.replace(v, source="git repo@feature/x")
                     for v in paths.variants)
    text = markdown.render(dataclasses.replace(paths, variants=variants))
    assert "repo@feature" in text and "\u200d" not in text.split("Environments")[-1]


def test_terminal_fits_80_columns_and_ends_with_the_verdict() -> None:
    for status in ("pass", "regression"):
        text = terminal.render(_with_paths() if status == "pass"
                               else sample_report(status=status), width=80)
        assert max(len(line) for line in text.splitlines()) <= 80, text
        assert "This PR | feat/x next" in text  # labels, not ids
        assert "/tmp/startup-harness" not in text
    last = terminal.render(sample_report(status="regression")).rstrip().splitlines()
    assert " ".join(line.strip() for line in last[-2:]).endswith(
        "[REGRESSION] import is 25.0 % slower than HEAD main (interval 23.8 to 26.3 % "
        "slower; threshold 10 %)")
    wide = terminal.render(sample_report(), width=200)
    assert "Mean (ms)" in wide and "Build (s)" in wide
    assert "Instr." not in wide  # empty columns are hidden


def test_output_files_get_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        report.write_atomic(tmp_path / "x.md", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "x.md").stat().st_mode & 0o777 == 0o644


def test_notes_name_variants_by_label() -> None:
    import dataclasses

    from harness.model import NoiseFinding

    finding = NoiseFinding("drift", "pr", "import", "wall", "warning",
                           "pr vs main: this run resolves ±7.6 % at 95 % confidence",
                           "raise timing.runs", 7.6, scenario="cold")
    text = markdown.render(dataclasses.replace(sample_report(), noise=(finding,)))
    assert ("- This PR \\| feat/x next · `import` · cold bytecode · wall time: vs HEAD main: "
            "this run resolves") in text
    plain = terminal.render(dataclasses.replace(sample_report(), noise=(finding,)), width=200)
    assert "This PR | feat/x next / import / cold bytecode / wall time: vs HEAD main:" in plain


def test_gate_warnings_name_variants_by_label() -> None:
    import dataclasses

    base = sample_report()
    gate = dataclasses.replace(base.gate, warnings=(
        "inconclusive: pr vs main on import: +3.0 % [-1.0, +7.0] — rerun",))
    text = markdown.render(dataclasses.replace(base, gate=gate))
    assert "⚠️ inconclusive: This PR \\| feat/x next vs HEAD main on import: +3.0 %" in text


def test_a_sibling_checkout_is_not_taken_for_the_repository() -> None:
    """Field trial: the git repo <x>/rules made a sibling checkout <x>/rules-pr read
    "<repo>-pr". Only whole paths are shortened."""
    from harness.render.common import relative_paths

    places = [("/src/rules", "<repo>"), ("/tmp/w", "<work>")]
    text = ("/src/rules-pr, /src/rules2, /src/rules.git, /src/rules_x but /src/rules, "
            "/src/rules/sub, `/src/rules`, file:///src/rules. /tmp/w/ob /tmp/wx")
    assert relative_paths(text, places) == (
        "/src/rules-pr, /src/rules2, /src/rules.git, /src/rules_x but <repo>, <repo>/sub, "
        "`<repo>`, file://<repo>. <work>/ob /tmp/wx")


def _noisy(variant: str, reference: str, half: float) -> object:
    from harness.model import NoiseFinding

    return NoiseFinding("noisy", variant, "import", "wall", "warning",
                        f"{variant} vs {reference}: this run resolves ±{half:.1f} % at 95 % "
                        "confidence; the threshold is 10 %",
                        "use `runs: auto` or raise timing.runs", half)


def test_a_decisive_verdict_gets_no_note_asking_for_more_runs() -> None:
    import dataclasses

    noisy = (_noisy("pr", "main", 35.6),)
    for status in ("regression", "improvement"):
        text = markdown.render(dataclasses.replace(sample_report(status=status), noise=noisy))
        assert "resolves" not in text and "raise timing.runs" not in text
        assert "resolves" not in terminal.render(dataclasses.replace(
            sample_report(status=status), noise=noisy))
    base = sample_report()
    gate = dataclasses.replace(base.gate, comparisons=tuple(
        dataclasses.replace(c, verdict="inconclusive") for c in base.gate.comparisons))
    text = markdown.render(dataclasses.replace(base, gate=gate, noise=noisy))
    assert "resolves ±35.6 %" in text  # an undecided verdict keeps it: more runs would help


def test_near_identical_notes_are_one_line_and_other_variants_stay_in_the_json() -> None:
    import dataclasses

    base = sample_report(status="regression")
    gate = dataclasses.replace(base.gate, comparisons=tuple(
        dataclasses.replace(c, verdict="inconclusive") for c in base.gate.comparisons))
    notes = (_noisy("pr", "main", 12.0), _noisy("pr", "main", 12.0), _noisy("pr", "baseline", 9.0),
             _noisy("main", "baseline", 11.0))
    text = markdown.render(dataclasses.replace(base, gate=gate, noise=notes))
    noted = [line for line in text.splitlines() if "resolves" in line]
    assert len(noted) == 1, noted
    assert noted[0].count("raise timing.runs") == 1
    assert "HEAD main · `import` · wall time: vs BCR" not in text  # main vs baseline: not gated
    plain = terminal.render(dataclasses.replace(base, gate=gate, noise=notes), width=400)
    assert plain.count("raise timing.runs") == 1


def test_rounding_is_the_same_everywhere_and_never_minus_zero() -> None:
    import dataclasses

    from harness.render.common import change_words, fmt_change, pct

    base = sample_report(status="regression")
    gate = dataclasses.replace(base.gate, comparisons=tuple(
        dataclasses.replace(c, ratio=5.508, ci_low=5.3, ci_high=5.7)
        for c in base.gate.comparisons))
    comparisons = tuple(dataclasses.replace(c, ratio=5.508, ci_low=5.3, ci_high=5.7)
                        if c.subject == "pr" and c.reference == "main" else c
                        for c in base.comparisons)
    text = markdown.render(dataclasses.replace(base, gate=gate, comparisons=comparisons))
    assert "451 % slower" in text.splitlines()[1]
    assert text.rstrip().splitlines()[-1].endswith("is 451 % slower than HEAD main "
                                                   "(+451 % [+430, +470])")
    assert "+450.8" not in text and "+451 % [+430, +470]" in text  # the table cell too
    assert pct(0.9996) == "0.0" and pct(1.0004) == "0.0" and change_words(0.9999) == "unchanged"
    c = dataclasses.replace(base.comparisons[0], ratio=0.9996, ci_low=0.9994, ci_high=1.0)
    assert "-0.0" not in fmt_change(c)


@pytest.mark.parametrize("status", ["pass", "regression", "improvement"])
def test_why_comes_before_the_tables_and_clean_things_are_one_line(status: str) -> None:
    import dataclasses

    from tests.test_render_health import clean_probe

    text = markdown.render(sample_report(status=status, importtime=True))
    lines = text.splitlines()
    why_at = lines.index("**Why** (This PR \\| feat/x next vs HEAD main):")
    assert why_at == 3 and why_at < next(i for i, x in enumerate(lines) if x.startswith("|"))
    if status != "pass":  # a change: the import-time culprit is named, with its share
        assert " % of the " in lines[why_at + 2] and "measured change" in lines[why_at + 2]
    assert "<details><summary>Environment health: HEAD main" not in text  # no findings: 1 line
    clean = dataclasses.replace(sample_report(status=status), probes={
        n: clean_probe() for n in ("baseline", "main", "pr")})
    text = markdown.render(clean)
    assert "#### Environment health" not in text and "#### sys.path quality" not in text
    assert "**Why**" not in text  # nothing explains a change: no empty heading
