"""The questionnaire's logic (triage.questionnaire): which question comes next, decided from the
rules and the answers so far; the case the answers make; saving and resuming."""

from __future__ import annotations

import pytest

from tests.interview_keys import IV, KB, path
from tests.interview_keys import asked as asked_in
from triage import assess
from triage.explanation import asked as why_mod
from triage.questionnaire.answers import AnswerError
from triage.questionnaire.session import Questionnaire

ADULT = {"red_flags": [], "respondent": "self", "dopamine_blocker": "none", "history": []}


def asked(script: dict) -> list[str]:
    return asked_in({**ADULT, **script})


def offered(script: dict, qid: str) -> list[str]:
    return next(s.offered for s in path({**ADULT, **script}) if s.qid == qid)


def test_red_flags_come_first_and_need_no_rules_engine():
    iv = Questionnaire(KB)
    assert iv.session().next_question().id == "red_flags"
    assert "engine" not in iv.assessor.__dict__  # the first question is shown before the engine is built


def test_questions_no_rule_reads_are_never_asked():
    path_ = asked({"age": 61, "onset_age": 58, "symptoms": ["eye_blinking"]})
    assert "course" not in path_ and "worse_with_stress" not in path_


@pytest.mark.parametrize("trick, task_asked", [("yes", False), ("no", True), ("unsure", True)])
def test_a_second_hallmark_is_asked_only_when_the_first_is_missing(trick, task_asked):
    path_ = asked({"age": 61, "onset_age": 58, "symptoms": ["neck_craning"], "sensory_trick": trick})
    assert ("task_specific" in path_) is task_asked


@pytest.mark.parametrize("symptoms, shown, hidden", [
    (["eye_blinking"], ["one_side_face", "urge_before"], ["better_after_sleep", "alcohol_improves"]),
    # a foot that turns in is not what a tic looks like: no urge question (knowledge/questions.yaml)
    (["foot_cramping"], ["better_after_sleep"], ["one_side_face", "alcohol_improves", "urge_before"]),
    (["foot_cramping", "jerks"], ["urge_before"], ["one_side_face"]),
    (["jerks", "neck_craning"], ["alcohol_improves", "urge_before"], ["better_after_sleep", "one_side_face"]),
])
def test_follow_ups_are_those_that_could_change_the_result(symptoms, shown, hidden):
    path_ = asked({"age": 40, "onset_age": 35, "symptoms": symptoms})
    assert set(shown) <= set(path_)
    assert not set(hidden) & set(path_)


def test_a_checklist_offers_only_the_choices_that_could_change_the_result():
    # the eyelids are already involved: ticking them again could change nothing
    choices = offered({"age": 61, "onset_age": 58, "symptoms": ["eye_blinking"]}, "other_regions")
    assert "eyes" not in choices and {"neck", "face_jaw", "upper_limb_right"} <= set(choices)


def test_both_sides_are_asked_when_together_they_could_make_hemidystonia():
    path_ = asked({"age": 60, "onset_age": 58, "symptoms": ["hand_difficulty", "foot_dragging"]})
    assert {"hand_side", "foot_side"} <= set(path_)


def test_the_side_is_not_asked_when_no_answer_could_change_the_result():
    # spasms throughout the body already involve both arms and legs: generalized either way
    path_ = asked({"age": 50, "onset_age": 45, "symptoms": ["widespread_spasms", "hand_difficulty", "foot_cramping"]})
    assert "hand_side" not in path_ and "foot_side" not in path_


def test_the_age_at_onset_is_asked_for_the_record_whenever_there_are_movements():
    # at 19 any onset is early, under 30 and under 50, so no answer changes the triage; but the
    # age at onset is part of the classification and the chart said "onset NK" without it
    assert "onset_age" in asked({"age": 19, "symptoms": ["widespread_spasms"]})
    assert "onset_age" in asked({"age": 35, "symptoms": ["widespread_spasms"]})
    assert "onset_age" not in asked({"age": 35, "symptoms": []})  # "None of these": nothing began
    q = IV.by_id["onset_age"]
    assert q.record is not None and "classified" in q.record.reason


def test_follow_ups_follow_the_symptoms():
    path_ = asked({"age": 40, "onset_age": 38, "symptoms": ["eye_blinking"]})
    assert "other_regions" in path_
    assert "hand_side" not in path_ and "foot_side" not in path_
    assert "foot_side" in asked({"age": 40, "onset_age": 38, "symptoms": ["foot_cramping"]})


