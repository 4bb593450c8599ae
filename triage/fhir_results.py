"""An assessment as FHIR R4 resources, for a clinic's record: one ``collection`` Bundle with

* the ``QuestionnaireResponse`` (the answers);
* a ``RiskAssessment``: the care level (extension and ``mitigation``, the action in words), the
  candidate patterns as predictions with a qualitative risk (``may fit``: never a diagnosis),
  the possible causes and look-alikes as predictions without one, the disclaimer in a note;
* a ``ServiceRequest`` with intent ``proposal`` per next step;
* a ``Flag`` per warning sign reported;
* a ``Device`` naming the tool, its version and the knowledge base's version and fingerprint,
  and a ``Provenance`` saying it made the others.

Codes follow the ICD-10-CM tabular notes as the assessment carries them (``codes.yaml``
``coding``): a drug-induced cause is coded instead of the patterns' idiopathic codes, and the
assessment's ``coding_note`` says to code the drug. Every
resource is validated with fhir.resources; the tests also validate them against the HL7 R4
JSON Schema.
"""

from __future__ import annotations

import uuid
from typing import Any, Optional, Sequence

from triage import fhir
from triage.fhir_terminology import result_coding
from triage.models import KB, Assessment, Asked, Case

RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
RISK_DISPLAY = {"negligible": "Negligible likelihood", "low": "Low likelihood", "moderate": "Moderate likelihood",
                "high": "High likelihood", "certain": "Certain"}
PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"


def _ext(name: str) -> str:
    return f"{KB.fhir.base}/StructureDefinition/{name}"


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _subject() -> dict:
    return {"display": KB.fhir.subject_display}


def _codings(table: str, item_id: str, codes: Sequence[Any]) -> list[dict]:
    return [result_coding(table, item_id)] + [{"system": c.system, "code": c.code, "display": c.display}
                                               for c in codes]


def risk_assessment(assessment: Assessment, response_ref: str, when: str) -> dict:
    """The RiskAssessment of an assessment (see the module's docstring)."""
    predictions = []
    for c in assessment.candidates:
        risk = KB.fhir.risk_probability[c.support]
        predictions.append({
            "outcome": {"coding": _codings("types", c.type, c.codes),
                        "text": f"{c.label}. {KB.text.support_label.get(c.support, c.support)}"},
            "qualitativeRisk": {"coding": [
                {"system": RISK_PROBABILITY, "code": risk, "display": RISK_DISPLAY[risk]},
                result_coding("support", c.support)]},
            "rationale": _because(c.because),
        })
    for table, findings in (("causes", assessment.causes), ("mimics", assessment.mimics)):
        for f in findings:
            predictions.append({"outcome": {"coding": _codings(table, f.id, f.codes), "text": f.label},
                                "rationale": _because(f.because)})
    notes = [{"text": " ".join(assessment.disclaimer.split())}]
    if assessment.coding_note:
        notes.append({"text": assessment.coding_note})
    doc: dict[str, Any] = {
        "resourceType": "RiskAssessment", "status": "final",
        "extension": [{"url": _ext("care-level"), "valueCodeableConcept": {
            "coding": [result_coding("care_levels", assessment.care_level)], "text": assessment.care_label}}],
        "code": {"coding": [{"system": fhir.QUESTION_SYSTEM, "code": KB.fhir.questionnaire_id,
                             "display": KB.interview.title}], "text": KB.fhir.risk_title},
        "subject": _subject(), "occurrenceDateTime": when,
        "basis": [{"reference": response_ref}],
        "mitigation": " ".join(assessment.care_action.split()),
        "note": notes,
    }
    if predictions:
        doc["prediction"] = predictions
    return doc


def _because(rules: Sequence[str]) -> str:
    from triage import engine

    book = engine.default().book
    return " ".join(dict.fromkeys(book.rule(r).explain for r in rules)) or KB.fhir.risk_title


