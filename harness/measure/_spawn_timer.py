"""Stand-alone spawn-and-wait timer (stdlib only), run as one child by
:mod:`harness.measure.timers`.

It reads a JSON plan ``{"commands": [[argv...], ...], "prepare": [[argv...] | null, ...],
"schedule": [[round, index], ...], "cwd": str|null, "timeout_s": float|null,
"keep_going": [bool, ...], "parent_pid": int|null}`` (and more keys, below),
runs every scheduled command with ``posix_spawnp`` (no shell; stdin and stdout on /dev/null,
stderr into a scratch file kept only when the run fails) in the environment it was itself given
(plus the command's own ``env`` entry), and waits for it (``wait4``); the
wall time is ``perf_counter_ns`` around spawn and wait. A command's ``prepare`` argv runs
(untimed) before each of its runs. Round ``-1`` entries are warmups (not reported).

Faults: every run gets its own process group; a run longer than ``timeout_s`` is killed with
its group (exit code ``-9``, ``timed_out``). A command that fails (non-zero exit or timeout, in
a warmup or a timed run) is not run again unless ``keep_going`` allows it. The timer dies with
its parent (``PR_SET_PDEATHSIG`` on Linux, and a check of the parent PID), and on SIGTERM or
SIGINT it kills the running command's group before it exits.

Writes ``{"results": [[round, index, seconds, exit_code, cpu_seconds, position], ...],
"failures": [{"index", "round", "exit_code", "timed_out", "stderr"}, ...]}`` to the output path
(``cpu_seconds``: the child's user + system time from ``wait4``; ``position``: the entry's
index in the schedule plus the plan's ``first_position`` (when a schedule runs in batches),
warmups included, so each run's predecessor is known; ``stderr``: the
failing run's last lines).

Usage: python _spawn_timer.py PLAN.json OUT.json
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time

_running: dict[str, object] = {"pids": [], "timed_out": False}


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _pids() -> list[int]:
    pids = _running["pids"]
    return list(pids) if isinstance(pids, list) else []


def _on_alarm(signum: int, frame: object) -> None:
    if _pids():
        _running["timed_out"] = True
        for pid in _pids():
            _kill_group(pid)


def _on_term(signum: int, frame: object) -> None:
    for pid in _pids():
        _kill_group(pid)
    os._exit(128 + signum)


def _die_with_parent(parent_pid: int | None) -> None:
    """Ask the kernel for SIGTERM when the parent dies (Linux); then check it is still alive."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent_pid and os.getppid() != parent_pid:
        os._exit(128 + signal.SIGTERM)


def _tail(fd: int, limit: int = 4000) -> str:
    size = os.fstat(fd).st_size
    os.lseek(fd, max(0, size - limit), os.SEEK_SET)
    text = os.read(fd, limit).decode("utf-8", "replace")
    return "\n".join(line for line in text.splitlines() if line.strip())[-2000:]


def _run_once(argv: list[str], env: dict[str, str], timeout: float | None,
              err_fd: int) -> tuple[float, int, float, bool]:
    """(wall seconds, exit code, user + system CPU seconds, timed out) of one run of ``argv``."""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.ftruncate(err_fd, 0)
    os.lseek(err_fd, 0, os.SEEK_SET)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
                   (os.POSIX_SPAWN_DUP2, err_fd, 2)]
        _running["timed_out"] = False
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        start = time.perf_counter_ns()
        try:
            pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions, setpgroup=0)
        except OSError as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            os.write(err_fd, f"cannot execute {argv[0]!r}: {exc.strerror}\n".encode())
            return 0.0, 127, 0.0, False
        _running["pids"] = [pid]
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter_ns() - start
        signal.setitimer(signal.ITIMER_REAL, 0)
        _running["pids"] = []
        _kill_group(pid)  # anything the run left behind in its group
    finally:
        os.close(devnull)
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed / 1e9, os.waitstatus_to_exitcode(status), cpu, bool(_running["timed_out"])


