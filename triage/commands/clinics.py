"""``dystonia-triage clinics --near ZIP_OR_TOWN``: the clinics of the directory by distance."""

from __future__ import annotations

import argparse
import json
import sys

from triage.cli import EXIT_OK, InputProblem


def add_parser(sub) -> None:
    p = sub.add_parser(
        "clinics", help="list the clinics of the directory nearest to a US ZIP code or town",
        description="List the clinics of the clinic directory by great-circle distance (miles and km) "
                    "from a US ZIP code or town, with what each offers. Offline: the ZIP codes and towns "
                    "come with the zipcodes package. The shipped directory is an example to replace: "
                    "give your own with --clinics FILE or the environment variable TRIAGE_CLINICS. "
                    "Examples: dystonia-triage clinics --near 54301; "
                    "dystonia-triage clinics --near \"West Allis, WI\" --service speech_therapy",
    )
    add_directory_option(p)
    p.add_argument("--near", required=True, metavar="ZIP_OR_TOWN",
                   help="a US ZIP code (54301) or a town, best with its state (\"Green Bay, WI\")")
    p.add_argument("--service", default=None, metavar="S",
                   help="only clinics offering this service: movement_disorders, botulinum_toxin, "
                        "dbs_programme, speech_therapy or physical_therapy (knowledge/specialists.yaml)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="list at most N clinics")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.set_defaults(func=run)


def add_directory_option(p: argparse.ArgumentParser) -> None:
    """``--clinics FILE``, shared by the commands that find a specialist."""
    p.add_argument("--clinics", metavar="FILE", default=None,
                   help="the clinic directory to use (YAML, the shape of knowledge/clinics.yaml); "
                        "default: TRIAGE_CLINICS, else the shipped example")


def directory(kb, path):
    """The clinic directory of ``--clinics`` (or the default); a broken file is bad input."""
    from triage import clinics

    try:
        return clinics.current(path, kb)
    except clinics.DirectoryError as exc:
        raise InputProblem(f"--clinics: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from triage import clinics
    from triage.knowledge import default

    kb = default()
    services = kb.ids("services")
    if args.service is not None and args.service not in services:
        raise InputProblem(f"--service: unknown service {args.service!r}; allowed values: {', '.join(services)}")
    if args.limit is not None and args.limit < 1:
        raise InputProblem(f"--limit: {args.limit} (allowed values: 1 or more)")
    found_dir = directory(kb, args.clinics)
    try:
        place = clinics.find_place(args.near)
    except clinics.PlaceNotFound as exc:
        raise InputProblem("--near: " + " ".join(clinics.not_found_message(kb, exc).split())) from None
    found = clinics.by_distance(found_dir, place, kb, service=args.service, limit=args.limit)
    w = kb.specialist_words
    label = {s.id: s.label for s in kb.services}.get(args.service or "", "")
    if args.format == "json":
        doc = {"near": place.name, "service": args.service, "example": found_dir.directory.example,
               "clinics": [{**s.clinic.model_dump(exclude_none=True), "miles": round(s.miles, 1),
                            "km": round(s.km, 1)} for s in found]}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK

    from triage.report import WIDTH, _wrap

    def wrap(text: str, indent: str = "", hang: int = 0) -> str:
        return _wrap(text, indent, WIDTH, hang)

    view = clinics.Suggestions(words=w, clinics=found, example=found_dir.directory.example)
    out = [wrap(w.listed.format(place=place.name))]
    if args.service:
        out.append(wrap(w.with_service.format(service=label)))
    if not found:
        out.append(wrap(w.none_offer.format(service=label)))
    out += clinics.clinic_lines(view, wrap, gap=True)
    sys.stdout.write("\n".join(out) + "\n")
    return EXIT_OK
