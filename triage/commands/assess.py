"""``dystonia-triage assess PATH``: assess a case file, or a JSON array of cases."""

from __future__ import annotations

import argparse
import sys

from triage.cli import EXIT_OK, read_input
from triage.render import FORMATS


def add_parser(sub) -> None:
    p = sub.add_parser(
        "assess", help="assess a case file (JSON), or a JSON array of cases",
        description="Assess one case (a JSON object) or a batch (a JSON array). A FHIR "
                    "QuestionnaireResponse (or a Bundle of them) is read as the case its answers "
                    "make. Example: dystonia-triage assess examples/blepharospasm.json",
    )
    p.add_argument("path", help="the case file; - reads standard input")
    p.add_argument("--format", choices=FORMATS + ("jsonl", "fhir-bundle"), default="text",
                   help="output format (default: text): text for the terminal; json, the assessment; "
                        "markdown or html, the report to bring to the appointment; summary, a "
                        "compact block for a chart; fhir, the case as a FHIR QuestionnaireResponse; "
                        "fhir-bundle, the answers and the results as a FHIR Bundle; "
                        "jsonl, a stream: JSON Lines (or a JSON array) in, one assessment per line out, "
                        "in constant memory, a bad line giving an error line and exit code 2")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.format == "jsonl":
        from triage import stream

        return stream.run(args.path)
    from triage import render
    from triage.assessment import assess
    from triage.inputs import parse_inputs

    name = "stdin" if args.path == "-" else args.path
    inputs, batch = parse_inputs(read_input(args.path), name)
    cases = [c for c, _asked in inputs]
    results = [assess(c) for c in cases]
    if args.format == "fhir-bundle":
        from triage import fhir_results

        sys.stdout.write(fhir_results.render(results, cases, batch, asked=[k for _c, k in inputs]))
        return EXIT_OK
    sys.stdout.write(render.render(results, cases, args.format, batch, asked=[k for _c, k in inputs]))
    return EXIT_OK
