"""Whole interviews driven through questionary with named keys (pipe input, DummyOutput)."""

from __future__ import annotations

import io
import json
import os
import re
import stat

import pytest

from tests.interview_keys import FINISH, IV, KB, Keys, answer, drive, keys_for, path
from triage import fhir
from triage.terminal.interview import ANSWERS_FILE, DONE
from triage.terminal.prompts import fit_choice, fit_prompt

def flat(text: str) -> str:
    return " ".join(text.split())


ADULT = {"red_flags": [], "respondent": "self", "dopamine_blocker": "none", "history": []}

# one complete path per dystonia type: (script, expected first candidate)
TYPES = [
    ({"age": 61, "onset_age": 58, "symptoms": ["eye_blinking"], "sensory_trick": "yes"}, "focal.blepharospasm"),
    ({"age": 45, "onset_age": 40, "symptoms": ["neck_craning"], "sensory_trick": "yes"}, "focal.cervical"),
    ({"age": 55, "onset_age": 50, "symptoms": ["jaw_tongue_movements"]}, "focal.facial"),
    ({"age": 40, "onset_age": 35, "symptoms": ["speech_difficulty"]}, "focal.laryngeal"),
    ({"age": 45, "onset_age": 40, "symptoms": ["hand_difficulty"], "hand_side": "right",
      "task_specific": "yes"}, "focal.upper_limb"),
    ({"age": 30, "onset_age": 25, "symptoms": ["foot_cramping"], "foot_side": "left"}, "focal.lower_limb"),
    ({"age": 50, "onset_age": 45, "symptoms": ["body_twisting"]}, "focal.truncal"),
    ({"age": 50, "onset_age": 45, "symptoms": ["neck_craning"], "other_regions": ["upper_limb_right"]}, "segmental"),
    ({"age": 50, "onset_age": 45, "symptoms": ["eye_blinking", "hand_difficulty"]}, "multifocal"),
    ({"age": 12, "onset_age": 8, "symptoms": ["widespread_spasms"]}, "generalized"),
    ({"age": 60, "onset_age": 58, "symptoms": ["hand_difficulty", "foot_dragging"], "hand_side": "left",
      "foot_side": "left", "history": ["stroke"]}, "hemidystonia"),
    ({"age": 18, "onset_age": 10, "symptoms": ["jerks", "neck_craning"], "alcohol_improves": "yes"},
     "myoclonus_dystonia"),
]


@pytest.mark.parametrize("script, expected", TYPES, ids=[t for _, t in TYPES])
def test_a_complete_path_for_every_type(script, expected):
    script = {**ADULT, **script}
    steps = path(script)
    result = drive(*keys_for(script), FINISH)
    assert result.code == 0, result.out
    assert result.flow.asked == [s.qid for s in steps]
    shown = result.flow.shown
    assert shown.candidates[0].type == expected
    assert flat(shown.candidates[0].label) in flat(result.out)
    assert flat(shown.disclaimer) in flat(result.out)


def test_an_emergency_is_shown_at_once_before_any_other_question():
    script = {**ADULT, "red_flags": ["breathing_difficulty"], "age": 40, "symptoms": ["neck_craning"]}
    result = drive(answer("red_flags", ["breathing_difficulty"]),
                   Keys.ENTER,  # go on with the questions: yes
                   *keys_for(script)[1:], FINISH)
    assert result.code == 0, result.out
    out = result.out
    assert "!!!!\nEMERGENCY: CALL AN AMBULANCE NOW\n!!!!" in out
    assert out.index("EMERGENCY") < out.index("-- About the person --")
    label = KB.by_id("red_flags")["breathing_difficulty"].label
    assert label in " ".join(out[out.index("EMERGENCY"):out.index("-- About the person --")].split())
    # what to do before going on is said, as on the web page
    assert flat(KB.interview.worded("emergency_after", None)) in flat(out[:out.index("-- About the person --")])
    assert result.flow.shown.care_level == "emergency_ambulance"


