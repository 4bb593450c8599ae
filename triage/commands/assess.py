"""``dystonia-triage assess PATH``: assess a case file, or a JSON array of cases."""

from __future__ import annotations

import argparse
import sys

from triage.cli import EXIT_OK, read_input
from triage.render import FORMATS


def add_parser(sub) -> None:
    p = sub.add_parser(
        "assess", help="assess a case file (JSON), or a JSON array of cases",
        description="Assess one case (a JSON object) or a batch (a JSON array). "
                    "Example: dystonia-triage assess examples/blepharospasm.json",
    )
    p.add_argument("path", help="the case file; - reads standard input")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from triage import render
    from triage.assessment import assess
    from triage.cli import parse_cases

    name = "stdin" if args.path == "-" else args.path
    cases, batch = parse_cases(read_input(args.path), name)
    results = [assess(c) for c in cases]
    sys.stdout.write(render.render(results, cases, args.format, batch))
    return EXIT_OK
