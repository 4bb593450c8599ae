"""``dystonia-triage schema``: the JSON Schema of the case and the assessment."""

from __future__ import annotations

import argparse
import json

from triage.cli import EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of the case and the assessment")
    p.add_argument("which", nargs="?", choices=["all", "case", "assessment"], default="all")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from triage.models import Assessment, Case

    schemas = {"case": Case.model_json_schema(), "assessment": Assessment.model_json_schema()}
    print(json.dumps(schemas[args.which] if args.which != "all" else schemas, indent=2))
    return EXIT_OK
