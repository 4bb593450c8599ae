"""``dystonia-triage fhir questionnaire``: the questions as a FHIR R4 Questionnaire."""

from __future__ import annotations

import argparse
import json
import sys

from triage.cli import EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fhir", help="export the questionnaire as FHIR R4 (answers: assess --format fhir)",
        description="FHIR R4 export. 'questionnaire' writes the Questionnaire generated from the "
                    "question data. A case's answers are written by 'assess CASE --format fhir' "
                    "(a QuestionnaireResponse), which 'assess' also reads back.",
    )
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    q = what.add_parser("questionnaire", help="write the FHIR Questionnaire (JSON)")
    q.add_argument("-o", "--output", metavar="FILE", help="save to FILE instead of printing it")
    q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from triage import fhir

    text = json.dumps(fhir.questionnaire(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        from triage.files import save_text

        path = save_text(args.output, text)
        print(f"Saved: {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