def test_after_an_emergency_the_person_can_stop_and_see_the_result_at_once():
    result = drive(answer("red_flags", ["stroke_signs"]),
                   Keys.DOWN + Keys.ENTER,  # go on? No
                   Keys.ENTER * 3)  # how: finish; no saves
    assert result.code == 0, result.out
    assert result.flow.asked == ["red_flags"]
    assert "CARE LEVEL: EMERGENCY: CALL AN AMBULANCE NOW" in result.out


def test_an_acute_drug_reaction_later_in_the_interview_is_shown_at_once():
    script = {**ADULT, "age": 30, "onset_age": 30, "symptoms": ["neck_craning"], "onset": "sudden",
              "dopamine_blocker": "recent"}
    steps = path(script)
    at = [s.qid for s in steps].index("dopamine_blocker")
    keys = [s.keys() for s in steps]
    keys.insert(at + 1, Keys.ENTER)  # go on after the emergency
    result = drive(*keys, FINISH)
    assert result.code == 0, result.out
    assert result.out.count("!!!!\nEMERGENCY: GO TO AN EMERGENCY DEPARTMENT NOW") == 1
    # the last words on the screen, after the saves, say again what to do now
    level = KB.by_id("care_levels")["emergency"]
    from triage.knowledge import worded
    last = result.out.rstrip("\n").splitlines()[-4:]
    assert " ".join(" ".join(last).split()).startswith(
        " ".join(f"{level.label.upper()}: {worded(level.action, 'self')}".split())), last
    assert result.flow.shown.care_level == "emergency"
    assert "drug reaction" in result.out.lower() or "dopamine" in result.out.lower()


def test_a_look_alike_lowers_the_candidate_and_is_named():
    script = {**ADULT, "age": 55, "onset_age": 50, "symptoms": ["eye_blinking"], "one_side_face": "yes"}
    result = drive(*keys_for(script), FINISH)
    assert [m.id for m in result.flow.shown.mimics] == ["hemifacial_spasm"]
    assert result.flow.shown.candidates[0].support == "possible"
    assert "Look-alike conditions to rule out:" in result.out
    assert "one_side_face" in result.flow.asked


def test_review_lets_any_answer_be_changed():
    script = {**ADULT, "age": 61, "onset_age": 58, "symptoms": ["eye_blinking"], "sensory_trick": "yes"}
    steps = path(script)
    answered = [s.qid for s in steps]
    up = len(answered) - answered.index("symptoms")  # from "show the result" up to the symptoms
    change = Keys.UP * up + Keys.ENTER + answer("symptoms", ["eye_blinking", "neck_craning"],
                                                 previous=["eye_blinking"])
    after = path({**script, "symptoms": ["eye_blinking", "neck_craning"]})
    new = [s.keys() for s in after if s.qid not in answered]
    result = drive(*keys_for(script), change, *new, FINISH)
    assert result.code == 0, result.out
    assert result.out.count("-- Your answers --") == 2
    assert result.flow.shown.candidates[0].type == "segmental"


def test_going_back_returns_to_the_previous_question_with_its_answer():
    keys = [answer("red_flags", []), answer("respondent", "self"),
            Keys.BACK,  # at the age question: back to "who is answering"
            answer("respondent", "caregiver", previous="self")]
    script = {**ADULT, "respondent": "caregiver", "age": 70, "onset_age": 65, "symptoms": ["neck_craning"]}
    keys += [s.keys() for s in path(script)[2:]]
    result = drive(*keys, FINISH)
    assert result.code == 0, result.out
    assert result.flow.asked[:4] == ["red_flags", "respondent", "age", "respondent"]
    assert result.flow.session.answers["respondent"] == "caregiver"
    assert result.flow.shown.candidates[0].type == "focal.cervical"


