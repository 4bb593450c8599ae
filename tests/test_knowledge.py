"""The knowledge base and the rule book are validated strictly at load: a broken copy fails
with the file and the key named."""

from __future__ import annotations


import pytest

from tests.conftest import edit
from triage import knowledge, rulebook
from triage.errors import KnowledgeError, RulesError


def test_the_project_knowledge_base_loads():
    kb = knowledge.load()
    assert kb.text.disclaimer


def test_every_contract_id_is_in_the_knowledge_base():
    kb = knowledge.load()
    assert set(kb.ids("symptoms")) == {
        "foot_cramping", "foot_dragging", "hand_difficulty", "speech_difficulty", "neck_craning",
        "widespread_spasms", "tremor", "eye_blinking", "body_twisting", "face_grimacing",
        "jaw_tongue_movements", "jerks"}
    assert set(kb.ids("regions")) == {
        "eyes", "face_jaw", "larynx", "neck", "trunk", "upper_limb_left", "upper_limb_right",
        "lower_limb_left", "lower_limb_right", "upper_limb", "lower_limb"}
    assert {f.id for f in kb.features} == {
        "sensory_trick", "task_specific", "worse_with_stress", "better_after_sleep",
        "alcohol_improves", "one_side_face", "urge_to_move", "urge_before"}
    assert {h.id for h in kb.history} == {"family_history", "brain_injury", "stroke", "parkinsons"}
    assert set(kb.ids("red_flags")) == {
        "breathing_difficulty", "swallowing_difficulty", "eyes_stuck_upward", "fever_with_spasms",
        "dark_urine", "continuous_spasms", "stroke_signs", "recent_head_injury"}
    assert set(kb.ids("types")) == {
        "generalized", "focal.blepharospasm", "focal.cervical", "focal.facial", "focal.laryngeal",
        "focal.upper_limb", "focal.lower_limb", "focal.truncal", "segmental", "multifocal",
        "hemidystonia", "myoclonus_dystonia"}
    assert set(kb.ids("causes")) == {"drug_induced_acute", "drug_induced_subacute", "tardive", "structural",
                                     "neurodegenerative", "genetic", "idiopathic"}
    assert set(kb.ids("mimics")) == {"hemifacial_spasm", "essential_tremor", "tics"}
    assert set(kb.ids("next_steps")) >= {
        "see_neurologist", "record_video", "symptom_diary", "medication_list", "medication_review",
        "mri_brain", "wilson_screening", "genetic_testing", "levodopa_trial", "laryngoscopy", "eye_exam"}
    assert [c.id for c in sorted(kb.care_levels, key=lambda c: c.rank)] == [
        "information", "routine", "urgent", "emergency", "emergency_ambulance"]
    assert {c.id for c in kb.case.respondent} == {"self", "caregiver", "clinician", "educator"}
    assert {c.id for c in kb.case.dopamine_blocker} == {"none", "recent", "weeks", "long_term", "unknown"}


@pytest.mark.parametrize("file, old, new, message", [
    ("symptoms.yaml", "    seed: true\n", "    seed: true\n    colour: red\n", r"symptoms.yaml: symptoms.0.colour: Extra inputs"),
    ("symptoms.yaml", "regions: [neck]", "regions: [nape]", r"symptoms.yaml: symptoms.4.regions: unknown region 'nape'"),
    ("red_flags.yaml", "care_level: emergency\n", "care_level: panic\n", r"red_flags.yaml: red_flags.2.care_level: unknown care level 'panic'"),
    ("regions.yaml", "{a: neck, b: trunk}", "{a: neck, b: belly}", r"regions.yaml: contiguous.5: unknown region 'belly'"),
    ("types.yaml", "G24.5", "G245X", r"types.yaml: types.5.codes.icd10cm: malformed code"),
    ("types.yaml", '"HP:0000643"', '"HP:643"', r"types.yaml: types.5.codes.hpo: malformed id"),
    ("settings.yaml", "source: EFNS11", "source: NOPE", r"settings.yaml: settings.genetic_testing_onset_below.source: unknown source 'NOPE'"),
    ("mimics.yaml", "- id: tics", "- id: essential_tremor", r"mimics.yaml: mimics.2: duplicate id 'essential_tremor'"),
    ("text.yaml", "text:", "txt:", r"text.yaml: unknown key 'txt'"),
    ("questions.yaml", "    when: {question: symptoms, answered: true}\n    record:\n      reason: Every part",
     "    when: {question: symptoms, ticked: true}\n    record:\n      reason: Every part",
     r"questions.yaml: .*when.0: ticked needs a checklist and is for record.when or skip_unless"),
    ("treatments.yaml", "with_step: levodopa_trial", "with_step: levodopa_trail",
     r"treatments.yaml: treatments.focal.lower_limb.0.with_step: unknown next step 'levodopa_trail'"),
    ("causes.yaml", "causes:", "causes: [", r"causes.yaml: not valid YAML"),
    ("fhir.yaml", "question: dopamine_blocker, answer: recent", "question: dopamine_blocker, answer: lately",
     r"fhir.yaml: fhir.emergency_answers.0.answer: 'lately' is not a choice of dopamine_blocker; choices: none, recent"),
    # a citation is shown as "(Source: ...)": one wholly in brackets of its own would be in two
    ("sources.yaml", "citation: Neurotherapeutics 2014\n", "citation: (Neurotherapeutics 2014)\n",
     r"sources.yaml: sources.\d+.citation: String should match pattern"),
])
def test_a_broken_knowledge_base_fails_naming_file_and_key(kb_copy, file, old, new, message):
    edit(kb_copy / file, old, new)
    with pytest.raises(KnowledgeError, match=message):
        knowledge.load(kb_copy)


