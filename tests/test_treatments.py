"""Treatments a neurologist may discuss: an entry with a source for every candidate type and
look-alike, words that pass the safety invariants, shown on every result (terminal, web,
appointment report, explain) except an emergency one, and ``check`` failing without them."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tests.test_safety_invariants import visible_text, wording_problems
from triage import report, teaching, treatments
from triage.assessment import assess
from triage.models import KB

HEADING = KB.treatment_words.heading
PATTERNS = [("types", i) for i in KB.ids("types")] + [("mimics", i) for i in KB.ids("mimics")]


def a_case_reaching(table: str, pattern: str):
    """A teaching case whose (non-emergency) result has the pattern."""
    for tc in teaching.default():
        a = assess(tc.case)
        found = {c.type for c in a.candidates} if table == "types" else {m.id for m in a.mimics}
        if pattern in found and not report.is_emergency(a):
            return tc.case, a
    pytest.fail(f"no teaching case reaches {pattern} without an emergency")


@pytest.mark.parametrize("table, pattern", PATTERNS, ids=[p for _t, p in PATTERNS])
def test_every_pattern_has_sourced_treatments_in_plain_safe_words_in_the_report(table, pattern):
    entries = KB.treatments.get(pattern)
    assert entries, f"{pattern}: no treatment entry"
    sources = KB.by_id("sources")
    options = KB.by_id("treatment_options")
    for e in entries:
        assert e.source in sources
        words = f"{options[e.option].label}: {options[e.option].text} {e.note or ''}"
        assert not wording_problems(words), words
        assert "should take" not in words.lower() and "you have" not in words.lower()
    case, a = a_case_reaching(table, pattern)
    steps = {s.id for s in a.next_steps}
    entries = [e for e in entries if e.with_step is None or e.with_step in steps]  # the rest: below
    md = report.markdown(a, case)
    html = visible_text(report.html_report(a, case), "html")
    text = report.text(a)
    for out in (md, html, text):
        section = out[out.index(HEADING):]
        for e in entries:
            assert options[e.option].label in section
        assert not wording_problems(section), wording_problems(section)
    citation = sources[entries[0].source].citation
    assert citation in " ".join(md.split()) and citation in " ".join(html.split())


@pytest.mark.parametrize("respondent, words", [
    ("self", "talk with the doctor who prescribes your medicines first"),
    ("caregiver", "for the person you care for"),
    ("clinician", "without the prescriber, agreed with the patient"),
])
def test_medicines_come_with_the_words_about_the_prescriber_for_each_respondent(respondent, words):
    case = {"version": 1, "respondent": respondent, "symptoms": ["neck_craning"], "features": ["sensory_trick"]}
    md = report.markdown(assess(case), __import__("triage.assessment", fromlist=["to_case"]).to_case(case))
    section = md[md.index(HEADING):]
    assert "Anticholinergic medicines" in section
    assert words in " ".join(section.split())
    assert "Do not start, stop or change a medicine" in section or respondent == "clinician"


def test_an_emergency_result_shows_no_treatments_only_emergency_care():
    a = assess({"version": 1, "symptoms": ["neck_craning"], "dopamine_blocker": "recent"})
    assert report.is_emergency(a) and a.candidates
    assert treatments.for_result(KB, a) is None
    for out in (report.text(a), report.markdown(a), report.html_report(a)):
        assert HEADING not in out
    explained = run_cli("explain", "-", input='{"version": 1, "symptoms": ["neck_craning"], "dopamine_blocker": "recent"}')
    assert explained.returncode == 0 and HEADING not in explained.stdout


def test_explain_lists_the_treatments_with_their_source_keys():
    r = run_cli("explain", "examples/blepharospasm.json")
    assert r.returncode == 0, r.stderr
    section = r.stdout[r.stdout.index(HEADING):]
    assert "Botulinum toxin injections" in section and "Source: AAN16" in section
    assert r.stdout.index("May fit the pattern of") < r.stdout.index(HEADING)


def test_an_option_listed_for_several_patterns_is_shown_once_naming_them():
    a = assess({"version": 1, "symptoms": ["eye_blinking", "face_grimacing"], "features": ["one_side_face"]})
    found = treatments.for_result(KB, a)
    assert found is not None
    ids = [o.id for o in found.options]
    assert len(ids) == len(set(ids))


def test_every_patterns_treatments_are_in_a_golden_report():
    from tests.conftest import ROOT

    sections = [part.split("\n## ", 1)[0] for p in sorted((ROOT / "tests" / "golden").glob("*.md"))
                for part in p.read_text().split(f"## {HEADING}\n")[1:]]
    options = KB.by_id("treatment_options")
    for table, pattern in PATTERNS:
        label = KB.by_id(table)[pattern].label
        mine = [s for s in sections if label in s]
        assert mine, f"no golden report lists the treatments for {pattern}"
        for e in KB.treatments[pattern]:
            assert any(options[e.option].label in s for s in mine), (pattern, e.option)


def test_a_patients_result_screen_leaves_the_source_keys_to_educators():
    """"Source: TERMSARASAB16" means nothing to a patient: the interview's result (rules off)
    lists the treatments without the keys; the educator's view and `assess` keep them, and
    the report a patient takes away spells the sources out."""
    tc = teaching.by_id("cervical_dystonia_trick")
    a = assess(tc.case)
    patient = report.text(a, rules=False, respondent="self")
    assert HEADING in patient and "Source:" not in patient[patient.index(HEADING):]
    assert "Source: AAN16" in report.text(a, rules=True)
    assert "Simpson et al." in report.markdown(a, tc.case)


@pytest.mark.parametrize("case, levodopa", [
    ({"age": 9, "symptoms": ["foot_cramping"]}, True),                         # a child's foot: the trial too
    ({"age": 66, "onset_age": 64, "symptoms": ["foot_cramping"], "history": ["parkinsons"]}, False),
    ({"age": 45, "symptoms": ["foot_cramping"]}, False),
    ({"age": 12, "regions": ["neck", "trunk", "lower_limb_left"]}, True),        # generalized, young
    ({"age": 50, "regions": ["neck", "trunk", "lower_limb_left"]}, False),
])
def test_levodopa_is_offered_only_beside_the_levodopa_trial(case, levodopa):
    # "Considered when dystonia of a foot or leg starts in childhood" was shown to a 64-year-old
    # with Parkinson's disease; the option now follows the rules' levodopa trial.
    a = assess({"version": 1, **case})
    found = treatments.for_result(KB, a)
    options = [o.id for o in found.options] if found else []
    assert ("levodopa" in options) == levodopa
    assert ("levodopa_trial" in [s.id for s in a.next_steps]) == levodopa
    assert "levodopa" not in report.text(a).lower().split("treatments a neurologist")[-1] or levodopa

