"""The Questionnaire as a form filler sees it (SDC): the warning signs are required and come
with the emergency advice, "none of these" is exclusive, choices say how to render, ages have
a unit, the disclaimer is on the form, the constraints the tool enforces are declared (and
mean what the tool enforces), one Questionnaire per respondent; and the response reader finds
every answer wherever it sits, refuses what breaks FHIR's rules, and never loses a red flag."""

from __future__ import annotations

import copy
import json

import pytest
from fhirpathpy import evaluate
from fhirpathpy.models import models

from tests.conftest import run_cli
from tests.test_fhir import ANSWER_SETS, by_link, items
from triage import assess, fhir
from triage.models import KB

RED = next(q for q in KB.questions if q.fills == "red_flags")
EMERGENCY_LEVELS = {c.id for c in KB.care_levels if c.emergency}


@pytest.fixture(scope="module")
def questionnaire() -> dict:
    return fhir.questionnaire()


def test_the_warning_signs_are_required_and_none_of_these_is_exclusive(questionnaire):
    item = by_link(questionnaire)[RED.id]
    assert item["required"] is True
    for q in KB.questions:
        if q.kind != "several_of" or not q.none:
            continue
        options = by_link(questionnaire)[q.id]["answerOption"]
        exclusive = [o["valueCoding"]["code"] for o in options
                     if any(e["url"] == fhir.OPTION_EXCLUSIVE and e["valueBoolean"] for e in o.get("extension", []))]
        assert exclusive == ["none"], q.id


def test_every_emergency_red_flag_shows_what_to_do_now_on_the_form(questionnaire):
    """Ticking any sign that red_flags.yaml gives an emergency level enables a display item
    with that level's action, in words."""
    shows = {}
    for item in items(questionnaire):
        if item["linkId"].startswith(fhir.EMERGENCY_ITEM + "."):
            assert item["type"] == "display"
            level = KB.by_id("care_levels")[item["linkId"].rsplit(".", 1)[1]]
            from triage.knowledge import worded

            assert level.id in EMERGENCY_LEVELS and " ".join(worded(level.action, None).split()) in item["text"]
            for e in item["enableWhen"]:
                assert e["question"] == RED.id and e["operator"] == "="
                shows[e["answerCoding"]["code"]] = level.id
    expected = {f.id: f.care_level for f in KB.red_flags if f.care_level in EMERGENCY_LEVELS}
    assert expected and shows == expected
    assert "emergency" in json.dumps(questionnaire).lower()


def test_the_form_carries_the_disclaimer_item_controls_units_and_question_codes(questionnaire):
    links = by_link(questionnaire)
    assert links[fhir.DISCLAIMER_ITEM]["type"] == "display"
    assert links[fhir.DISCLAIMER_ITEM]["text"] == " ".join(KB.text.disclaimer_for().split())
    # the clinician's form speaks to a clinician
    nurse = by_link(fhir.questionnaire("clinician"))
    assert "refer the patient" in nurse[fhir.DISCLAIMER_ITEM]["text"]
    for q in KB.questions:
        item = links[q.id]
        assert item["code"] == [{"system": fhir.QUESTION_SYSTEM, "code": q.id, "display": q.short}]
        controls = [e["valueCodeableConcept"]["coding"][0]["code"] for e in item.get("extension", [])
                    if e["url"].endswith("questionnaire-itemControl")]
        if q.kind == "several_of":
            assert controls == ["check-box"]
        elif q.kind in ("one_of", "yes_no"):
            assert controls == ["radio-button"]
        else:
            (unit,) = [e["valueCoding"] for e in item["extension"] if e["url"] == fhir.UNIT]
            assert unit == {"system": "http://unitsofmeasure.org", "code": "a", "display": "years"}


def constraint_results(doc: dict) -> dict[str, bool]:
    out = {}
    for item in items(fhir.questionnaire()):
        for e in item.get("extension", []):
            if e["url"] == fhir.TARGET_CONSTRAINT:
                parts = {x["url"]: x for x in e["extension"]}
                expr = parts["expression"]["valueExpression"]
                assert expr["language"] == "text/fhirpath" and parts["severity"]["valueCode"] == "error"
                assert parts["human"]["valueString"]
                result = evaluate(doc, expr["expression"], {"resource": doc}, models["r4"])
                out[parts["key"]["valueId"]] = result == [True]
    return out


