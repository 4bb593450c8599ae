"""Table-driven tests of every rule layer but distribution (see test_distribution.py):
regions from symptoms, syndromes, mimics, support, causes, care levels and next steps."""

from __future__ import annotations

import pytest

from tests.conftest import ids, run_assess, types_of

# --- regions derived from symptoms ----------------------------------------------------------


@pytest.mark.parametrize("symptoms, regions", [
    (["eye_blinking"], ["eyes"]),
    (["face_grimacing"], ["face_jaw"]),
    (["jaw_tongue_movements"], ["face_jaw"]),
    (["speech_difficulty"], ["larynx"]),
    (["speech_difficulty", "jaw_tongue_movements"], ["face_jaw"]),
    (["speech_difficulty", "face_grimacing"], ["face_jaw"]),
    (["neck_craning"], ["neck"]),
    (["body_twisting"], ["trunk"]),
    (["widespread_spasms"], ["trunk", "upper_limb_left", "upper_limb_right", "lower_limb_left", "lower_limb_right"]),
    (["hand_difficulty"], ["upper_limb"]),
    (["foot_cramping"], ["lower_limb"]),
    (["foot_dragging"], ["lower_limb"]),
    (["tremor"], []),
    (["jerks"], []),
    (["eye_blinking", "neck_craning"], ["eyes", "neck"]),
])
def test_regions_derived_from_symptoms(symptoms, regions):
    assert run_assess(symptoms=symptoms).regions == regions


def test_named_regions_are_used_instead_of_symptoms():
    result = run_assess(symptoms=["eye_blinking", "hand_difficulty"], regions=["neck"])
    assert result.regions == ["neck"]
    assert types_of(result) == ["focal.cervical"]


@pytest.mark.parametrize("symptoms, expected", [
    (["eye_blinking"], "focal.blepharospasm"),
    (["neck_craning"], "focal.cervical"),
    (["jaw_tongue_movements"], "focal.facial"),
    (["speech_difficulty"], "focal.laryngeal"),
    (["hand_difficulty"], "focal.upper_limb"),
    (["foot_cramping"], "focal.lower_limb"),
    (["body_twisting"], "focal.truncal"),
    (["widespread_spasms"], "generalized"),
    (["eye_blinking", "jaw_tongue_movements"], "segmental"),
    (["eye_blinking", "hand_difficulty"], "multifocal"),
])
def test_seed_complaints_give_the_expected_type(symptoms, expected):
    assert types_of(run_assess(symptoms=symptoms)) == [expected]


# --- myoclonus-dystonia -----------------------------------------------------------------------


@pytest.mark.parametrize("regions", [["neck"], ["upper_limb_left"], ["face_jaw"], ["trunk"], ["eyes"],
                                     ["neck", "upper_limb_right"]])
def test_jerks_with_upper_body_dystonia_fit_myoclonus_dystonia_listed_first(regions):
    result = run_assess(symptoms=["jerks"], regions=regions)
    assert types_of(result)[0] == "myoclonus_dystonia"
    assert len(types_of(result)) == 2


@pytest.mark.parametrize("fields", [
    {"symptoms": ["jerks"], "regions": ["neck", "lower_limb_left"]},   # a leg is involved
    {"symptoms": ["jerks"], "regions": ["larynx"]},                    # not the upper body listed
    {"symptoms": ["jerks"]},                                           # no dystonia at all
    {"regions": ["neck"]},                                             # no jerks
])
def test_no_myoclonus_dystonia(fields):
    assert "myoclonus_dystonia" not in types_of(run_assess(**fields))


@pytest.mark.parametrize("extra, support", [
    ({}, "moderate"),
    ({"onset_age": 12, "age": 30}, "strong"),
    ({"features": ["alcohol_improves"]}, "strong"),
    ({"history": ["family_history"]}, "strong"),
    ({"onset_age": 25, "age": 30}, "moderate"),
])
def test_myoclonus_dystonia_is_stronger_with_its_hallmarks(extra, support):
    result = run_assess(symptoms=["jerks", "neck_craning"], **extra)
    md = next(c for c in result.candidates if c.type == "myoclonus_dystonia")
    assert md.support == support


