"""Every resource the tool emits validates with fhir.resources (where it is made) and with two
validators nobody here wrote: Medplum's R4 validator and the HL7 R4 JSON Schema (see
tests/fhir_validators.py; ./dev test installs them from npm)."""

from __future__ import annotations

import copy

import pytest

from tests.fhir_validators import assert_valid, medplum_problems, schema_problems
from triage import assess, fhir, fhir_results, fhir_terminology, teaching


def emitted() -> list[dict]:
    """What the tool writes: the Questionnaires, the code systems and value sets, and for
    every teaching case its QuestionnaireResponse and its results Bundle."""
    docs = fhir.questionnaires() + fhir_terminology.code_systems() + fhir_terminology.value_sets()
    for tc in teaching.default():
        docs.append(fhir.response_from_case(tc.case))
        docs.append(fhir_results.result_bundle(tc.case, assess(tc.case)))
    return docs


def test_everything_the_tool_emits_validates_with_medplum_and_the_hl7_json_schema():
    assert_valid(emitted())


def test_the_validators_do_find_problems():
    """Not vacuous: both validators refuse a broken Questionnaire, and Medplum a response that
    breaks qrs-1 (the rule the tool's reader also enforces)."""
    bad = copy.deepcopy(fhir.questionnaire())
    bad["status"] = "published"  # not a publication status
    bad["item"][0]["linkID"] = "x"  # not an element
    assert schema_problems(bad) and medplum_problems([bad])[0]
    qr = fhir.response_from_answers({"red_flags": [], "respondent": "self"})
    qr["item"][0]["item"][0]["item"] = [{"linkId": "x"}]
    (found,) = medplum_problems([qr])
    assert any("qrs-1" in p for p in found)
    with pytest.raises(fhir.ResponseError, match="qrs-1"):
        fhir.answers_from_response(qr)
