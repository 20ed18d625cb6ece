""".ci/bazel7.sh, the Bazel 7 set-up of CI, with its recipe replaced by a stand-in (the real
one takes minutes and 1.5 GB; tests/test_bazel_bzlmod.py uses what it makes): a failed
recipe leaves nothing and says why, a cached root that does not answer is not reused, the
wrapper binds the paths it is given and never hides the root's /usr."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "bazel7.sh"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("bwrap", "flock",
                                                                  "debootstrap")),
    reason="root with bubblewrap, flock and debootstrap (.ci/bazel7.sh installs them)")

#: The stand-in recipe: what the real one prints when debootstrap of sid fails twice.
FAILING = """\
mkdir -p "$1/sid/proc"
echo "::error::Bazel 7 set-up: debootstrap of Debian sid from MIRROR failed twice" >&2
exit 3
"""


def setup(tmp_path: Path, recipe: str) -> tuple[Path, Path, Path]:
    """A copy of the script beside the stand-in recipe; the cache dir and a run dir."""
    ci = tmp_path / "ci"
    ci.mkdir()
    shutil.copy(SCRIPT, ci / "bazel7.sh")
    (ci / "bazel7-root.sh").write_text(recipe)
    return ci, tmp_path / "cache", tmp_path / "run"


def run(ci: Path, cache: Path, run_dir: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STARTUP_HARNESS_CACHE": str(cache)}
    return subprocess.run(["bash", str(ci / "bazel7.sh"), str(run_dir), *paths], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120, check=False)


def key_dir(ci: Path, cache: Path) -> Path:
    import hashlib

    digest = hashlib.sha256((ci / "bazel7-root.sh").read_bytes()).hexdigest()
    return cache / f"bazel7-{digest[:12]}"


def test_a_failed_recipe_leaves_nothing_and_says_why(tmp_path: Path) -> None:
    ci, cache, run_dir = setup(tmp_path, FAILING)
    done = run(ci, cache, run_dir)
    assert done.returncode == 3, done.stderr
    assert "::error::Bazel 7 set-up: debootstrap of Debian sid" in done.stderr
    assert sorted(os.listdir(cache)) == ["bazel7.lock"]  # no partial root, no root
    assert not (run_dir / "env").exists()


def test_a_cached_root_that_does_not_answer_is_rebuilt_not_reused(tmp_path: Path) -> None:
    """A root with its stamp whose bazel does not run: the wrapper is written and tried
    (binding the run's paths), the root removed and the recipe run again."""
    ci, cache, run_dir = setup(tmp_path, FAILING)
    stale = key_dir(ci, cache)
    (stale / "sid" / "usr" / "bin").mkdir(parents=True)
    (stale / "sid" / "etc").mkdir()
    (stale / "sid" / "bin").symlink_to("usr/bin")
    (stale / "sid" / "usr" / "bin" / "bazel").write_text("not a program\n")
    (stale / "sid" / "usr" / "bin" / "bazel").chmod(0o755)
    (stale / "ready").write_text("stamp\n")
    clone = SCRIPT.parent.parent.resolve()  # this checkout, wherever CI cloned it
    done = run(ci, cache, run_dir, str(clone), "/nonexistent-startup-harness-dir")
    assert done.returncode == 3, done.stderr
    assert not stale.exists()
    wrapper = (run_dir / "bazel").read_text()
    words = shlex.split(wrapper.splitlines()[-1])
    binds = {words[i + 1]: words[i + 2] for i, word in enumerate(words) if word == "--bind"}
    prefix = os.path.realpath(sys.base_prefix)
    # the sid root's entries, the run's home, and only the host paths the run needs
    assert binds.pop(f"{stale}/sid/usr") == "/usr" and binds.pop(f"{stale}/sid/etc") == "/etc"
    assert binds.pop(f"{run_dir}/home") == "/root"
    assert "--symlink usr/bin /bin" in wrapper
    expected = {"/tmp", prefix} | ({str(clone)} if not str(clone).startswith("/tmp/") else set())
    assert set(binds) == expected and all(binds[path] == path for path in binds)


def test_the_roots_usr_is_never_hidden(tmp_path: Path) -> None:
    ci, cache, run_dir = setup(tmp_path, FAILING)
    stale = key_dir(ci, cache)
    (stale / "sid" / "usr" / "bin").mkdir(parents=True)
    (stale / "sid" / "usr" / "bin" / "bazel").write_text("")
    (stale / "sid" / "usr" / "bin" / "bazel").chmod(0o755)
    (stale / "ready").write_text("stamp\n")
    done = run(ci, cache, run_dir, "/usr")
    assert done.returncode == 3
    assert "cannot bind /usr into the sid root" in done.stderr
