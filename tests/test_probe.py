"""The health probe in real uv venvs, each given one problem; a clean venv reports none."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.inspection import runner
from harness.inspection.health import ProbeReport
from harness.measure import bytecode
from harness.render.health import findings
from tests.fixtures_env import Venv, venv_fixture  # noqa: F401


def probe(v: Venv, *, cwd: Path | None = None, modules: tuple[str, ...] = (),
          interpreter_args: tuple[str, ...] = (), path0: str | None = "",
          **extra: str) -> ProbeReport:
    return runner.run_probe(v.python, interpreter_args=interpreter_args, path0=path0,
                             cwd=str(cwd or v.root), env=v.env(**extra), modules=modules)


def test_clean_uv_venv_reports_nothing(venv: Venv, tmp_path: Path) -> None:
    venv.add_package("cleanpkg", modules=3)
    work = tmp_path / "work"
    work.mkdir()
    venv.run("-c", "import cleanpkg", cwd=work)  # writes the .pyc, like any first start
    report = probe(venv, cwd=work, modules=("cleanpkg", "cleanpkg.m0", "json"))
    assert report.finding_count() == 0, report
    assert report.errors == ()
    assert report.sys_path_entries == 5  # path0, stdlib zip, stdlib, lib-dynload, site
    assert report.site_packages_roots == 1
    assert report.duplicate_realpaths == 0
    assert report.pth_files == () and report.hooks == ()
    assert report.distributions.total == 1
    assert report.bytecode is not None and report.bytecode.counts == {"valid": 3}
    assert report.pyc_coverage == 1.0
    assert report.interpreter is not None and report.interpreter.venv
    assert report.interpreter.include_system_site_packages is False
    assert report.interpreter.python_env == {}  # the controlled env passes no PYTHON*


def test_seed_duplicate_dist_info_in_two_roots(venv: Venv, tmp_path: Path) -> None:
    """The seed's case: two wheels publish pydantic_core-2.41.5.dist-info in two roots."""
    other = tmp_path / "stripe" / "site-packages"
    venv.add_package("pydantic_core", version="2.41.5")
    venv.add_package("pydantic_core", version="2.41.5", root=other)
    (venv.site / "universes.pth").write_text(f"{other}\n")
    report = probe(venv)
    dups = report.distributions.duplicates
    assert [d.name for d in dups] == ["pydantic-core"]
    assert {c.root for c in dups[0].copies} == {str(venv.site), str(other)}
    assert {c.version for c in dups[0].copies} == {"2.41.5"}
    assert report.site_packages_roots == 2
    assert [s.name for s in report.shadowed] == ["pydantic_core"]
    assert report.shadowed[0].winner == str(venv.site)
    assert report.pth_path_lines == 1 and report.pth_exec_lines == 0
    # what importlib.metadata sees in that interpreter: two distributions
    out = venv.run("-c", "import importlib.metadata as m; print(len([d for d in "
                   "m.distributions() if d.metadata['Name'] == 'pydantic_core']))")
    assert out.stdout.strip() == "2"


def test_canonical_names_group_spellings(venv: Venv) -> None:
    venv.add_package("zope_interface", version="1.0", dist_name="Zope.Interface")
    other = venv.root / "extra" / "site-packages"
    venv.add_package("zope_iface2", version="2.0", root=other, dist_name="zope-interface")
    (venv.site / "extra.pth").write_text(str(other) + "\n")
    dups = probe(venv).distributions.duplicates
    assert [d.name for d in dups] == ["zope-interface"]
    assert sorted(c.version for c in dups[0].copies) == ["1.0", "2.0"]


def test_pth_import_line(venv: Venv) -> None:
    (venv.site / "hook.pth").write_text("# a comment\nimport os; os.environ.get('X')\n")
    report = probe(venv)
    assert report.pth_exec_lines == 1
    (pth,) = report.pth_files
    assert pth.path.endswith("hook.pth") and pth.processed
    assert pth.import_lines == ("import os; os.environ.get('X')",)
    assert report.finding_count() == 1


