"""Differential tests against the plain oracle (tests/oracle.py) beyond the region sets of
tests/test_distribution.py: regions derived from symptoms, myoclonus-dystonia, and regions
named together with symptoms, over generated cases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests import oracle
from tests.strategies import LISTS, PROPERTY, cases
from triage import assess
from triage.models import KB


def test_the_oracle_derives_regions_for_exactly_the_symptoms_of_the_knowledge_base():
    assert set(oracle.SYMPTOM_REGIONS) | {"speech_difficulty"} == set(LISTS["symptoms"])
    upper = {r.id for r in KB.regions if r.upper_body}
    assert upper == oracle.UPPER_BODY


@PROPERTY
@given(st.lists(st.sampled_from(LISTS["symptoms"]), unique=True, min_size=1, max_size=6), cases())
def test_regions_derived_from_symptoms_match_the_oracle(symptoms, other):
    """A case with symptoms and no regions: the rules' regions and candidate types are the
    oracle's, whatever the features, history, ages and flags."""
    case = {**other, "symptoms": symptoms}
    case.pop("regions", None)
    result = assess(case)
    assert set(result.regions) == oracle.regions_involved(symptoms), symptoms
    assert {c.type for c in result.candidates} == oracle.candidate_types(symptoms), symptoms


@PROPERTY
@given(cases(), st.lists(st.sampled_from(LISTS["regions"]), unique=True, min_size=1, max_size=5))
def test_named_regions_are_used_as_they_are_whatever_the_symptoms(case, regions):
    case = {**case, "regions": regions}
    result = assess(case)
    assert set(result.regions) == oracle.named(regions)
    assert {c.type for c in result.candidates} == oracle.candidate_types(case.get("symptoms", []), regions)
