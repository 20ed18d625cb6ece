"""The bazel builder's pure parts (MODULE.bazel rewriting, flags, Bazel's output), its config,
and the pieces it relies on that need no Bazel: launcher capture, read-only tree removal,
per-command environments in the timers."""

from __future__ import annotations

import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from harness.cli import main
from harness.config import parse_config
from harness.errors import ConfigError
from harness.files import remove_tree
from harness.inspection import launcher
from harness.measure import bazel_workspace as bw
from harness.measure.timing import TimedCommand, hyperfine_argv

SEED_MODULE = textwrap.dedent("""\
    module(name = "bench")

    bazel_dep(name = "aspect_rules_py", version = "1.11.7")
    bazel_dep(name = "rules_python", version = "1.0.0", dev_dependency = True)

    local_path_override(
        module_name = "aspect_rules_py",
        path = "../old",
    )
    single_version_override(module_name = "rules_python", version = "1.0.0")
""")

SPEC = bw.BazelSpec(workspace="/ws", target="//:bench", module="aspect_rules_py")


def test_rewrite_pins_the_release_and_drops_its_overrides() -> None:
    out = bw.rewrite_module_file(SEED_MODULE, "aspect_rules_py", version="1.12.0")
    assert 'bazel_dep(name = "aspect_rules_py", version = "1.12.0")' in out
    assert "local_path_override" not in out
    # other modules and their overrides are untouched
    assert 'bazel_dep(name = "rules_python", version = "1.0.0", dev_dependency = True)' in out
    assert 'single_version_override(module_name = "rules_python", version = "1.0.0")' in out
    assert bw.declared_version(out, "aspect_rules_py") == "1.12.0"


def test_rewrite_overrides_with_a_checkout_the_seeds_way() -> None:
    out = bw.rewrite_module_file(SEED_MODULE, "aspect_rules_py", path="/src/pr")
    assert out.count("local_path_override(") == 1
    assert 'module_name = "aspect_rules_py",\n    path = "/src/pr",' in out
    assert "../old" not in out
    assert bw.declared_version(out, "aspect_rules_py") == "1.11.7"


def test_rewrite_adds_a_missing_dependency() -> None:
    out = bw.rewrite_module_file('module(name = "bench")\n', "rules_tiny", version="1.0")
    assert out == 'module(name = "bench")\nbazel_dep(name = "rules_tiny", version = "1.0")\n'
    out = bw.rewrite_module_file("", "rules_tiny", path="/x")
    assert out.startswith('bazel_dep(name = "rules_tiny")\n')
    assert 'path = "/x"' in out
    with pytest.raises(ValueError):
        bw.rewrite_module_file("", "rules_tiny")
    with pytest.raises(ValueError):
        bw.rewrite_module_file("", "rules_tiny", version="1", path="/x")


def test_rewrite_adds_a_version_to_an_unversioned_dep() -> None:
    out = bw.rewrite_module_file('bazel_dep(name = "rules_tiny")\n', "rules_tiny",
                                 version="2.0")
    assert bw.declared_version(out, "rules_tiny") == "2.0"


def test_flags_workspace_mode() -> None:
    build = bw.command_flags(SPEC, "build", bzlmod=False, override="/src/pr",
                             repository_cache="/ob/repos")
    assert build == ["--disk_cache=", "--symlink_prefix=/", "--repository_cache=/ob/repos",
                     "--override_repository=aspect_rules_py=/src/pr"]
    fetch = bw.command_flags(SPEC, "fetch", bzlmod=False, override=None, repository_cache=None)
    assert fetch == []  # shared repository cache: Bazel's default


