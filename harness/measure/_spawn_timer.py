"""Stand-alone spawn-and-wait timer (stdlib only), run as one child by
:mod:`harness.measure.timers`.

It reads a JSON plan ``{"commands": [[argv...], ...], "prepare": [[argv...] | null, ...],
"schedule": [[round, index], ...], "cwd": str|null}``, runs every scheduled command with
``posix_spawnp`` (no shell; stdin, stdout and stderr on /dev/null) in the environment it was
itself given, and waits for it (``wait4``); the wall time is ``perf_counter_ns`` around spawn
and wait. A command's ``prepare`` argv runs (untimed) before each of its runs. Round ``-1``
entries are warmups (not reported). Writes
``{"results": [[round, index, seconds, exit_code, cpu_seconds], ...]}`` to the output path
(``cpu_seconds``: the child's user + system time from ``wait4``).

Usage: python _spawn_timer.py PLAN.json OUT.json
"""

from __future__ import annotations

import json
import os
import sys
import time


def _run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """(wall seconds, exit code, user + system CPU seconds) of one run of ``argv``."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
                   (os.POSIX_SPAWN_DUP2, devnull, 2)]
        start = time.perf_counter_ns()
        pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter_ns() - start
    finally:
        os.close(devnull)
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed / 1e9, os.waitstatus_to_exitcode(status), cpu


def main(args: list[str]) -> int:
    plan_path, out_path = args
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    if plan.get("cwd"):
        os.chdir(plan["cwd"])
    env = dict(os.environ)
    commands = plan["commands"]
    prepare = plan.get("prepare") or [None] * len(commands)
    results = []
    for round_no, index in plan["schedule"]:
        if prepare[index]:
            _run_once(prepare[index], env)
        seconds, code, cpu = _run_once(commands[index], env)
        if round_no >= 0:
            results.append([round_no, index, seconds, code, cpu])
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"timer": "spawn-wait", "results": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
