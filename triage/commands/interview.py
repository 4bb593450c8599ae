"""``dystonia-triage interview`` (also ``dystonia-triage`` with no arguments): the questionnaire.

Light to import; the knowledge base and questionary load when the command runs, and the rules
engine is built in the background while the first question is on the screen.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Optional

from triage.cli import EXIT_USAGE, InputProblem, read_input

AUDIENCES = ("self", "caregiver", "clinician", "educator")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "interview", help="answer the questionnaire (the default when no command is given)",
        description="Answer questions about the movements, one at a time, and get the assessment. "
                    "Red flags come first. Press h at a question to see why it is asked, b to go back; "
                    "Ctrl-C offers to save the answers so far.",
    )
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--for", dest="audience", choices=AUDIENCES, default=None,
                   help="who the questions are worded for; also answers 'who is answering'. "
                        "educator also shows each rule as it fires")
    p.add_argument("--plain", action="store_true",
                   help="numbered answers read line by line: no arrow keys, no colour "
                        "(screen readers, piped answers)")
    p.add_argument("--resume", metavar="FILE", default=None,
                   help="continue an interview saved with Ctrl-C")
    from triage.commands.clinics import add_directory_option

    add_directory_option(p)


def run(args: argparse.Namespace) -> int:
    audience = getattr(args, "audience", None)
    plain = getattr(args, "plain", False)
    resume = getattr(args, "resume", None)
    clinics_file = getattr(args, "clinics", None)
    ahead = None
    if not (plain or resume or clinics_file) and sys.stdin.isatty():
        ahead = first_screen_ahead(audience)  # None: no first screen is recorded for it yet
    if ahead is not None:
        iv, session = ahead.loaded
    else:
        from triage.questionnaire.session import Questionnaire

        iv = Questionnaire()
        if clinics_file:  # a broken directory is refused now, not after the questions
            from triage.commands.clinics import directory

            directory(iv.kb, clinics_file)
        if not plain and not sys.stdin.isatty():
            print("dystonia-triage: " + " ".join(iv.text.not_a_terminal.split()), file=sys.stderr)
            return EXIT_USAGE
        session = resumed(iv, read_input(resume), resume) if resume else iv.session()
        preset(session, audience)
    from triage.terminal import firstscreen
    from triage.terminal.interview import TerminalInterview, words
    from triage.terminal.prompts import KeysIO, PlainIO

    io: Any = PlainIO(words(iv)) if plain else KeysIO(words(iv))
    if ahead is not None:
        io = ahead.primed(io)
    elif not (plain or resume or sys.dont_write_bytecode):  # kept like byte-code: the next start draws it at once
        io = firstscreen.Recorder(io, lambda screen, width: firstscreen.save(audience, width, screen))
    # drawn ahead, the engine was built behind the first screen: no second warm-up
    return TerminalInterview(io, session, educator=audience == "educator", resumed_from=resume,
                             clinics_file=clinics_file, warm_up=ahead is None).run()


def preset(session, audience: Optional[str]) -> None:
    """``--for``: the words are for ``audience``, and it answers "who is answering"."""
    if audience:
        session.audience = audience
        respondent = next((q for q in session.questionnaire.questions if q.fills == "respondent"), None)
        if respondent is not None and respondent.id not in session.answers:
            session.preset(respondent.id, audience)


def first_screen_ahead(audience: Optional[str], *, width: Optional[int] = None, make_io: Any = None,
                       path: Any = None, load: Any = None):
    """The first screen drawn and its question asked at once, from the record of an earlier
    start (:mod:`triage.terminal.firstscreen`), while ``load`` (by default: the knowledge base
    loaded, the session begun and the engine built) runs in the background; ``None`` when
    nothing is recorded for this audience and width. The terminal's ``width``, the prompts'
    ``make_io(words)`` and the record's ``path`` can be given (tests)."""
    from triage.terminal import firstscreen
    from triage.terminal.prompts import KeysIO, terminal_width, text_width

    screen = firstscreen.lookup(audience, text_width(width or terminal_width()), path)
    if screen is None:
        return None
    return firstscreen.ask_ahead(screen, load or (lambda: begin(audience)), reader, make_io or KeysIO)


def begin(audience: Optional[str]):
    """The questionnaire and a new session for ``audience``, with the rules engine built."""
    from triage.questionnaire.session import Questionnaire
    from triage.terminal.interview import build_engine

    iv = Questionnaire()
    session = iv.session()
    preset(session, audience)
    build_engine(iv)
    return iv, session


def reader(loaded, question: str):
    """What reads the answer to ``question`` in the session ``loaded`` by :func:`begin`."""
    from triage.terminal.interview import Reader

    iv, session = loaded
    return Reader(session, iv.by_id[question])


def _exact_regions(name: str, what: str) -> InputProblem:
    """A file to go on from that gives body regions the questions cannot ask as they are."""
    return InputProblem(f"{name}: it gives {what}, which the questions cannot; assess it with: "
                        "dystonia-triage assess " + name)


def _resumed_from_case(iv, doc: dict, name: str):
    """A session from a case file (the answers saved at the end of an interview, or any case):
    the answers that make the case; the questions it does not answer are asked."""
    from triage.assessment import to_case
    from triage.errors import CaseError
    from triage.questionnaire.answers import AnswerError

    try:
        case = to_case(doc)
    except CaseError as exc:
        raise InputProblem(f"{name}: neither answers saved by the questionnaire (a FHIR QuestionnaireResponse) "
                           f"nor a case file: {exc}") from None
    answers = iv.record.answers_from_case(case)
    if iv.record.case(answers).get("regions", []) != list(case.regions):
        raise _exact_regions(name, "the case's body regions exactly")
    try:
        return iv.session(answers)
    except AnswerError as exc:
        raise InputProblem(f"{name}: {exc}") from None


def resumed(iv, text: str, name: str):
    """The session saved at Ctrl-C (a FHIR QuestionnaireResponse, in-progress), or from a case
    file (the answers saved at the end). A response to another version of the questions is
    refused with both versions named (``fhir.check_canonical``): its questions or answer codes
    may mean something else."""
    from triage import fhir
    from triage.inputs import load_json
    from triage.questionnaire.answers import AnswerError

    doc = load_json(text, name)
    if isinstance(doc, dict) and "resourceType" not in doc:
        return _resumed_from_case(iv, doc, name)
    try:
        answers, regions, _status = fhir.answers_from_response(doc, name)
    except fhir.ResponseError as exc:
        raise InputProblem(str(exc)) from None
    if regions is not None:
        raise _exact_regions(name, f"a case's body regions exactly ({fhir.REGIONS_ITEM})")
    try:
        return iv.session(answers)
    except AnswerError as exc:
        raise InputProblem(f"{name}: {exc}") from None