def test_build_options_reach_build_and_cquery_only() -> None:
    """Bazel 4's fetch rejects build options (``--jobs=2 :: Unrecognized option``): flags go
    to build and cquery, common_flags everywhere; pip/uv settings to repository rules on
    every command (the same everywhere, or Bazel refetches), to actions on build commands."""
    spec = bw.BazelSpec(workspace="/ws", target="//:bench", module="m", flags=("--jobs=2",),
                        common_flags=("--repo_env=A=1",))
    env = {"PIP_CERT": None, **bw.tool_caches("/c")}
    flags = {cmd: bw.command_flags(spec, cmd, bzlmod=False, override=None,
                                   repository_cache="/rc", repo_env=env)
             for cmd in ("info", "fetch", "query", "build", "cquery")}
    for cmd, got in flags.items():
        assert ("--jobs=2" in got) == (cmd in ("build", "cquery")), cmd
        assert "--repo_env=A=1" in got
        assert {"--repo_env=PIP_CERT=", "--repo_env=PIP_CACHE_DIR=/c/pip",
                "--repo_env=UV_CACHE_DIR=/c/uv", "--repo_env=XDG_CACHE_HOME=/c/xdg"} <= set(got)
        assert ("--action_env=PIP_CACHE_DIR=/c/pip" in got) == (cmd in ("build", "cquery"))
    assert bw.passed_names(["UV_*", "PIP_CERT", "NOPE"],
                           {"UV_INDEX": "x", "UV_": "y", "PIP_CERT": "c", "PATH": "p"}) == [
        "PIP_CERT", "UV_", "UV_INDEX"]


def test_flags_bzlmod_mode() -> None:
    spec = bw.BazelSpec(workspace="/ws", target="//:bench", module="rules_tiny",
                        common_flags=("--noenable_workspace",))
    flags = bw.command_flags(spec, "mod", bzlmod=True, override="/src",
                             repository_cache="/rc", registries=("file:///reg",))
    assert flags == ["--repository_cache=/rc", "--enable_bzlmod", "--lockfile_mode=off",
                     "--registry=file:///reg", "--override_module=rules_tiny=/src",
                     "--noenable_workspace"]
    assert bw.startup_options(spec, "/ob") == ["--output_base=/ob", "--max_idle_secs=60"]
    assert bw.use_bzlmod("auto", True) and not bw.use_bzlmod("auto", False)
    assert bw.use_bzlmod("bzlmod", False) and not bw.use_bzlmod("workspace", True)


def test_reading_bazel_output() -> None:
    assert bw.resolved_version("<root> (bench@_)\n└───rules_tiny@1.0.0 \n", "rules_tiny") \
        == "1.0.0"
    assert bw.resolved_version("aspect_rules_py@_ ", "aspect_rules_py") == "_"
    assert bw.resolved_version("my_rules_tiny@2", "rules_tiny") is None
    assert bw.executable_path("/ob/execroot/_main\n", "bazel-out/k8/bin/bench\n") == \
        "/ob/execroot/_main/bazel-out/k8/bin/bench"
    with pytest.raises(ValueError):
        bw.executable_path("/x", "None\n")
    output = textwrap.dedent("""\
        Starting local Bazel server and connecting to it...
        ERROR: /ws/BUILD.bazel:3:15: in tiny_py_binary rule //:bench:
        Traceback (most recent call last):
        Error in fail: rules_tiny is broken at this commit
        ERROR: Analysis of target '//:bench' failed; build aborted: Analysis of target
        INFO: Elapsed time: 11.638s
        FAILED: Build did NOT complete successfully
    """)
    assert bw.relevant_lines(output) == [
        "ERROR: /ws/BUILD.bazel:3:15: in tiny_py_binary rule //:bench:",
        "Error in fail: rules_tiny is broken at this commit"]
    offline = "ERROR: Error accessing registry https://bcr.bazel.build/: Unknown host: bcr"
    assert bw.relevant_lines("INFO: x\n" + offline) == [offline]
    assert bw.relevant_lines("a\nb\nc\nd") == ["b", "c", "d"]
    query = '# /ws/WORKSPACE:3:17\nlocal_repository(\n  name = "rules_tiny",\n' \
            '  path = "/rel",\n)\n'
    assert bw.declaration_summary(query) == 'local_repository path="/rel"'