@pytest.mark.parametrize("answers, regions", [
    ({"symptoms": ["hand_difficulty"], "hand_side": "left"}, ["upper_limb_left"]),
    ({"symptoms": ["hand_difficulty"], "hand_side": "both"}, ["upper_limb_left", "upper_limb_right"]),
    ({"symptoms": ["hand_difficulty"], "hand_side": "unsure"}, ["upper_limb"]),
    ({"symptoms": ["eye_blinking", "hand_difficulty"], "hand_side": "right"}, ["eyes", "upper_limb_right"]),
    ({"symptoms": ["speech_difficulty"], "other_regions": ["neck"]}, ["larynx", "neck"]),
    ({"symptoms": ["eye_blinking"], "other_regions": []}, None),
    ({"symptoms": ["eye_blinking"], "hand_side": "left"}, None),  # hand_side does not apply
])
def test_regions_named_in_answers_keep_the_regions_the_symptoms_imply(answers, regions):
    case = IV.record.case({"red_flags": [], **answers})
    assert case.get("regions") == regions


def test_the_case_is_a_valid_contract_case_with_only_what_was_answered():
    case = IV.record.case({"red_flags": ["stroke_signs"], "respondent": "caregiver", "age": 70, "onset_age": None,
                    "symptoms": ["neck_craning"], "sensory_trick": "unsure", "task_specific": "yes",
                    "onset": "sudden", "history": ["stroke"]})
    assert case == {"version": 1, "respondent": "caregiver", "age": 70, "onset": "sudden",
                    "red_flags": ["stroke_signs"], "symptoms": ["neck_craning"],
                    "features": ["task_specific"], "history": ["stroke"]}
    assert assess(case).care_level == "emergency_ambulance"


def test_an_answer_made_impossible_by_a_change_is_taken_back_and_asked_again():
    s = IV.session()
    for qid, value in [("red_flags", []), ("respondent", "self"), ("age", 40), ("symptoms", ["neck_craning"]),
                       ("dopamine_blocker", "none"), ("onset_age", 35)]:
        s.answer(qid, value)
    s.answer("age", 30)
    assert "onset_age" not in s.answers
    assert s.next_question().id == "onset_age"
    assert s.default("onset_age") == 35


def test_back_takes_back_the_last_answer():
    s = IV.session()
    s.answer("red_flags", [])
    s.answer("respondent", "clinician")
    assert s.back() == "respondent"
    assert s.next_question().id == "respondent"
    assert s.default("respondent") == "clinician"
    assert IV.session().back() is None


@pytest.mark.parametrize("qid, value, message", [
    ("age", 130, "a whole number from 0 to 120"),
    ("age", "sixty", "a whole number from 0 to 120"),
    ("symptoms", ["eye_blink"], "the answers are: foot_cramping, foot_dragging"),
    ("sensory_trick", "maybe", "the answers are: yes, no, unsure"),
    ("other_regions", ["knee"], "the answers are: eyes, face_jaw"),
    ("onset", "slow", "the answers are: gradual, sudden, unknown"),
])
def test_answers_are_checked(qid, value, message):
    with pytest.raises(AnswerError, match=message):
        IV.session().answer(qid, value)


def test_answers_saved_as_an_in_progress_response_resume_to_the_same_state():
    from triage import fhir

    s = IV.session()
    for qid, value in [("red_flags", []), ("respondent", "clinician"), ("age", 40),
                       ("symptoms", ["hand_difficulty"]), ("hand_side", "both"), ("sensory_trick", "unsure")]:
        s.answer(qid, value)
    doc = fhir.in_progress_response(s.active)
    assert doc["status"] == "in-progress"
    answers, regions, status = fhir.answers_from_response(doc)
    again = IV.session(answers)
    assert again.answers == s.answers and again.order == s.order and regions is None
    assert again.who() == "clinician"
    assert again.next_question() == s.next_question()
    for broken, message in [({"age": 400}, "age: .*from 0 to 120"),
                            ({"age": 30, "onset_age": 31}, "onset_age: .*from 0 to 30"),
                            ({"symptoms": ["eye_blink"]}, "symptoms: .*the answers are")]:
        with pytest.raises(AnswerError, match=message):
            IV.session(broken)


def why(qid: str, audience: str = "self", **answers) -> str:
    session = IV.session({"red_flags": [], "respondent": audience, **answers})
    return "\n".join(why_mod.why(session, KB.question(qid)))


BLEPHAROSPASM_61 = {"age": 61, "symptoms": ["eye_blinking"]}


