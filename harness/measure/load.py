"""Machine load before, during and after timing: load average and CPU counters (stdlib only).

A :class:`LoadMonitor` reads ``/proc/loadavg`` (through :func:`os.getloadavg`) and the CPU
counters of ``/proc/stat`` when timing starts, every ``interval`` seconds while it runs (a
daemon thread; the harness itself only waits for the timer child meanwhile) and when it ends.
Over the whole window it also knows the CPU time of the harness itself (its analysis between
the batches of ``runs: auto``) and of its children (the timer and the timed commands), from
:func:`os.times`, so it can tell how many CPUs *other* processes kept
busy — the cause a noise note should name — and how much the hypervisor stole.
"""

from __future__ import annotations

import os
import threading
import time
from types import TracebackType

from harness.model import LoadSample, TimingLoad


def _loadavg() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return 0.0


def cpu_counters(stat_text: str | None = None) -> tuple[float, float, float]:
    """(busy, total, steal) CPU seconds of all CPUs since boot from ``/proc/stat``
    ((0, 0, 0) where unknown). Busy excludes idle and iowait; guest time is inside user."""
    if stat_text is None:
        try:
            with open("/proc/stat", encoding="ascii") as handle:
                stat_text = handle.readline()
        except OSError:
            return 0.0, 0.0, 0.0
    fields = stat_text.split()
    if not fields or fields[0] != "cpu":
        return 0.0, 0.0, 0.0
    numbers = [int(x) for x in fields[1:9]] + [0] * 8
    user, nice, system, idle, iowait, irq, softirq, steal = numbers[:8]
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = user + nice + system + irq + softirq + steal
    return busy / hz, (busy + idle + iowait) / hz, steal / hz


def own_cpu() -> float:
    """CPU seconds of the harness itself (every thread: the analysis between batches of
    ``runs: auto`` included) and of its reaped children (the timer and the timed commands):
    the CPU time that is ours, not "other processes"'."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class LoadMonitor:
    """Context manager: samples the machine's load around and during a timing phase; its
    :attr:`record` is the :class:`~harness.model.TimingLoad`."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.cpus = os.cpu_count() or 1
        self._samples: list[LoadSample] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = 0.0
        self._first: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._last: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._ours0 = 0.0
        self.record = TimingLoad(self.cpus)

    def _sample(self, at: str) -> None:
        now = time.perf_counter()
        counters = cpu_counters()
        busy, total, steal = (a - b for a, b in zip(counters, self._last, strict=True))
        self._last = counters
        wall = total / self.cpus if total > 0 else 0.0
        steal_pct = round(100.0 * steal / total, 2) if total > 0 else None
        # During timing our own serial timer keeps at most one CPU busy: "others" is what the
        # rest of the machine used beyond that (refined over the whole window in __exit__).
        others = round(max(0.0, busy / wall - 1.0), 2) if wall > 0 and at == "during" else None
        self._samples.append(LoadSample(at, round(now - self._start, 2), _loadavg(), others,
                                        steal_pct if at != "before" else None))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample("during")

    def __enter__(self) -> LoadMonitor:
        self._start = time.perf_counter()
        self._first = self._last = cpu_counters()
        self._ours0 = own_cpu()
        self._sample("before")
        self._thread = threading.Thread(target=self._run, name="load-monitor", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sample("after")
        busy, total, steal = (a - b for a, b in zip(self._last, self._first, strict=True))
        ours = own_cpu() - self._ours0
        wall = total / self.cpus if total > 0 else 0.0
        others = round(max(0.0, (busy - ours) / wall), 2) if wall > 0 else None
        steal_pct = round(100.0 * steal / total, 2) if total > 0 else None
        self.record = TimingLoad(self.cpus, tuple(self._samples), others, steal_pct)
