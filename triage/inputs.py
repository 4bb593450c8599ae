"""Reading cases: a case file, a batch of cases, or a FHIR QuestionnaireResponse (or a Bundle
of them), each validated against the contract. Used by the command line and the web API alike;
a problem raises :class:`InputProblem` with a message that names the input and the field.
"""

from __future__ import annotations

import json
import re
import sys
from typing import IO

MAX_INPUT_BYTES = 1_000_000  # far above any real case file; a larger input is refused
MAX_PROBLEMS = 20  # problems listed for one input; the rest are counted, not listed
MAX_DEPTH = 32  # brackets open at once; a case is 2 deep, a Bundle of FHIR responses about 12
MAX_DIGITS = 30  # digits in one number; every number of a case is a few digits


class InputProblem(Exception):
    """Input that cannot be assessed; the message says what and where."""


class NotJson(InputProblem):
    """Input that is not JSON at all (the API answers 400 rather than 422)."""


def open_input(path: str) -> IO[bytes]:
    """A file opened for reading, or standard input for ``-``; a problem names the path."""
    try:
        return sys.stdin.buffer if path == "-" else open(path, "rb")
    except FileNotFoundError:
        raise InputProblem(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputProblem(f"{path}: is a folder, not a case file") from None
    except OSError as exc:
        raise InputProblem(f"{path}: cannot be read ({exc.strerror})") from None


def read_input(path: str) -> str:
    """The text of a file, or of standard input for ``-``, refusing what is too large."""
    stream = open_input(path)
    try:
        data = stream.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputProblem(f"{path}: cannot be read ({exc.strerror})") from None
    finally:
        if path != "-":
            stream.close()
    if len(data) > MAX_INPUT_BYTES:
        raise InputProblem(f"{path}: larger than {MAX_INPUT_BYTES:,} bytes; a case file is a few hundred bytes")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Windows editors add one) is skipped
    except UnicodeDecodeError as exc:
        raise InputProblem(f"{path}: not UTF-8 text (byte {exc.start})") from None


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_LONG_NUMBER = re.compile(r"[0-9]{%d,}" % (MAX_DIGITS + 1))
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list) -> dict:
    doc: dict = {}
    for key, value in pairs:
        if key in doc:
            raise _DuplicateKey(key)
        doc[key] = value
    return doc


def load_json(text: str, name: str = "input"):
    """``json.loads`` for input from outside, refusing what a case never holds before parsing
    anything deep: brackets nested more than :data:`MAX_DEPTH`, a number of more than
    :data:`MAX_DIGITS` digits, and the same key twice in one object (JSON lets the last win
    silently: ``"red_flags": [...], "red_flags": []`` would drop a red flag). Raises
    :class:`InputProblem` naming ``name`` and, for a duplicate, the key.
    """
    bare = _STRING.sub('""', text)  # what is outside strings (an unclosed string stays; json refuses it)
    if _LONG_NUMBER.search(bare):
        raise InputProblem(f"{name}: not valid for a case: a number is far too long "
                           f"(more than {MAX_DIGITS} digits)")
    depth = deepest = 0
    for c in _NOT_BRACKET.sub("", bare):
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    raise InputProblem(f"{name}: nested too deeply to be a case (more than {MAX_DEPTH} "
                                       "levels; a case is a flat JSON object)")
        else:
            depth -= 1
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        key = exc.key if len(exc.key) <= 40 and exc.key.isprintable() else repr(exc.key[:40])
        raise InputProblem(f"{name}: {key}: the key is given twice in one object; give it once") from None
    except RecursionError:
        raise InputProblem(f"{name}: nested too deeply to be a case") from None
    except json.JSONDecodeError as exc:
        raise NotJson(f"{name}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except ValueError:  # a number with thousands of digits: Python refuses to convert it
        raise InputProblem(f"{name}: not valid for a case: a number is far too long") from None


def parse_cases(text: str, name: str = "input"):
    """Parse and validate every case in ``text`` (one JSON object, or an array of them).

    Returns ``(cases, is_batch)``. Every case is validated before any is assessed, so a bad
    case in a batch means no output at all, never half of it. A FHIR QuestionnaireResponse
    (or a Bundle of them) is read as the case its answers make.
    """
    inputs, batch = parse_inputs(text, name)
    return [case for case, _asked in inputs], batch


def parse_inputs(text: str, name: str = "input"):
    """Like :func:`parse_cases`, with what a questionnaire response says was asked:
    ``([(case, asked or None), ...], is_batch)``."""
    if not text.strip():
        raise InputProblem(f"{name}: empty; expected a JSON object (a case) or an array of cases")
    return parse_document(load_json(text, name), name)


def items_of(doc) -> tuple[list, bool]:
    """The cases a parsed document holds (before validating them), and whether it is a batch."""
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        entries = doc.get("entry")
        if isinstance(entries, list):
            return [e.get("resource") if isinstance(e, dict) else e for e in entries], True
    return (doc, True) if isinstance(doc, list) else ([doc], False)


def parse_document(doc, name: str = "input"):
    """:func:`parse_inputs` of a document already read by :func:`load_json`."""
    from triage.errors import CaseError

    batch = isinstance(doc, list)
    items = doc if batch else [doc]
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        entries = doc.get("entry")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise InputProblem(f"{name}: Bundle.entry: expected a list of entries with a resource each")
        batch, items = True, [e.get("resource") for e in entries]
    if batch and not items:
        raise InputProblem(f"{name}: the array is empty; expected at least one case")
    inputs, problems = [], []
    for i, item in enumerate(items):
        where = f"case[{i}]: " if batch else ""
        try:
            inputs.append(input_from(item, f"{name}{f' case[{i}]' if batch else ''}"))
        except CaseError as exc:
            problems += [where + line for line in str(exc).splitlines()]
    if problems:
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS
            problems = problems[:MAX_PROBLEMS] + [f"... and {more:,} more problem{'s' if more > 1 else ''}"]
        raise InputProblem(f"{name}: invalid case\n  " + "\n  ".join(problems))
    return inputs, batch


def json_kind(value) -> str:
    """What a JSON value is, in JSON's words (``null``, ``a number``), not Python's."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def input_from(item, name: str):
    """One parsed JSON value as ``(case, asked or None)``; :class:`~triage.errors.CaseError`
    names what is wrong."""
    from triage.assessment import to_case
    from triage.errors import CaseError

    if not isinstance(item, dict):
        raise CaseError(f"expected a JSON object with the case fields, got {json_kind(item)}")
    if "resourceType" in item:
        return _from_fhir(item, name)
    return to_case(item), None


def _from_fhir(doc: dict, name: str):
    """A FHIR resource as input: only a QuestionnaireResponse can be assessed."""
    from triage.errors import CaseError

    kind = doc.get("resourceType")
    if kind != "QuestionnaireResponse":
        raise CaseError(f"resourceType: {kind!r} cannot be assessed; give a case (JSON object with "
                        "\"version\": 1) or a FHIR QuestionnaireResponse")
    from triage import fhir

    return fhir.case_from_response(doc, "QuestionnaireResponse")


