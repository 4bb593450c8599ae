"""The fast paths print exactly what the plain ones print: JSON through orjson
(``assessment.to_json``) is byte-identical to Pydantic's ``model_dump_json`` and to
``json.dumps(model_dump(), indent=2)``; text with its cached paragraphs is
identical to text filled afresh; and the assessment, built without validation, is valid."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT
from triage import assess, render, report, teaching
from triage.assessment import to_case, to_json
from triage.models import Assessment

CASES = [tc.case for tc in teaching.default()] + [
    json.loads(p.read_text()) for p in sorted((ROOT / "tests" / "report_cases").glob("*.json"))
]


@pytest.fixture(scope="module")
def results():
    return [assess(c) for c in CASES], [to_case(c) for c in CASES]


def test_json_is_byte_identical_to_json_dumps(results):
    assessed, cases = results
    for a, c in zip(assessed, cases):
        assert render.render([a], [c], "json", False) == \
            json.dumps(a.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    assert render.render(assessed, cases, "json", True) == \
        json.dumps([a.model_dump(mode="json") for a in assessed], indent=2, ensure_ascii=False) + "\n"


def test_text_with_cached_paragraphs_is_the_text_filled_afresh(results, monkeypatch):
    assessed, _cases = results
    cached = [report.text(a) for a in assessed] + [report.text(a) for a in assessed]
    monkeypatch.setattr(report, "_wrap", report._wrap.__wrapped__)
    fresh = [report.text(a) for a in assessed]
    assert cached == fresh + fresh


def test_the_assessment_built_without_validation_is_valid(results):
    assessed, _cases = results
    for a in assessed:
        again = Assessment.model_validate(a.model_dump(mode="json"))
        assert again.model_dump() == a.model_dump()
        assert again.model_dump_json() == a.model_dump_json()


def test_to_json_is_pydantics_json_on_every_case():
    """Every case of the engine's tests (each dystonia type, region set, cause and red flag):
    the assessment built from the run, and the same assessment validated again from its JSON
    (fields then in the models' own order), give Pydantic's bytes, compact and indented."""
    from tests.test_engine import _every_case

    count = 0
    for case in _every_case():
        a = assess(case)
        for one in (a, Assessment.model_validate_json(a.model_dump_json())):
            assert to_json(one) == one.model_dump_json().encode()
            assert to_json(one, indent=True) == one.model_dump_json(indent=2).encode()
        count += 1
    assert count > 2000
