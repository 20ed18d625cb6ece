"""The bazel builder end to end with real Bazel on a ruleset written by the tests.

Bazel 4.2.3 (Debian's bazel-bootstrap) builds the fixture offline. Without Bazel these tests
skip locally and fail in CI (``CI`` set): `.ci/run` installs it. One Bazel server at a time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main
from harness.inspection.runner import probe_source
from tests.bazel_fixture import export_release, make_ruleset_repo, make_workspace, real_python

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def bazel() -> str:
    found = shutil.which("bazel")
    if found is None:
        message = "bazel not installed (apt-get install -y bazel-bootstrap)"
        if os.environ.get("CI"):
            pytest.fail(message + ": required in CI")
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The ruleset's repository, its release (as a registry archive unpacks), a checkout of
    v3 (the PR, a path source) and the benchmark workspace declaring the release."""
    base = tmp_path_factory.mktemp("bazel")
    repo = make_ruleset_repo(base / "rules_tiny")
    release = export_release(repo, "v1", base / "release")
    checkout = export_release(repo, "v3", base / "pr-checkout")
    # a server shows as "bazel(<workspace folder>)" in ps: a name of this test session's own
    workspace = make_workspace(base / f"bench{os.getpid()}", release, probe_source())
    return {"repo": repo, "release": release, "checkout": checkout, "workspace": workspace}


def bazel_processes(marker: str) -> list[str]:
    """Command lines of live processes mentioning ``marker`` (the sleepy action's script, a
    work dir)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True,
                         check=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


def servers(fixture: dict[str, Path]) -> list[str]:
    """Live Bazel servers of the fixture's workspace (their title is ``bazel(<folder>)``)."""
    return bazel_processes(f"bazel({fixture['workspace'].name})")