@pytest.mark.parametrize("qid, answers, says", [
    # the age at onset: what each range of answers adds, down to the next steps and causes
    ("onset_age", BLEPHAROSPASM_61, [
        "If “20 or younger”: adds the possible cause “An inherited (genetic) cause”, tests for Wilson "
        "disease, genetic testing, a levodopa trial; takes away the possible cause “No cause found (idiopathic)",
        "If “21 to 29”: adds tests for Wilson disease, genetic testing.",
        "If “30 to 49”: adds tests for Wilson disease.",
        "Dystonia that starts at 20 or younger often has a genetic cause",
        "Every early-onset dystonia deserves a levodopa trial",
    ]),
    ("sensory_trick", {**BLEPHAROSPASM_61, "onset_age": 58}, [
        "If “Yes”: Blepharospasm (focal dystonia of the eyelids) becomes a strong match.",
        "A sensory trick or task specificity is a hallmark of dystonia",
    ]),
    ("one_side_face", {**BLEPHAROSPASM_61, "onset_age": 58}, [
        "If “Yes”: adds the look-alike “Hemifacial spasm”, a brain scan (MRI); takes away the possible cause "
        "“No cause found (idiopathic), the most common case in adults”; Blepharospasm (focal "
        "dystonia of the eyelids) becomes a possible match.",
        "Hemifacial spasm calls for a brain scan",
    ]),
    ("onset", {**BLEPHAROSPASM_61, "onset_age": 58}, [
        "If “It came on suddenly, within hours or days”: the care level becomes “See a doctor within 24 "
        "hours”; adds a brain scan (MRI).",
    ]),
    # a side changes the result only together with the other limb's side: hemidystonia
    ("hand_side", {"age": 60, "onset_age": 58, "symptoms": ["hand_difficulty", "foot_dragging"]}, [
        "together with the answer to: Foot or leg side",
        "adds the pattern “Hemidystonia (one side of the body)”",
    ]),
])
def test_why_says_what_each_answer_would_change_and_the_rules_behind_it(qid, answers, says):
    text = why(qid, **answers)
    for words in says:
        assert words in text, f"{words!r} not in:\n{text}"
    assert "onset_age_as_given" not in text  # rule ids are for educators


def test_a_question_asked_on_every_path_says_why_in_a_few_words():
    """'Why are you asking this?' at the symptoms or the warning signs gives the reason, not
    every choice's effect (a 688-word dump on the web before); educators still get the rules."""
    for qid in ("symptoms", "red_flags"):
        text = why(qid)
        assert KB.question(qid).always in text and len(text.split()) < 80, text
    teaching = why("red_flags", "educator")
    assert "If you tick “New trouble breathing, noisy breathing, or a throat that suddenly feels tight”" in teaching
    assert "the care level becomes “EMERGENCY: call an ambulance now”" in teaching


def test_an_educator_gets_the_chain_of_rules_with_their_ids():
    text = why("onset_age", "educator", **BLEPHAROSPASM_61)
    ids = [line.split(":")[0].strip() for line in text.split("The rules behind it:")[1].splitlines()[1:]]
    # from the rule that reads the answer, through early onset, to the rules that conclude
    assert ids[:3] == ["onset_age_as_given", "early_onset", "genetic_from_early_onset"]
    assert {"wilson_screening_for_onset_before_50", "genetic_testing_for_onset_before_30",
            "levodopa_trial_for_early_onset"} <= set(ids)
    assert "idiopathic (no longer applies)" in ids
    assert "If “20 or younger”" in text


def test_why_says_so_when_no_rule_reads_the_answer():
    assert why("course", **BLEPHAROSPASM_61).splitlines() == [KB.interview.why_none]
    # an answer no rule reads that decides whether a follow-up is asked says so, naming it
    follow_up = IV.session({"respondent": "caregiver"}).wording(KB.question("urge_to_move"))
    assert why("urge_before", "caregiver", age=11, symptoms=["eye_blinking"]).splitlines() == [
        KB.interview.why_opens.format(questions=follow_up)]
    assert why("respondent").splitlines()[0] == KB.question("respondent").always


def test_a_typical_focal_path_asks_at_most_fourteen_questions():
    for script in ({"age": 61, "onset_age": 58, "symptoms": ["eye_blinking"], "sensory_trick": "yes"},
                   {"age": 45, "onset_age": 40, "symptoms": ["neck_craning"], "sensory_trick": "yes"},
                   {"age": 41, "onset_age": 38, "symptoms": ["hand_difficulty"], "hand_side": "right",
                    "task_specific": "yes"}):
        assert len(asked(script)) <= 14


def test_questions_for_the_record_are_asked_when_they_are_relevant():
    """Clues the neurologist needs are asked even when they cannot change the triage."""
    child = asked({"age": 9, "symptoms": ["foot_cramping"], "foot_side": "left", "onset_age": 7})
    assert {"onset_age", "better_after_sleep", "family_history"} <= set(child)
    shaking = asked({"age": 68, "onset_age": 60, "symptoms": ["tremor"], "tremor_sites": ["arms"]})
    assert {"tremor_sites", "alcohol_improves", "task_specific"} <= set(shaking)
    adult_eyes = asked({"age": 61, "onset_age": 58, "symptoms": ["eye_blinking"]})
    assert "better_after_sleep" not in adult_eyes and "alcohol_improves" not in adult_eyes


