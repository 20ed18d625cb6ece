"""The machine record: what ran the timings, and how busy it was before and after (stdlib only).

:func:`snapshot` reads the load average and the cumulative CPU counters of ``/proc/stat``
(cheap: two small files); :func:`describe` turns a snapshot taken before timing and one taken
after into a :class:`~harness.measurements.MachineRecord`. CPU steal is the share of CPU time
the hypervisor gave to other guests between the two snapshots.
"""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Mapping

from harness.measurements import LoadSnapshot, MachineRecord

#: Environment variables that say which CI runner this is, in the order they are tried.
RUNNER_VARIABLES = ("RUNNER_NAME", "CI_RUNNER_DESCRIPTION", "BUILDKITE_AGENT_NAME")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    text = _read("/proc/cpuinfo") if cpuinfo is None else cpuinfo
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("model name", "Model", "cpu model", "Processor"):
            return value.strip()
    return platform.processor() or platform.machine()


def cpu_ticks(stat: str) -> tuple[int, int]:
    """(total, steal) jiffies of all CPUs from the text of ``/proc/stat``; (0, 0) if unknown."""
    for line in stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            numbers = [int(x) for x in fields[1:] if x.isdigit()]
            # user nice system idle iowait irq softirq steal guest guest_nice; guest time is
            # already counted in user/nice, so the total stops at steal
            total = sum(numbers[:8])
            steal = numbers[7] if len(numbers) > 7 else 0
            return total, steal
    return 0, 0


def snapshot() -> LoadSnapshot:
    """Load average and cumulative CPU counters now."""
    try:
        load = tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        load = ()
    total, steal = cpu_ticks(_read("/proc/stat"))
    return LoadSnapshot(loadavg=load, cpu_ticks=total, steal_ticks=steal)


def runner_name(environ: Mapping[str, str] | None = None) -> str | None:
    """The CI runner's name when running in CI (``RUNNER_NAME`` on GitHub Actions), else None."""
    env = os.environ if environ is None else environ
    for name in RUNNER_VARIABLES:
        if env.get(name):
            return env[name]
    if env.get("GITHUB_ACTIONS") == "true":
        return "github-actions"
    if env.get("CI"):
        return "ci"
    return None


def describe(before: LoadSnapshot, after: LoadSnapshot,
             environ: Mapping[str, str] | None = None) -> MachineRecord:
    """The machine record of a job whose timing ran between ``before`` and ``after``."""
    uname = platform.uname()
    return MachineRecord(
        hostname=socket.gethostname(), cpu_model=cpu_model(), cores=os.cpu_count() or 0,
        system=f"{uname.system} {uname.machine}", kernel=uname.release,
        python=f"{platform.python_implementation()} {platform.python_version()}",
        runner=runner_name(environ), before=before, after=after)