def test_back_at_the_first_question_stays_there():
    result = drive(Keys.BACK, answer("red_flags", ["eyes_stuck_upward"]), Keys.DOWN + Keys.ENTER, Keys.ENTER * 3)
    assert result.code == 0
    assert result.flow.asked == ["red_flags", "red_flags"]


def test_the_why_key_explains_from_the_rules_and_asks_again():
    script = {**ADULT, "age": 61, "onset_age": 58, "symptoms": ["eye_blinking"], "sensory_trick": "yes"}
    keys = keys_for(script)
    at = [s.qid for s in path(script)].index("sensory_trick")
    keys.insert(at, Keys.WHY)
    result = drive(*keys, FINISH)
    assert result.code == 0, result.out
    why = flat(result.out[result.out.index("Why this question is asked"):])
    assert "If “Yes”: Blepharospasm (focal dystonia of the eyelids) becomes a strong match." in why
    assert "A sensory trick or task specificity is a hallmark of dystonia" in why
    assert result.flow.shown.candidates[0].support == "strong"


def test_the_how_view_shows_the_rules_and_the_answers_behind_a_candidate():
    script = {**ADULT, "age": 61, "onset_age": 58, "symptoms": ["eye_blinking"], "sensory_trick": "yes"}
    # review: show the result; how: from "Finish" up to the first candidate (after the care
    # level and the cause); then finish, and no saves
    result = drive(*keys_for(script), Keys.ENTER, Keys.UP * 2 + Keys.ENTER, Keys.ENTER * 3)
    assert result.code == 0, result.out
    text = result.out[result.out.index("How this was reached"):]
    book = IV.book
    for rule_id in ("focal", "hallmark_raises_distribution_type"):  # in their own words, without their ids
        assert " ".join(book.rule(rule_id).explain.split()) in " ".join(text.split())
        assert f"{rule_id}:" not in text
    assert "Blinking that cannot be controlled" in text
    assert "foot that moves)? Yes" in text
    # an educator answering sees each rule's id too
    taught = drive(*keys_for({**script, "respondent": "educator"}), Keys.ENTER, Keys.UP * 2 + Keys.ENTER,
                   Keys.ENTER * 3)
    text = taught.out[taught.out.index("How this was reached"):]
    assert "focal:" in text and "hallmark_raises_distribution_type:" in text


def test_an_educator_sees_each_rule_as_it_fires():
    script = {**ADULT, "age": 61, "onset_age": 58, "symptoms": ["eye_blinking"]}
    result = drive(*keys_for(script), FINISH, educator=True)
    assert "Rule fired: focal (" in result.out
    assert "Rule fired: region_implied_by_symptom (" in result.out


def test_ctrl_c_saves_the_answers_and_resume_gives_the_same_assessment(tmp_path):
    script = {**ADULT, "age": 45, "onset_age": 40, "symptoms": ["hand_difficulty"], "hand_side": "both",
              "task_specific": "yes"}
    steps = path(script)
    straight = drive(*keys_for(script), FINISH).flow.shown
    half = len(steps) // 2
    first = drive(*[s.keys() for s in steps[:half]], Keys.CTRL_C,
                  Keys.ENTER,  # save? yes (the default)
                  Keys.ENTER,  # the file name offered
                  folder=tmp_path)
    saved = tmp_path / ANSWERS_FILE
    assert first.code == 130
    assert "dystonia-triage interview --resume" in first.out
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    doc = json.loads(saved.read_text())
    assert doc["resourceType"] == "QuestionnaireResponse" and doc["status"] == "in-progress"
    answers, _regions, _status = fhir.answers_from_response(doc)
    session = first.flow.iv.session(answers)
    assert list(session.answers) == [s.qid for s in steps[:half]]
    second = drive(*[s.keys() for s in steps[half:]], FINISH, session=session)
    assert second.code == 0, second.out
    assert second.flow.shown == straight


