"""The question data (knowledge/questions.yaml) is validated strictly at load: every reference
to the contract and to earlier questions is checked, and a broken copy names file and key."""

from __future__ import annotations


import pytest

from tests.conftest import edit
from triage import knowledge
from triage.errors import KnowledgeError


def test_red_flags_are_asked_first_and_the_contract_lists_are_all_offered():
    kb = knowledge.load()
    assert kb.questions[0].fills == "red_flags"
    offered = {}
    for q in kb.questions:
        ids = [q.value] if q.kind == "yes_no" else [i for c in q.choices for i in c.ids]
        offered.setdefault(q.fills, set()).update(ids)
    assert offered["red_flags"] == set(kb.ids("red_flags"))
    assert offered["symptoms"] == set(kb.ids("symptoms"))
    assert offered["features"] == {f.id for f in kb.features}
    assert offered["regions"] >= {r.id for r in kb.regions if r.side or not r.limb}
    assert offered["history"] == {h.id for h in kb.history}
    for field in ("respondent", "onset", "course", "dopamine_blocker"):
        assert offered[field] == {c.id for c in getattr(kb.case, field)}
    assert {"age", "onset_age"} <= set(offered)


def test_seed_symptoms_come_first_and_choices_carry_the_knowledge_base_words():
    kb = knowledge.load()
    symptoms = kb.question("symptoms")
    seed = [s.id for s in kb.symptoms if s.seed]
    assert [c.id for c in symptoms.choices[:len(seed)]] == seed
    labels = {s.id: s.label for s in kb.symptoms}
    assert all(c.label == labels[c.id] for c in symptoms.choices)


def test_every_question_has_words_for_every_audience():
    kb = knowledge.load()
    for q in kb.questions:
        words = {a: q.ask.for_(a) for a in ("self", "caregiver", "clinician", "educator")}
        assert all(words.values()), q.id
    assert "you" in kb.question("sensory_trick").ask.for_("self")
    assert "patient" in kb.question("age").ask.for_("clinician")


@pytest.mark.parametrize("old, new, message", [
    ("fills: symptoms\n", "fills: symptom\n", "questions.3 (symptoms).fills: 'symptom' is not a case field"),
    ("- {id: eye_blinking}", "- {id: eye_blink}", "choices.7.sets: 'eye_blink' is not a known symptoms id"),
    ("sets: [upper_limb_left]}", "sets: [left_arm]}", "(hand_side).choices.0.sets: 'left_arm' is not a known regions id"),
    ("value: sensory_trick", "value: sensory_tricks", "(sensory_trick).value: 'sensory_tricks' is not a known features id"),
    ("    value: sensory_trick\n", "", "(sensory_trick).value: a yes_no question names the id a yes adds"),
    ("when: {question: symptoms, any_of: [hand_difficulty]}",
     "when: {question: symptoms, any_of: [hand_problem]}", "'hand_problem' is not an answer of 'symptoms'"),
    ("when: {question: symptoms, any_of: [hand_difficulty]}",
     "when: {question: history, any_of: [stroke]}", "(hand_side).when.0.question: 'history' is not an earlier question"),
    ("max_from: age", "max_from: agee", "(onset_age).max_from: 'agee' is not an earlier question"),
    ("skip_unless: {question: symptoms, any_of: [hand_difficulty,",
     "skip_unless: {question: symptoms, any_of: [hand_trouble,", "(urge_before).skip_unless.0: 'hand_trouble' is not an answer of 'symptoms'"),
    ("skip_unless: {question: symptoms,", "skip_unless: {question: course,",
     "(urge_before).skip_unless.0.question: 'course' is not an earlier question"),
    ("    min: 0\n    max: 120\n    optional: true\n\n  - id: symptoms",
     "    min: 0\n    max: 130\n    optional: true\n\n  - id: symptoms", "(age).min/max"),
    ("section: details\n    fills: onset\n", "section: detail\n    fills: onset\n", "(onset).section: unknown section 'detail'"),
    ("    when: {question: symptoms, answered: true}\n    ask:\n      self: How did",
     "    when: {question: symptoms, at_least: 3}\n    ask:\n      self: How did",
     "(onset).when.0: at_least / at_most need a number question, 'symptoms' is several_of"),
    ("section: history\n    fills: history\n    kind: several_of", "section: history\n    fills: history\n    kind: number",
     "(history).kind: a number question cannot fill 'history'"),
    ("      anyone: Is any of these", "      nobody: Is any of these", "questions.0.ask.nobody: Extra inputs are not permitted"),
    ("  - {id: recent}\n", "  - {id: recent, sets: [recent, none]}\n", "(dopamine_blocker).choices.1.sets: 'dopamine_blocker' takes one value"),
    ("  answer_yes: \"Yes\"\n", "", "interview.answer_yes: Field required"),
    ("    short: Sensory trick\n", "", "questions.10.short: Field required"),
    ("    short: Sensory trick\n", "    short: Age\n", "(sensory_trick).short: 'Age' is already the short label of 'age'"),
    ("    short: Sensory trick\n", "    short: A light touch on the chin that eases it\n",
     "questions.10.short: String should have at most 30 characters"),
])
def test_broken_question_data_names_the_file_and_key(kb_copy, old, new, message):
    edit(kb_copy / "questions.yaml", old, new)
    with pytest.raises(KnowledgeError) as exc:
        knowledge.load(kb_copy)
    assert "questions.yaml" in str(exc.value)
    assert message in str(exc.value)


def test_a_question_asked_before_who_is_answering_needs_neutral_words(kb_copy):
    edit(kb_copy / "questions.yaml",
         "      anyone: Is any of these new, or suddenly much worse than usual, right now (for you or the person you are answering for)?\n", "")
    with pytest.raises(KnowledgeError, match=r"questions.0 \(red_flags\).ask.anyone: needed"):
        knowledge.load(kb_copy)