def _child(argv: list[str], env: dict[str, str], err_fd: int, devnull: int, gate: int,
           others: list[int], cpu: int | None) -> None:
    """In a forked child: its own group, its core, stdio, then wait at the barrier (EOF on
    ``gate`` when the timer closes the other end) and exec. Never returns."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if os.sched_getscheduler(0) != os.SCHED_OTHER:  # the timer's priority is not theirs
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        os.setpgid(0, 0)
        for fd in others:
            os.close(fd)
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(err_fd, 2)
        os.read(gate, 1)  # the barrier
        os.execvpe(argv[0], argv, env)
    except BaseException as exc:  # report, then leave the forked child
        try:
            os.write(2, f"cannot execute {argv[0]!r}: {exc}\n".encode())
        finally:
            os._exit(127)


def _run_together(argvs: list[list[str]], envs: list[dict[str, str]], timeout: float | None,
                  err_fds: list[int], cpus: list[int | None]
                  ) -> list[tuple[float, int, float, bool]]:
    """Order ``duet``: start every argv at once, each pinned to its CPU and released from one
    barrier (all forked first, each waiting on one pipe; closing its write end wakes them
    together), and wait for all. Each run's wall time is from the release to its own exit;
    (wall seconds, exit code, CPU seconds, timed out) per argv."""
    devnull = os.open(os.devnull, os.O_RDWR)
    gate_read, gate_write = os.pipe()
    pids: list[int] = []
    try:
        for argv, env, err_fd, cpu in zip(argvs, envs, err_fds, cpus, strict=True):
            os.ftruncate(err_fd, 0)
            os.lseek(err_fd, 0, os.SEEK_SET)
            pid = os.fork()
            if pid == 0:
                _child(argv, env, err_fd, devnull, gate_read, [gate_write], cpu)
            try:
                os.setpgid(pid, pid)  # also here: no race with a kill of its group
            except OSError:
                pass
            pids.append(pid)
        _running["pids"] = list(pids)
        _running["timed_out"] = False
        os.close(gate_read)
        gate_read = -1
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        start = time.perf_counter_ns()
        os.close(gate_write)  # the release: every child's read returns at once
        gate_write = -1
        results: dict[int, tuple[float, int, float, bool]] = {}
        while len(results) < len(pids):
            pid, status, usage = os.wait4(-1, 0)
            elapsed = time.perf_counter_ns() - start
            if pid not in pids:
                continue
            _kill_group(pid)  # anything the run left behind in its group
            results[pid] = (elapsed / 1e9, os.waitstatus_to_exitcode(status),
                            usage.ru_utime + usage.ru_stime, False)
        signal.setitimer(signal.ITIMER_REAL, 0)
        timed_out = bool(_running["timed_out"])
        _running["pids"] = []
        return [(w, c, u, timed_out and c == -signal.SIGKILL)
                for w, c, u, _ in (results[pid] for pid in pids)]
    finally:
        for fd in (devnull, gate_read, gate_write):
            if fd >= 0:
                os.close(fd)


def _realtime() -> bool:
    """Run the timer at the lowest real-time priority (SCHED_FIFO 1) where allowed (root or
    CAP_SYS_NICE): it then wakes the moment a child exits, even when every CPU is busy. Without
    it, a loaded machine lets both children of a launch exit before the timer runs again, and
    both get the same end time (per-pair ratios squeezed to 1: measured on this machine). The
    children run at normal priority. True when it was granted."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (OSError, AttributeError):
        return False
    return True


class _Tally:
    """What the runs gave: one result row per timed run, one entry per failed run (with its
    stderr's tail), and the commands that are not run again (a timeout, or a failure of a
    command that must not fail)."""

    def __init__(self, keep_going: list[bool], first_position: int) -> None:
        self.results: list[list[float]] = []
        self.failures: list[dict[str, object]] = []
        self.stopped: set[int] = set()
        self.keep_going = keep_going
        self.first_position = first_position

    def add(self, position: int, round_no: int, index: int,
            outcome: tuple[float, int, float, bool], err_fd: int) -> None:
        seconds, code, cpu, timed_out = outcome
        if round_no >= 0:
            self.results.append([round_no, index, seconds, code, cpu,
                                 self.first_position + position])
        if code != 0 or timed_out:
            self.failures.append({"index": index, "round": round_no, "exit_code": code,
                                  "timed_out": timed_out, "stderr": _tail(err_fd)})
            if timed_out or not self.keep_going[index]:
                self.stopped.add(index)


