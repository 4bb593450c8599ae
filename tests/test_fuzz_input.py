"""Fuzzing the input of ``assess``: whatever arrives, the command exits 0 (assessed) or 2 (a
clear message on standard error and nothing on standard output), never with a traceback, and
never hangs. Most runs are in-process (fast); a few are real subprocesses, as a user runs it."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import run_cli
from tests.inprocess import Outcome, run_main
from tests.strategies import PROPERTY, cases
from triage.cli import MAX_INPUT_BYTES, MAX_PROBLEMS
from triage.models import Case

FIELDS = list(Case.model_fields)


def check(result: Outcome) -> Outcome:
    """The promise every input gets."""
    assert result.code in (0, 2), (result.code, result.err[-2000:])
    assert "Traceback" not in result.err
    if result.code == 2:
        assert result.err.startswith("dystonia-triage: "), result.err[:300]
        assert result.out == "", "nothing half-written on a refused input"
    else:
        assert result.out.strip() and result.err == ""
    return result


def assess_bytes(data: bytes, *options: str) -> Outcome:
    return check(run_main(["assess", "-", *options], stdin=data))


json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
                | st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=15,
)


@PROPERTY
@given(st.binary(max_size=300))
def test_any_bytes(data):
    assess_bytes(data)


@PROPERTY
@given(st.text(max_size=300))
def test_any_text_including_odd_unicode(text):
    assess_bytes(text.encode("utf-8"))


@PROPERTY
@given(json_values)
def test_any_json_document(doc):
    assess_bytes(json.dumps(doc).encode())


@PROPERTY
@given(cases(), st.sampled_from([*FIELDS, "Version", "symptom", "", "ä½ å¥½", "\u202eage", "age\x00"]), json_values)
def test_a_valid_case_with_one_field_set_to_anything(case, field, value):
    """Wrong types, unknown ids, unknown fields: refused with the field named, or assessed."""
    result = assess_bytes(json.dumps({**case, field: value}).encode(), "--format", "json")
    if result.code == 2:
        if "a number is far too long" in result.err:
            return  # refused before parsing, whatever field holds it (issue 12)
        if field in FIELDS:
            assert field in result.err
        else:
            assert "unknown field" in result.err and "allowed fields" in result.err
    else:
        assert json.loads(result.out)["disclaimer"]


@PROPERTY
@given(cases(), st.data())
def test_a_valid_case_with_its_json_text_damaged(case, data):
    """Characters deleted, repeated or replaced anywhere: malformed JSON of every kind."""
    text = list(json.dumps(case))
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(data.draw(st.integers(1, 4))):
        i = rng.randrange(len(text))
        action = rng.choice(["delete", "repeat", "replace"])
        if action == "delete" and len(text) > 1:
            del text[i]
        elif action == "repeat":
            text.insert(i, text[i])
        else:
            text[i] = rng.choice('{}[]":,0123456789 -+.eEtfnul\\\u00e9\u2028\ufeff')
    assess_bytes("".join(text).encode("utf-8"))


@PROPERTY
@given(st.lists(cases(), min_size=1, max_size=3), st.data())
def test_a_batch_with_one_bad_case_gives_no_output_at_all(batch, data):
    bad = data.draw(st.sampled_from([{"version": 2}, {"version": 1, "age": -1}, [], "case", {"version": 1, "x": 1}]))
    at = data.draw(st.integers(0, len(batch)))
    result = assess_bytes(json.dumps(batch[:at] + [bad] + batch[at:]).encode(), "--format", "json")
    assert result.code == 2 and f"case[{at}]" in result.err


@PROPERTY
@given(st.lists(cases(), min_size=1, max_size=3))
def test_a_batch_of_valid_cases_gives_one_assessment_each_in_order(batch):
    result = assess_bytes(json.dumps(batch).encode(), "--format", "json")
    assert result.code == 0
    assert len(json.loads(result.out)) == len(batch)


def deep(n: int, inner: str = "") -> str:
    return "[" * n + inner + "]" * n


CASE = b'{"version": 1, "symptoms": ["neck_craning"]}'


@pytest.mark.parametrize("data, code, says", [
    (b"", 2, "empty"),
    (b" \n\t ", 2, "empty"),
    (b"null", 2, "expected a JSON object"),
    (b"[]", 2, "the array is empty"),
    (b"[[]]", 2, "case[0]"),
    (b'"a case"', 2, "expected a JSON object"),
    (b"1e999", 2, "expected a JSON object"),
    (b'{"version": 1, "age": NaN}', 2, "age"),
    (b'{"version": 1, "age": Infinity}', 2, "age"),
    (b'{"version": 1, "age": 1e400}', 2, "age"),
    (b'{"version": 1, "age": 61.0}', 2, "age"),
    (b'{"version": true}', 2, "version"),
    (b'{"version": 1.0}', 2, "version"),
    (b'{"version": "1"}', 2, "version"),
    (b'{"version": 1, "age": ' + b"9" * 5000 + b"}", 2, "number is far too long"),
    (b'{"version": 1, "age": 1' + b"0" * 400 + b"}", 2, "number is far too long"),
    (deep(100_000).encode(), 2, "nested too deeply"),
    (b'{"version": 1, "symptoms": ' + deep(50_000).encode() + b"}", 2, "nested too deeply"),
    (b'{"version": 1, "symptoms": ' + deep(300, '"eye_blinking"').encode() + b"}", 2, "nested too deeply"),
    (b'{"version": 1, "symptoms": ' + deep(20, '"eye_blinking"').encode() + b"}", 2, "symptoms"),
    (b'{"version": 1, "regions": ' + b"{" * 5000 + b"}", 2, "nested too deeply"),
    (b'{"version": 1, "regions": ' + b"{" * 5 + b"}", 2, "not valid JSON"),
    (b"\xff\xfe{\x00}\x00", 2, "not UTF-8"),
    (b'{"version": 1, "\\ud800": 1}', 2, "broken character"),
    (b'{"version": 1, "symptoms": ["\\udfff"]}', 2, "symptoms[0]: contains a broken character"),
    (b'{"version": 1, "symptoms": ["eye_blinking\\u0000"]}', 2, "symptoms[0]"),
    (b'{"version": 1, "symptoms": ["\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xf0\x9f\x98\x80"]}', 2, "symptoms[0]"),
    (b'{"version": 1, "\xe2\x80\xaeage": 61}', 2, "unknown field"),
    (b"\xef\xbb\xbf" + CASE, 0, ""),  # a byte-order mark, as Windows editors write
    (CASE + b"\n" * 1000, 0, ""),
    (b'{"version": 1, "version": 1}', 2, "version: the key is given twice"),  # the last would win silently
])
def test_awkward_inputs(data, code, says):
    result = assess_bytes(data)
    assert result.code == code, result.err
    assert says in result.err


def test_an_input_of_exactly_the_limit_is_read_and_one_byte_more_is_refused():
    exact = CASE + b" " * (MAX_INPUT_BYTES - len(CASE))
    assert assess_bytes(exact).code == 0
    result = assess_bytes(exact + b" ")
    assert result.code == 2 and "larger than 1,000,000 bytes" in result.err


def test_a_flood_of_bad_values_gives_a_short_message():
    """A megabyte of wrong ids is counted, not listed: the message stays readable."""
    flood = b'{"version": 1, "symptoms": [' + b",".join([b'"x"'] * 200_000) + b"]}"
    result = assess_bytes(flood)
    assert result.code == 2
    assert "and 199,980 more problems" in result.err
    assert result.err.count("\n") == MAX_PROBLEMS + 2


@pytest.mark.parametrize("doc", [
    {"version": 1, "symptoms": ["x" * 500_000]},
    {"version": 1, "x" * 500_000: 1},
    {"version": "x" * 500_000},
])
def test_a_huge_value_is_not_echoed_back_in_full(doc):
    result = assess_bytes(json.dumps(doc).encode())
    assert result.code == 2 and len(result.err) < 2000


@PROPERTY
@given(st.lists(st.sampled_from(["assess", "-", "--format", "json", "text", "markdown", "html",
                                 "--formats", "-x", "--", "", "é", "a b"]), max_size=5))
def test_any_arguments_to_assess(args):
    result = run_main(["assess", *args], stdin=CASE)
    assert result.code in (0, 2)
    assert "Traceback" not in result.err


# --- as a user runs it: a few subprocesses ----------------------------------------------------

@pytest.mark.parametrize("data", [
    b"\x00\x01\x02garbage\xff",
    deep(200_000).encode(),
    b'{"version": 1, "age": ' + b"9" * 20_000 + b"}",
    b" " * (MAX_INPUT_BYTES + 10),
], ids=["binary", "deep", "long-number", "too-large"])
def test_the_command_refuses_awkward_input_without_a_traceback(data):
    proc = run_cli("assess", "-", input=data.decode("latin-1"))
    assert proc.returncode == 2, proc.stderr[-500:]
    assert proc.stderr.startswith("dystonia-triage: ") and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_an_endless_input_is_refused_quickly(tmp_path):
    """/dev/zero never ends: only the first megabyte is read, then the input is refused."""
    proc = run_cli("assess", "/dev/zero")
    assert proc.returncode == 2 and "larger than" in proc.stderr


# --- FHIR QuestionnaireResponse input (assess reads it back as a case) -------------------------

def paths(doc, here=()):
    """Every place in a JSON document: tuples of keys and indexes."""
    yield here
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from paths(v, here + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from paths(v, here + (i,))


def mutated(doc, path, action, value):
    """A copy of ``doc`` with the value at ``path`` replaced, deleted or wrapped in a list."""
    doc = json.loads(json.dumps(doc))
    if not path:
        return value
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "wrap":
        parent[last] = [parent[last]]
    else:
        parent[last] = value
    return doc


@PROPERTY
@given(cases(), st.data())
def test_a_fhir_response_with_any_part_damaged(case, data):
    """A valid QuestionnaireResponse with one part replaced by anything, deleted or wrapped in
    a list: read back and assessed, or refused with a message; never a traceback."""
    from triage import fhir
    from triage.assessment import to_case

    doc = fhir.response_from_case(to_case(case))
    if data.draw(st.booleans()):
        doc = fhir.bundle([doc])
    path = data.draw(st.sampled_from(list(paths(doc))))
    action = data.draw(st.sampled_from(["replace", "delete", "wrap"]))
    value = data.draw(json_values)
    assess_bytes(json.dumps(mutated(doc, path, action, value)).encode())


@PROPERTY
@given(st.binary(max_size=200) | json_values.map(lambda d: json.dumps(d).encode()))
def test_explain_takes_any_input_without_a_traceback(data):
    check(run_main(["explain", "-"], stdin=data))
