"""``dystonia-triage cases``: the teaching cases — list them, show one with its explanation, or
take the quiz."""

from __future__ import annotations

import argparse
import json
import sys

from triage.cli import EXIT_OK, InputProblem


def add_parser(sub) -> None:
    p = sub.add_parser(
        "cases", help="teaching cases: list, show one with its explanation, or take the quiz",
        description="Short teaching stories, each a case with the result the clinical conventions "
                    "lead one to expect. Examples: dystonia-triage cases; "
                    "dystonia-triage cases show writers_cramp; dystonia-triage cases quiz",
    )
    p.set_defaults(func=run_list, format="text")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    ls = s.add_parser("list", help="list the teaching cases (the default)")
    ls.add_argument("--format", choices=("text", "json"), default="text")
    ls.set_defaults(func=run_list)
    sh = s.add_parser("show", help="tell the story, the answers, the result and its explanation")
    sh.add_argument("id", help="the teaching case id (see: dystonia-triage cases)")
    sh.add_argument("--format", choices=("text", "json"), default="text")
    sh.set_defaults(func=run_show)
    qz = s.add_parser("quiz", help="read a story, pick the type, then see the answer and the rules")
    qz.add_argument("ids", nargs="*", metavar="ID", help="the cases to ask (default: all)")
    qz.add_argument("--plain", action="store_true",
                    help="numbered choices read from standard input (the default when it is not a terminal)")
    qz.set_defaults(func=run_quiz)


def _get(case_id: str):
    from triage import teaching

    tc = teaching.by_id(case_id)
    if tc is None:
        raise InputProblem(f"{case_id}: no teaching case has that id; ids: "
                           + ", ".join(c.id for c in teaching.default()))
    return tc


def run_list(args: argparse.Namespace) -> int:
    from triage import teaching

    cases = teaching.default()
    if args.format == "json":
        docs = [{"id": c.id, "title": c.title, "types": c.expect.types, "care_level": c.expect.care_level}
                for c in cases]
        sys.stdout.write(json.dumps(docs, indent=2) + "\n")
        return EXIT_OK
    width = max((len(c.id) for c in cases), default=2)
    print(f"{len(cases)} teaching cases (show one: dystonia-triage cases show ID)\n")
    for c in cases:
        print(f"{c.id:<{width}}  {c.title}  [{c.expect.care_level}]")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    import textwrap

    from triage import explanation as explain
    from triage.assessment import assess
    from triage.teaching import compare, interview

    tc = _get(args.id)
    ex = explain.explain(tc.case)
    if args.format == "json":
        doc = {"id": tc.id, "title": tc.title, "story": tc.story, "teaching_point": tc.teaching_point,
               "case": tc.case.model_dump(mode="json", exclude_none=True),
               "interview": [{"question": q, "answer": a} for q, a in interview(tc)],
               "expect": tc.expect.model_dump(mode="json"), "explanation": ex.model_dump(mode="json")}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    result = assess(tc.case)
    out = [tc.title, "=" * len(tc.title), "", textwrap.fill(" ".join(tc.story.split()), 78), ""]
    out.append("The questions, as the questionnaire asks them, and the answers:")
    for question, answer in interview(tc):
        out.append(f"  Q: {question}" if question else "  (not asked)")
        out.append(f"     A: {answer}")
    out += ["", "The answers, as a case:"]
    for k, v in tc.case.model_dump(mode="json", exclude_none=True).items():
        if k != "version" and v != []:
            out.append(f"  {k}: {', '.join(v) if isinstance(v, list) else v}")
    out += ["", "Expected (from the clinical conventions):"]
    e = tc.expect
    out.append(f"  types: {', '.join(e.types) or 'none'}; care level: {e.care_level}")
    out.append(f"  causes: {', '.join(e.causes) or 'none'}; look-alikes: {', '.join(e.mimics) or 'none'}")
    out.append(f"  key next steps: {', '.join(e.next_steps) or 'none'}")
    problems = compare(tc, result)
    out.append("The rules agree." if not problems else "The rules DISAGREE: " + "; ".join(problems))
    if tc.known_disagreement:
        out.append(textwrap.fill("Known disagreement: " + " ".join(tc.known_disagreement.split()), 78))
    out += ["", textwrap.fill("Teaching point: " + " ".join(tc.teaching_point.split()), 78), ""]
    sys.stdout.write("\n".join(out) + "\n" + explain.text(ex))
    return EXIT_OK


def _ask_plain(q) -> str:
    for i, (_, label) in enumerate(q.choices, 1):
        print(f"  {i:>2}. {label}")
    while True:
        sys.stdout.write(f"Your answer (1-{len(q.choices)}): ")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        line = line.strip()
        if line.isdigit() and 1 <= int(line) <= len(q.choices):
            return q.choices[int(line) - 1][0]
        print(f"Please type a number from 1 to {len(q.choices)}.")


def ask_select(q, **prompt_kwargs) -> str:
    """Ask with questionary (arrow keys). ``prompt_kwargs`` (input/output) let tests drive it."""
    import questionary

    choices = [questionary.Choice(label, value=value) for value, label in q.choices]
    answer = questionary.select(q.prompt, choices=choices, **prompt_kwargs).unsafe_ask()
    return answer


def quiz(cases, ask, write=sys.stdout.write) -> tuple[int, int]:
    """Ask every case with ``ask(question)``; returns (right, asked)."""
    from triage.quiz import question, reveal, story

    right = 0
    for i, tc in enumerate(cases, 1):
        q = question(tc)
        write(f"\nCase {i} of {len(cases)}: {story(tc)}\n")
        if ask is _ask_plain:
            write(q.prompt + "\n")
        chosen = ask(q)
        right += q.is_correct(chosen)
        write("\n" + reveal(q, chosen))
    write(f"\nScore: {right} of {len(cases)}.\n")
    return right, len(cases)


def run_quiz(args: argparse.Namespace) -> int:
    from triage import teaching

    cases = [_get(i) for i in args.ids] if args.ids else teaching.default()
    plain = args.plain or not (sys.stdin.isatty() and sys.stdout.isatty())
    try:
        quiz(cases, _ask_plain if plain else ask_select)
    except EOFError:
        print("\nNo more answers; the quiz ends here.")
    return EXIT_OK
