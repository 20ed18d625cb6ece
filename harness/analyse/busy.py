"""The machine-load note (pure): was the machine busy while timing, and with what?

From the load the timing loop recorded (:class:`harness.model.TimingLoad`: the load average
before, during and after, and the CPUs other processes used over the timing window, from
``/proc/stat`` minus the harness's own children). The note names the cause with numbers
("load average 2.9 during timing; other processes kept 1.7 of 2 CPUs busy"), so a reader can
tell a busy runner from a noisy workload. Thresholds: ``bench/gate_calibration_results.md``.
"""

from __future__ import annotations

from harness.model import NoiseFinding, TimingLoad

#: Other processes using more than this many CPUs on average during timing make it "busy".
BUSY_OTHERS_CPUS = 0.5
#: Hypervisor steal above this percentage of CPU time during timing is noted too.
BUSY_STEAL_PCT = 5.0


def busy_cause(load: TimingLoad | None) -> str:
    """``load average 2.9 during timing; other processes kept 1.7 of 2 CPUs busy`` when the
    machine was busy (by the calibrated thresholds), else ``""``."""
    if load is None:
        return ""
    causes = []
    if load.others_cpus is not None and load.others_cpus > BUSY_OTHERS_CPUS:
        causes.append(f"other processes kept {load.others_cpus:.1f} of {load.cpus} CPUs busy")
    if load.steal_pct is not None and load.steal_pct > BUSY_STEAL_PCT:
        causes.append(f"the hypervisor stole {load.steal_pct:.0f} % of CPU time")
    if not causes:
        return ""
    return f"load average {load.max_loadavg:.1f} during timing; " + " and ".join(causes)


def diagnose_load(load: TimingLoad | None, gate_metric: str, *, auto: bool = False
                  ) -> tuple[NoiseFinding, ...]:
    """One warning for the whole run when the machine was busy while timing (``auto``: the
    run used ``runs: auto``, so that is not advised)."""
    cause = busy_cause(load)
    if not cause:
        return ()
    advice = ("paired rounds cancel load that hits both variants alike, but bursts widen the "
              "interval: " + ("use a quieter runner" if auto else
                              "use `runs: auto`, or a quieter runner"))
    if gate_metric == "wall":
        advice += "; CPU time (`gate: {metric: cpu}`) is less sensitive to load"
    return (NoiseFinding("busy", "", "", gate_metric, "warning", f"machine busy: {cause}",
                         advice, value=load.others_cpus if load and load.others_cpus else 0.0),)
