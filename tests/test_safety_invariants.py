"""Safety invariants, checked by hypothesis over generated valid cases.

Each property is something a person relies on whatever they answer: the disclaimer, a care
level at least as urgent as every warning sign, conclusions that name the rules behind them,
results that do not depend on how the answers were listed, and wording that never diagnoses
and never advises stopping a medicine.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.strategies import CARE_RANK, LISTS, PROPERTY, cases, shuffled_with_duplicates
from triage import assess
from triage.models import KB
from triage.render import FORMATS, render

FLAG_LEVEL = {f.id: f.care_level for f in KB.red_flags}


def rank(level: str) -> int:
    return CARE_RANK[level]


def dump(result) -> dict:
    return result.model_dump(mode="json")


@PROPERTY
@given(cases())
def test_the_disclaimer_is_always_there_and_says_only_a_neurologist_can_diagnose(case):
    result = assess(case)
    assert result.disclaimer.strip() == KB.text.disclaimer.strip()
    assert "neurologist" in result.disclaimer.lower()
    for fmt in FORMATS:
        assert " ".join(KB.text.disclaimer.split()) in " ".join(render([result], [None], fmt, False).split())


@PROPERTY
@given(cases(), st.data())
def test_every_red_flag_gives_at_least_its_own_care_level(case, data):
    flags = data.draw(st.lists(st.sampled_from(LISTS["red_flags"]), min_size=1, max_size=3, unique=True))
    result = assess({**case, "red_flags": flags})
    for flag in flags:
        assert rank(result.care_level) >= rank(FLAG_LEVEL[flag]), (flag, result.care_level)
    assert sorted(f.id for f in result.red_flags) == sorted(flags)  # every sign reported back, once
    assert result.care_level in ("emergency", "emergency_ambulance")


@PROPERTY
@given(cases())
def test_the_care_level_is_the_highest_any_rule_reached(case):
    result = assess(case)
    reached = [c["v"] for t in result.trace for c in t.concluded if c["t"] == "care"]
    expected = max(reached, key=rank) if reached else "information"
    assert result.care_level == expected, (reached, result.care_level)
    level = KB.by_id("care_levels")[result.care_level]
    assert (result.care_label, result.care_action) == (level.label, level.action)
    fired = {t.rule for t in result.trace}
    assert result.care_because and set(result.care_because) <= fired


def only_essential_tremor(result) -> bool:
    """The known exception (see the xfail below): essential tremor was the only thing
    recognised, so any answer that rules it out leaves nothing recognised."""
    return ([m.id for m in result.mimics] == ["essential_tremor"]
            and not result.candidates and not result.causes and result.care_level == "routine")


@PROPERTY
@given(cases(), st.sampled_from(["red_flags", "symptoms", "features", "history", "regions"]), st.data())
def test_adding_an_answer_never_lowers_the_care_level(case, field, data):
    """A red flag, a symptom, a feature, a history item or a region: more answers never make the
    advice less urgent."""
    extra = data.draw(st.sampled_from(LISTS[field]))
    before = assess(case)
    assume(not only_essential_tremor(before))
    after = assess({**case, field: [*case.get(field, []), extra]})
    assert rank(after.care_level) >= rank(before.care_level), (extra, before.care_level, after.care_level)


@pytest.mark.xfail(strict=True, reason=(
    "known: shaking alone may fit essential tremor (care: routine); an answer that rules essential "
    "tremor out and matches no other pattern (jerks, a sensory trick, task specificity) leaves "
    "nothing recognised (care: information), so more answers give less urgent advice. A rules "
    "decision for the lead; remove this marker and only_essential_tremor() once it is settled."))
@pytest.mark.parametrize("field, extra", [("symptoms", "jerks"), ("features", "sensory_trick"),
                                          ("features", "task_specific")])
def test_ruling_out_essential_tremor_does_not_lower_the_care_level(field, extra):
    before = assess({"version": 1, "symptoms": ["tremor"]})
    after = assess({"version": 1, "symptoms": ["tremor"], field: [extra]})
    assert rank(after.care_level) >= rank(before.care_level), (before.care_level, after.care_level)


@PROPERTY
@given(cases())
def test_every_conclusion_names_rules_that_fired(case):
    result = assess(case)
    fired = {t.rule for t in result.trace}
    conclusions = [*result.candidates, *result.causes, *result.mimics, *result.next_steps]
    for item in conclusions:
        name = getattr(item, "type", None) or item.id
        assert item.because, f"{name} names no rule"
        assert set(item.because) <= fired, f"{name} names rules that did not fire: {set(item.because) - fired}"


@PROPERTY
@given(cases())
def test_see_a_neurologist_is_always_a_next_step(case):
    steps = [s.id for s in assess(case).next_steps]
    assert "see_neurologist" in steps
    assert len(steps) == len(set(steps))


def ignoring_known_order_issues(doc: dict) -> dict:
    """The assessment with the two known order dependencies (below) set aside: the trace as a
    multiset of firings (each with its conclusions as a set), and the red flags as a set."""
    def firing(t: dict) -> str:
        return json.dumps({**t, "concluded": sorted(t["concluded"], key=json.dumps)}, sort_keys=True)

    return {**doc, "trace": sorted(firing(t) for t in doc["trace"]),
            "red_flags": sorted(doc["red_flags"], key=lambda f: f["id"])}


@PROPERTY
@given(cases(), st.data())
def test_the_order_of_list_items_and_duplicates_do_not_change_the_result(case, data):
    variant = shuffled_with_duplicates(data.draw, case)
    assert ignoring_known_order_issues(dump(assess(variant))) == ignoring_known_order_issues(dump(assess(case)))


@pytest.mark.xfail(strict=True, reason=(
    "known: firings of one rule on different answers are traced in the order the answers were "
    "listed, and a conclusion another firing reached first moves to the end of a firing's list; "
    "the conclusions are the same. Remove this marker once the trace order is canonical."))
@pytest.mark.parametrize("symptoms", [["foot_cramping", "foot_dragging"], ["widespread_spasms", "body_twisting"]])
def test_the_order_of_answers_does_not_change_the_trace(symptoms):
    one = assess({"version": 1, "symptoms": symptoms})
    other = assess({"version": 1, "symptoms": symptoms[::-1]})
    assert dump(one)["trace"] == dump(other)["trace"]


@pytest.mark.xfail(strict=True, reason=(
    "known: red flags are reported back in the order they were listed, not in a fixed order "
    "(triage/assessment.py). Remove this marker once they are ordered by the knowledge base."))
def test_the_order_of_red_flags_does_not_change_the_order_they_are_shown_in():
    one = assess({"version": 1, "red_flags": ["breathing_difficulty", "swallowing_difficulty"]})
    other = assess({"version": 1, "red_flags": ["swallowing_difficulty", "breathing_difficulty"]})
    assert [f.id for f in one.red_flags] == [f.id for f in other.red_flags]


@PROPERTY
@given(cases(), cases())
def test_the_same_case_always_gives_the_same_assessment(case, other):
    first = dump(assess(case))
    assess(other)  # nothing carries over from one assessment to the next
    assert dump(assess(dict(case))) == first


# --- wording -------------------------------------------------------------------------------

# "you have" telling someone what they have; not a question ("Do you have ...?") and not "you
# have not told us" or "you have noticed" (the questionnaire's own words).
DIAGNOSES = re.compile(
    r"(?<!\bdo )(?<!\bif )(?<!\bwhether )\byou(?: have|'ve got| are suffering from)\b"
    r"(?! (?:not|never|already|been|had|taken|told|noticed|answered|reported|said|seen)\b)",
    re.IGNORECASE)
MEDICINE = re.compile(r"\b(medicines?|medications?|drugs?|tablets?|pills?|doses?|prescriptions?)\b", re.IGNORECASE)
STOPPING = re.compile(r"\b(stop|stopping|quit|reduce|lower|change|changing|cut down|come off)\b", re.IGNORECASE)
NEGATED = re.compile(r"\b(do not|don't|never|not|without talking|talk with|ask)\b", re.IGNORECASE)


def strings(value) -> list[str]:
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v)]
    return []


def wording_problems(text: str) -> list[str]:
    """Sentences that say "you have" or advise stopping or changing a medicine."""
    flat = " ".join(text.split())
    problems = [m.group(0) for m in DIAGNOSES.finditer(flat)]
    for sentence in re.split(r"(?<=[.!?;])\s+|\n", flat):
        if MEDICINE.search(sentence) and STOPPING.search(sentence) and not NEGATED.search(sentence):
            problems.append(sentence)
    return problems


@pytest.mark.parametrize("text, bad", [
    ("This may fit the pattern of cervical dystonia.", False),
    ("You have cervical dystonia.", True),
    ("Based on this, you've got blepharospasm.", True),
    ("We think you have cervical dystonia", True),
    ("Do you have shaking?", False),
    ("Only parts you have not already told us about.", False),
    ("Do not stop or change a medicine on your own; talk with the prescriber.", False),
    ("Stop taking the medicine at once.", True),
    ("Reduce the dose of your tablets.", True),
    ("Severe spasms that do not stop, or get quickly worse over hours.", False),
])
def test_the_wording_check_catches_what_it_should(text, bad):
    assert bool(wording_problems(text)) is bad


@PROPERTY
@given(cases())
def test_no_output_says_you_have_or_advises_stopping_a_medicine(case):
    result = assess(case)
    for fmt in FORMATS:
        out = render([result], [None], fmt, False)
        texts = strings(json.loads(out)) if fmt == "json" else [out]
        problems = [p for t in texts for p in wording_problems(t)]
        assert not problems, (fmt, problems)


def test_no_text_in_the_knowledge_base_says_you_have_or_advises_stopping_a_medicine():
    """Every string a renderer could ever show, including those no generated case reached."""
    from triage import rulebook

    texts = strings(KB.model_dump()) + [r.explain for r in rulebook.default().rules]
    assert len(texts) > 100
    problems = {t: wording_problems(t) for t in texts if wording_problems(t)}
    assert not problems, problems
