"""The benchmark script runs and prints its figures (their values are not tested: timings
belong to the benchmark, not to the tests)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

FIGURES = [
    "triage.assess CPU time on the mix, median", "triage.assess CPU time on the mix, p99",
    "Engine.run alone, median / p99", "durable_rules floor, same firings, median / p99",
    "plain-Python oracle, median / p99", "ratio assess ÷ floor, median / p99",
    "ratio assess ÷ oracle, median", "all 11 regions: floor / oracle, median",
    "json render of one assessment, median / p99", "text render of one assessment, median / p99",
    "batch of 1,000: peak resident memory",
    "start-up, python -m triage --help", "first assessment in a new process",
    "questionnaire figures", "resident memory after warm-up",
    "resident memory after 500 assessments", "soak: 1,000 assessments in one process",
    "8 threads × 10 assessments",
]
PREFIXES = ["triage.assess CPU time, all 11 regions", "batch of 1,000 cases", "2,000 cases streamed",
            "first question of the questionnaire, median of"]


def test_the_quick_benchmark_prints_every_figure():
    proc = subprocess.run([sys.executable, "benchmarks/run.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = {line.split("|")[1].strip(): line for line in proc.stdout.splitlines() if line.startswith("| ")}
    assert [f for f in FIGURES if f not in rows] == []
    assert [p for p in PREFIXES if not any(r.startswith(p) for r in rows)] == []
    # every figure with a goal says whether it is met
    for name, line in rows.items():
        goal = line.rstrip(" |").split("|")[-1].strip()
        if goal.startswith(("≤", "≥", "flat")):
            assert goal.endswith((": met", ": NOT MET")), line
    # the correctness figures, which do not depend on the machine's speed
    assert "| 0 |" in rows["oracle disagreements on the mix"]
    assert "0 errors" in rows["soak: 1,000 assessments in one process"]
    assert "0 differ from the sequential results, 0 errors" in rows["8 threads × 10 assessments"]
