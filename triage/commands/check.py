"""``dystonia-triage check``: check the knowledge base beyond its schema (for reviewers and CI)."""

from __future__ import annotations

import argparse

from triage.cli import EXIT_ERROR, EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser(
        "check", help="check the knowledge base and the rules beyond the schema (exit 1 on a problem)",
        description="Check that every contract id is present, every rule source exists, every rule "
                    "input can be asked and every answer is read, the teaching cases reach every "
                    "type, cause, look-alike, care level and next step, and the codes are well formed. "
                    "Example: dystonia-triage check --knowledge ./knowledge --rules ./rules",
    )
    p.add_argument("--knowledge", metavar="DIR", help="the knowledge folder to check (default: the installed one)")
    p.add_argument("--rules", metavar="DIR", help="the rules folder to check (default: the installed one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from triage.check import run_checks
    from triage.cli import InputProblem

    for opt in ("knowledge", "rules"):
        value = getattr(args, opt)
        if value and not Path(value).is_dir():
            raise InputProblem(f"--{opt} {value}: not a folder")
    results = run_checks(args.knowledge, args.rules)
    failed = 0
    for r in results:
        mark = "ok  " if not r.problems else "FAIL"
        print(f"{mark} {r.name}" + (f" ({r.detail})" if r.detail else ""))
        for p in r.problems:
            print(f"       - {p}")
        failed += bool(r.problems)
    print(f"{len(results) - failed} of {len(results)} checks passed" + ("" if not failed else "; see FAIL above"))
    return EXIT_ERROR if failed else EXIT_OK