def test_a_missing_knowledge_file_is_named(kb_copy):
    (kb_copy / "next_steps.yaml").unlink()
    with pytest.raises(KnowledgeError, match="next_steps.yaml: cannot be read"):
        knowledge.load(kb_copy)


@pytest.mark.parametrize("file, old, new, message", [
    ("50_distribution.yaml", "      - trunk_and_two_more: {}\n    then:", "      - trunk_and_tw0_more: {}\n    then:", r"50_distribution.yaml: rules.0 \(generalized\).when.0: unknown fact 'trunk_and_tw0_more'"),
    ("50_distribution.yaml", "source: DUK-HEMI", "source: NOWHERE", r"hemidystonia\): source 'NOWHERE' is not a key"),
    ("20_regions.yaml", "- symptom: speech_difficulty\n      - symptom: {in:", "- symptom: speach\n      - symptom: {in:", r"'speach' is not a known symptom"),
    ("50_distribution.yaml", "- candidate: hemidystonia", "- candidate: hemi", r"'hemi' is not a known candidate"),
    ("40_pattern.yaml", "side: $arm.side}\n    unless", "side: $leg.side}\n    unless", r"\$leg.side refers to no earlier pattern"),
    ("10_intake.yaml", "{at_most: early_onset_max_age}", "{at_most: early_age}", r"'early_age' is neither a number nor a setting"),
    ("90_next_steps.yaml", "before the age of {genetic_testing_onset_below}", "before the age of {genetic_onset}",
     r"\(genetic_testing_for_onset_before_30\).explain: \{genetic_onset\} is not a setting"),
    ("60_syndromes_and_mimics.yaml", "- region: {upper_body: true}", "- region: {upper_bodyy: true}", r"'region' has no attribute 'upper_bodyy'"),
    ("50_distribution.yaml", "      - regions_apart: {}\n      - trunk_and_two_more: {}", "      - candidate: {}\n      - trunk_and_two_more: {}", r"segmental: 'unless candidate' looks at a fact that the layer 'syndromes' still concludes"),
    ("20_regions.yaml", "      - region_reported: {as: r, not: [upper_limb, lower_limb]}\n", "      - region_reported: {as: r, not: [upper_limb, lower_limb]}\n      - candidate: {}\n", r"region_as_reported: 'candidate' is concluded by the later layer 'distribution'; a rule may only read facts of its own or earlier layers"),
    ("90_next_steps.yaml", "  - id: eye_exam_for_eyelids", "  - id: laryngoscopy_for_voice_box", r"id 'laryngoscopy_for_voice_box' is already used"),
    ("80_care.yaml", "    explain: This sign needs emergency care.\n", "", r"80_care.yaml: rules.0.explain: Field required"),
    ("80_care.yaml", "  - id: acute_dystonic_reaction_is_an_emergency", "  - id: acute_dystonic_reaction",
     r"fhir.yaml: fhir.emergency_answers.0.rule: 'acute_dystonic_reaction_is_an_emergency' is not a rule"),
])
def test_a_broken_rule_fails_naming_file_rule_and_key(rules_copy, file, old, new, message):
    edit(rules_copy / file, old, new)
    with pytest.raises(RulesError, match=message):
        rulebook.load(rules_copy)


def test_every_rule_has_an_explanation_a_source_and_a_conclusion():
    book = rulebook.load()
    sources = set(book.kb.ids("sources"))
    for rule in book.rules:
        assert rule.explain and rule.source in sources and rule.then, rule.id