def bazel_config(tmp_path: Path, source: str, build: str = "") -> dict:
    import yaml

    block = build or "{builder: bazel, workspace: ws, target: '//:bench', module: rules_tiny}"
    return yaml.safe_load(textwrap.dedent(f"""\
        variants:
          - {{name: release, source: {source}, build: {block}}}
          - {{name: pr, source: {{path: .}}, build: {block}}}
        workloads: [{{name: start, command: ["{{exe}}"]}}]
    """))


def test_config_bcr_source_and_bazel_block(tmp_path: Path) -> None:
    data = bazel_config(tmp_path, "{bcr: {module: rules_tiny, version: '1.0'}}")
    config = parse_config(data, tmp_path / "c.yaml")
    release = config.variant("release")
    from harness.measure.builders.bazel import BcrRelease

    assert release.source.kind == "bcr"
    assert release.source.spec == BcrRelease("rules_tiny", "1.0", (bw.BCR_URL,))
    assert release.build.builder == "bazel"
    spec = release.build.options
    assert isinstance(spec, bw.BazelSpec)
    assert spec.workspace == str(tmp_path / "ws")
    assert spec.repository_cache == "isolated"
    assert spec.command == ("bazel",)


@pytest.mark.parametrize(("source", "build", "message"), [
    ("{bcr: {module: rules_tiny, version: '1'}}", "{builder: uv}",
     "built by the bazel builder only"),
    ("{bcr: {module: other, version: '1'}}", "", "is not the builder's module"),
    ("{requirement: x}", "", "takes bcr, git or path"),
    ("{path: .}", "{builder: bazel, workspace: ws, target: 'bench', module: m}",
     "does not match"),
    ("{path: .}", "{builder: bazel}", "missing workspace, target, module"),
    ("{path: .}", "{workspace: ws, target: '//:b', module: m}", "unknown key"),
    ("{bcr: {module: rules_tiny}}", "", "'version' is a required property"),
    ("{path: .}", "{builder: bazel, workspace: ws, target: '//:b', module: m, "
     "flags: ['jobs=2']}", "does not match"),
    ("{path: .}", "{builder: bazel, workspace: ws, target: '//:b', module: m, "
     "pass_env: ['PIP CERT']}", "does not match"),
])
def test_config_errors(tmp_path: Path, source: str, build: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(bazel_config(tmp_path, source, build), tmp_path / "c.yaml")


def test_launcher_capture_sees_the_exec(tmp_path: Path) -> None:
    script = tmp_path / "app"
    script.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        export FROM_LAUNCHER="$0"
        cd "$(dirname "$0")"
        exec "{sys.executable}" -B -s "$(dirname "$0")/main.py" "$@"
    """))
    script.chmod(0o755)
    (tmp_path / "main.py").write_text("raise SystemExit(3)\n")
    start = launcher.follow([str(script), "arg"], env={"PATH": os.environ["PATH"]},
                             cwd=str(tmp_path.parent))
    assert start.argv == (sys.executable, "-B", "-s", f"{tmp_path}/main.py", "arg")
    assert start.env["FROM_LAUNCHER"] == str(script)
    assert "__HARNESS_CAPTURE" not in start.env
    assert start.cwd == str(tmp_path)
    # an interpreter command line is returned as it is
    plain = launcher.follow([sys.executable, "-c", "1"], env={}, cwd=None)
    assert plain.argv == (sys.executable, "-c", "1")


def test_remove_tree_removes_read_only_trees(tmp_path: Path) -> None:
    tree = tmp_path / "ob"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "f").write_text("x")
    os.symlink("/", tree / "link")
    for path in (tree / "a" / "b" / "f", tree / "a" / "b", tree / "a"):
        path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    assert remove_tree(tree) and not tree.exists()
    assert remove_tree(tree)


def test_commands_with_their_own_environment() -> None:
    command = TimedCommand("pr", "start", ("/x/bench",), env={"RUNFILES_DIR": "/x/r"})
    argv = hyperfine_argv("hyperfine", [command], runs=2, warmup=0,
                          export_json=Path("/tmp/e.json"))
    assert argv[-1] == "env RUNFILES_DIR=/x/r /x/bench"


def test_probe_script_is_the_probe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe-script"]) == 0
    out = capsys.readouterr().out
    compile(out, "probe.py", "exec")
    assert "__main__" in out and "@@startup-harness-probe@@" in out


def test_spawn_timer_gives_each_command_its_environment(tmp_path: Path) -> None:
    from harness.measure import timers

    check = ("/bin/sh", "-c", 'test "$RUNFILES_DIR" = "$0"')
    commands = [TimedCommand("a", "w", (*check, "/a"), env={"RUNFILES_DIR": "/a"}),
                TimedCommand("b", "w", (*check, "/b"), env={"RUNFILES_DIR": "/b"}),
                TimedCommand("c", "w", (*check, ""))]
    rows = timers.run_schedule(commands, warmup=0, runs=2, order="interleaved",
                               env={"PATH": os.environ["PATH"]}, raw_dir=tmp_path)
    assert {int(row[3]) for row in rows} == {0}


def test_bzlmod_variant_workspace_is_a_rewritten_copy(tmp_path: Path) -> None:
    from harness.config import Source
    from harness.measure.builders.bazel import BazelBuilder, BcrRelease

    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "MODULE.bazel").write_text(SEED_MODULE)
    (workspace / "MODULE.bazel.lock").write_text("{}")
    (workspace / "BUILD.bazel").write_text("")
    os.symlink("/nonexistent", workspace / "bazel-out")
    spec = bw.BazelSpec(workspace=str(workspace), target="//:bench", module="aspect_rules_py")
    release = Source("bcr", spec=BcrRelease("aspect_rules_py", "1.12.0"))
    copy = BazelBuilder._variant_workspace(spec, release, None, tmp_path / "release")
    assert sorted(os.listdir(copy)) == ["BUILD.bazel", "MODULE.bazel"]
    assert bw.declared_version((copy / "MODULE.bazel").read_text(), "aspect_rules_py") \
        == "1.12.0"
    checkout = BazelBuilder._variant_workspace(spec, Source("path", path="/src"), "/src",
                                               tmp_path / "pr")
    text = (checkout / "MODULE.bazel").read_text()
    assert 'path = "/src"' in text and "../old" not in text
    assert (workspace / "MODULE.bazel").read_text() == SEED_MODULE  # the user's is untouched


def test_the_workspace_release_is_checked_against_bcr_version() -> None:
    archive = ('http_archive(\n  name = "aspect_rules_py",\n'
               '  urls = ["https://github.com/aspect-build/rules_py/releases/download/v1.11.7/'
               'rules_py-v1.11.7.tar.gz"],\n  strip_prefix = "rules_py-1.11.7",\n'
               '  sha256 = "0123abcd",\n)\n')
    assert bw.release_mismatch(archive, "aspect_rules_py", "1.11.7") is None
    assert bw.release_mismatch(archive, "aspect_rules_py", "v1.11.7") is None
    problem = bw.release_mismatch(archive, "aspect_rules_py", "1.11.8")
    assert problem is not None and problem.startswith(
        "the WORKSPACE declares aspect_rules_py 1.11.7 (urls=")
    assert problem.endswith("not bcr.version 1.11.8") and "\n" not in problem
    by_commit = 'http_archive(\n  urls = ["https://x/archive/0a1b2c3d4e.tar.gz"],\n)\n'
    assert bw.release_mismatch(by_commit, "m", "1.0") is None  # cannot be told
    local = 'local_repository(\n  name = "rules_tiny",\n  path = "/r/release",\n)\n'
    module = 'module(name = "rules_tiny", version = "1.0")\n'
    assert bw.release_mismatch(local, "rules_tiny", "1.0", module) is None
    assert "declares rules_tiny 1.0 (the MODULE.bazel at its path" in (
        bw.release_mismatch(local, "rules_tiny", "2.0", module) or "")
    assert bw.release_mismatch(local, "rules_tiny", "2.0", None) is None
    rc = 'http_archive(\n  url = "https://x/rules-2.0.0-rc1.tar.gz",\n)\n'
    assert bw.release_mismatch(rc, "m", "2.0.0-rc1") is None
    assert bw.release_mismatch(rc, "m", "2.0.0") is not None