def test_the_declared_constraints_hold_for_what_the_tool_accepts_and_fail_for_what_it_refuses():
    good = fhir.response_from_answers(ANSWER_SETS[2])
    results = constraint_results(good)
    assert results and all(results.values()), results
    # the onset after the present age: the declared constraint fails, and the tool refuses it
    late = copy.deepcopy(good)
    by_link(late)["onset_age"]["answer"] = [{"valueInteger": 41}]
    assert not constraint_results(late)["onset-age-max-from-age"]
    with pytest.raises(fhir.ResponseError, match="onset_age"):
        fhir.case_from_response(late)
    # "none of these" together with a warning sign: the constraint fails, the tool refuses it
    both = copy.deepcopy(good)
    by_link(both)[RED.id]["answer"].append({"valueCoding": fhir._coding_of(RED, "swallowing_difficulty")})
    assert not constraint_results(both)["red-flags-none-exclusive"]
    with pytest.raises(fhir.ResponseError, match="cannot be given together"):
        fhir.case_from_response(both)


@pytest.mark.parametrize("audience", KB.fhir.audiences)
def test_one_questionnaire_per_respondent_words_each_question_for_them(audience):
    doc = fhir.questionnaire(audience)
    assert doc["url"] == fhir.questionnaire_url(audience) and doc["version"] == fhir.questionnaire_version()
    assert doc["derivedFrom"] == [f"{fhir.questionnaire_url()}|{fhir.questionnaire_version()}"]
    links = by_link(doc)
    for q in KB.questions:
        assert links[q.id]["text"] == " ".join(q.ask.for_(audience).split())
        if q.help:  # the help too
            assert links[f"{q.id}.help"]["text"] == " ".join(q.help_for(audience).split())
    respondent = next(q for q in KB.questions if q.fills == "respondent")
    selected = [o["valueCoding"]["code"] for o in links[respondent.id]["answerOption"] if o.get("initialSelected")]
    assert selected == [audience] and links[respondent.id]["readOnly"]
    # a response to it reads like one to the plain Questionnaire
    qr = fhir.response_from_answers({**ANSWER_SETS[2], "respondent": audience})
    qr["questionnaire"] = f"{doc['url']}|{doc['version']}"
    answers, _regions, _status = fhir.answers_from_response(qr)
    assert answers["respondent"] == audience
    texts = {links[q.id]["text"] for q in KB.questions}
    others = [a for a in KB.fhir.audiences if a != audience]
    assert texts != {by_link(fhir.questionnaire(others[0]))[q.id]["text"] for q in KB.questions}


def test_the_questionnaire_command_writes_each_respondents_questionnaire():
    r = run_cli("fhir", "questionnaire", "--for", "caregiver")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["url"] == fhir.questionnaire_url("caregiver")
    r = run_cli("fhir", "questionnaire", "--for", "nobody")
    assert r.returncode == 2 and "Traceback" not in r.stderr


# --- reading responses: by linkId wherever the item sits ------------------------------------------


def flagged() -> dict:
    return fhir.response_from_answers({RED.id: ["breathing_difficulty"]})


def test_a_red_flag_under_another_items_answer_is_read_and_is_an_emergency():
    doc = fhir.response_from_answers({RED.id: [], "respondent": "self"})
    red = by_link(doc)[RED.id]
    red["answer"] = [{"valueCoding": fhir._coding_of(RED, "breathing_difficulty")}]
    doc["item"][0]["item"].remove(red)
    respondent = by_link(doc)["respondent"]
    respondent["answer"][0]["item"] = [red]  # legal FHIR: items beneath an answer
    case, _asked = fhir.case_from_response(json.loads(json.dumps(doc)))
    assert case.red_flags == ["breathing_difficulty"]
    assert assess(case).care_level in EMERGENCY_LEVELS


def test_a_red_flag_in_a_group_of_another_form_is_read():
    doc = flagged()
    section = doc["item"][0]
    doc["item"] = [{"linkId": "page-1", "text": "Page 1", "item": [{"linkId": "block", "item": [section]}]}]
    case, _asked = fhir.case_from_response(doc)
    assert case.red_flags == ["breathing_difficulty"]


def test_a_red_flag_nested_under_an_answered_item_is_refused_naming_qrs_1():
    doc = fhir.response_from_answers({RED.id: [], "respondent": "self"})
    red = by_link(doc)[RED.id]
    red["answer"] = [{"valueCoding": fhir._coding_of(RED, "breathing_difficulty")}]
    doc["item"][0]["item"].remove(red)
    by_link(doc)["respondent"]["item"] = [red]
    with pytest.raises(fhir.ResponseError, match=r"respondent\): has both item and answer; FHIR rule qrs-1"):
        fhir.case_from_response(doc)


