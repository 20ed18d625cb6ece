"""The static dashboard: structure (pure) and a real headless Chromium load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.history import dashboard, store
from tests import browser
from tests.history_fixtures import build_history, commit_of, stepped_medians

STEPS = {12: 1.06, 24: 0.95}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("dash")
    root = build_history(tmp, stepped_medians(36, STEPS, outliers={5: 1.12}))
    assert main(["history", "html", "--store", str(root), "--out", str(tmp / "site"),
                 "--title", "demo <history>", "--commit-url",
                 "https://github.com/OWNER/REPO/commit/{commit}"]) == 0
    return tmp / "site" / "index.html"


def test_page_marks_exactly_the_two_steps_and_links_every_point(site: Path) -> None:
    page = site.read_text()
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    steps = re.findall(r'<line class="step" data-commit="([0-9a-f]+)"', page)
    assert steps == [commit_of(12), commit_of(24)]
    links = re.findall(r'<a href="https://github.com/OWNER/REPO/commit/([0-9a-f]+)">'
                       r'<circle class="pt"', page)
    assert links == [commit_of(i) for i in range(36)]
    # both step commits (and the spike's) labelled under the axis, in red, linked
    ticks = re.findall(r'<a href="https://github.com/OWNER/REPO/commit/([0-9a-f]+)">'
                       r'<text class="steptick"[^>]*>([0-9a-f]{7})</text>', page)
    assert ticks == [(commit_of(i), commit_of(i)[:7]) for i in (5, 12, 24)]
    assert "demo &lt;history&gt;" in page
    # the load-proof series by default, and the chart says which
    assert 'data-metric="wall-ratio"' in page and "wall time ÷ baseline (paired)" in page
    table = page[page.index('<table class="steps">'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr><td>(.*?)</tr>", table)
    assert len(rows) == 3 and "spike" in rows[2]
    assert commit_of(12)[:12] in rows[0] and "fixed at" in rows[0]
    assert commit_of(24)[:12] in rows[0] and "lived 12 commits" in rows[0]
    assert re.search(r"\+6\.\d% \[\+\d\.\d, \+\d\.\d\]", rows[0])


def test_a_javascript_commit_url_is_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = build_history(tmp_path, stepped_medians(4, {}))
    capsys.readouterr()
    for url in ("javascript:alert(1)//{commit}", "JavaScript:x", "data:text/html,{commit}",
                "//evil.example/{commit}"):
        assert main(["history", "html", "--store", str(root), "--out", str(tmp_path / "s"),
                     "--commit-url", url]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: --commit-url") and "http(s)" in err and "\n" not in err
    assert not (tmp_path / "s").exists()
    assert dashboard.commit_href("javascript:alert(1)", "abc") == ""


def test_two_workloads_two_charts_and_noise_marks_none(tmp_path: Path) -> None:
    from tests.history_fixtures import synthetic_report, write_report

    root = tmp_path / "store"
    for i, median in enumerate(stepped_medians(12, {}, seed=4)):
        report = synthetic_report({"main": median}, seed=i, workloads=("import", "cli"),
                                  created=f"2026-01-01T00:00:{i:02d}+00:00")
        assert main(["history", "add", str(write_report(tmp_path / f"{i}.json", report)),
                     "--store", str(root), "--commit", commit_of(i)]) == 0
    assert main(["history", "html", "--store", str(root), "--out", str(tmp_path / "s")]) == 0
    dom, console = browser.load(tmp_path / "s" / "index.html")
    assert console == []
    assert re.findall(r'<svg class="trend" data-workload="([^"]+)"', dom) == ["import", "cli"]
    assert "<line class=\"step\"" not in dom


def test_empty_store_renders_a_page(tmp_path: Path) -> None:
    import pandas as pd

    page = dashboard.render((), pd.DataFrame(columns=list(store.Point.__dataclass_fields__)))
    assert "No points yet" in page


def test_nice_ticks() -> None:
    assert dashboard.nice_ticks(49.2, 53.9) == [48, 50, 52, 54]
    assert dashboard.nice_ticks(1.0, 1.0)[0] <= 1.0


def test_wall_time_is_one_click_away(site: Path) -> None:
    index = site.read_text()
    wall = (site.parent / "wall.html").read_text()
    assert '<p class="views"><a href="wall.html">wall time</a></p>' in index
    assert '<a href="index.html">load-proof series' in wall
    assert 'data-metric="wall"' in wall and 'data-metric="wall"' not in index