def test_hemidystonia_is_listed_first():
    result = run_assess(symptoms=["jerks"], regions=["upper_limb_left", "lower_limb_left"])
    assert types_of(result) == ["hemidystonia"]  # a leg is involved: no myoclonus-dystonia
    result = run_assess(regions=["upper_limb_left", "lower_limb_left"], features=["sensory_trick"])
    assert types_of(result)[0] == "hemidystonia"


# --- support, mimics ------------------------------------------------------------------------------


@pytest.mark.parametrize("features, support", [
    ([], "moderate"),
    (["sensory_trick"], "strong"),
    (["task_specific"], "strong"),
    (["worse_with_stress"], "moderate"),
    (["sensory_trick", "urge_to_move"], "possible"),  # a look-alike wins over a hallmark
])
def test_support_of_a_distribution_type(features, support):
    result = run_assess(symptoms=["neck_craning"], features=features)
    assert [c.support for c in result.candidates] == [support]


@pytest.mark.parametrize("fields, mimic", [
    ({"symptoms": ["eye_blinking"], "features": ["one_side_face"]}, "hemifacial_spasm"),
    ({"symptoms": ["face_grimacing"], "features": ["one_side_face"]}, "hemifacial_spasm"),
    ({"symptoms": ["tremor"], "tremor_sites": ["arms"]}, "essential_tremor"),
    ({"symptoms": ["tremor"], "tremor_sites": ["arms", "head", "voice"]}, "essential_tremor"),
    ({"symptoms": ["tremor"], "regions": ["upper_limb_left", "upper_limb_right"]}, "essential_tremor"),
    ({"symptoms": ["neck_craning"], "features": ["urge_to_move"]}, "tics"),
])
def test_mimics_are_recognised_and_lower_what_they_explain(fields, mimic):
    result = run_assess(**fields)
    assert ids(result.mimics) == [mimic]
    assert all(c.support == "possible" for c in result.candidates)
    assert result.care_level == "routine"


@pytest.mark.parametrize("fields", [
    {"symptoms": ["tremor", "neck_craning"]},                   # not the only complaint
    {"symptoms": ["tremor"], "features": ["sensory_trick"]},   # a sensory trick
    {"symptoms": ["tremor"], "features": ["task_specific"]},   # task specific
    {"symptoms": ["tremor"], "regions": ["neck"]},             # not the arms
    {"symptoms": ["tremor"]},                                  # where it shakes is not known
    {"symptoms": ["tremor"], "tremor_sites": ["head"]},        # the head alone: dystonic head tremor
    {"symptoms": ["tremor"], "tremor_sites": ["arms"], "dopamine_blocker": "recent"},  # a drug can cause it
    {"symptoms": ["tremor"], "tremor_sites": ["arms"], "dopamine_blocker": "weeks"},
])
def test_tremor_that_is_not_essential_tremor(fields):
    assert "essential_tremor" not in ids(run_assess(**fields).mimics)


def test_hemifacial_spasm_from_face_symptoms_even_when_other_regions_are_named():
    result = run_assess(symptoms=["eye_blinking"], regions=["neck"], features=["one_side_face"])
    assert ids(result.mimics) == ["hemifacial_spasm"]


def test_myoclonus_dystonia_comes_before_a_better_supported_distribution_type():
    result = run_assess(symptoms=["jerks", "neck_craning"], features=["sensory_trick"], age=40)
    assert [(c.type, c.support) for c in result.candidates] == [
        ("myoclonus_dystonia", "moderate"), ("focal.cervical", "strong")]


def test_one_side_face_without_face_movements_is_no_hemifacial_spasm():
    assert ids(run_assess(symptoms=["neck_craning"], features=["one_side_face"]).mimics) == []


def test_a_mimic_never_hides_a_red_flag():
    result = run_assess(symptoms=["eye_blinking"], features=["one_side_face"], red_flags=["breathing_difficulty"])
    assert result.care_level == "emergency_ambulance"
    assert ids(result.mimics) == ["hemifacial_spasm"]


