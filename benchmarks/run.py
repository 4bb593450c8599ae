"""Benchmarks: a script that prints figures (never a timed test).

    ./dev bench            the full run (a few minutes): the figures in docs/benchmarks.md
    ./dev bench --quick    a few seconds, the same figures from far fewer assessments

What it measures, on a realistic mix of cases (one per dystonia type, emergencies, look-alikes,
causes, and an empty case):

* assessment latency (median, p99) and batch throughput through the rules engine;
* the same through the plain distribution oracle of tests/oracle.py: the floor a rule engine is
  measured against, reported as a ratio from the same run;
* start-up: ``python -m triage --help``, a first assessment in a new process, and the first
  question of the questionnaire when benchmarks/questionnaire.py exists;
* memory: resident memory (VmRSS) before and after 20,000 assessments, and after a soak of
  100,000 in one process, with the number of errors;
* concurrency: 8 threads assessing at once give exactly the sequential results.

The figures are printed as a Markdown table, ready for docs/benchmarks.md. The exit code is 1
when an assessment failed or a thread's result differed; timings never fail the run (the
machine may be busy), they are marked against their goals instead.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests/oracle.py, the plain oracle

GOAL_MEDIAN_MS = 1.0
GOAL_GROWTH_MB = 5.0
GOAL_FIRST_QUESTION_S = 0.5


def case(**fields) -> dict:
    return {"version": 1, **fields}


# One case per dystonia type, then emergencies, look-alikes, causes and an empty case.
MIX = [
    case(symptoms=["eye_blinking"], features=["sensory_trick"], age=61, onset_age=58, onset="gradual"),
    case(symptoms=["neck_craning"], features=["sensory_trick"], age=45, onset_age=40, course="progressive"),
    case(symptoms=["jaw_tongue_movements"], age=55, onset_age=52),
    case(symptoms=["speech_difficulty"], features=["task_specific"], age=38),
    case(symptoms=["hand_difficulty"], features=["task_specific"], age=35, onset_age=33),
    case(symptoms=["foot_cramping"], features=["better_after_sleep"], age=9, onset_age=7),
    case(symptoms=["body_twisting"], age=50, onset_age=49),
    case(regions=["eyes", "face_jaw"], symptoms=["eye_blinking", "face_grimacing"], age=60),
    case(regions=["eyes", "upper_limb_left"], age=48, onset_age=45),
    case(regions=["upper_limb_left", "lower_limb_left"], history=["stroke"], onset="sudden", age=70),
    case(symptoms=["widespread_spasms"], age=12, onset_age=8, history=["family_history"]),
    case(symptoms=["jerks", "neck_craning"], features=["alcohol_improves"], age=16, onset_age=14),
    case(symptoms=["neck_craning", "jaw_tongue_movements"], dopamine_blocker="recent",
         red_flags=["eyes_stuck_upward"], age=19, respondent="caregiver"),
    case(symptoms=["widespread_spasms"], red_flags=["breathing_difficulty", "fever_with_spasms"], age=30),
    case(symptoms=["eye_blinking", "face_grimacing"], features=["one_side_face"], age=58),
    case(symptoms=["tremor"], regions=["upper_limb_left", "upper_limb_right"], age=66),
    case(symptoms=["jerks"], features=["urge_to_move"], regions=["face_jaw"], age=10),
    case(symptoms=["face_grimacing"], dopamine_blocker="long_term", age=64),
    case(symptoms=["hand_difficulty"], history=["parkinsons"], age=72),
    case(),
]


def rss_mb() -> float:
    """Resident memory of this process, from /proc/self/status."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def timings(fn, items: list, rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds per call of ``fn(item)``, cycling through ``items``. The CPU
    time is what the call itself costs; on a shared, busy machine the wall time also counts
    the time spent waiting for a core."""
    wall, cpu = [], []
    clock, cpu_clock = time.perf_counter, time.thread_time
    for i in range(rounds):
        item = items[i % len(items)]
        start, start_cpu = clock(), cpu_clock()
        fn(item)
        cpu.append(cpu_clock() - start_cpu)
        wall.append(clock() - start)
    return wall, cpu


def throughput(fn, batch: list) -> tuple[float, float]:
    """Items per second of wall-clock time, and per second of CPU time."""
    start, start_cpu = time.perf_counter(), time.thread_time()
    for item in batch:
        fn(item)
    cpu = time.thread_time() - start_cpu
    return len(batch) / (time.perf_counter() - start), len(batch) / cpu if cpu else float("inf")


def run_seconds(args: list[str], runs: int) -> float:
    """Median wall time of a new process (the import and start-up a person waits for)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True, timeout=120)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, name: str, value: str, goal: str = "") -> None:
        self.rows.append((name, value, goal))
        print(f"  {name}: {value}" + (f"  [{goal}]" if goal else ""), file=sys.stderr, flush=True)

    def table(self) -> str:
        lines = ["| figure | value | goal |", "|---|---|---|"]
        lines += [f"| {n} | {v} | {g} |" for n, v, g in self.rows]
        return "\n".join(lines)


