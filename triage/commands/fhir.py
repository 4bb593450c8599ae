"""``dystonia-triage fhir questionnaire|codesystems``: the questions and their codes as FHIR R4."""

from __future__ import annotations

import argparse
import json
import sys

from triage.cli import EXIT_OK, LaterChoices


def _audiences() -> list[str]:
    from triage import knowledge

    return list(knowledge.default().fhir.audiences)


def add_parser(sub) -> None:
    audiences = LaterChoices(_audiences)  # the knowledge base is loaded only when they are needed

    p = sub.add_parser(
        "fhir", help="export the questionnaire and its codes as FHIR R4 (answers: assess --format fhir)",
        description="FHIR R4 export. 'questionnaire' writes the Questionnaire generated from the "
                    "question data (--for: the one worded for that respondent); 'codesystems' a "
                    "Bundle of the CodeSystems and ValueSets of every answer code. A case's answers "
                    "are written by 'assess CASE --format fhir' (a QuestionnaireResponse) or "
                    "'--format fhir-bundle' (with the results), which 'assess' also reads back.",
    )
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    q = what.add_parser("questionnaire", help="write the FHIR Questionnaire (JSON)")
    q.add_argument("--for", dest="audience", choices=audiences, metavar="WHO",
                   help="the Questionnaire worded for this respondent: %(choices)s "
                        "(default: for whoever answers)")
    q.add_argument("-o", "--output", metavar="FILE", help="save to FILE instead of printing it")
    q.set_defaults(func=run)
    c = what.add_parser("codesystems", help="write the CodeSystems and ValueSets (a FHIR Bundle, JSON)")
    c.add_argument("-o", "--output", metavar="FILE", help="save to FILE instead of printing it")
    c.set_defaults(func=run, audience=None)


def run(args: argparse.Namespace) -> int:
    from triage import fhir

    if args.what == "codesystems":
        from triage import fhir_terminology

        doc = fhir_terminology.terminology_bundle()
    else:
        doc = fhir.questionnaire(args.audience)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        from triage.cli import InputProblem
        from triage.files import save_text

        try:
            path = save_text(args.output, text)
        except OSError as exc:  # a folder that is not there, a directory, no permission: nothing is written
            raise InputProblem(f"--output: cannot save to {args.output} ({exc.strerror or exc})") from None
        print(f"Saved: {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