def test_pth_that_prints_does_not_break_the_probe(venv: Venv) -> None:
    (venv.site / "noisy.pth").write_text("import sys; print('hello from a .pth')\n")
    assert probe(venv).pth_exec_lines == 1


def test_symlinked_duplicate_root(venv: Venv) -> None:
    link = venv.root / "linked-site"
    link.symlink_to(venv.site, target_is_directory=True)
    report = probe(venv, PYTHONPATH=str(link))
    assert report.duplicate_realpaths == 1
    (dup,) = report.duplicates
    assert dup.realpath == os.path.realpath(venv.site)
    assert set(dup.paths) == {str(link), str(venv.site)}
    assert [e.path for e in report.entries_before_stdlib] == [str(link)]
    # one directory scanned once: its distributions are not reported as duplicates
    assert report.distributions.duplicates == ()
    assert report.interpreter is not None
    assert report.interpreter.python_env == {"PYTHONPATH": str(link)}


def test_nonexistent_entry(venv: Venv, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    report = probe(venv, PYTHONPATH=str(missing))
    assert [e.path for e in report.missing_entries] == [str(missing)]
    # the stdlib zip CPython always lists is not a finding
    assert any(e.expected_missing for e in report.entries)


def test_module_shadowing_a_stdlib_name(venv: Venv, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "json.py").write_text("raise SystemExit('shadowed json imported')\n")
    (work / "string").mkdir()
    (work / "string" / "__init__.py").write_text("")
    report = probe(venv, cwd=work, path0=str(work))  # the probe itself still works
    names = {s.name: s for s in report.shadowed}
    assert set(names) == {"json", "string"}
    assert names["json"].stdlib and names["json"].winner == str(work)
    assert report.entries[0].is_path0 and report.entries[0].path == str(work)


def test_namespace_portions_are_not_shadowing(venv: Venv, tmp_path: Path) -> None:
    other = tmp_path / "ns2"
    (venv.site / "nspkg" / "a").mkdir(parents=True)
    (other / "nspkg" / "b").mkdir(parents=True)
    report = probe(venv, PYTHONPATH=str(other))
    assert report.shadowed == ()


def test_stale_magic_pycs(venv: Venv, tmp_path: Path) -> None:
    venv.add_package("stalepkg", modules=5)
    work = tmp_path / "work"
    work.mkdir()
    venv.run("-c", "import stalepkg", cwd=work)
    changed = bytecode.set_magic([str(venv.site)], stale=True)
    assert changed == 6
    modules = ("stalepkg", *(f"stalepkg.m{i}" for i in range(5)), "json")
    report = probe(venv, cwd=work, modules=modules)
    b = report.bytecode
    assert b is not None
    assert b.counts == {"foreign_magic": 6, "valid": 1}
    assert {m.name for m in b.problems} == set(modules) - {"json"}
    assert report.pyc_coverage == pytest.approx(1 / 7)


def test_missing_and_stale_mtime_pycs(venv: Venv, tmp_path: Path) -> None:
    pkg = venv.add_package("mpkg", modules=2)
    venv.run("-c", "import mpkg", cwd=tmp_path)
    (pkg / "m0.py").write_text("CHANGED = True\n")  # new size: the .pyc is stale
    (pkg / "m2.py").write_text("X = 1\n")  # never imported: no .pyc
    report = probe(venv, modules=("mpkg", "mpkg.m0", "mpkg.m1", "mpkg.m2", "mpkg.nope"))
    b = report.bytecode
    assert b is not None
    assert b.counts["valid"] == 2
    assert b.count("stale_mtime") + b.count("stale_size") == 1
    assert b.count("missing") == 1 and b.count("not_found") == 1


def test_probe_does_not_import_the_workload(venv: Venv, tmp_path: Path) -> None:
    venv.add_package("boom", body="raise SystemExit('imported!')\n")
    report = probe(venv, modules=("boom",))
    assert report.bytecode is not None and report.bytecode.count("missing") == 1


def test_dont_write_bytecode_source(venv: Venv) -> None:
    by_env = probe(venv, PYTHONDONTWRITEBYTECODE="1").bytecode
    assert by_env is not None and by_env.dont_write_bytecode
    assert by_env.dont_write_by == "PYTHONDONTWRITEBYTECODE"
    by_flag = probe(venv, interpreter_args=("-B",)).bytecode
    assert by_flag is not None and by_flag.dont_write_by == "-B"
    (venv.site / "nowrite.pth").write_text("import sys; sys.dont_write_bytecode = True\n")
    by_site = probe(venv).bytecode
    assert by_site is not None and by_site.dont_write_by.startswith("set at start-up")


def test_sitecustomize_and_meta_path_hook(venv: Venv) -> None:
    (venv.site / "sitecustomize.py").write_text(
        "import sys\nclass Finder:\n    @classmethod\n    def find_spec(cls, *a):\n"
        "        return None\nsys.meta_path.insert(0, Finder())\n")
    report = probe(venv)
    kinds = {(h.kind, h.name) for h in report.hooks}
    assert ("sitecustomize", "sitecustomize") in kinds
    assert ("meta_path", "sitecustomize.Finder") in kinds


def test_isolated_flags_recorded(venv: Venv) -> None:
    report = probe(venv, interpreter_args=("-I", "-X", "frozen_modules=off"))
    info = report.interpreter
    assert info is not None
    assert info.flags["isolated"] == 1 and info.xoptions == {"frozen_modules": "off"}
    assert info.options == ("-I", "-X", "frozen_modules=off")
    assert not any(e.is_path0 for e in report.entries)


def test_zip_entry(venv: Venv, tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped/__init__.py", "")
        z.writestr("zipped/mod.py", "X = 1\n")
    report = probe(venv, PYTHONPATH=str(archive))
    assert [(z.py_files, z.pyc_files) for z in report.zips] == [(2, 0)]
    assert report.entries[1].kind == "zip"


def test_probe_for_console_script_workload(venv: Venv, tmp_path: Path) -> None:
    script = venv.root / "bin" / "tool"
    script.write_text(f"#!{venv.python}\nimport json\n")
    script.chmod(0o755)
    (venv.root / "bin" / "json.py").write_text("")  # the script's dir is sys.path[0]
    launch = runner.launch_of([str(script), "--flag"], str(tmp_path))
    assert launch.python == venv.python and launch.path0 == str(venv.root / "bin")
    report = runner.probe_for_workload([str(script)], env=venv.env(), cwd=str(tmp_path))
    assert report.entries[0].path == str(venv.root / "bin")
    assert [s.name for s in report.shadowed] == ["json"]


def test_probe_as_a_script_file(venv: Venv) -> None:
    src = Path(runner.__file__).with_name("probe.py")
    done = subprocess.run([venv.python, str(src), "--path0", ""], env=venv.env(),
                          capture_output=True, text=True, check=True)
    report = runner.parse_probe_output(done.stdout)
    assert report.entries[0].is_path0 and report.entries[0].path == ""


def test_round_trip_through_dict(venv: Venv) -> None:
    report = probe(venv, modules=("json",))
    assert ProbeReport.from_dict(report.to_dict()) == report
    old = {k: report.to_dict()[k] for k in ("python", "version", "prefix", "base_prefix",
                                            "entries")}
    old["entries"] = [{k: e[k] for k in ("path", "realpath", "exists", "kind",
                                         "is_site_packages")} for e in old["entries"]]
    assert ProbeReport.from_dict(old).sys_path_entries == report.sys_path_entries


def test_unknown_launcher_is_an_error(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(HarnessError):
        runner.launch_of([str(script)])


@pytest.mark.parametrize(("argv", "options", "mode", "path0"), [
    (["python3", "-c", "pass"], (), "-c", ""),
    (["python3", "-IS", "-c", "pass"], ("-IS",), "-c", None),
    (["python3", "-P", "-m", "mod"], ("-P",), "-m", None),
    (["python3", "-X", "importtime", "-m", "mod", "-c"], ("-X", "importtime"), "-m", "/w"),
    (["python3", "-Xdev", "-Bc", "pass"], ("-X", "dev", "-B"), "-c", ""),
    (["python3", "-W", "error", "sub/app.py", "-c"], ("-W", "error"), "script", "/w/sub"),
    (["pypy3", "--check-hash-based-pycs", "always", "-mmod"],
     ("--check-hash-based-pycs", "always"), "-m", "/w"),
])
def test_launch_of(argv: list[str], options: tuple[str, ...], mode: str,
                   path0: str | None) -> None:
    launch = runner.launch_of(argv, "/w")
    assert (launch.options, launch.mode, launch.path0) == (options, mode, path0)


def test_importtime_argv_inserts_option() -> None:
    assert runner.importtime_argv(["python3", "-I", "-m", "mod", "a"]) == (
        "python3", "-I", "-X", "importtime", "-m", "mod", "a")
    assert runner.probe_options(("-i", "-X", "importtime", "-E")) == ("-E",)


def test_uv_trampoline_shebang(tmp_path: Path) -> None:
    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\n'''exec' '/very/long/path/bin/python3' \"$0\" \"$@\"\n' '''\n")
    assert runner.read_shebang(str(script)) == ["/very/long/path/bin/python3"]


def test_hash_based_pycs(venv: Venv) -> None:
    pkg = venv.add_package("hashed", modules=2)
    for mode, status in (("checked-hash", "hash_checked"), ("unchecked-hash", "hash_unchecked")):
        venv.run("-m", "compileall", "-q", "-f", "--invalidation-mode", mode, str(pkg))
        report = probe(venv, modules=("hashed", "hashed.m0", "hashed.m1"))
        assert report.bytecode is not None
        assert report.bytecode.counts == {status: 3}
        assert report.pyc_coverage == 1.0
        unchecked = {m.name for m in report.bytecode.unchecked}
        assert unchecked == ({"hashed", "hashed.m0", "hashed.m1"} if mode == "unchecked-hash"
                             else set())
        text = "\n".join(findings(report))
        assert ("never revalidated against the source" in text) == (mode == "unchecked-hash")
    # with --check-hash-based-pycs always the interpreter does check them: not flagged
    always = probe(venv, modules=("hashed",), interpreter_args=("--check-hash-based-pycs",
                                                                "always"))
    assert always.bytecode is not None and always.bytecode.check_hash_based_pycs == "always"
    assert always.bytecode.unchecked == ()
    (pkg / "m0.py").write_text("CHANGED = 1\n")
    venv.run("-m", "compileall", "-q", "-f", "--invalidation-mode", "checked-hash", str(pkg))
    (pkg / "m1.py").write_text("CHANGED = 2\n")
    counts = probe(venv, modules=("hashed.m0", "hashed.m1")).bytecode
    assert counts is not None and counts.counts == {"hash_checked": 1, "stale_hash": 1}


@pytest.mark.parametrize(("argv", "letters"), [
    (["python", "-IS", "-c", "pass", "-B"], "IS"),
    (["python", "-X", "importtime", "-E", "-m", "mod"], "E"),
    (["python", "-Xdev", "-Bc", "pass"], "B"),
    (["python", "-W", "error", "script.py", "-I"], ""),
    (["python", "--check-hash-based-pycs", "always", "-s", "-"], "s"),
])
def test_one_options_parser(argv: list[str], letters: str) -> None:
    """harness.pyoptions is the one parser of interpreter options (runner, instructions and,
    through probe_source, the probe)."""
    from harness import pyoptions

    assert pyoptions.short_flags(pyoptions.split_options(argv)[0]) == letters
    assert all(pyoptions.has_flag(argv, letter) for letter in letters)
    assert runner.probe_source().startswith(Path(pyoptions.__file__).read_text())


def test_pth_import_line_gets_its_measured_cost(venv: Venv,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The seed's case: a .pth whose import line loads a slow module (certifi there; a 30 ms
    sleep here, so the lower bound holds on any machine). Its cost reaches the probe JSON,
    the health table and `startup-harness probe`."""
    import json

    from harness.cli import main
    from harness.render import health

    (venv.site / "slowmod.py").write_text("import time\ntime.sleep(0.03)\n")
    (venv.site / "slow.pth").write_text("import slowmod\n")
    (venv.site / "cheap.pth").write_text("import sys\n")
    report = probe(venv)
    costs = {os.path.basename(p.path): p.import_costs_us for p in report.pth_files}
    assert costs["slow.pth"][0] >= 30_000
    assert 0 <= costs["cheap.pth"][0] < costs["slow.pth"][0]
    assert report.pth_import_cost_us is not None and report.pth_import_cost_us >= 30_000
    rows = [health.VariantHealth("v", "venv", None, report)]
    table = health.health_table(rows)
    assert ".pth import cost (ms)" in table.splitlines()[0]
    block = health.details_block(rows[0])
    assert "`import slowmod` — " in block and " ms" in block
    assert main(["probe", "--python", venv.python]) == 0
    data = json.loads(capsys.readouterr().out)
    slow = next(p for p in data["pth_files"] if p["path"].endswith("slow.pth"))
    assert slow["import_costs_us"][0] >= 30_000


def test_a_long_pth_import_line_is_timed_whole(venv: Venv) -> None:
    """The field trial's case: a 424-character .pth line (an editable install's hook that
    imports certifi) was timed cut to 300 characters, raised inside the timer and showed
    0.0 ms. The line is now executed whole, from the file; the display stays short."""
    (venv.site / "slowmod.py").write_text("import time\ntime.sleep(0.04)\n")
    padding = "; ".join(f"_v{i} = {i}" for i in range(60))
    line = f"import sys; {padding}; import slowmod; sys.modules.pop('_nothing', None)"
    assert len(line) > 400 and line.index("import slowmod") > 300
    (venv.site / "long.pth").write_text("# comment\n\n" + line + "\n")
    report = probe(venv)
    (long,) = [p for p in report.pth_files if p.path.endswith("long.pth")]
    assert long.import_costs_us[0] >= 40_000
    assert len(long.import_lines[0]) <= 300


def test_site_toml_files_are_inventoried(venv: Venv) -> None:
    """PEP 829 start-up configuration files are listed beside the .pth files, with whether
    this interpreter reads them (3.11 does not)."""
    (venv.site / "tool.site.toml").write_text('[paths]\nextra = ["x"]\n')
    report = probe(venv)
    (found,) = report.site_toml
    assert found.path.endswith("tool.site.toml") and not found.processed
    assert "not read by this interpreter" in "\n".join(findings(report))


def test_an_inspection_target_gets_pth_costs_too(venv: Venv) -> None:
    """The seed's inspection target prints the probe itself; the health table's .pth cost
    column was lost with it. Costs are measured in the interpreter the target ran in."""
    from harness.render import health

    (venv.site / "slowmod.py").write_text("import time\ntime.sleep(0.03)\n")
    (venv.site / "slow.pth").write_text("import slowmod\n")
    target = venv.root / "bench_syspath"
    target.write_text(f"#!{venv.python}\n" + runner.probe_source())
    target.chmod(0o755)
    report = runner.run_inspect_command([str(target)], env=venv.env(), cwd=str(venv.root))
    assert report.pth_import_cost_us is not None and report.pth_import_cost_us >= 30_000
    table = health.health_table([health.VariantHealth("v", "venv", None, report)])
    assert ".pth import cost (ms)" in table.splitlines()[0]
