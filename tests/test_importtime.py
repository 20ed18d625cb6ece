"""-X importtime parsing, merging, ranking and diffing (pure), and one real run."""

from __future__ import annotations

from pathlib import Path

from harness.inspection import importtime, runner
from harness.inspection.importtime import ImportTimeTree
from tests.fixtures_env import Venv, venv_fixture  # noqa: F401

SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       127 |        127 |   _io
import time:        35 |         35 |   marshal
import time:       554 |        716 | _frozen_importlib_external
some line the workload printed on stderr
import time:        37 |         37 |     _codecs
import time:       263 |        300 |   codecs
import time:       790 |       1090 | encodings
import time:       147 |        147 | encodings.utf_8
"""


def test_parse_builds_the_tree() -> None:
    tree = importtime.parse(SAMPLE)
    assert [n.name for n in tree.roots] == ["_frozen_importlib_external", "encodings",
                                            "encodings.utf_8"]
    ext = tree.roots[0]
    assert [c.name for c in ext.children] == ["_io", "marshal"]
    assert (ext.self_us, ext.cumulative_us) == (554, 716)
    enc = tree.roots[1]
    assert enc.children[0].name == "codecs"
    assert enc.children[0].children[0].name == "_codecs"
    assert tree.total_us == 716 + 1090 + 147
    walked = list(tree.walk())
    assert [m.name for m in walked][:3] == ["_frozen_importlib_external", "_io", "marshal"]
    assert {m.name: m.depth for m in walked}["_codecs"] == 2
    assert {m.name: m.parent for m in walked}["_codecs"] == "codecs"
    assert importtime.module_names(tree) == [m.name for m in walked]


def test_parse_ignores_garbage_and_keeps_orphans() -> None:
    tree = importtime.parse("hello\nimport time:  5 |  5 |     deep\nimport time: x | y | z\n")
    assert [n.name for n in tree.roots] == ["deep"]
    assert importtime.parse("").roots == ()


def test_top_by_cumulative_and_self() -> None:
    tree = importtime.parse(SAMPLE)
    assert [m.name for m in importtime.top(tree, 2)] == ["encodings",
                                                         "_frozen_importlib_external"]
    assert importtime.top(tree, 1, key="self_us")[0].name == "encodings"


def test_merge_takes_the_median() -> None:
    runs = [importtime.parse(SAMPLE.replace("790 |       1090", f"{s} |       {s + 300}"))
            for s in (700, 790, 5000)]
    merged = importtime.merge(runs)
    enc = merged.modules()["encodings"]
    assert (enc.self_us, enc.cumulative_us, merged.runs) == (790, 1090, 3)
    assert importtime.merge([]).roots == ()


def test_diff_new_removed_and_slower() -> None:
    main = importtime.parse(SAMPLE)
    pr_text = (SAMPLE.replace("790 |       1090", "2790 |       3090")
               .replace("import time:       147 |        147 | encodings.utf_8\n", "")
               + "import time:      4000 |       4000 | heavy_new_dep\n"
               + "import time:       300 |        300 | light_new_dep\n")
    pr = importtime.parse(pr_text.replace("35 |         35 |   marshal",
                                          "45 |         45 |   marshal"))
    d = importtime.diff(pr, main, threshold_pct=20, min_us=1000)
    assert [m.name for m in d.new] == ["heavy_new_dep", "light_new_dep"]
    assert [m.name for m in d.removed] == ["encodings.utf_8"]
    # marshal grew 29% but by only 10 us: below min_us
    assert [c.name for c in d.slower] == ["encodings"]
    change = d.slower[0]
    assert (change.main_us, change.pr_us, change.delta_us) == (1090, 3090, 2000)
    assert round(change.delta_pct) == 183
    assert not d.empty
    assert importtime.diff(main, main).empty


def test_tree_round_trips_through_dict() -> None:
    from harness.serial import to_data

    tree = importtime.parse(SAMPLE)
    assert ImportTimeTree.from_dict(to_data(tree)) == tree


def test_importtime_of_a_real_workload(venv: Venv, tmp_path: Path) -> None:
    venv.add_package("itpkg", modules=3)
    tree = importtime.merge([runner.importtime_once([venv.python, "-c", "import itpkg"],
                                                    env=venv.env(), cwd=str(tmp_path))
                             for _ in range(2)])
    modules = tree.modules()
    assert tree.runs == 2
    assert {"itpkg", "itpkg.m0", "itpkg.m2", "site", "encodings"} <= set(modules)
    assert modules["itpkg.m1"].parent == "itpkg"
    assert modules["itpkg"].cumulative_us >= modules["itpkg.m0"].cumulative_us


def test_real_improvement_from_a_removed_import_tops_the_diff(venv: Venv,
                                                               tmp_path: Path) -> None:
    """Main's app imports a package that takes ~40 ms at import (a sleep, so the margin holds
    on a busy machine); the PR's app no longer does. The removed package leads the diff."""
    venv.add_package("heavydep", modules=2, body="import time\ntime.sleep(0.04)\n")
    for side, body in (("main", "import json\nimport heavydep\n"), ("pr", "import json\n")):
        venv.add_package("app", root=tmp_path / side, body=body)
    trees = {side: importtime.merge([runner.importtime_once(
        [venv.python, "-c", f"import sys; sys.path.insert(0, {str(tmp_path / side)!r}); "
         "import app"], env=venv.env(), cwd=str(tmp_path)) for _ in range(3)])
        for side in ("main", "pr")}
    d = importtime.diff(trees["pr"], trees["main"])
    top = d.ranked[0]
    assert (top.kind, top.name, top.modules) == ("removed", "heavydep", 3)
    assert top.delta_us <= -35_000
    assert not d.slower_overall()


def test_an_importtime_run_warms_the_timed_command_only_when_it_is_that_command(
        tmp_path: Path) -> None:
    """adds_only_importtime: the workload's own interpreter command line with nothing but
    ``-X importtime`` added; a console script's shebang hop or another program is not."""
    argv = ["/venv/bin/python", "-I", "-c", "import x"]
    assert runner.importtime_argv(argv) == ("/venv/bin/python", "-I", "-X", "importtime",
                                            "-c", "import x")
    assert runner.adds_only_importtime(argv, runner.importtime_argv(argv))
    assert not runner.adds_only_importtime(argv, argv)
    assert not runner.adds_only_importtime(argv, ["/venv/bin/python", "-X", "importtime", "-I",
                                                  "-c", "import y"])
    assert not runner.adds_only_importtime(argv, ["-X", "importtime", *argv])
    script = tmp_path / "tool"
    script.write_text("#!/venv/bin/python\nimport x\n")
    assert not runner.adds_only_importtime([str(script)], runner.importtime_argv([str(script)]))