def test_a_second_ctrl_c_quits_without_a_traceback(tmp_path):
    result = drive(answer("red_flags", []), Keys.CTRL_C, Keys.CTRL_C, folder=tmp_path)
    assert result.code == 130
    assert "Traceback" not in result.out
    assert "Nothing was saved" in result.out
    assert not list(tmp_path.iterdir())


def test_keys_that_run_out_end_the_interview_instead_of_hanging():
    result = drive(answer("red_flags", []))
    assert result.code == 2
    assert "ended before the questionnaire was finished" in result.out


ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def screen_text(screen: io.StringIO) -> str:
    """What a terminal shows, as one line of words (escape sequences taken out)."""
    return flat(ESCAPES.sub("", screen.getvalue()).replace("\r\n", "\n").replace("\r", ""))


@pytest.mark.parametrize("width", [50, 80])
def test_long_questions_are_wrapped_to_the_terminal_and_never_cut_off(width):
    script = {**ADULT, "age": 45, "onset_age": 40, "symptoms": ["neck_craning"], "sensory_trick": "unsure",
              "task_specific": "yes"}
    screen = io.StringIO()
    result = drive(*keys_for(script), FINISH, width=width, screen=screen)
    assert result.code == 0, result.out
    shown = screen_text(screen)
    for qid in result.flow.asked:
        q = KB.question(qid)
        wording = q.ask.for_(None if qid == "red_flags" else "self")
        assert flat(wording) in shown, qid  # every word of the question, while asked and answered
        if q.help:
            assert flat(q.help_for(None if qid == "red_flags" else "self")) in shown, qid
    assert "It is a typical sign of dystonia. Not sure" in shown  # the answered question, whole
    assert "(Space to tick, Enter when done; h: why, b: back)" in shown


class Recorder:
    """Stands in for the terminal at the review: records the rows offered, then continues."""

    def __init__(self):
        self.rows: list[str] = []

    def say(self, text: str = "") -> None:
        pass

    def select(self, message, options, default=None, extras=True, instruction=None):
        self.rows = [o.label for o in options]
        return DONE


@pytest.mark.parametrize("width", [40, 60, 100])
def test_the_review_shows_every_answer_in_short_rows_that_fit(width):
    script = {**ADULT, "age": 61, "onset_age": 58, "symptoms": ["eye_blinking", "neck_craning"],
              "sensory_trick": "yes"}
    flow = drive(*keys_for(script), FINISH).flow
    flow.io = recorder = Recorder()
    assert flow.review() == DONE
    rows = recorder.rows[:-1]
    assert len(rows) == len(flow.asked)
    assert rows[:3] == ["Warning signs now: None of these", "Answering for: I am answering about myself",
                        "Age: 61 years"]
    assert "Sensory trick: Yes" in rows and "Age at onset: 58 years" in rows
    assert "Symptoms: Neck or head pulled, turned or tilted on its own, " \
           "Blinking that cannot be controlled, eye twitching, or eyes squeezing shut" in rows
    for row in rows:  # as the select draws it: after a 3-column pointer, wrapped, nothing lost
        drawn = fit_choice(row, width, 3).split("\n")
        assert all(3 + len(line) < width for line in drawn), drawn
        assert flat(" ".join(drawn)) == flat(row)


def test_prompts_wrap_to_the_width_and_put_a_long_answer_on_its_own_line():
    message = KB.question("sensory_trick").ask.for_("self") + "\n  " + KB.question("sensory_trick").help_for("self")
    text = fit_prompt(message, 50, ["Yes", "No", "Not sure"])
    assert all(len(line) + 2 < 50 for line in text.split("\n"))
    assert flat(text) == flat(message)
    assert fit_prompt("How did the movements begin?", 50, ["It came on slowly, over weeks or longer"]) \
        == "How did the movements begin?\n "
    assert fit_prompt("How did the movements begin?", 80, ["It came on slowly, over weeks or longer"]) \
        == "How did the movements begin?"


