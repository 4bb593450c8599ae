"""``dystonia-triage rules``: the rule catalogue by layer, or a graph of which facts feed which
rules."""

from __future__ import annotations

import argparse
import json
import sys

from triage.cli import EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser(
        "rules", help="the rule catalogue by layer, or a graph of the rules (for reviewers)",
        description="List every rule by layer with its explanation, its source and what it reads "
                    "and concludes. --graph draws which facts feed which rules. "
                    "Examples: dystonia-triage rules --format markdown > docs/rules.md; "
                    "dystonia-triage rules --graph dot | dot -Tsvg > rules.svg",
    )
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="catalogue format (default: text)")
    p.add_argument("--graph", choices=("mermaid", "dot"), help="draw the graph instead of the catalogue")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from triage import catalogue, rulebook

    book = rulebook.default()
    if args.graph:
        out = catalogue.mermaid(book) if args.graph == "mermaid" else catalogue.dot(book)
    elif args.format == "markdown":
        out = catalogue.markdown(book)
    elif args.format == "json":
        out = json.dumps(catalogue.catalogue(book), indent=2, ensure_ascii=False) + "\n"
    else:
        out = catalogue.text(book)
    sys.stdout.write(out)
    return EXIT_OK
