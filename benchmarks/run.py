"""Benchmarks: a script that prints figures (never a timed test).

    ./dev bench            the full run (several minutes): the figures in docs/benchmarks.md
    ./dev bench --quick    a few seconds, the same figures from far fewer assessments

What it measures, on a realistic mix of cases (one per dystonia type, emergencies, look-alikes,
causes, and an empty case), side by side in one run and interleaved call by call:

* ``triage.assess`` CPU time (median, p99), ``Engine.run`` alone, a durable_rules floor (a
  minimal ruleset driven with the same number of firings) and the plain-Python oracle of
  tests/oracle.py, with the ratios; the same for the case with all 11 regions;
* JSON and text rendering of one assessment;
* batches through ``assess --format jsonl`` in a new process: 10,000 cases (cases per CPU
  second, peak resident memory) and 100,000 streamed (peak memory beside that of 10,000);
* start-up: ``python -m triage --help``, a first assessment in a new process, and the first
  question of the questionnaire when benchmarks/questionnaire.py exists;
* memory: resident memory (VmRSS) before and after 20,000 assessments, and after a soak of
  100,000 in one process, with the number of errors;
* concurrency: 8 threads assessing at once give exactly the sequential results.

Each figure is printed with its goal; a missed goal is marked ``NOT MET``. The figures are
printed as a Markdown table, ready for docs/benchmarks.md. The exit code is 1 when an
assessment failed or a thread's result differed; timings never fail the run (the machine may
be busy).
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

# Goals (issue 14): CPU time per call, on the realistic mix and on the case with all 11 regions.
GOAL_MEDIAN_MS = 0.5
GOAL_P99_MS = 1.5
GOAL_ALL_REGIONS_MS = 2.0
GOAL_JSON_MS = 0.15
GOAL_TEXT_MS = 0.1
GOAL_BATCH_RATE = 2_000  # cases per CPU second, a batch of 10,000 through `assess --format jsonl`
GOAL_BATCH_RSS_MB = 150.0
GOAL_STREAM_GROWTH_MB = 5.0  # peak RSS of 100,000 cases streamed, beyond that of 10,000
GOAL_GROWTH_MB = 5.0
GOAL_FIRST_QUESTION_S = 0.3  # median wall time, start-ups in a pseudo-terminal


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


ALL_REGIONS = case(regions=["eyes", "face_jaw", "larynx", "neck", "trunk", "upper_limb_left", "upper_limb_right",
                           "upper_limb", "lower_limb_left", "lower_limb_right", "lower_limb"])


class Floor:
    """durable_rules at its limit: a minimal ruleset, one rule that fires once per fact and
    asserts the next, driven through the C binding with nothing else (no trace, no
    conclusions, no Assessment). ``run(n)`` is one session with exactly ``n`` firings and the
    same life cycle as an assessment: assert, run the actions, delete the session. The ratio
    of an assessment to ``run(its firings)`` shows how close the adapter is to the engine."""

    def __init__(self) -> None:
        import json

        import durable_rules_engine
        from triage.engine import _quiet_host_class

        self.c, self.dumps, self.loads = durable_rules_engine, json.dumps, json.loads
        host = _quiet_host_class()()
        host.set_rulesets({"floor": {"step": {"all": [{"m": {"t": "tick"}}], "run": lambda c: None}}})
        self.handle = host.get_ruleset("floor")._handle
        self.host = host  # keep it alive
        self.sids = iter(range(1, 1 << 62))

    def run(self, firings: int) -> None:
        c, h, dumps, loads = self.c, self.handle, self.dumps, self.loads
        sid = str(next(self.sids))
        try:
            state = c.assert_fact(h, dumps({"sid": sid, "t": "tick", "n": 0}))[1]
            pending = c.start_action_for_state(h, state)
            message = pending[1] if pending else None
            while message:
                n = loads(message)["step"]["m"]["n"] + 1
                if n < firings:
                    c.assert_facts(h, dumps([{"sid": sid, "t": "tick", "n": n}]))
                message = c.complete_and_start_action(h, state)
        finally:
            c.delete_state(h, sid)


def child_run(args: list[str], stdin_path: str) -> tuple[float, float, float, int]:
    """Run a command as a new process: (wall s, CPU s, peak RSS MB, exit code) of that process."""
    start = time.perf_counter()
    with open(stdin_path, "rb") as fin, open(os.devnull, "wb") as fout:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdin=fin, stdout=fout, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {err[-500:]}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def write_cases(path: str, count: int) -> int:
    """``count`` cases of the mix, one JSON line each; returns the size in bytes."""
    import json

    lines = [json.dumps(c) + "\n" for c in MIX]
    with open(path, "w") as fh:
        for i in range(count):
            fh.write(lines[i % len(lines)])
    return os.path.getsize(path)


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
    n_big = 20 if quick else 500
    n_batch = 1_000 if quick else 10_000
    n_stream = 2_000 if quick else 100_000
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

    # -- side by side: assess, Engine.run, the durable_rules floor, the oracle -----------------
    # Interleaved call by call, so that a busy spell of the machine hits every competitor alike.
    from triage import render
    from triage import report as reports
    from triage.assessment import case_facts, to_case

    def by_oracle(c: dict) -> set:
        return oracle.candidate_types(c.get("symptoms", []), c.get("regions", []))

    floor = Floor()
    facts = [case_facts(to_case(c)) for c in MIX]
    firings = [len(engine_mod.default().run(f).firings) for f in facts]
    big_firings = len(engine_mod.default().run(case_facts(to_case(ALL_REGIONS))).firings)
    cpu = time.thread_time
    side: dict[str, list[float]] = {k: [] for k in ("assess", "run", "floor", "oracle")}
    for i in range(n_latency):
        k = i % len(MIX)
        for name, fn, arg in (("assess", assess, MIX[k]), ("run", engine_mod.default().run, facts[k]),
                              ("floor", floor.run, firings[k]), ("oracle", by_oracle, MIX[k])):
            t0 = cpu()
            fn(arg)
            side[name].append(cpu() - t0)
    big: dict[str, list[float]] = {k: [] for k in ("assess", "floor", "oracle")}
    for _ in range(n_big):
        for name, fn, arg in (("assess", assess, ALL_REGIONS), ("floor", floor.run, big_firings),
                              ("oracle", by_oracle, ALL_REGIONS)):
            t0 = cpu()
            fn(arg)
            big[name].append(cpu() - t0)

    def ms(values: list[float], q: float = 50) -> float:
        return percentile(values, q) * 1e3

    med, p99 = ms(side["assess"]), ms(side["assess"], 99)
    report.add("triage.assess CPU time on the mix, median", f"{med:.3f} ms",
               met(med <= GOAL_MEDIAN_MS, f"≤ {GOAL_MEDIAN_MS:g} ms"))
    report.add("triage.assess CPU time on the mix, p99", f"{p99:.3f} ms", met(p99 <= GOAL_P99_MS, f"≤ {GOAL_P99_MS:g} ms"))
    report.add("Engine.run alone, median / p99", f"{ms(side['run']):.3f} ms / {ms(side['run'], 99):.3f} ms")
    report.add("durable_rules floor, same firings, median / p99",
               f"{ms(side['floor']):.3f} ms / {ms(side['floor'], 99):.3f} ms "
               f"({statistics.mean(firings):.1f} firings a case on average)")
    report.add("plain-Python oracle, median / p99", f"{ms(side['oracle']) * 1e3:.1f} µs / {ms(side['oracle'], 99) * 1e3:.1f} µs")
    report.add("ratio assess ÷ floor, median / p99", f"{med / ms(side['floor']):.1f}× / {p99 / ms(side['floor'], 99):.1f}×")
    report.add("ratio assess ÷ oracle, median", f"{med / ms(side['oracle']):,.0f}×")
    big_med = ms(big["assess"])
    report.add(f"triage.assess CPU time, all 11 regions ({big_firings} firings), median / p99",
               f"{big_med:.3f} ms / {ms(big['assess'], 99):.3f} ms", met(big_med <= GOAL_ALL_REGIONS_MS, f"≤ {GOAL_ALL_REGIONS_MS:g} ms"))
    report.add("all 11 regions: floor / oracle, median",
               f"{ms(big['floor']):.3f} ms ({big_med / ms(big['floor']):.1f}×) / {ms(big['oracle']) * 1e3:.1f} µs")

    # -- rendering -------------------------------------------------------------------------------
    results = [assess(c) for c in MIX]
    cases = [to_case(c) for c in MIX]
    renders: dict[str, list[float]] = {"json": [], "text": []}
    for i in range(n_latency):
        k = i % len(MIX)
        t0 = cpu()
        render.render([results[k]], [cases[k]], "json", False)
        t1 = cpu()
        reports.text(results[k])
        t2 = cpu()
        renders["json"].append(t1 - t0)
        renders["text"].append(t2 - t1)
    for fmt, goal in (("json", GOAL_JSON_MS), ("text", GOAL_TEXT_MS)):
        value = ms(renders[fmt])
        report.add(f"{fmt} render of one assessment, median / p99", f"{value:.3f} ms / {ms(renders[fmt], 99):.3f} ms",
                   met(value <= goal, f"≤ {goal:g} ms"))

    # -- batches: `assess --format jsonl` in a new process --------------------------------------
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "batch.jsonl")
        size = write_cases(path, n_batch)
        wall, cpu_s, rss, _rc = child_run(["-m", "triage", "assess", "-", "--format", "jsonl"], path)
        rate = n_batch / cpu_s
        report.add(f"batch of {n_batch:,} cases ({size / 1e6:.1f} MB of JSON Lines), assess --format jsonl",
                   f"{rate:,.0f} cases per CPU second ({n_batch / wall:,.0f} a second), start-up included",
                   met(rate >= GOAL_BATCH_RATE, f"≥ {GOAL_BATCH_RATE:,} per CPU s"))
        report.add(f"batch of {n_batch:,}: peak resident memory", f"{rss:.1f} MB",
                   met(rss <= GOAL_BATCH_RSS_MB, f"≤ {GOAL_BATCH_RSS_MB:g} MB"))
        size = write_cases(path, n_stream)
        wall, cpu_s, rss_stream, _rc = child_run(["-m", "triage", "assess", "-", "--format", "jsonl"], path)
        growth = rss_stream - rss
        report.add(f"{n_stream:,} cases streamed ({size / 1e6:.0f} MB)",
                   f"peak {rss_stream:.1f} MB ({growth:+.1f} MB beside {n_batch:,}), "
                   f"{n_stream / cpu_s:,.0f} per CPU second, {wall:.0f} s",
                   met(growth <= GOAL_STREAM_GROWTH_MB, f"flat: ≤ {GOAL_STREAM_GROWTH_MB:g} MB more"))

    # -- start-up ------------------------------------------------------------------------------
    report.add("start-up, python -m triage --help", f"{run_seconds(['-m', 'triage', '--help'], n_start):.2f} s")
    report.add("first assessment in a new process",
               f"{run_seconds(['-m', 'triage', 'assess', 'examples/blepharospasm.json'], n_start):.2f} s")
    questionnaire = ROOT / "benchmarks" / "questionnaire.py"
    if questionnaire.exists():
        # the installed command started as a person starts it: in a pseudo-terminal, timed until
        # the first question's words are on the screen (the first start, which may write the
        # byte-code and the knowledge base's cache, is not counted)
        sys.path.insert(0, str(questionnaire.parent))
        import questionnaire as qbench

        runs = max(n_start, 5)
        command = str(Path(sys.executable).parent / "dystonia-triage")
        walls, cpus = qbench.first_prompt_times(runs, [command], qbench.FIRST_PROMPT)
        wall = statistics.median(walls)
        report.add(f"first question of the questionnaire, median of {runs} start-ups in a pseudo-terminal",
                   f"{wall:.2f} s wall (min {min(walls):.2f} s), "
                   f"{statistics.median(cpus) if cpus else float('nan'):.2f} s CPU by then",
                   met(wall <= GOAL_FIRST_QUESTION_S, f"≤ {GOAL_FIRST_QUESTION_S:g} s"))
    if not questionnaire.exists():
        report.add("questionnaire figures", "not measured (no benchmarks/questionnaire.py yet)")
    elif quick:
        report.add("questionnaire figures", "full run only (benchmarks/questionnaire.py)")
    else:
        # its own script, with its own figures: they are printed after the table
        proc = subprocess.run([sys.executable, str(questionnaire)], cwd=ROOT, capture_output=True,
                              text=True, timeout=600)
        extra_sections.append(("Questionnaire (benchmarks/questionnaire.py)", proc.stdout.strip()))
        report.add("questionnaire figures", f"see below (benchmarks/questionnaire.py, exit {proc.returncode})")
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