# --- causes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fields, causes", [
    ({"dopamine_blocker": "recent"}, ["drug_induced_acute"]),
    ({"dopamine_blocker": "long_term"}, ["tardive"]),
    ({"history": ["stroke"]}, ["structural"]),
    ({"history": ["brain_injury"]}, ["structural"]),
    ({"history": ["parkinsons"]}, ["neurodegenerative"]),
    ({"history": ["family_history"]}, ["genetic"]),
    ({"onset_age": 20, "age": 35}, ["genetic"]),
    ({"onset_age": 21, "age": 35}, ["idiopathic"]),
    ({"age": 15}, ["genetic"]),       # onset cannot be later than the present age
    ({"age": 60}, ["idiopathic"]),    # the present age stands in for an unknown onset age
    ({}, []),                         # no age at all: adult onset is not known
    ({"dopamine_blocker": "none", "age": 50}, ["idiopathic"]),
    ({"dopamine_blocker": "unknown", "age": 50}, ["idiopathic"]),
    ({"history": ["stroke", "family_history"], "age": 50}, ["structural", "genetic"]),
    ({"red_flags": ["recent_head_injury"], "age": 50}, ["structural"]),  # no history ticked
])
def test_causes(fields, causes):
    assert ids(run_assess(symptoms=["neck_craning"], **fields).causes) == causes


def test_idiopathic_only_for_focal_or_segmental():
    assert ids(run_assess(symptoms=["eye_blinking", "hand_difficulty"], age=50).causes) == []   # multifocal
    assert ids(run_assess(regions=["neck", "trunk", "upper_limb_left"], age=50).causes) == []    # generalized
    assert ids(run_assess(regions=["eyes", "face_jaw"], age=50).causes) == ["idiopathic"]      # segmental


def test_causes_need_a_movement_complaint():
    result = run_assess(dopamine_blocker="long_term", history=["stroke"])
    assert result.causes == [] and result.care_level == "information"


@pytest.mark.parametrize("flag, causes", [
    ("eyes_stuck_upward", ["drug_induced_acute"]),  # an oculogyric crisis is a dystonic posture of the eyes
    ("continuous_spasms", ["drug_induced_acute"]),
    ("recent_head_injury", ["drug_induced_acute", "structural"]),  # "the movements began ..."
    ("breathing_difficulty", []),  # may have other causes: no movement complaint on its own
    ("swallowing_difficulty", []),
    ("stroke_signs", []),
])
def test_a_warning_sign_that_is_a_movement_is_a_movement_complaint(flag, causes):
    # No symptom ticked ("None of these"), eyes stuck upward, a medicine started two days ago:
    # the emergency comes with the acute dystonic reaction for the emergency team to weigh.
    counts = bool(causes)
    result = run_assess(red_flags=[flag], dopamine_blocker="recent", age=23)
    assert ids(result.causes) == causes
    assert (result.care_level in ("emergency", "emergency_ambulance"))
    because = [r for c in result.causes for r in c.because]
    assert ("complaint_from_warning_sign" in because) == counts
    assert result.candidates == []  # no body region: no dystonia type is named


# --- care levels --------------------------------------------------------------------------------------

RED_FLAG_LEVELS = {
    "breathing_difficulty": "emergency_ambulance",
    "swallowing_difficulty": "emergency_ambulance",
    "fever_with_spasms": "emergency_ambulance",
    "dark_urine": "emergency_ambulance",
    "continuous_spasms": "emergency_ambulance",
    "stroke_signs": "emergency_ambulance",
    "eyes_stuck_upward": "emergency",
    "recent_head_injury": "emergency",
}


@pytest.mark.parametrize("flag, level", sorted(RED_FLAG_LEVELS.items()))
def test_each_red_flag_gives_its_care_level(flag, level):
    alone = run_assess(red_flags=[flag])
    assert alone.care_level == level
    assert ids(alone.red_flags) == [flag]
    with_symptoms = run_assess(red_flags=[flag], symptoms=["neck_craning"], onset="sudden")
    assert with_symptoms.care_level == level


@pytest.mark.parametrize("fields, level", [
    ({}, "information"),
    ({"age": 40, "onset": "gradual"}, "information"),
    ({"symptoms": ["eye_blinking"]}, "routine"),
    ({"symptoms": ["tremor"]}, "routine"),                                  # a mimic
    ({"symptoms": ["eye_blinking"], "onset": "sudden"}, "urgent"),
    ({"onset": "sudden"}, "urgent"),
    ({"symptoms": ["neck_craning"], "dopamine_blocker": "recent"}, "emergency"),   # acute dystonic reaction
    ({"symptoms": ["neck_craning"], "dopamine_blocker": "long_term"}, "routine"),
    ({"dopamine_blocker": "recent"}, "information"),                         # no movement symptom
    ({"red_flags": ["eyes_stuck_upward", "breathing_difficulty"]}, "emergency_ambulance"),
])
def test_care_level_is_the_highest_reached(fields, level):
    assert run_assess(**fields).care_level == level


