"""Results as FHIR, for a clinic's record: ``assess --format fhir-bundle`` gives a collection
Bundle with the answers, a RiskAssessment (care level, "may fit" predictions, never a
diagnosis, the disclaimer), a ServiceRequest proposal per next step, a Flag per warning sign
and a Provenance naming the tool and the knowledge base; codes follow the ICD-10-CM notes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, run_cli
from triage import assess, fhir, fhir_results, knowledge, teaching
from triage.models import KB

ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.mark.parametrize("tc", teaching.default(), ids=lambda tc: tc.id)
def test_every_teaching_case_becomes_a_bundle_that_says_what_the_assessment_says(tc):
    a = assess(tc.case)
    bundle = fhir_results.result_bundle(tc.case, a)
    assert bundle["type"] == "collection"
    refs = {e["fullUrl"] for e in bundle["entry"]}
    (qr,) = resources(bundle, "QuestionnaireResponse")
    assert fhir.case_from_response(qr)[0].model_dump() == fhir.case_from_response(
        fhir.response_from_case(tc.case))[0].model_dump()
    (risk,) = resources(bundle, "RiskAssessment")
    care = risk["extension"][0]["valueCodeableConcept"]["coding"][0]
    assert care["code"] == a.care_level and risk["mitigation"] == " ".join(a.care_action.split())
    assert risk["note"][0]["text"] == " ".join(a.disclaimer.split())
    assert risk["basis"][0]["reference"] in refs
    predicted = [p for p in risk.get("prediction", []) if "qualitativeRisk" in p]
    assert [p["outcome"]["coding"][0]["code"] for p in predicted] == [c.type for c in a.candidates]
    for p, c in zip(predicted, a.candidates):
        assert p["qualitativeRisk"]["coding"][0]["code"] == KB.fhir.risk_probability[c.support]
        # the pattern, then "may fit" (never a diagnosis), each a sentence of its own
        assert p["outcome"]["text"] == f"{c.label}. {KB.text.support_label[c.support]}"
        assert "probabilityDecimal" not in p
    requests = resources(bundle, "ServiceRequest")
    from triage import report

    emergency = [a.care_level] if report.is_emergency(a) else []
    assert [r["code"]["coding"][0]["code"] for r in requests] == emergency + [s.id for s in a.next_steps]
    assert all(r["intent"] == "proposal" for r in requests)
    assert [f["code"]["coding"][0]["code"] for f in resources(bundle, "Flag")] == [f.id for f in a.red_flags]
    (prov,) = resources(bundle, "Provenance")
    who = prov["agent"][0]["who"]["display"]
    assert KB.about.version in who and knowledge.fingerprint() in who
    assert {t["reference"] for t in prov["target"]} <= refs
    (device,) = resources(bundle, "Device")
    assert knowledge.fingerprint() in [v["value"] for v in device["version"]]


def test_a_drug_induced_cause_is_coded_instead_of_the_idiopathic_pattern_codes_with_a_note():
    tc = teaching.by_id("acute_dystonic_reaction")
    a = assess(tc.case)
    assert any(c.id in KB.coding.cause_first for c in a.causes)
    (risk,) = resources(fhir_results.result_bundle(tc.case, a), "RiskAssessment")
    codes = [c["code"] for p in risk["prediction"] for c in p["outcome"]["coding"] if c["system"] == ICD]
    assert codes == [c.codes.icd10cm for c in KB.causes if c.id in {x.id for x in a.causes} and c.codes.icd10cm]
    assert any("Code the drug too" in n["text"] for n in risk["note"])


def test_an_idiopathic_pattern_keeps_its_code():
    tc = teaching.by_id("blepharospasm_classic")
    (risk,) = resources(fhir_results.result_bundle(tc.case, assess(tc.case)), "RiskAssessment")
    codes = [c["code"] for p in risk["prediction"] for c in p["outcome"]["coding"] if c["system"] == ICD]
    assert "G24.5" in codes


def test_assess_writes_the_bundle_and_a_batch_as_a_bundle_of_bundles(tmp_path):
    example = str(ROOT / "examples" / "blepharospasm.json")
    r = run_cli("assess", example, "--format", "fhir-bundle")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [e["resource"]["resourceType"] for e in doc["entry"]][:2] == ["QuestionnaireResponse", "RiskAssessment"]
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([json.loads((ROOT / "examples" / "blepharospasm.json").read_text())] * 2))
    r = run_cli("assess", str(batch), "--format", "fhir-bundle")
    assert r.returncode == 0, r.stderr
    outer = json.loads(r.stdout)
    assert [e["resource"]["resourceType"] for e in outer["entry"]] == ["Bundle", "Bundle"]


@pytest.mark.parametrize("case_id", ["acute_dystonic_reaction", "breathing_difficulty", "status_dystonicus"])
def test_an_emergency_is_the_first_request_and_the_work_up_comes_after_it(case_id):
    """An EHR that lists the ServiceRequests sees the emergency care first (priority stat,
    with the care level's action), and the next steps after it (priority routine, in their
    "after emergency care" words): never a routine referral alone."""
    from triage import report

    tc = teaching.by_id(case_id)
    a = assess(tc.case)
    assert report.is_emergency(a)
    first, *rest = resources(fhir_results.result_bundle(tc.case, a), "ServiceRequest")
    assert first["priority"] == "stat" and first["code"]["coding"][0]["code"] == a.care_level
    assert " ".join(a.care_action.split()) in first["code"]["text"]
    assert rest and all(r["priority"] == "routine" for r in rest)
    see = next(r for r in rest if r["code"]["coding"][0]["code"] == "see_neurologist")
    after = KB.by_id("next_steps")["see_neurologist"].after_emergency
    assert " ".join(knowledge.worded(after, tc.case.respondent).split()) in see["code"]["text"]


def test_a_routine_result_has_no_emergency_request():
    tc = teaching.by_id("blepharospasm_classic")
    requests = resources(fhir_results.result_bundle(tc.case, assess(tc.case)), "ServiceRequest")
    assert requests and not any("priority" in r for r in requests)
