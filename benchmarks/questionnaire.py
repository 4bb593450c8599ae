"""Questionnaire figures (a script, not a test): run it with
``.venv/bin/python benchmarks/questionnaire.py``.

1. Time from start to the first prompt: the installed ``dystonia-triage`` command is started in
   a pseudo-terminal (as a person would start it) and timed until the first question is on the
   screen. Goal: at most 0.3 s (median; issue 14).
2. Questions asked per path, for typical stories: the adaptive interview asks what could
   change the result, and the questions asked for the record when they are clinically
   relevant. Goal: 14 or fewer on typical focal cases.
3. The cost of choosing the next question (relevance: engine runs per step, ms per step),
   and of saying why a question is asked (h).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_PROMPT = "Is any of these new, or suddenly much worse"

ADULT = {"red_flags": [], "respondent": "self", "dopamine_blocker": "none", "history": [], "family_history": "no"}
STORIES = [  # (name, focal?, answers; every other question answered no / none / not sure)
    ("blepharospasm, sensory trick", True,
     {"age": 61, "onset_age": 58, "symptoms": ["eye_blinking"], "sensory_trick": "yes"}),
    ("blepharospasm, no trick", True, {"age": 61, "onset_age": 58, "symptoms": ["eye_blinking"]}),
    ("cervical, sensory trick", True,
     {"age": 45, "onset_age": 40, "symptoms": ["neck_craning"], "sensory_trick": "yes"}),
    ("cervical, no trick", True, {"age": 45, "onset_age": 40, "symptoms": ["neck_craning"]}),
    ("oromandibular", True, {"age": 55, "onset_age": 50, "symptoms": ["jaw_tongue_movements"]}),
    ("laryngeal", True, {"age": 40, "onset_age": 35, "symptoms": ["speech_difficulty"]}),
    ("writer's cramp, task-specific", True,
     {"age": 45, "onset_age": 40, "symptoms": ["hand_difficulty"], "hand_side": "right", "task_specific": "yes"}),
    ("writer's cramp, trick", True,
     {"age": 45, "onset_age": 40, "symptoms": ["hand_difficulty"], "hand_side": "right", "sensory_trick": "yes"}),
    ("foot dystonia", True, {"age": 30, "onset_age": 25, "symptoms": ["foot_cramping"], "foot_side": "left"}),
    ("truncal", True, {"age": 50, "onset_age": 45, "symptoms": ["body_twisting"]}),
    ("child's foot, better in the morning", True,
     {"age": 9, "onset_age": 7, "symptoms": ["foot_cramping"], "foot_side": "left", "better_after_sleep": "yes"}),
    ("essential tremor (hands)", False,
     {"age": 68, "onset_age": 60, "symptoms": ["tremor"], "tremor_sites": ["arms"]}),
    ("acute reaction (jaw, metoclopramide)", False,
     {"age": 24, "symptoms": ["jaw_tongue_movements"], "dopamine_blocker": "recent"}),
    ("segmental (neck and arm)", False,
     {"age": 50, "onset_age": 45, "symptoms": ["neck_craning"], "other_regions": ["upper_limb_right"]}),
    ("multifocal (eyes and hand)", False, {"age": 50, "onset_age": 45, "symptoms": ["eye_blinking", "hand_difficulty"]}),
    ("generalized, child", False, {"age": 12, "onset_age": 8, "symptoms": ["widespread_spasms"]}),
    ("hemidystonia after stroke", False,
     {"age": 60, "onset_age": 58, "symptoms": ["hand_difficulty", "foot_dragging"], "hand_side": "left",
      "foot_side": "left", "history": ["stroke"]}),
    ("myoclonus-dystonia", False,
     {"age": 18, "onset_age": 10, "symptoms": ["jerks", "neck_craning"], "alcohol_improves": "yes"}),
    ("emergency: breathing", False, {"red_flags": ["breathing_difficulty"], "age": 40}),
    ("nothing recognised", False, {"age": 40, "symptoms": []}),
]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_prompt_times(runs: int, command: list[str], until: str) -> tuple[list[float], list[float]]:
    """Wall time from spawning ``command`` in a pseudo-terminal until ``until`` is on the
    screen, and the CPU time the process used by then (which the machine's load barely
    changes)."""
    import pexpect

    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    # as installed for a user: byte-code is cached after the first start (the first start,
    # which writes it, is not counted)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    walls, cpus = [], []
    for i in range(runs + 1):
        start = time.perf_counter()
        child = pexpect.spawn(command[0], command[1:], env=env, encoding="utf-8", dimensions=(50, 120), timeout=30)
        child.expect_exact(until)
        wall = time.perf_counter() - start
        try:
            cpu = cpu_seconds(child.pid)
        except (OSError, IndexError):
            cpu = None
        child.sendcontrol("c")
        child.close(force=True)
        if i == 0:
            continue
        walls.append(wall)
        if cpu is not None:
            cpus.append(cpu)
    return walls, cpus


def walk(iv, answers: dict, why_times: list | None = None) -> tuple[list[str], list[float]]:
    from triage.explanation import asked as why

    session, asked, step_times = iv.session(), [], []
    while True:
        start = time.perf_counter()
        q = session.next_question()
        if q is not None:
            session.offered(q)  # the choices shown, as the interview computes them
        step_times.append(time.perf_counter() - start)
        if q is None:
            return asked, step_times
        if why_times is not None:  # pressing h at this question
            start = time.perf_counter()
            why.why(session, q)
            why_times.append(time.perf_counter() - start)
        asked.append(q.id)
        session.answer(q.id, answers.get(q.id, q.quiet_answer()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="start-ups to time (default 7)")
    args = parser.parse_args()

    command = str(Path(sys.executable).parent / "dystonia-triage")
    walls, cpus = first_prompt_times(args.runs, [command], FIRST_PROMPT)
    base_walls, base_cpus = first_prompt_times(args.runs, [sys.executable, "-c", "print('ready')"], "ready")
    load = os.getloadavg()[0]
    print(f"Time to the first prompt ({args.runs} start-ups of the installed command in a pseudo-terminal;"
          f" load average {load:.1f} on {os.cpu_count()} CPUs):")
    print(f"  wall: median {statistics.median(walls) * 1000:.0f} ms, min {min(walls) * 1000:.0f} ms, "
          f"max {max(walls) * 1000:.0f} ms (goal: at most 300 ms)")
    if cpus:
        print(f"  CPU used by then: median {statistics.median(cpus) * 1000:.0f} ms")
    print(f"  for comparison, a bare Python start in the same way: median "
          f"{statistics.median(base_walls) * 1000:.0f} ms wall")
    print()

    from triage.questionnaire.session import Questionnaire

    iv = Questionnaire()
    iv.assessor.assessment({"version": 1})  # the engine built
    print(f"Questions asked per path ({len(iv.questions)} questions in knowledge/questions.yaml):")
    all_steps: list[float] = []
    why_times: list[float] = []
    focal_counts = []
    runs_before = iv.assessor.runs
    for name, focal, story in STORIES:
        asked, steps = walk(iv, {**ADULT, **story}, why_times)
        all_steps += steps
        if focal:
            focal_counts.append(len(asked))
        result = iv.assessor.assessment(iv.record.case({**ADULT, **story}))
        top = result.candidates[0].type if result.candidates else result.care_level
        print(f"  {len(asked):2d}  {name:32s} -> {top}")
    met = sum(c <= 14 for c in focal_counts)
    print(f"  typical focal cases: {min(focal_counts)}-{max(focal_counts)} questions "
          f"(goal: 14 or fewer; {met} of {len(focal_counts)} meet it{'' if met == len(focal_counts) else ': NOT MET'})")
    print()
    all_steps.sort()
    runs = iv.assessor.runs - runs_before
    print(f"Choosing the next question and its choices (first time for each set of answers, {len(all_steps)} steps,"
          f" 'why' included: {runs / len(all_steps):.1f} engine runs a step):")
    print(f"  median {statistics.median(all_steps) * 1000:.0f} ms, "
          f"p95 {all_steps[int(len(all_steps) * 0.95)] * 1000:.0f} ms, max {all_steps[-1] * 1000:.0f} ms")
    why_times.sort()
    print(f"Answering 'why' (h) at each question asked ({len(why_times)} questions; the next question's "
          "assessments are cached by then):")
    print(f"  median {statistics.median(why_times) * 1000:.0f} ms, "
          f"p95 {why_times[int(len(why_times) * 0.95)] * 1000:.0f} ms, max {why_times[-1] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