def test_a_linkid_repeated_among_siblings_is_refused_naming_qrs_2():
    doc = flagged()
    group = doc["item"][0]["item"]
    group.append(copy.deepcopy(group[0]))
    with pytest.raises(fhir.ResponseError, match="qrs-2"):
        fhir.case_from_response(doc)


def deep(levels: int) -> dict:
    doc = flagged()
    inner: dict = {"linkId": "x"}
    for i in range(levels):
        inner = {"linkId": f"g{i}", "item": [inner]}
    doc["item"].append(inner)
    return doc


def test_a_response_nested_150_deep_gets_a_clear_message_not_a_traceback(tmp_path):
    doc = deep(150)
    text = json.dumps(doc)
    assert len(text) < 7000
    with pytest.raises(fhir.ResponseError, match="nested more than"):  # the reader's own bound
        fhir.case_from_response(doc)
    path = tmp_path / "deep.json"
    path.write_text(text)
    r = run_cli("assess", str(path))
    # the command refuses it before parsing anything deep (the input reader's bound)
    assert r.returncode == 2 and "nested" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("version, ok", [(None, True), ("1.1.0", True), ("0.9", False), ("1.0.0", False)])
def test_a_response_for_another_questionnaire_version_is_refused_with_the_reason(version, ok):
    doc = flagged()
    doc["questionnaire"] = fhir.questionnaire_url() + (f"|{version}" if version else "")
    if version == "1.1.0":
        doc["questionnaire"] = f"{fhir.questionnaire_url()}|{fhir.questionnaire_version()}"
    if ok:
        fhir.case_from_response(doc)
    else:
        with pytest.raises(fhir.ResponseError, match=f"version {version} of the questionnaire"):
            fhir.case_from_response(doc)


def test_an_answer_that_makes_an_emergency_on_its_own_shows_what_to_do_now_on_every_form():
    # the static form cannot run the rules: fhir.yaml declares each answer that makes an
    # emergency once a movement is reported, and this checks the declarations against the rules
    from triage import rulebook

    book = rulebook.default()
    declared = {e.rule: e for e in KB.fhir.emergency_answers}
    # every care rule that concludes an emergency level from an answer (not from a warning
    # sign, which has display items of its own) is declared
    for rule in book.rules:
        levels = [v for c in rule.then if c.fact == "care" for k, v in c.attrs if k == "v" and isinstance(v, str)]
        if any(lv in EMERGENCY_LEVELS for lv in levels):
            assert rule.id in declared, rule.id
    assert declared
    for e in declared.values():
        q = KB.question(e.question)
        # answering so, with a movement, reaches that rule and that care level; without the answer it does not
        symptom = KB.question(e.with_).choices[0].id
        answers = {"red_flags": [], "respondent": "self", e.with_: [symptom], e.question: e.answer}
        case, _asked = fhir.case_from_response(fhir.response_from_answers(answers))
        result = assess(case)
        assert result.care_level == e.care_level and e.rule in result.care_because
        other = next(c.id for c in q.choices if c.id != e.answer)
        case, _asked = fhir.case_from_response(fhir.response_from_answers({**answers, e.question: other}))
        assert assess(case).care_level not in EMERGENCY_LEVELS
        for audience in [None, *KB.fhir.audiences]:
            doc = fhir.questionnaire(audience)
            shown = next(i for i in items(doc) if i["linkId"] == f"{q.id}.{fhir.EMERGENCY_SUFFIX}.{e.answer}")
            level = KB.by_id("care_levels")[e.care_level]
            assert shown["type"] == "display" and shown["text"].startswith(f"{level.label}. ")
            assert " ".join(book.rule(e.rule).explain.split()) in shown["text"]
            assert shown["enableBehavior"] == "all"
            assert [(w["question"], w["operator"]) for w in shown["enableWhen"]] == [
                (q.id, "="), (e.with_, "exists"), (e.with_, "!=")]  # a movement: answered, and not "none of these"
            assert shown["enableWhen"][0]["answerCoding"]["code"] == e.answer
            assert shown["enableWhen"][2]["answerCoding"]["code"] == fhir.NONE_CODE
        # "none of these" with the answer is no emergency for the rules either
        none = {**answers, e.with_: []}
        case, _asked = fhir.case_from_response(fhir.response_from_answers(none))
        assert assess(case).care_level not in EMERGENCY_LEVELS
