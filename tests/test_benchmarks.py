"""The benchmark script runs and prints its figures (their values are not tested: timings
belong to the benchmark, not to the tests)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

FIGURES = [
    "assessment latency, median", "assessment latency, p99", "assessment CPU time, median / p99",
    "batch throughput", "oracle latency, median", "oracle batch throughput",
    "engine/oracle ratio, median latency", "engine/oracle ratio, throughput",
    "start-up, python -m triage --help", "first assessment in a new process",
    "first question of the questionnaire", "resident memory after warm-up",
    "resident memory after 500 assessments", "soak: 1,000 assessments in one process",
    "8 threads × 10 assessments",
]


def test_the_quick_benchmark_prints_every_figure():
    proc = subprocess.run([sys.executable, "benchmarks/run.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = {line.split("|")[1].strip(): line for line in proc.stdout.splitlines() if line.startswith("| ")}
    assert [f for f in FIGURES if f not in rows] == []
    # the correctness figures, which do not depend on the machine's speed
    assert "| 0 |" in rows["oracle disagreements on the mix"]
    assert "0 errors" in rows["soak: 1,000 assessments in one process"]
    assert "0 differ from the sequential results, 0 errors" in rows["8 threads × 10 assessments"]