def server_pids(work: Path) -> set[int]:
    """PIDs the run's servers recorded in their output bases."""
    pids = set()
    for pid_file in work.glob("variants/*/ob/server/server.pid.txt"):
        try:
            pids.add(int(pid_file.read_text()))
        except (OSError, ValueError):
            pass
    return pids


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(
        f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[:1]


def write(path: Path, fixture: dict[str, Path], variants: list[str], *, runs: int = 10,
          gate: str = "") -> Path:
    head = ["title: rules_tiny start-up", "variants:"]
    text = "\n".join(head + variants) + "\n" + "\n".join([
        "workloads:",
        "  - name: start",
        '    command: ["{exe}"]',
        f"timing: {{warmup: 2, runs: {runs}}}",
        gate]) + "\n"
    path.write_text(text)  # the build block is shared with a YAML anchor, as users write it
    return path


def anchor(fixture: dict[str, Path]) -> str:
    """The first variant's bazel block, anchored as ``bz`` for the others (YAML merge keys)."""
    return (f'&bz {{builder: bazel, workspace: "{fixture["workspace"]}", '
            'target: "//:bench", module: rules_tiny, max_idle_secs: 30}')


def variant(name: str, source: str, *, role: str | None = None, build: str = "*bz") -> str:
    lines = [f"  - name: {name}"]
    if role:
        lines.append(f"    role: {role}")
    lines += [f"    source: {source}", f"    build: {build}"]
    return "\n".join(lines)


#: A repository rule that runs real uv and pip the way a ruleset's pip rules do: uv installs
#: a wheel (uv always writes its cache), pip says where it would cache; both logged.
TOOL_RULE = """
def _impl(rctx):
    done = rctx.execute(["{uv}", "pip", "install", "--no-index", "--find-links", "{wheels}",
                         "tinywhl", "--target", "site", "--python", "{python}"])
    if done.return_code:
        fail(done.stderr)
    where = rctx.execute(["{python}", "-m", "pip", "cache", "dir"])
    rctx.execute(["sh", "-c", 'echo "$1 pip=$2 uv=$UV_CACHE_DIR cert=$PIP_CERT ' +
                  'index=${{PIP_INDEX_URL:-unset}}" >> "$3"', "sh",
                  rctx.name, where.stdout.strip(), "{log}"])
    rctx.file("main.py", "import tinylib\\n")
    rctx.file("BUILD.bazel", 'exports_files(["main.py"])')

tools = repository_rule(implementation = _impl)
"""


def with_pip_and_uv(workspace: Path, dest: Path) -> tuple[Path, Path]:
    """A copy of the benchmark workspace whose //:bench main comes from a repository rule
    that runs uv and pip; returns it and the rule's log."""
    from harness.measure.tools import which_tool

    uv = which_tool("uv")
    assert uv is not None
    shutil.copytree(workspace, dest)
    wheels = dest.parent / "wheels"
    wheels.mkdir()
    import zipfile

    with zipfile.ZipFile(wheels / "tinywhl-1.0-py3-none-any.whl", "w") as whl:
        whl.writestr("tinywhl.py", "X = 1\n")
        whl.writestr("tinywhl-1.0.dist-info/METADATA",
                     "Metadata-Version: 2.1\nName: tinywhl\nVersion: 1.0\n")
        whl.writestr("tinywhl-1.0.dist-info/WHEEL",
                     "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr("tinywhl-1.0.dist-info/RECORD", "")
    log = dest.parent / "tools.log"
    (dest / "tools.bzl").write_text(TOOL_RULE.format(uv=uv, wheels=wheels, log=log,
                                                     python=real_python()))
    (dest / "WORKSPACE").write_text((dest / "WORKSPACE").read_text() + (
        '\nload("//:tools.bzl", "tools")\n\ntools(name = "pip_and_uv")\n'))
    build = (dest / "BUILD.bazel").read_text()
    (dest / "BUILD.bazel").write_text(build.replace('main = "main.py"',
                                                    'main = "@pip_and_uv//:main.py"'))
    return dest, log


def test_release_ref_and_path_each_cold_regression_exits_1(
        fixture: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Also: build options (--jobs=2) reach build and cquery only (Bazel 4's fetch rejects
    them), and pip and uv run by repository rules use the variant's caches, never the
    user's (HOME is a fresh folder here: nothing may appear in its .cache)."""
    repo, checkout = fixture["repo"], fixture["checkout"]
    workspace, log = with_pip_and_uv(fixture["workspace"],
                                     tmp_path / f"{fixture['workspace'].name}t")
    import getpass

    # Bazel's own default root (its install base already extracted): only pip and uv move
    user_root = Path.home() / ".cache" / "bazel" / f"_bazel_{getpass.getuser()}"
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PIP_CERT", "/nonexistent/ca.pem")  # passed: pip must see it
    monkeypatch.setenv("PIP_INDEX_URL", "http://not-passed.invalid/simple")
    block = (f'&bz {{builder: bazel, workspace: "{workspace}", target: "//:bench", '
             'module: rules_tiny, max_idle_secs: 30, flags: ["--jobs=2"], '
             f'pass_env: [PIP_CERT], startup_flags: ["--output_user_root={user_root}"]}}')
    config = write(tmp_path / "c.yaml", fixture, [
        variant("release", '{bcr: {module: rules_tiny, version: "1.0"}}', role="baseline",
                build=block),
        variant("main", f'{{git: {{repo: "{repo}", ref: v2}}}}', role="main"),
        variant("pr", f'{{path: "{checkout}"}}', role="pr"),
    ])
    work = tmp_path / "work"
    out = tmp_path / "out"
    code = main(["run", "--config", str(config), "--out", str(out), "--work-dir", str(work),
                 "--quiet"])
    assert code == 1, capsys.readouterr().err
    data = json.loads((out / "report.json").read_text())
    builds = {b["variant"]: b for b in data["builds"]}
    roots = {name: b["details"]["execution_root"] for name, b in builds.items()}
    # each variant in its own output base under the run's work dir
    assert len(set(roots.values())) == 3
    assert all(root.startswith(str(work)) for root in roots.values())
    for b in builds.values():
        assert b["ok"] and b["builder"] == "bazel"
        assert set(b["phases"]) == {"server_start", "fetch", "build", "shutdown"}
        assert b["phases"]["build"] > 0 and b["details"]["mode"] == "workspace"
        assert b["details"]["tool_version"].startswith("bazel")
    assert "local_repository" in builds["release"]["details"]["resolved"]
    assert str(fixture["release"]) in builds["release"]["details"]["resolved"]
    assert "overridden by git v2" in builds["main"]["details"]["resolved"]
    assert str(checkout) in builds["pr"]["details"]["resolved"]
    assert data["gate"]["status"] == "regression"
    # the launcher's own interpreter was inspected: the seed's duplicate dist-info question
    dups = {name: [d["name"] for d in p["distributions"]["duplicates"]]
            for name, p in data["probes"].items()}
    assert dups["release"] == [] and dups["main"] == ["tinylib"]
    assert data["probes"]["pr"]["interpreter"]["options"] == ["-B", "-s"]
    # which process was inspected: the venv's python the rules_tiny launcher execs
    process = data["probes"]["pr"]["process"]
    assert process["program"] and process["via"][0].startswith("shell exec: ")
    assert process["argv"][:3] == [process["python"], "-B", "-s"]
    assert data["extras"]["importtime"]["pr"]["start"]["process"]["via"] == process["via"]
    comment = (out / "comment.md").read_text()
    header = next(line for line in comment.splitlines() if line.startswith("| Version"))
    assert "Fetch (s)" in header and "Build (s)" in header
    assert "<summary>Builds</summary>" in comment and "slow.pth" in comment
    assert "Inspected in" in comment and ": the program: `" in comment
    # nothing left: no server, no output base, no worktree
    assert not work.exists()
    assert bazel_processes(str(work)) == []
    assert bazel_processes("build_venv.sh") == []
    assert "worktree" not in subprocess.run(["git", "-C", str(repo), "worktree", "list"],
                                            capture_output=True, text=True).stdout.split()[1:]
    # pip and uv inside Bazel: the variant's caches, the user's untouched
    logged = log.read_text().splitlines()
    assert len(logged) == 3, logged  # one cold fetch per variant
    for line in logged:
        _name, pip_dir, uv_dir, cert, index = line.split(" ")
        assert cert == "cert=/nonexistent/ca.pem" and index == "index=unset"
        assert pip_dir.startswith(f"pip={work}/") and pip_dir.endswith("tool-caches/pip")
        assert uv_dir.startswith(f"uv={work}/") and uv_dir.endswith("tool-caches/uv")
    assert not (home / ".cache").exists() or sorted(os.listdir(home / ".cache")) == ["bazel"]
    for b in builds.values():
        assert b["details"]["passed_env"] == "PIP_CERT"
        assert b["details"]["tool_caches"].startswith("per variant")


def test_same_ref_twice_exits_0_with_inspection_target(
        fixture: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = fixture["repo"]
    seed_way = '{<<: *bz, inspect_target: "//:bench_syspath", repository_cache: shared}'
    config = write(tmp_path / "c.yaml", fixture, [
        variant("main", f'{{git: {{repo: "{repo}", ref: v2}}}}', role="main",
                build=anchor(fixture)),
        variant("pr", f'{{git: {{repo: "{repo}", ref: v2}}}}', role="pr", build=seed_way),
    ], gate="gate: {threshold_pct: 30}")
    out = tmp_path / "out"
    code = main(["run", "--config", str(config), "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    data = json.loads((out / "report.json").read_text())
    # the seed's way: the inspection target's output is the probe (its own venv)
    assert "bench_syspath.venv" in data["probes"]["pr"]["python"]
    assert "bench.venv" in data["probes"]["main"]["python"]
    assert {len(s["values"]) for s in data["samples"]} == {10}


def test_broken_ruleset_and_missing_target_exit_2_others_measured(
        fixture: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = fixture["repo"]
    config = write(tmp_path / "c.yaml", fixture, [
        variant("main", f'{{git: {{repo: "{repo}", ref: v2}}}}', role="main",
                build=anchor(fixture)),
        variant("pr", f'{{git: {{repo: "{repo}", ref: broken}}}}', role="pr"),
        variant("typo", f'{{git: {{repo: "{repo}", ref: v2}}}}',
                build='{<<: *bz, target: "//:nope"}'),
        variant("nobazel", f'{{git: {{repo: "{repo}", ref: v2}}}}',
                build="{<<: *bz, command: no-such-bazel-here}"),
        variant("wrongrelease", '{bcr: {module: rules_tiny, version: "9.9"}}'),
    ], runs=6)
    out = tmp_path / "out"
    code = main(["run", "--config", str(config), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = {name: line for line in err.splitlines()
             for name in ("pr", "typo", "nobazel", "wrongrelease") if f"variant '{name}'" in line}
    assert "rules_tiny is broken at this commit" in lines["pr"]
    assert "no such target" in lines["typo"] and "//:nope" in lines["typo"]
    assert "not found" in lines["nobazel"] and "bazel-bootstrap" in lines["nobazel"]
    # WORKSPACE mode: the declared release (a local_repository whose MODULE.bazel says 1.0)
    # is not the bcr.version the variant names
    assert "the WORKSPACE declares rules_tiny 1.0" in lines["wrongrelease"]
    assert "not bcr.version 9.9" in lines["wrongrelease"]
    data = json.loads((out / "report.json").read_text())
    measured = {s["variant"] for s in data["samples"] if s["values"]}
    assert measured == {"main"}
    assert data["gate"]["status"] == "error"


def test_sigterm_during_build_leaves_no_server_and_no_output_base(
        fixture: dict[str, Path], tmp_path: Path) -> None:
    repo = fixture["repo"]
    config = write(tmp_path / "c.yaml", fixture, [
        variant("main", f'{{git: {{repo: "{repo}", ref: sleepy}}}}', role="main",
                build=anchor(fixture)),
        variant("pr", f'{{git: {{repo: "{repo}", ref: v2}}}}', role="pr"),
    ])
    work = tmp_path / "work"
    child = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--config", str(config), "--out",
         str(tmp_path / "out"), "--work-dir", str(work)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    pids: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        # wait until the sleepy action runs: the build is under way on the server
        while time.monotonic() < deadline and child.poll() is None:
            pids |= server_pids(work)
            if bazel_processes("build_venv.sh"):
                break
            time.sleep(0.2)
        pids |= server_pids(work)
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        assert pids and servers(fixture), "no Bazel server seen"
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stderr is not None:
            child.stderr.close()  # a failed assertion above must not leak the pipe
    assert child.returncode == 130, err
    assert not work.exists()
    assert not any(alive(pid) for pid in pids)
    assert servers(fixture) == []
    assert bazel_processes("build_venv.sh") == []
