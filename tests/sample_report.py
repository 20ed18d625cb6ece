"""A hand-made Report for renderer tests (no processes)."""

from __future__ import annotations

from harness.inspection.health import (
    BytecodeReport,
    DistCopy,
    DistributionSummary,
    DuplicateDistribution,
    ModuleBytecode,
    PathEntry,
    ProbeReport,
    PthFile,
)
from harness.model import (
    BuildResult,
    Comparison,
    GatePolicy,
    GateResult,
    NoiseFinding,
    Report,
    Samples,
    Summary,
    TimingSettings,
    VariantInfo,
)


def _entries(n_site: int) -> tuple[PathEntry, ...]:
    out = [PathEntry("/usr/lib/python311.zip", "/usr/lib/python311.zip", False, "missing", False,
                     is_stdlib=True, expected_missing=True),
           PathEntry("/usr/lib/python3.11", "/usr/lib/python3.11", True, "dir", False)]
    for i in range(n_site):
        out.append(PathEntry(f"/v/site-packages-{i}", f"/v/site-packages-{i}", True, "dir", True))
    return tuple(out)


def _probe(n_site: int, troubled: bool = False) -> ProbeReport:
    """A probe; ``troubled`` adds the seed's duplicate pydantic_core, a .pth import line and
    a stale .pyc."""
    if not troubled:
        return ProbeReport(python="/v/bin/python", version="3.11.7", prefix="/v",
                           base_prefix="/usr", entries=_entries(n_site),
                           bytecode=BytecodeReport(magic="a70d0d0a", requested=10, checked=10,
                                                   counts={"valid": 10}))
    dup = DuplicateDistribution("pydantic-core", (
        DistCopy("2.41.5", "/v/site-packages-0/pydantic_core-2.41.5.dist-info",
                 "/v/site-packages-0"),
        DistCopy("2.41.5", "/v/site-packages-1/pydantic_core-2.41.5.dist-info",
                 "/v/site-packages-1")))
    return ProbeReport(
        python="/v/bin/python", version="3.11.7", prefix="/v", base_prefix="/usr",
        entries=_entries(n_site),
        pth_files=(PthFile("/v/site-packages-1/_hook|x.pth", True, 0, 1,
                           import_lines=("import _hook; _hook.install() @everyone",),
                           import_costs_us=(19_400,)),),
        distributions=DistributionSummary(total=12, names=11, duplicates=(dup,)),
        bytecode=BytecodeReport(magic="a70d0d0a", requested=10, checked=10,
                                counts={"valid": 9, "foreign_magic": 1},
                                problems=(ModuleBytecode("tinypkg", "foreign_magic",
                                                         "/v/site-packages-0/tinypkg.py"),)))


def _summary(ms: float) -> Summary:
    return Summary(n=50, mean=ms / 1000 * 1.01, median=ms / 1000, stddev=ms / 1000 * 0.02,
                   min=ms / 1000 * 0.95, max=ms / 1000 * 1.2)


def _cmp(subject: str, reference: str, ratio: float, verdict: str) -> Comparison:
    return Comparison(subject=subject, reference=reference, workload="import", metric="wall",
                      statistic="median", ratio=ratio, ci_low=ratio - 0.012,
                      ci_high=ratio + 0.013, confidence=0.95, threshold_pct=10.0,
                      verdict=verdict, method="paired rounds", n_pairs=50)


#: PR-vs-main ratio and verdict of each ``status``.
CHANGE = {"pass": (0.982, "no change"), "regression": (1.25, "regression"),
          "improvement": (0.751, "improvement")}


def importtime_extras(status: str) -> dict[str, object]:
    """``report.extras["importtime"]`` for main and the PR: the PR adds a slow ``rich.emoji``
    package (regression), drops ``rich.scope`` (improvement), or changes nothing much."""
    from harness.inspection.importtime import ImportNode, ImportTimeTree
    from harness.serial import to_data

    def tree(*extra: ImportNode) -> dict[str, object]:
        return {"import": to_data(ImportTimeTree((
            ImportNode("json", 900, 2100, (ImportNode("json.decoder", 1200, 1200),)),
            ImportNode("rich", 2000, 30_000, (ImportNode("rich.console", 28_000, 28_000),)),
            *extra)))}

    scope = ImportNode("rich.scope", 600, 15_600, (ImportNode("rich.pretty", 15_000, 15_000),))
    emoji = ImportNode("rich.emoji", 400, 11_400, (ImportNode("rich._emoji_codes", 11_000,
                                                             11_000),))
    if status == "regression":
        return {"main": tree(), "pr": tree(emoji)}
    if status == "improvement":
        return {"main": tree(scope), "pr": tree()}
    return {"main": tree(), "pr": tree()}


def sample_report(*, status: str = "pass", pr_label: str = "This PR | feat/x\nnext",
                  importtime: bool = False) -> Report:
    """Three variants; the PR's label carries a pipe, a newline and markdown. ``status``:
    pass, regression or improvement; ``importtime`` adds both sides' import-time trees."""
    variants = (
        VariantInfo("baseline", "BCR 1.11.7 (baseline)", "baseline", "rules_py==1.11.7", "uv"),
        VariantInfo("main", "HEAD main", "main", "git main (abc)", "uv", "a" * 40),
        VariantInfo("pr", pr_label, "pr", "git pr (def)", "uv", "b" * 40),
    )
    vs_main = _cmp("pr", "main", *CHANGE[status])
    passed = status != "regression"
    comparisons = (
        _cmp("main", "baseline", 0.325, "improvement"),
        _cmp("pr", "baseline", 0.32, "improvement"),
        vs_main,
    )
    gate = GateResult(
        status="pass" if passed else status, exit_code=0 if passed else 1,
        headline=("No regression detected" if status == "pass" else
                  "No regression detected (improvement)" if passed else "Regression detected"),
        comparisons=(vs_main,))
    return Report(
        schema_version=1, tool_version="0.1.0", created="2026-11-21T00:00:00+00:00",
        title="py_binary startup benchmark", variants=variants, workloads=("import",),
        builds=(BuildResult("baseline", "uv", True, 76.16, "/b/python", "/b"),
                BuildResult("main", "uv", True, 10.4, "/m/python", "/m"),
                BuildResult("pr", "uv", True, 7.57, "/p/python", "/p")),
        timing=TimingSettings("hyperfine 2.0.0", 5, 50, "interleaved",
                              {"HOME": "/root", "PATH": "/usr/bin"}, "Linux x86_64, 2 CPUs"),
        samples=(Samples("main", "import", "wall", (0.0587, 0.0588), (0, 1)),),
        summaries={"baseline": {"import/wall": _summary(180.831)},
                   "main": {"import/wall": _summary(58.752)},
                   "pr": {"import/wall": _summary(58.752 * CHANGE[status][0]
                                                  if status != "pass" else 57.855)}},
        comparisons=comparisons,
        probes={"baseline": _probe(1), "main": _probe(2), "pr": _probe(2, troubled=True)},
        gate=gate,
        extras={"importtime": importtime_extras(status)} if importtime else {},
        noise=() if status == "pass" else (
            NoiseFinding("outliers", "pr", "import", "wall", "warning",
                         "3 of 50 runs were outliers", "use a quieter runner", 3.0),
            NoiseFinding("drift", "main", "import", "wall", "info", "no drift", "", 0.0)),
        gate_config=GatePolicy(compare="pr", against="main", workload=None, metric="wall",
                               statistic="median", threshold_pct=10.0, confidence=0.95,
                               inconclusive="pass"),
    )