def service_requests(assessment: Assessment, risk_ref: str, response_ref: str, when: str,
                     respondent: Optional[str] = None) -> list[dict]:
    """A ServiceRequest (intent ``proposal``) per next step. On an emergency result the first
    one is the emergency care itself, priority ``stat``, with the care level's action; the next
    steps follow with priority ``routine`` and their "after emergency care" words, so a system
    that lists the requests never shows a routine referral as all there is to do."""
    from triage import report

    emergency = report.is_emergency(assessment)
    out = []
    if emergency:
        out.append({
            "resourceType": "ServiceRequest", "status": "draft", "intent": "proposal", "priority": "stat",
            "code": {"coding": [result_coding("care_levels", assessment.care_level)],
                     "text": f"{assessment.care_label}: {' '.join(assessment.care_action.split())}"},
            "subject": _subject(), "authoredOn": when,
            "reasonReference": [{"reference": risk_ref}], "supportingInfo": [{"reference": response_ref}],
        })
    for s in assessment.next_steps:
        text = report.step_text(s, emergency, respondent, assessment)
        request: dict[str, Any] = {
            "resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
            "code": {"coding": [result_coding("next_steps", s.id)], "text": " ".join(text.split())},
            "subject": _subject(), "authoredOn": when,
            "reasonReference": [{"reference": risk_ref}], "supportingInfo": [{"reference": response_ref}],
        }
        if emergency:
            request["priority"] = "routine"
            request["note"] = [{"text": KB.report.after_emergency_heading}]
        out.append(request)
    return out


def flags(assessment: Assessment, response_ref: str, when: str) -> list[dict]:
    levels = KB.by_id("care_levels")
    out = []
    for f in assessment.red_flags:
        level: Any = levels[f.care_level]
        out.append({
            "resourceType": "Flag", "status": "active",
            "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}],
                          "text": KB.fhir.flag_category}],
            "code": {"coding": [{"system": fhir.code_system("red_flags"), "code": f.id, "display": f.label}],
                     "text": f"{f.label}: {level.label}"},
            "subject": _subject(), "period": {"start": when},
            "extension": [{"url": _ext("care-level"), "valueCodeableConcept": {
                "coding": [result_coding("care_levels", f.care_level)], "text": level.label}}],
        })
    return out


def device() -> dict:
    """The tool as a Device: its version, the knowledge base's version and fingerprint."""
    from triage import __version__, knowledge

    return {
        "resourceType": "Device",
        "deviceName": [{"name": KB.fhir.tool_display, "type": "manufacturer-name"}],
        "version": [
            {"type": {"text": "software"}, "value": __version__},
            {"type": {"text": "knowledge base"}, "value": KB.about.version},
            {"type": {"text": "knowledge base fingerprint"}, "value": knowledge.fingerprint()},
            {"type": {"text": "questionnaire"}, "value": fhir.questionnaire_version()},
        ],
    }


def provenance_who() -> str:
    from triage import __version__, knowledge

    return (f"{KB.fhir.tool_display} {__version__}, knowledge base {KB.about.version} "
            f"(fingerprint {knowledge.fingerprint()})")


def result_bundle(case: Case, assessment: Assessment, asked: Optional[Asked] = None,
                  response: Optional[dict] = None) -> dict:
    """The Bundle of one assessment; ``response`` is the QuestionnaireResponse it came from
    (default: the case's own)."""
    from fhir.resources.R4B.bundle import Bundle

    when = fhir._now()
    qr = response or fhir.response_from_case(case, authored=when, asked=asked)
    refs = {name: _urn() for name in ("qr", "risk", "device")}
    risk = risk_assessment(assessment, refs["qr"], when)
    made: list[tuple[str, dict]] = [(refs["risk"], risk)]
    made += [(_urn(), r) for r in service_requests(assessment, refs["risk"], refs["qr"], when, case.respondent)]
    made += [(_urn(), r) for r in flags(assessment, refs["qr"], when)]
    provenance = {
        "resourceType": "Provenance", "recorded": when,
        "target": [{"reference": ref} for ref, _r in made],
        "agent": [{"type": {"coding": [{"system": PARTICIPANT, "code": "assembler", "display": "Assembler"}]},
                   "who": {"reference": refs["device"], "display": provenance_who()}}],
        "entity": [{"role": "source", "what": {"reference": refs["qr"]}}],
    }
    entries = [(refs["qr"], qr), *made, (refs["device"], device()), (_urn(), provenance)]
    doc = {"resourceType": "Bundle", "type": "collection", "timestamp": when,
           "entry": [{"fullUrl": ref, "resource": r} for ref, r in entries]}
    Bundle.model_validate(doc)
    return doc


def render(results: Sequence[Assessment], cases: Sequence[Case], batch: bool,
           asked: Optional[Sequence[Optional[Asked]]] = None) -> str:
    """``assess --format fhir-bundle``: one Bundle, or for a batch a Bundle of Bundles."""
    import json

    asked = list(asked) if asked is not None else [None] * len(results)
    docs = [result_bundle(c, r, k) for r, c, k in zip(results, cases, asked)]
    doc = fhir.bundle(docs) if batch else docs[0]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
