"""``dystonia-triage explain CASE``: every conclusion walked back, rule by rule, to the answers;
what was not concluded and why not; and, with ``--add``/``--remove``, what changes if an answer
changes."""

from __future__ import annotations

import argparse
import json
import sys

from triage.cli import EXIT_OK, InputProblem


def add_parser(sub) -> None:
    p = sub.add_parser(
        "explain", help="explain a result rule by rule, back to the answers (for learning)",
        description="Explain how the rules reached each part of the result: for each candidate, "
                    "cause, look-alike, the care level and each next step, the rules that fired, "
                    "their sources and the facts they matched, back to the answers. Also what was "
                    "not concluded and why not. With --add/--remove, shows what changes. "
                    "Examples: dystonia-triage explain examples/blepharospasm.json; "
                    "dystonia-triage explain writers_cramp --add region=neck",
    )
    p.add_argument("case", metavar="CASE",
                   help="a case file (JSON), - for standard input, or the id of a teaching case")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--add", action="append", default=[], metavar="FIELD=VALUE",
                   help="what if this answer were added (repeatable), e.g. region=trunk or age=15")
    p.add_argument("--remove", action="append", default=[], metavar="FIELD=VALUE",
                   help="what if this answer were taken away (repeatable), e.g. feature=sensory_trick")
    p.set_defaults(func=run)


def load_case(spec: str):
    """A case from a file, standard input, or a teaching case id."""
    from pathlib import Path

    from triage.cli import parse_cases, read_input

    if spec != "-" and not Path(spec).exists():
        from triage import teaching

        tc = teaching.by_id(spec)
        if tc is None:
            ids = ", ".join(c.id for c in teaching.default())
            raise InputProblem(f"{spec}: no such file, and no teaching case has that id; teaching cases: {ids}")
        return tc.case
    name = "stdin" if spec == "-" else spec
    cases, batch = parse_cases(read_input(spec), name)
    if batch:
        raise InputProblem(f"{name}: explain takes one case (a JSON object), not an array")
    return cases[0]


def run(args: argparse.Namespace) -> int:
    from triage import explanation as explain

    case = load_case(args.case)
    if args.add or args.remove:
        try:
            changes = [explain.parse_change("add", t) for t in args.add]
            changes += [explain.parse_change("remove", t) for t in args.remove]
            result = explain.what_if(case, changes)
        except ValueError as exc:
            raise InputProblem(str(exc)) from None
        if args.format == "json":
            sys.stdout.write(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(explain.what_if_text(result))
        return EXIT_OK
    ex = explain.explain(case)
    if args.format == "json":
        sys.stdout.write(json.dumps(ex.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(explain.text(ex))
    return EXIT_OK
