"""``dystonia-triage explain``: run as a user would, with assertions on what it says."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, case, run_cli

EXAMPLE = str(ROOT / "examples" / "blepharospasm.json")


def _walk_to_answers(node, path=()):
    """Every (rule path, answer) pair in a rule node's tree."""
    out = []
    for f in node["matched"]:
        if f["origin"] == "answer":
            out.append((path + (node["rule"],), f["field"], f["fact"]["v"]))
        for r in f["by"]:
            out += _walk_to_answers(r, path + (node["rule"],))
    return out


def test_explain_walks_each_conclusion_back_to_the_answers_with_sources():
    r = run_cli("explain", EXAMPLE)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Care level: Book a neurologist [routine]" in out
    assert "May fit the pattern of: Blepharospasm (focal dystonia of the eyelids) [focal.blepharospasm] — support: strong" in out
    assert "<- rule focal: Dystonia in a single body region may fit the pattern of focal dystonia" in out
    assert "source: ALB13 — Albanese et al., Mov Disord 28:863, 2013" in out
    assert "answer: regions = eyes" in out
    assert "answer: features = sensory_trick" in out
    assert "Next step: An eye examination" in out and "<- rule eye_exam_for_eyelids" in out
    assert "Possible cause: No cause found (idiopathic)" in out
    assert out.index("Care level:") < out.index("May fit the pattern of") < out.index("Not concluded")
    assert "does not diagnose" in out


def test_explain_json_trees_end_in_answers():
    r = run_cli("explain", EXAMPLE, "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    kinds = {c["kind"] for c in doc["conclusions"]}
    assert kinds == {"care_level", "candidate", "cause", "next_step"}
    cand = next(c for c in doc["conclusions"] if c["kind"] == "candidate")
    answers = {(field, value) for n in cand["because"] for _, field, value in _walk_to_answers(n)}
    assert ("regions", "eyes") in answers and ("features", "sensory_trick") in answers
    rule = cand["because"][0]
    assert rule["source"]["key"] and rule["source"]["citation"] and rule["explain"]


def test_explain_json_carries_the_treatments_the_text_shows_with_their_sources():
    doc = json.loads(run_cli("explain", EXAMPLE, "--format", "json").stdout)
    options = doc["treatments"]["options"]
    assert options and all(o["sources"] and o["sources"][0]["citation"] for o in options)
    text = run_cli("explain", EXAMPLE).stdout
    assert all(o["label"] in text for o in options)
    emergency = case(symptoms=["neck_craning"], red_flags=["breathing_difficulty"], age=30)
    doc = json.loads(run_cli("explain", "-", "--format", "json", input=json.dumps(emergency)).stdout)
    assert doc["care_level"] == "emergency_ambulance" and doc["treatments"] is None


def test_why_not_generalized_says_the_trunk_has_only_one_other_region():
    r = run_cli("explain", "-", input=json.dumps(case(age=50, regions=["neck", "trunk"])))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "May fit the pattern of: Segmental dystonia" in out
    block = out[out.index("not Generalized dystonia"):]
    block = block[:block.index("  not Hemidystonia")]
    assert "needs trunk_and_two_more" in block
    assert "found: region = trunk (trunk (back, chest, belly)); region = neck" in block
    assert "needs region not trunk, not neck" in block
    # the "why not" of a type blocked by a fact names the fact and the rules behind it
    assert "not single_region" in out and "blocked by region not" in out


def test_why_not_hemidystonia_when_the_other_side_has_a_limb():
    r = run_cli("explain", "-", "--format", "json", input=json.dumps(
        case(age=40, regions=["upper_limb_left", "lower_limb_left", "upper_limb_right"])))
    doc = json.loads(r.stdout)
    assert [c["id"] for c in doc["conclusions"] if c["kind"] == "candidate"] == ["multifocal"]
    hemi = next(w for w in doc["not_concluded"] if w["rule"] == "hemidystonia")
    deeper = hemi["reasons"][0]["deeper"][0]
    assert deeper["rule"] == "arm_and_leg_on_one_side"
    assert deeper["reasons"][0]["kind"] == "blocked"
    assert any("upper_limb_right" in b for b in deeper["reasons"][0]["blocking"])


def test_explain_takes_a_teaching_case_id():
    r = run_cli("explain", "hemidystonia_after_stroke")
    assert r.returncode == 0, r.stderr
    assert "Hemidystonia" in r.stdout and "answer: history = stroke" in r.stdout


def test_what_if_shows_the_change_and_the_rules_that_made_it():
    r = run_cli("explain", "writers_cramp", "--add", "region=neck")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Changes: + regions=neck" in out
    assert "- focal.upper_limb (strong)" in out and "+ segmental (strong)" in out
    after = out[out.index("Rules that fire only after the change:"):]
    assert "segmental:" in after and "two_or_more_regions:" in after
    before = out[out.index("Rules that no longer fire:"):]
    assert "one_region_only:" in before and "focal:" in before


def test_what_if_remove_a_hallmark_lowers_the_support_json():
    r = run_cli("explain", EXAMPLE, "--remove", "feature=sensory_trick", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["differences"]["candidates"] == {"before": ["focal.blepharospasm (strong)"],
                                                "after": ["focal.blepharospasm (moderate)"]}
    assert [x["rule"] for x in doc["rules_only_before"]] == ["hallmark_raises_distribution_type", "support_strong_when_raised"]
    assert [x["rule"] for x in doc["rules_only_after"]] == ["support_moderate_otherwise"]


def test_what_if_a_red_flag_raises_the_care_level():
    r = run_cli("explain", EXAMPLE, "--add", "red_flag=breathing_difficulty", "--add", "age=70")
    assert r.returncode == 0, r.stderr
    assert "care_level: routine -> emergency_ambulance" in r.stdout
    assert "red_flag_needs_emergency_care" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--add", "colour=blue"], "unknown field 'colour'; fields: respondent, age"),
    (["--add", "region=elbow"], "regions[1]: 'elbow' is not a known value (allowed values: eyes, face_jaw"),
    (["--remove", "feature=task_specific"], "the case does not have it (features: sensory_trick)"),
    (["--add", "region"], "expected FIELD=VALUE"),
    (["--add", "age=old"], "age=old: expected whole years"),
    (["--add", "age=200"], "age: "),
])
def test_what_if_bad_changes_exit_2_with_a_clear_message(args, message):
    r = run_cli("explain", EXAMPLE, *args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_explain_refuses_a_batch_and_an_unknown_case():
    r = run_cli("explain", "-", input=json.dumps([case(), case()]))
    assert r.returncode == 2 and "one case" in r.stderr
    r = run_cli("explain", "no_such_case")
    assert r.returncode == 2 and "teaching cases: " in r.stderr and "writers_cramp" in r.stderr


def test_why_not_more_urgent_and_why_not_early_onset_show_what_is_there_instead():
    r = run_cli("explain", EXAMPLE)
    out = r.stdout[r.stdout.index("Not concluded, and why not:"):]
    urgent = out[out.index("(rule sudden_onset_is_urgent:"):]
    assert "needs onset sudden" in urgent.splitlines()[1]
    assert "(there is: onset = gradual" in urgent.splitlines()[1]
    assert "needs onset_age at most 20" in out and "(there is: onset_age = 58 [estimated: False])" in out
    assert "(rule acute_dystonic_reaction_is_an_emergency:" in out