# --- next steps -------------------------------------------------------------------------------------


def steps(**fields) -> set[str]:
    return set(ids(run_assess(**fields).next_steps))


def test_see_neurologist_is_always_there_and_first():
    for fields in ({}, {"red_flags": ["dark_urine"]}, {"symptoms": ["eye_blinking"]}):
        assert ids(run_assess(**fields).next_steps)[0] == "see_neurologist"


@pytest.mark.parametrize("fields, present, absent", [
    ({"symptoms": ["neck_craning"]}, {"record_video", "symptom_diary", "medication_list"}, {"mri_brain"}),
    ({}, set(), {"record_video", "symptom_diary", "medication_list"}),
    ({"symptoms": ["neck_craning"], "dopamine_blocker": "long_term"}, {"medication_review"}, set()),
    ({"symptoms": ["neck_craning"], "dopamine_blocker": "recent"}, {"medication_review"}, set()),
    ({"symptoms": ["neck_craning"], "dopamine_blocker": "none"}, set(), {"medication_review"}),
    ({"regions": ["upper_limb_left", "lower_limb_left"], "age": 60}, {"mri_brain"}, set()),
    ({"symptoms": ["neck_craning"], "history": ["stroke"]}, {"mri_brain"}, set()),
    ({"symptoms": ["neck_craning"], "history": ["brain_injury"]}, {"mri_brain"}, set()),
    ({"symptoms": ["neck_craning"], "onset": "sudden"}, {"mri_brain"}, set()),
    ({"symptoms": ["widespread_spasms"], "age": 10}, {"mri_brain"}, set()),
    ({"symptoms": ["widespread_spasms"], "age": 30, "onset_age": 21}, set(), {"mri_brain"}),
    ({"symptoms": ["foot_cramping"], "age": 45, "onset_age": 44}, {"mri_brain"}, set()),
    ({"symptoms": ["foot_cramping"], "age": 12}, set(), {"mri_brain"}),
    ({"symptoms": ["eye_blinking"], "features": ["one_side_face"]}, {"mri_brain"}, set()),
    ({"symptoms": ["neck_craning"], "age": 60, "onset_age": 49}, {"wilson_screening"}, set()),
    ({"symptoms": ["neck_craning"], "age": 60, "onset_age": 50}, set(), {"wilson_screening"}),
    ({"symptoms": ["neck_craning"], "age": 45}, {"wilson_screening"}, set()),
    ({"symptoms": ["neck_craning"], "age": 60, "onset_age": 29}, {"genetic_testing"}, set()),
    ({"symptoms": ["neck_craning"], "age": 60, "onset_age": 30}, set(), {"genetic_testing"}),
    ({"symptoms": ["neck_craning"], "age": 60, "history": ["family_history"]}, {"genetic_testing"}, set()),
    ({"symptoms": ["neck_craning", "jerks"], "age": 60, "onset_age": 55}, {"genetic_testing"}, set()),
    ({"symptoms": ["neck_craning"], "age": 60, "onset_age": 20}, {"levodopa_trial"}, set()),
    ({"symptoms": ["neck_craning"], "age": 60, "onset_age": 21}, set(), {"levodopa_trial"}),
    ({"symptoms": ["foot_dragging"], "age": 60, "onset_age": 40, "features": ["better_after_sleep"]}, {"levodopa_trial"}, set()),
    ({"symptoms": ["hand_difficulty"], "features": ["better_after_sleep"]}, set(), {"levodopa_trial"}),
    ({"symptoms": ["speech_difficulty"]}, {"laryngoscopy"}, {"eye_exam"}),
    ({"symptoms": ["eye_blinking"]}, {"eye_exam"}, {"laryngoscopy"}),
    ({"age": 10}, set(), {"wilson_screening", "genetic_testing", "levodopa_trial"}),  # no complaint
    # jerks alone fit no type: the age-based tests need a candidate (decided 2026-12-01)
    ({"symptoms": ["jerks"], "age": 15}, set(), {"wilson_screening", "genetic_testing", "levodopa_trial", "record_video"}),
    # an acute drug reaction: no work-up from the age or the sudden start, no diary
    ({"symptoms": ["neck_craning"], "age": 15, "onset": "sudden", "dopamine_blocker": "recent"},
     {"medication_review", "record_video", "medication_list"},
     {"wilson_screening", "genetic_testing", "levodopa_trial", "symptom_diary", "mri_brain"}),
    ({"symptoms": ["neck_craning"], "age": 15, "dopamine_blocker": "recent", "history": ["stroke"]},
     {"mri_brain"}, {"genetic_testing"}),  # a stroke asks for the scan whatever the medicine
    # a subacute one: no age-based items, but the diary stays
    ({"symptoms": ["neck_craning"], "age": 15, "dopamine_blocker": "weeks"},
     {"medication_review", "symptom_diary"}, {"wilson_screening", "genetic_testing", "levodopa_trial"}),
    # crural dystonia in an adult gets a scan; a child's foot does not
    ({"regions": ["lower_limb_left", "lower_limb_right"], "age": 45, "onset_age": 44}, {"mri_brain"}, set()),
    ({"regions": ["lower_limb_left", "neck"], "age": 45, "onset_age": 44}, set(), {"mri_brain"}),
    # a look-alike alone gets a video and a diary, not the age-based tests
    ({"symptoms": ["tremor"], "tremor_sites": ["arms"], "age": 25}, {"record_video", "symptom_diary"},
     {"wilson_screening", "genetic_testing", "levodopa_trial"}),
])
def test_next_step_conditions_and_thresholds(fields, present, absent):
    got = steps(**fields)
    assert present <= got, present - got
    assert not (absent & got), absent & got