@pytest.mark.parametrize("age", [0, 9, 68])
def test_a_question_asked_for_the_record_offers_every_choice(age):
    """Where the shaking is matters to the neurologist whatever it does to the triage: an
    infant's shaking, where no site changes the result, still gets every site to tick (not an
    empty list with only "Not sure")."""
    from triage.questionnaire.session import Questionnaire

    session = Questionnaire(KB).session({"red_flags": [], "respondent": "self", "age": age,
                                         "symptoms": ["tremor", "widespread_spasms"], "dopamine_blocker": "none"})
    q = session.next_question()
    assert q.id == "tremor_sites" and q.record is not None
    assert [c.id for c in session.offered(q)] == [c.id for c in q.choices]


def test_an_emergency_gives_its_reasons_once_each_as_one_sentence_for_a_banner():
    # a warning sign is its own reason (not also "This sign needs emergency care."); a recent
    # dopamine-blocking medicine is explained by its rule's words
    iv = Questionnaire(KB)
    s = iv.session()
    s.answer("red_flags", ["breathing_difficulty", "swallowing_difficulty"])
    flags = {f.id: f.label for f in KB.red_flags}
    e = s.emergency()
    assert e.reasons == [flags["breathing_difficulty"], flags["swallowing_difficulty"]]
    assert e.because() == f"{flags['breathing_difficulty']}; {flags['swallowing_difficulty']}."
    s = iv.session()
    s.answer("red_flags", [])
    s.answer("symptoms", ["neck_craning"])
    s.answer("dopamine_blocker", "recent")
    e = s.emergency()
    rule = IV.book.rule("acute_dystonic_reaction_is_an_emergency")
    assert e.reasons == [rule.explain]
    assert e.because() == rule.explain and not e.because().endswith("..")


def test_a_case_with_a_family_history_only_never_claims_the_other_history_was_denied():
    # family history is a yes/no of its own; the history checklist (stroke, brain injury,
    # Parkinson's) was not asked, so the answers rebuilt from the case leave it unanswered
    from triage.assessment import to_case

    case = to_case({"version": 1, "age": 12, "symptoms": ["widespread_spasms"], "history": ["family_history"]})
    answers = IV.record.answers_from_case(case)
    assert answers["family_history"] == "yes" and "history" not in answers
    assert not IV.record.asked(answers).absent.get("history")
    session = IV.session(answers)
    asked_after = []
    while (q := session.next_question()) is not None:
        asked_after.append(q.id)
        session.answer(q.id, q.quiet_answer())
    assert "history" in asked_after  # going on from the case asks it


def test_the_other_regions_question_offers_every_region_not_already_named():
    # Ken ticked a cramping foot and a hand: his neck pulls too, but neck and face were not
    # offered (they would not change "multifocal"). The neurologist needs every region.
    shown = offered({"age": 44, "symptoms": ["foot_cramping", "hand_difficulty"]}, "other_regions")
    assert {"neck", "face_jaw", "eyes", "larynx", "trunk"} <= set(shown)
    # a region the answers already point to is not offered again
    assert "neck" not in offered({"age": 44, "symptoms": ["neck_craning"]}, "other_regions")
    assert "neck" not in offered({"age": 58, "symptoms": ["tremor"], "tremor_sites": ["head"]}, "other_regions")


def test_a_choice_never_shown_is_never_recorded_as_denied():
    # After a head injury and a cramping foot, a stroke or a brain injury in the history
    # would change nothing, so the history checklist shows only Parkinson's disease. Its
    # "None of these" denies Parkinson's disease, not a stroke nobody asked about.
    script = {**ADULT, "red_flags": ["recent_head_injury"], "symptoms": ["foot_cramping"], "age": 40}
    steps = path(script)
    assert next(s.offered for s in steps if s.qid == "history") == ["parkinsons"]
    session = IV.session()
    for s in steps:
        session.answer(s.qid, s.value)
    absent = session.record().absent.get("history", [])
    assert "parkinsons" in absent and "stroke" not in absent and "brain_injury" not in absent
    from triage import report

    from triage.assessment import to_case

    summary = report.summary(session.assessment(), to_case(session.case()), asked=session.record())
    negatives = next(line for line in summary.splitlines() if line.startswith("Pertinent negatives:"))
    assert "no Parkinson's disease" in negatives and "stroke" not in negatives and "brain injury" not in negatives
