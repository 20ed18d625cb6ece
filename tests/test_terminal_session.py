"""What a person sees in a terminal: live progress under a pseudo-terminal (per round from
the spawn timer's child), nothing extra when piped, the table within 80 columns, the verdict
last. Real runs on the ``existing`` builder (nothing to build)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.test_pipeline import config

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


def harness_argv(cfg: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "harness", "run", "--config", str(cfg), "--out", str(out),
            *extra]


def env80() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COLUMNS"))}
    return {**env, "COLUMNS": "80", "LINES": "24", "TERM": "xterm-256color"}


def run_in_pty(argv: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str]:
    """Run ``argv`` with stdin, stdout and stderr on a pseudo-terminal; (exit code, output)."""
    controller, terminal = pty.openpty()
    child = subprocess.Popen(argv, stdin=terminal, stdout=terminal, stderr=terminal,
                             env=env80(), cwd=cwd, close_fds=True)
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                try:
                    data = os.read(controller, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif child.poll() is not None:
                break
        code = child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(controller)
    return code, b"".join(chunks).decode("utf-8", "replace")


def slow_config(tmp_path: Path) -> Path:
    # 40 rounds of ~25 ms per command: long enough for the live bar to redraw
    cfg = config(tmp_path, "import time; time.sleep(0.02)", "import time; time.sleep(0.02)",
                 gate="gate: {threshold_pct: 50}\n")
    cfg.write_text(cfg.read_text().replace("runs: 8", "runs: 40"))
    return cfg


def test_progress_under_a_terminal(tmp_path: Path) -> None:
    cfg = slow_config(tmp_path)
    code, raw = run_in_pty(harness_argv(cfg, tmp_path / "out"), tmp_path)
    assert code == 0, raw
    text = ANSI.sub("\n", raw)
    assert "timing 2 commands" in text  # the live bar's label
    assert "ETA" in text
    # the timer child reported runs as they finished: intermediate counts were drawn
    # 2 x 40: the config's one warm-up is the smoke run (harness.pipeline.timer_warmups)
    counts = {int(m.group(1)) for m in re.finditer(r"\b(\d+)/80\b", text)}
    assert len(counts - {0, 80}) >= 1, sorted(counts)
    # the table and verdict (printed after the bar is gone) fit 80 columns
    tail = raw[raw.rindex("existing interpreters"):].replace("\r", "")
    assert all(len(line) <= 80 for line in tail.splitlines()), tail
    assert tail.rstrip().splitlines()[-1].lstrip().startswith("[PASS]") or \
        "[PASS]" in tail.rstrip().splitlines()[-2]


def test_nothing_extra_when_piped(tmp_path: Path) -> None:
    cfg = slow_config(tmp_path)
    done = subprocess.run(harness_argv(cfg, tmp_path / "out"), capture_output=True, text=True,
                          env=env80(), cwd=tmp_path, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "\x1b" not in done.stdout and "ETA" not in done.stdout
    assert done.stdout.startswith("existing interpreters\n")
    # the verdict is the last paragraph; at 80 columns its interval may wrap onto a second,
    # indented line
    verdict = done.stdout.rstrip().split("\n\n")[-1].splitlines()
    assert verdict[0].startswith("[PASS]") and all(x.startswith("  ") for x in verdict[1:]), \
        done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    verbose = subprocess.run(harness_argv(cfg, tmp_path / "out2", "--verbose"),
                             capture_output=True, text=True, env=env80(), cwd=tmp_path,
                             timeout=300, check=False)
    assert "[startup-harness] timing 2 commands" in verbose.stderr
    assert "\x1b" not in verbose.stderr
