"""The fast paths print exactly what the plain ones print: JSON through Pydantic's serializer is
byte-identical to ``json.dumps(model_dump(), indent=2)``; text with its cached paragraphs is
identical to text filled afresh; and the assessment, built without validation, is valid."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT
from triage import assess, render, report, teaching
from triage.assessment import to_case
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