def test_an_educator_answering_sees_each_rule_as_it_fires():
    script = {**ADULT, "respondent": "educator", "age": 61, "onset_age": 58, "symptoms": ["eye_blinking"]}
    result = drive(*keys_for(script), FINISH)
    assert result.code == 0, result.out
    out = result.out
    assert "Rule fired: focal (" in out and "Rule fired: early_onset" not in out
    assert out.index("Rule fired: region_implied_by_symptom") > out.index("-- Symptoms --")
    assert "Rule fired:" not in drive(*keys_for({**script, "respondent": "clinician"}), FINISH).out


def test_a_nurse_gets_the_chart_summary_with_the_result_and_a_patient_does_not():
    # a nurse (the clinician respondent) pastes one block into the record; it lists what the
    # patient denied, as `assess --format summary` of the same answers does
    script = {**ADULT, "age": 45, "onset_age": 40, "symptoms": ["neck_craning"], "sensory_trick": "yes"}
    heading = f"-- {KB.interview.chart_title} --"
    nurse = drive(*keys_for({**script, "respondent": "clinician"}), FINISH)
    assert nurse.code == 0, nurse.out
    chart = nurse.out.split(heading, 1)[1]
    assert chart.lstrip("\n").startswith(KB.chart.title)
    assert "Care level: " in chart and "Pertinent negatives: " in chart
    negatives = next(line for line in chart.splitlines() if line.startswith("Pertinent negatives: "))
    terms = KB.chart.terms  # the script answered no family history, no medicine, no other history
    for denied in (f"{KB.chart.negation} {terms.history['family_history']}", terms.dopamine_blocker["none"],
                   f"{KB.chart.negation} {terms.history['stroke']}"):
        assert denied in negatives, negatives
    assert nurse.out.index(heading) > nurse.out.index(f"-- {KB.interview.result_title} --")
    patient = drive(*keys_for({**script, "respondent": "self"}), FINISH)
    assert patient.code == 0 and heading not in patient.out and KB.chart.title not in patient.out


def test_the_help_under_a_question_is_worded_for_whoever_is_answering():
    script = {**ADULT, "age": 45, "onset_age": 40, "symptoms": ["neck_craning"]}
    for respondent, shown, not_shown in (
            ("self", "Doctors call this a sensory trick.", "geste antagoniste"),
            ("clinician", "A sensory trick (geste antagoniste) is a hallmark of dystonia.", "Doctors call this")):
        screen = io.StringIO()
        result = drive(*keys_for({**script, "respondent": respondent}), FINISH, screen=screen)
        assert result.code == 0, result.out
        assert flat(shown) in screen_text(screen) and not_shown not in screen_text(screen), respondent


def test_the_report_saved_after_a_full_interview_lists_the_pertinent_negatives(tmp_path):
    """What was asked and answered no is in the saved report, as on the web and in the file
    Ctrl-C saves: finishing never gives a poorer record than stopping early."""
    script = {**ADULT, "age": 61, "onset_age": 58, "symptoms": ["eye_blinking"], "sensory_trick": "yes"}
    result = drive(*keys_for(script),
                   Keys.ENTER,  # review: show the result
                   Keys.ENTER,  # how: finish
                   Keys.ENTER,  # save the answers? No (the default)
                   Keys.UP + Keys.ENTER,  # save the report? Yes
                   Keys.ENTER,  # the file name offered
                   folder=tmp_path)
    assert result.code == 0, result.out
    report = (tmp_path / "dystonia-triage-report.md").read_text()
    asked = result.flow.session.record()
    assert "breathing_difficulty" in asked.absent["red_flags"]
    assert "one_side_face" in asked.absent["features"]
    labels = {f.id: f.label for f in KB.features}
    assert labels["one_side_face"] in report.split(KB.report.absent, 1)[1]
    assert " ".join(KB.report.absent_not_known.split()) not in " ".join(report.split())
