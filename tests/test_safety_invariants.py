"""Safety invariants, checked by hypothesis over generated valid cases.

Each property is something a person relies on whatever they answer: the disclaimer, a care
level at least as urgent as every warning sign, conclusions that name the rules behind them,
results that do not depend on how the answers were listed, and wording that never diagnoses
and never advises stopping a medicine.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import CARE_RANK, LISTS, PROPERTY, cases, shuffled_with_duplicates
from triage import assess
from triage.assessment import to_case
from triage.models import KB
from triage.render import FORMATS, render

FLAG_LEVEL = {f.id: f.care_level for f in KB.red_flags}


# Every format that shows a result; "fhir" is the case's answers as a QuestionnaireResponse.
RESULT_FORMATS = [f for f in FORMATS if f != "fhir"]


def visible_text(out: str, fmt: str) -> str:
    """What a reader sees: an HTML page without its tags, styles and scripts."""
    if fmt != "html":
        return out
    out = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", out)
    # a block or a table cell ends a sentence; inline tags (strong, a, ...) do not
    out = re.sub(r"(?i)</?(?:p|div|li|ul|ol|td|th|tr|table|h[1-6]|br|section|header|footer|dt|dd|dl)\b[^>]*>",
                 "\n\n", out)
    return html.unescape(re.sub(r"<[^>]+>", " ", out))


def rank(level: str) -> int:
    return CARE_RANK[level]


def dump(result) -> dict:
    return result.model_dump(mode="json")


@PROPERTY
@given(cases())
def test_the_disclaimer_is_always_there_and_says_only_a_neurologist_can_diagnose(case):
    result = assess(case)
    words = KB.text.disclaimer_for(case.get("respondent"))  # worded for who is answering
    assert result.disclaimer.strip() == words.strip()
    assert "neurologist" in result.disclaimer.lower() and "does not diagnose" in result.disclaimer
    for fmt in RESULT_FORMATS:
        shown = " ".join(visible_text(render([result], [to_case(case)], fmt, False), fmt).split())
        if fmt == "summary":  # the nurse's compact chart block: its heading says it instead
            assert "not a diagnosis" in shown
        else:
            assert " ".join(words.split()) in shown, fmt


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
    from triage.knowledge import worded

    assert (result.care_label, result.care_action) == (level.label, worded(level.action, case.get("respondent")))
    fired = {t.rule for t in result.trace}
    assert result.care_because and set(result.care_because) <= fired


@PROPERTY
@given(cases(), st.sampled_from(["red_flags", "symptoms", "features", "history", "regions"]), st.data())
def test_adding_an_answer_never_lowers_the_care_level(case, field, data):
    """A red flag, a symptom, a feature, a history item or a region: more answers never make the
    advice less urgent (with no exception since 2026-12-01: any shaking reaches routine)."""
    extra = data.draw(st.sampled_from(LISTS[field]))
    before = assess(case)
    after = assess({**case, field: [*case.get(field, []), extra]})
    assert rank(after.care_level) >= rank(before.care_level), (extra, before.care_level, after.care_level)


@pytest.mark.parametrize("field, extra", [("symptoms", "jerks"), ("features", "sensory_trick"),
                                          ("features", "task_specific")])
def test_ruling_out_essential_tremor_keeps_a_neurologist(field, extra):
    """Any shaking reaches 'routine' (decided 2026-12-01): ruling out the essential-tremor
    look-alike with a sensory trick, task specificity or jerks never drops the person to
    'information'. The old exception to "more answers never lower the care level" is gone."""
    shaking = {"version": 1, "symptoms": ["tremor"], "tremor_sites": ["arms"]}
    before = assess(shaking)
    after = assess({**shaking, field: [*shaking.get(field, []), extra]})
    assert (before.care_level, after.care_level) == ("routine", "routine")
    assert [m.id for m in before.mimics] == ["essential_tremor"] and not after.mimics


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


@PROPERTY
@given(cases(), st.data())
def test_the_order_of_list_items_and_duplicates_do_not_change_the_result(case, data):
    """The whole assessment, trace included: the same answers listed another way give the same
    result, byte for byte."""
    variant = shuffled_with_duplicates(data.draw, case)
    assert dump(assess(variant)) == dump(assess(case))


@pytest.mark.parametrize("field, items", [
    ("symptoms", ["foot_cramping", "foot_dragging"]),  # one rule firing on each answer
    ("symptoms", ["widespread_spasms", "body_twisting"]),  # two answers concluding the same region
    ("red_flags", ["breathing_difficulty", "swallowing_difficulty"]),  # the signs shown back
])
def test_answers_listed_the_other_way_round_give_the_same_trace_and_flags(field, items):
    one = dump(assess({"version": 1, field: items}))
    other = dump(assess({"version": 1, field: items[::-1]}))
    assert (one["trace"], one["red_flags"]) == (other["trace"], other["red_flags"])


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
STOPPING = re.compile(r"\b(stop|stops|stopped|stopping|quit|reduce|reduced|lower|lowered|change|changed|changing|"
                      r"cut down|come off|taper)\b", re.IGNORECASE)
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


# the stopping word and the medicine within a few words of each other, either way round
NEAR = r"\W+(?:\w+\W+){0,5}?"
ADVICE = re.compile(rf"{STOPPING.pattern}{NEAR}{MEDICINE.pattern}|{MEDICINE.pattern}{NEAR}{STOPPING.pattern}",
                    re.IGNORECASE)
# where a sentence ends: punctuation, a table cell, a blank line, a heading or a list item
BREAKS = re.compile(r"(?<=[.!?;])\s+|\||\n\s*\n|\n\s*(?=[#*>-]|\d+\.)")


def wording_problems(text: str) -> list[str]:
    """Sentences that say "you have" or advise stopping or changing a medicine."""
    problems = [m.group(0) for m in DIAGNOSES.finditer(" ".join(text.split()))]
    for sentence in BREAKS.split(text):
        sentence = " ".join(sentence.split())
        if ADVICE.search(sentence) and not NEGATED.search(sentence):
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
    ("The medicine should be stopped.", True),
    ("| Lower face, jaw and tongue |\n| A medicine started in the last 7 days | Yes |", False),
    ("Severe spasms that do not stop, or get quickly worse over hours.", False),
])
def test_the_wording_check_catches_what_it_should(text, bad):
    assert bool(wording_problems(text)) is bad


@PROPERTY
@given(cases())
def test_no_output_says_you_have_or_advises_stopping_a_medicine(case):
    result = assess(case)
    for fmt in FORMATS:
        out = render([result], [to_case(case)], fmt, False)
        texts = strings(json.loads(out)) if fmt in ("json", "fhir") else [visible_text(out, fmt)]
        problems = [p for t in texts for p in wording_problems(t)]
        assert not problems, (fmt, problems)


def test_no_text_in_the_knowledge_base_says_you_have_or_advises_stopping_a_medicine():
    """Every string a renderer could ever show, including those no generated case reached."""
    from triage import rulebook

    texts = strings(KB.model_dump()) + [r.explain for r in rulebook.default().rules]
    assert len(texts) > 100
    problems = {t: wording_problems(t) for t in texts if wording_problems(t)}
    assert not problems, problems


def test_a_rule_that_matches_a_pattern_says_the_answers_may_fit_it_never_that_they_fit():
    # the rules' explanations are shown to patients under every conclusion ("why"): a pattern
    # the answers match is one they "may fit the pattern of", never one they simply "fit"
    import re

    from triage import rulebook

    flat = re.compile(r"\b(?<!may )(?<!may possibly )fits?\b", re.I)
    said = {r.id: r.explain for r in rulebook.default().rules if flat.search(r.explain)}
    assert not said, said


@pytest.mark.parametrize("respondent, words", [
    (None, "Please see one."), ("self", "Please see one."), ("caregiver", "help the person you care for to see one"),
    ("clinician", "refer the patient to one"), ("educator", "the person in the case should see one"),
])
def test_the_disclaimer_speaks_to_who_is_answering(respondent, words):
    # a nurse was told "Please see one"; every wording still says only a neurologist can diagnose
    case = {"version": 1, "symptoms": ["neck_craning"], **({"respondent": respondent} if respondent else {})}
    result = assess(case)
    assert words in " ".join(result.disclaimer.split())
    assert "Only a neurologist can diagnose dystonia" in result.disclaimer
    shown = " ".join(render([result], [to_case(case)], "text", False).split())
    assert words in shown