def test_every_conclusion_names_rules_that_fired():
    result = run_assess(symptoms=["jerks", "neck_craning"], age=14, features=["alcohol_improves"],
                        dopamine_blocker="long_term", onset="sudden")
    fired = {t.rule for t in result.trace}
    for item in result.candidates + result.causes + result.mimics + result.next_steps:
        assert item.because and set(item.because) <= fired
    assert set(result.care_because) <= fired


def test_an_explanation_names_the_age_its_setting_gives():
    # "before the age set in the knowledge base" told a person nothing; the value is filled in
    result = run_assess(symptoms=["neck_craning"], age=25)
    explains = {t.rule: t.explain for t in result.trace}
    assert explains["genetic_testing_for_onset_before_30"].startswith("Dystonia that starts before the age of 30 ")
    assert "before the age of 50" in explains["wilson_screening_for_onset_before_50"]
    assert not any("{" in e or "knowledge base" in e for e in explains.values())


@pytest.mark.parametrize("fields, support", [
    ({"red_flags": ["eyes_stuck_upward"], "regions": ["eyes"]}, "possible"),   # eyes forced up, eyelids ticked
    ({"red_flags": ["eyes_stuck_upward"], "symptoms": ["eye_blinking"], "features": ["sensory_trick"]}, "possible"),
    ({"symptoms": ["eye_blinking"], "features": ["sensory_trick"]}, "strong"),    # no warning sign: as before
])
def test_eyes_stuck_upward_lower_blepharospasm_only(fields, support):
    result = run_assess(age=23, **fields)
    (blepharospasm,) = [c for c in result.candidates if c.type == "focal.blepharospasm"]
    assert blepharospasm.support == support
    assert ("eyes_stuck_upward_lower_blepharospasm" in blepharospasm.because) == (support == "possible")
    assert "idiopathic" not in ids(result.causes) or support != "possible"


def test_eyes_stuck_upward_leave_a_widespread_pattern_as_it_is():
    result = run_assess(age=10, red_flags=["eyes_stuck_upward"], symptoms=["widespread_spasms", "eye_blinking"])
    assert all(c.support != "possible" for c in result.candidates if c.type != "focal.blepharospasm")


def test_no_genetic_cause_from_the_age_alone_after_a_recent_head_injury():
    assert ids(run_assess(age=12, red_flags=["recent_head_injury"], symptoms=["neck_craning"]).causes) == ["structural"]
    assert "genetic" in ids(run_assess(age=12, symptoms=["neck_craning"]).causes)
