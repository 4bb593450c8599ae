"""Before and after, side by side on one machine (a script, not a test):

    git archive REF | tar -x -C /tmp/before          # the tree to compare with
    .venv/bin/python benchmarks/before_after.py /tmp/before [--runs 7]

On a shared machine absolute timings drift with the load; interleaving the two trees call by
call (or start by start) lets a busy spell hit both alike. It prints:

* the first question in a pseudo-terminal: ``python -m triage`` started in each tree in turn
  (byte-code cached; the first start of each is not counted), median wall and CPU time;
* ``Engine.run`` and the ``Assessment`` on the benchmark mix and on the 11-region case: both
  trees' ``triage/engine.py`` loaded in this process over the same rule book, call by call
  (and the assessments checked to be equal);
* a batch of 2,000 cases through ``assess - --format jsonl`` in each tree in turn: cases per
  CPU second of that process;
* ``--help`` and a first assessment in a new process, median wall time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def first_question(trees: dict[str, Path], runs: int) -> None:
    import pexpect

    from questionnaire import FIRST_PROMPT, cpu_seconds

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"NO_COLOR": "1", "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"})

    def once(tree: Path) -> tuple[float, float]:
        start = time.perf_counter()
        child = pexpect.spawn(sys.executable, ["-m", "triage"], cwd=str(tree), env=env, encoding="utf-8",
                              dimensions=(50, 120), timeout=60)
        child.expect_exact(FIRST_PROMPT)
        wall = time.perf_counter() - start
        try:
            cpu = cpu_seconds(child.pid)
        except (OSError, IndexError):
            cpu = float("nan")
        child.sendcontrol("c")
        child.close(force=True)
        return wall, cpu

    for tree in trees.values():
        once(tree)  # writes the byte-code (and the knowledge base's cache): not counted
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
    for _ in range(runs):
        for name, tree in trees.items():
            got[name].append(once(tree))
    for name, values in got.items():
        print(f"  first question, {name}: wall median {statistics.median(v[0] for v in values) * 1e3:.0f} ms, "
              f"CPU median {statistics.median(v[1] for v in values) * 1e3:.0f} ms ({runs} start-ups)")


def engines(before: Path, calls: int) -> None:
    from run import ALL_REGIONS, MIX

    from triage import engine, rulebook
    from triage.assessment import _assessment, case_facts, to_case

    spec = importlib.util.spec_from_file_location("engine_before", before / "triage" / "engine.py")
    assert spec and spec.loader
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    book = rulebook.default()
    both = {"before": old.Engine(book), "after": engine.Engine(book)}
    cases = [to_case(c) for c in MIX] + [to_case(ALL_REGIONS)]
    facts = [case_facts(c) for c in cases]
    for c, f in zip(cases, facts):
        a, b = (_assessment(c, e.run(f), book).model_dump() for e in both.values())
        if a != b:
            raise SystemExit(f"the two engines disagree on {c}")
    mix: dict[str, list[float]] = {k: [] for k in both}
    big: dict[str, list[float]] = {k: [] for k in both}
    cpu = time.thread_time
    for i in range(calls):
        # each tree goes first in every other round: the one that runs second finds the caches
        # as the first left them
        order = list(both.items()) if i % 2 == 0 else list(both.items())[::-1]
        for c, f in zip(cases[:-1], facts[:-1]):
            for name, e in order:
                t0 = cpu()
                _assessment(c, e.run(f), book)
                mix[name].append(cpu() - t0)
        if i % 4 in (0, 1):
            for name, e in order:
                t0 = cpu()
                _assessment(cases[-1], e.run(facts[-1]), book)
                big[name].append(cpu() - t0)
    for name in both:
        print(f"  Engine.run + Assessment, {name}: mix median {statistics.median(mix[name]) * 1e3:.3f} ms, "
              f"all 11 regions median {statistics.median(big[name]) * 1e3:.3f} ms")


def new_processes(trees: dict[str, Path], runs: int) -> None:
    from run import write_cases

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "batch.jsonl")
        write_cases(path, 2_000)
        rates: dict[str, list[float]] = {k: [] for k in trees}
        for _ in range(3):
            for name, tree in trees.items():
                with open(path, "rb") as fin, open(os.devnull, "wb") as fout:
                    proc = subprocess.Popen([sys.executable, "-m", "triage", "assess", "-", "--format", "jsonl"],
                                            cwd=tree, stdin=fin, stdout=fout)
                    _pid, status, usage = os.wait4(proc.pid, 0)
                if status:
                    raise SystemExit(f"assess failed in {tree}")
                rates[name].append(2_000 / (usage.ru_utime + usage.ru_stime))
        for name, values in rates.items():
            print(f"  batch of 2,000, {name}: {statistics.median(values):.0f} cases per CPU second")
    for label, args in (("--help", ["--help"]), ("first assessment", ["assess", "examples/blepharospasm.json"])):
        walls: dict[str, list[float]] = {k: [] for k in trees}
        for _ in range(runs):
            for name, tree in trees.items():
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "triage", *args], cwd=tree, capture_output=True, check=True)
                walls[name].append(time.perf_counter() - start)
        for name, values in walls.items():
            print(f"  {label} in a new process, {name}: median {statistics.median(values):.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a copy of the tree to compare with (git archive REF | tar -x)")
    parser.add_argument("--runs", type=int, default=7, help="start-ups per tree (default 7)")
    parser.add_argument("--calls", type=int, default=100, help="rounds of the mix for the engines (default 100)")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": ROOT}
    print(f"before: {trees['before']}; after: {ROOT}; load average {os.getloadavg()[0]:.1f}")
    first_question(trees, args.runs)
    engines(trees["before"], args.calls)
    new_processes(trees, max(args.runs - 2, 3))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