def _duet(plan: dict[str, object], envs: list[dict[str, str]], timeout: float | None
          ) -> tuple[list[list[float]], list[dict[str, object]]]:
    """Run the schedule launch by launch: every ``len(commands)`` consecutive entries start
    together, the i-th of a launch on the i-th allowed CPU (the order rotates the commands
    over the CPUs from round to round). A command that failed is left out of later launches."""
    commands = plan["commands"]
    schedule = plan["schedule"]
    assert isinstance(commands, list) and isinstance(schedule, list)
    prepare = plan.get("prepare") or [None] * len(commands)
    keep_going = plan.get("keep_going") or [False] * len(commands)
    assert isinstance(prepare, list) and isinstance(keep_going, list)
    first_position = int(str(plan.get("first_position") or 0))
    allowed = sorted(os.sched_getaffinity(0))
    width = len(commands)
    err_fds = []
    for _ in range(width):
        fd, name = tempfile.mkstemp(prefix="spawn-timer-stderr-")
        os.unlink(name)
        err_fds.append(fd)
    tally = _Tally(keep_going, first_position)
    report_progress = bool(plan.get("progress"))
    last_report = 0.0
    for at in range(0, len(schedule), width):
        if report_progress and time.monotonic() - last_report >= 0.25:
            os.write(1, f"{at}\n".encode())
            last_report = time.monotonic()
        launch = [(at + j, int(r), int(i)) for j, (r, i) in enumerate(schedule[at:at + width])
                  if int(i) not in tally.stopped]
        if not launch:
            continue
        for _, _, index in launch:
            if prepare[index]:
                _run_once(prepare[index], envs[index], timeout, err_fds[0])
        cpus: list[int | None] = [allowed[(position - at) % len(allowed)]
                                  if len(allowed) >= width else None
                                  for position, _, _ in launch]
        done = _run_together([commands[index] for _, _, index in launch],
                             [envs[index] for _, _, index in launch], timeout,
                             err_fds[:len(launch)], cpus)
        for (position, round_no, index), fd, outcome in zip(launch, err_fds, done,
                                                            strict=False):
            tally.add(position, round_no, index, outcome, fd)
    for fd in err_fds:
        os.close(fd)
    if report_progress:
        os.write(1, f"{len(schedule)}\n".encode())
    return tally.results, tally.failures


def main(args: list[str]) -> int:
    plan_path, out_path = args
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    signal.signal(signal.SIGALRM, _on_alarm)
    _die_with_parent(plan.get("parent_pid"))
    if plan.get("cwd"):
        os.chdir(plan["cwd"])
    env = dict(os.environ)
    envs = [{**env, **extra} if extra else env for extra in plan.get("env") or
            [None] * len(plan["commands"])]
    commands = plan["commands"]
    prepare = plan.get("prepare") or [None] * len(commands)
    keep_going = plan.get("keep_going") or [False] * len(commands)
    timeout = plan.get("timeout_s")
    if plan.get("order") == "duet":
        realtime = _realtime()
        duet_results, duet_failures = _duet(plan, envs, timeout)
        with open(out_path, "w", encoding="utf-8") as f:
            json.dump({"timer": "spawn-wait", "results": duet_results,
                       "failures": duet_failures, "realtime": realtime}, f)
        return 0
    tally = _Tally(keep_going, int(plan.get("first_position") or 0))
    err_fd, err_name = tempfile.mkstemp(prefix="spawn-timer-stderr-")
    os.unlink(err_name)
    report_progress = bool(plan.get("progress"))
    last_report = 0.0
    for position, (round_no, index) in enumerate(plan["schedule"]):
        # between runs, never inside a timed one, and at most 4 times a second: each line
        # wakes the parent, which must not compete with the runs for the CPU
        if report_progress and time.monotonic() - last_report >= 0.25:
            os.write(1, f"{position}\n".encode())
            last_report = time.monotonic()
        if index in tally.stopped:
            continue
        if prepare[index]:
            _run_once(prepare[index], envs[index], timeout, err_fd)
        tally.add(position, round_no, index,
                  _run_once(commands[index], envs[index], timeout, err_fd), err_fd)
    os.close(err_fd)
    if report_progress:
        os.write(1, f"{len(plan['schedule'])}\n".encode())
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"timer": "spawn-wait", "results": tally.results,
                   "failures": tally.failures}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