def met(ok: bool, goal: str) -> str:
    return f"{goal}: {'met' if ok else 'NOT MET'}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="far fewer assessments: a few seconds")
    args = parser.parse_args(argv)
    quick = args.quick
    n_latency = 200 if quick else 5_000
    n_batch = 100 if quick else 5_000
    n_memory = 500 if quick else 20_000
    n_soak = 1_000 if quick else 100_000
    n_thread = 10 if quick else 500
    n_start = 1 if quick else 5

    from tests import oracle
    from triage import assess
    from triage import engine as engine_mod

    report = Report()
    failures: list[str] = []
    extra_sections: list[tuple[str, str]] = []
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    print(f"dystonia-triage benchmarks ({'quick' if quick else 'full'} run)", file=sys.stderr)

    # -- correctness of the mix against the oracle, and warm-up --------------------------------
    expected = [assess(c).model_dump(mode="json") for c in MIX]
    disagree = [c for c, e in zip(MIX, expected)
                if {x["type"] for x in e["candidates"]} != oracle.candidate_types(c.get("symptoms", []), c.get("regions", []))]
    report.add("cases in the mix", f"{len(MIX)} (one per dystonia type, emergencies, look-alikes, causes, empty)")
    report.add("oracle disagreements on the mix", str(len(disagree)), "0")
    if disagree:
        failures.append(f"the engine and the oracle disagree on {disagree}")

    # -- latency and throughput: engine, then oracle -------------------------------------------
    def by_oracle(c: dict) -> set:
        return oracle.candidate_types(c.get("symptoms", []), c.get("regions", []))

    engine_times, engine_cpu = timings(assess, MIX, n_latency)
    oracle_times, oracle_cpu = timings(by_oracle, MIX, n_latency)
    batch = [MIX[i % len(MIX)] for i in range(n_batch)]
    engine_rate, engine_cpu_rate = throughput(assess, batch)
    oracle_rate, oracle_cpu_rate = throughput(by_oracle, batch)
    median_ms = statistics.median(engine_times) * 1e3
    cpu_ms = statistics.median(engine_cpu) * 1e3
    oracle_median_us = statistics.median(oracle_times) * 1e6
    report.add("assessment latency, median", f"{median_ms:.2f} ms",
               met(median_ms < GOAL_MEDIAN_MS, f"< {GOAL_MEDIAN_MS:g} ms"))
    report.add("assessment latency, p99", f"{percentile(engine_times, 99) * 1e3:.2f} ms")
    report.add("assessment CPU time, median / p99", f"{cpu_ms:.2f} ms / {percentile(engine_cpu, 99) * 1e3:.2f} ms",
               met(cpu_ms < GOAL_MEDIAN_MS, f"< {GOAL_MEDIAN_MS:g} ms"))
    report.add("batch throughput", f"{engine_rate:,.0f} assessments/s; {engine_cpu_rate:,.0f} per CPU second "
               f"({n_batch:,} cases)")
    oracle_cpu_us = statistics.median(oracle_cpu) * 1e6
    report.add("oracle latency, median", f"{oracle_median_us:.1f} µs (CPU {oracle_cpu_us:.1f} µs)")
    report.add("oracle latency, p99", f"{percentile(oracle_times, 99) * 1e6:.1f} µs")
    report.add("oracle batch throughput", f"{oracle_rate:,.0f} cases/s; {oracle_cpu_rate:,.0f} per CPU second")
    report.add("engine/oracle ratio, median latency",
               f"{median_ms * 1e3 / oracle_median_us:,.0f}× (CPU time {cpu_ms * 1e3 / oracle_cpu_us:,.0f}×)")
    report.add("engine/oracle ratio, throughput",
               f"{oracle_rate / engine_rate:,.0f}× (CPU time {oracle_cpu_rate / engine_cpu_rate:,.0f}×)")

    # -- start-up ------------------------------------------------------------------------------
    report.add("start-up, python -m triage --help", f"{run_seconds(['-m', 'triage', '--help'], n_start):.2f} s")
    report.add("first assessment in a new process",
               f"{run_seconds(['-m', 'triage', 'assess', 'examples/blepharospasm.json'], n_start):.2f} s")
    questionnaire = ROOT / "benchmarks" / "questionnaire.py"
    if not questionnaire.exists():
        report.add("first question of the questionnaire", "not measured (no benchmarks/questionnaire.py yet)")
    elif quick:
        report.add("first question of the questionnaire", "full run only (benchmarks/questionnaire.py)")
    else:
        # its own script, with its own figures: they are printed after the table
        proc = subprocess.run([sys.executable, str(questionnaire)], cwd=ROOT, capture_output=True,
                              text=True, timeout=600)
        extra_sections.append(("Questionnaire (benchmarks/questionnaire.py)", proc.stdout.strip()))
        report.add("first question of the questionnaire",
                   f"see below (benchmarks/questionnaire.py, exit {proc.returncode})", f"< {GOAL_FIRST_QUESTION_S:g} s")
        if proc.returncode:
            failures.append(f"benchmarks/questionnaire.py failed: {proc.stderr[-500:]}")

    # -- memory and soak: one process, RSS after a warm-up, at n_memory and at n_soak -----------
    engine = engine_mod.default()
    for c in MIX * 10:
        assess(c)
    before = rss_mb()
    at_memory = None
    errors: list[str] = []
    samples = [before]
    soak_start = time.perf_counter()
    for i in range(n_soak):
        c = MIX[i % len(MIX)]
        try:
            assess(c)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            if len(errors) < 5:
                errors.append(f"{type(exc).__name__}: {exc}")
            else:
                errors.append("")
        if i + 1 == n_memory:
            at_memory = rss_mb()
        if (i + 1) % (n_soak // 10) == 0:
            samples.append(rss_mb())
    soak_seconds = time.perf_counter() - soak_start
    after = rss_mb()
    live = len(getattr(engine, "_sessions", {}))
    growth_memory = at_memory - before
    growth_soak = after - before
    report.add("resident memory after warm-up", f"{before:.1f} MB")
    report.add(f"resident memory after {n_memory:,} assessments", f"{at_memory:.1f} MB (growth {growth_memory:+.2f} MB)",
               met(growth_memory < GOAL_GROWTH_MB, f"growth < {GOAL_GROWTH_MB:g} MB"))
    report.add(f"soak: {n_soak:,} assessments in one process",
               f"{len(errors)} errors, growth {growth_soak:+.2f} MB (highest {max(samples) - before:+.2f} MB), "
               f"{soak_seconds:.0f} s, {live} sessions left",
               met(not errors and growth_soak < GOAL_GROWTH_MB and live == 0, f"0 errors, growth < {GOAL_GROWTH_MB:g} MB"))
    if errors or live:
        failures.append(f"soak: {len(errors)} errors {[e for e in errors if e]}, {live} sessions left")

    # -- concurrency: 8 threads at once, exactly the sequential results -------------------------
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    mismatches: list[tuple[int, int]] = []
    thread_errors: list[str] = []

    def work(worker: int) -> None:
        barrier.wait()
        for i in range(n_thread):
            k = (worker + i) % len(MIX)
            try:
                if assess(MIX[k]).model_dump(mode="json") != expected[k]:
                    mismatches.append((worker, i))
            except Exception as exc:  # noqa: BLE001 - counted and reported
                thread_errors.append(f"{type(exc).__name__}: {exc}")

    workers = [threading.Thread(target=work, args=(w,)) for w in range(threads_n)]
    t0 = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    report.add(f"{threads_n} threads × {n_thread:,} assessments",
               f"{len(mismatches)} differ from the sequential results, {len(thread_errors)} errors, "
               f"{time.perf_counter() - t0:.1f} s", "0 differ, 0 errors")
    if mismatches or thread_errors:
        failures.append(f"threads: {len(mismatches)} mismatches, errors {thread_errors[:3]}")

    from importlib.metadata import version

    print(f"\n## Results ({'quick' if quick else 'full'} run)\n")
    print(f"Command: `./dev bench{' --quick' if quick else ''}` on "
          f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; Python "
          f"{platform.python_version()}, durable_rules {version('durable-rules')}, "
          f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs shared with other work (load average "
          f"{load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end); "
          f"{time.perf_counter() - started:.0f} s in all.\n")
    print(report.table())
    for title, text in extra_sections:
        print(f"\n### {title}\n\n{text}")
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
