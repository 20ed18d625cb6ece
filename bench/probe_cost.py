"""How long the environment-health probe takes in a venv with 1,000 distributions.

Builds N dummy wheels locally (no index, no network), installs them into a fresh uv venv with
``uv pip install --no-index --find-links``, then runs the probe several times (cold and with
the bytecode check of every installed package) and prints the median wall time of each,
interpreter start-up included. The budget is 0.5 s.

    .venv/bin/python bench/probe_cost.py [--dists 1000] [--runs 7] [--python PY] [--keep DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from harness import proc
from harness.inspection import runner
from harness.measure import bytecode
from harness.measure.builders.uv import default_python
from harness.measure.tools import find_tool

BUDGET_S = 0.5


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(out: Path, index: int) -> str:
    """A pure-Python wheel ``dummy-dist-NNNN`` with one package of two modules."""
    dist, module = f"dummy_dist_{index:04d}", f"dummy_mod_{index:04d}"
    info = f"{dist}-1.0.{index}.dist-info"
    files = {
        f"{module}/__init__.py": f"from . import core\nVALUE = {index}\n".encode(),
        f"{module}/core.py": b"def f(x):\n    return x * 2\n",
        f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: dummy-dist-{index:04d}\n"
                             f"Version: 1.0.{index}\n").encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: probe_cost\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
    }
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = out / f"{dist}-1.0.{index}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return f"dummy-dist-{index:04d}"


def build_env(work: Path, n: int, python: str) -> tuple[str, list[str]]:
    """A uv venv at ``work/venv`` with ``n`` dummy distributions; returns its interpreter and
    the top-level modules."""
    uv = find_tool("uv")
    wheels = work / "wheels"
    wheels.mkdir(parents=True)
    names = [make_wheel(wheels, i) for i in range(n)]
    requirements = work / "requirements.txt"
    requirements.write_text("\n".join(names) + "\n")
    env = proc.scrubbed_env({"UV_CACHE_DIR": str(work / "uv-cache")})
    venv = work / "venv"
    proc.run([uv, "venv", "-q", "--python", python, str(venv)], env=env, what="uv venv")
    proc.run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
              "--no-index", "--find-links", str(wheels), "-r", str(requirements)],
             env=env, what="uv pip install", timeout=1800)
    return str(venv / "bin" / "python"), [f"dummy_mod_{i:04d}" for i in range(n)]


def time_probe(python: str, modules: list[str], runs: int, cwd: str) -> tuple[float, object]:
    env = proc.controlled_env()
    times, report = [], None
    for _ in range(runs):
        start = time.perf_counter()
        report = runner.run_probe(python, env=env, cwd=cwd, path0="", modules=modules)
        times.append(time.perf_counter() - start)
    return statistics.median(times), report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dists", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=default_python(),
                        help="base interpreter of the venv (default: the one running this)")
    parser.add_argument("--keep", help="build the env in this directory and keep it")
    args = parser.parse_args(argv)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="probe-cost-"))
    try:
        start = time.perf_counter()
        python, modules = build_env(work, args.dists, args.python)
        print(f"built a venv with {args.dists} distributions in "
              f"{time.perf_counter() - start:.1f}s: {work / 'venv'}")
        cwd = str(work)
        bare, report = time_probe(python, [], args.runs, cwd)
        submodules = modules + [f"{m}.core" for m in modules]
        roots = bytecode.site_roots(work / "venv")
        bytecode.compile_all(python, roots, env=proc.controlled_env())
        checked, report2 = time_probe(python, submodules, args.runs, cwd)
        start_only = statistics.median(
            proc.run([python, "-c", "pass"], env=proc.controlled_env()).seconds
            for _ in range(args.runs))
        total = report.distributions.total  # type: ignore[attr-defined]
        coverage = report2.pyc_coverage  # type: ignore[attr-defined]
        print(f"interpreter start-up alone:                  {start_only * 1000:7.1f} ms")
        print(f"probe, {total} distributions:                {bare * 1000:7.1f} ms")
        print(f"probe + bytecode check of {len(submodules)} modules: "
              f"{checked * 1000:7.1f} ms (coverage {coverage:.0%})")
        ok = max(bare, checked) <= BUDGET_S
        print(f"budget {BUDGET_S * 1000:.0f} ms: {'OK' if ok else 'EXCEEDED'} "
              f"(median of {args.runs} runs)")
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
