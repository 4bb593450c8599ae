"""The teaching cases run as tests: each gives the assessment the clinical conventions lead one
to expect, and its explanation names only rules that actually fired."""

from __future__ import annotations

import pytest

from triage import explanation as explain
from triage import teaching
from triage.assessment import assess
from triage.errors import KnowledgeError
from triage.models import KB

CASES = teaching.default()


def _param(tc):
    marks = [pytest.mark.xfail(reason=tc.known_disagreement, strict=True)] if tc.known_disagreement else []
    return pytest.param(tc, id=tc.id, marks=marks)


@pytest.mark.parametrize("tc", [_param(tc) for tc in CASES])
def test_teaching_case_gives_the_expected_assessment(tc):
    assert teaching.compare(tc, assess(tc.case)) == []


@pytest.mark.parametrize("tc", CASES, ids=lambda tc: tc.id)
def test_explanation_names_only_rules_that_fired(tc):
    result = assess(tc.case)
    fired = {t.rule for t in result.trace}
    ex = explain.explain(tc.case)
    named = explain.rules_named(ex)
    assert named and named <= fired
    # every rule behind each candidate is in its explanation
    for c in result.candidates:
        tree = next(x for x in ex.conclusions if x.kind == "candidate" and x.id == c.type)
        assert set(c.because) <= explain.rules_named(explain.Explanation(
            case={}, care_level=ex.care_level, conclusions=[tree], not_concluded=[], disclaimer="x"))
    # and nothing the rules did not conclude is explained as concluded
    assert {x.id for x in ex.conclusions if x.kind == "candidate"} == {c.type for c in result.candidates}


def test_there_are_at_least_30_and_together_they_cover_everything():
    assert len(CASES) >= 30
    reached = {"types": set(), "causes": set(), "mimics": set(), "care_levels": set(),
               "next_steps": set(), "red_flags": set()}
    for tc in CASES:
        e = tc.expect
        reached["types"] |= set(e.types)
        reached["causes"] |= set(e.causes)
        reached["mimics"] |= set(e.mimics)
        reached["care_levels"].add(e.care_level)
        reached["next_steps"] |= set(e.next_steps)
        reached["red_flags"] |= set(tc.case.red_flags)
    for table, got in reached.items():
        assert set(KB.ids(table)) <= got, f"{table} not expected by any teaching case: {set(KB.ids(table)) - got}"


def test_stories_are_plain_and_never_say_you_have():
    for tc in CASES:
        for text in (tc.story, tc.teaching_point, tc.title):
            assert "you have" not in text.lower()


@pytest.mark.parametrize("change, message", [
    ("extra: 1\n", "extra"),
    ("", None),
])
def test_a_teaching_case_file_is_checked_strictly(tmp_path, change, message):
    src = teaching.cases_dir() / "writers_cramp.yaml"
    (tmp_path / "writers_cramp.yaml").write_text(src.read_text() + change)
    if message is None:
        assert [c.id for c in teaching.load(tmp_path)] == ["writers_cramp"]
    else:
        with pytest.raises(KnowledgeError, match=rf"writers_cramp.yaml: {message}"):
            teaching.load(tmp_path)


def test_an_unknown_id_in_a_teaching_case_names_the_file_and_the_key(tmp_path):
    src = (teaching.cases_dir() / "writers_cramp.yaml").read_text()
    (tmp_path / "writers_cramp.yaml").write_text(src.replace("upper_limb_right", "left_pinkie"))
    with pytest.raises(KnowledgeError, match=r"writers_cramp.yaml: case.regions.0"):
        teaching.load(tmp_path)


def test_the_file_name_must_be_the_id(tmp_path):
    src = (teaching.cases_dir() / "writers_cramp.yaml").read_text()
    (tmp_path / "other.yaml").write_text(src)
    with pytest.raises(KnowledgeError, match="must match the file name"):
        teaching.load(tmp_path)


@pytest.mark.parametrize("tc", CASES, ids=lambda tc: tc.id)
def test_every_teaching_case_can_be_given_through_the_questionnaire(tc):
    qa = teaching.interview(tc)
    assert [a for q, a in qa if not q] == []  # nothing the questions cannot give
    assert qa[0][0] == " ".join(KB.question("red_flags").ask.educator.split())  # warning signs first
