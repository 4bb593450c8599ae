"""The FHIR and CDS Hooks endpoints of ``dystonia-triage serve`` (registered by
:func:`triage.web.app.create_app`):

* ``GET /fhir/Questionnaire/{id}``: the Questionnaire (``dystonia-triage``, or one worded for a
  respondent: ``dystonia-triage-self``, ``-caregiver``, ``-clinician``);
* ``POST /fhir/Questionnaire/$next-question``: SDC adaptive forms (:mod:`triage.fhir_adaptive`);
* ``POST /fhir/$assess``: a QuestionnaireResponse (or a case) in, the results Bundle out
  (:mod:`triage.fhir_results`);
* ``GET /cds-services`` and ``POST /cds-services/{id}``: CDS Hooks (:mod:`triage.cds_hooks`).

Every error is an ``OperationOutcome`` naming the field, with the emergency advice beside it;
never a traceback. Duplicate JSON keys and documents nested too deeply are refused before
anything reads them. The rules engine runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from triage.models import KB

FHIR_JSON = "application/fhir+json"
ACCEPTED_TYPES = ("application/fhir+json", "application/json")


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def outcome(message: str, code: str = "invalid") -> dict:
    """An OperationOutcome: the problem, and what to do in an emergency (whatever the error)."""
    return {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": code, "diagnostics": message},
        {"severity": "information", "code": "informational", "diagnostics": " ".join(KB.text.emergency_first.split())},
    ]}


def _error(status: int, message: str, code: str = "invalid") -> JSONResponse:
    return JSONResponse(outcome(message, code), status_code=status, media_type=FHIR_JSON)


def _no_duplicates(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise Refused(400, "structure", f"body: the key {key!r} appears twice in one object; "
                                            "a duplicate key would hide one of its values")
        out[key] = value
    return out


async def _body(request: Request) -> Any:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ACCEPTED_TYPES:
        raise Refused(415, "not-supported", f"content-type: {kind or '(none)'!r}; send {' or '.join(ACCEPTED_TYPES)}")
    raw = await request.body()
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise Refused(400, "structure", "body: nested too deeply to be a FHIR resource") from None
    except UnicodeDecodeError:
        raise Refused(400, "structure", "body: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise Refused(400, "structure", f"body: not valid JSON: {exc.msg} at line {exc.lineno}, "
                                        f"column {exc.colno}") from None
    except ValueError:  # a number with thousands of digits
        raise Refused(400, "structure", "body: a number is far too long") from None


async def _run(request: Request, work: Callable[[Any], dict], media_type: str = FHIR_JSON) -> Response:
    from triage.errors import CaseError
    from triage.inputs import InputProblem

    try:
        doc = await _body(request)
        result = await run_in_threadpool(work, doc)
    except Refused as exc:
        return _error(exc.status, exc.message, exc.code)
    except (CaseError, InputProblem) as exc:
        return _error(422, str(exc))
    return JSONResponse(result, media_type=media_type)


def _assess_bundle(doc: Any) -> dict:
    from triage import fhir_results
    from triage.assessment import assess
    from triage.inputs import parse_inputs

    inputs, batch = parse_inputs(json.dumps(doc), "body")
    if batch:
        raise Refused(422, "not-supported", "body: one QuestionnaireResponse (or one case) at a time")
    ((case, asked),) = inputs
    response = doc if isinstance(doc, dict) and doc.get("resourceType") == "QuestionnaireResponse" else None
    return fhir_results.result_bundle(case, assess(case), asked, response=response)


def _next_question(doc: Any) -> dict:
    from triage import fhir_adaptive

    return fhir_adaptive.next_question(doc)


def _cards(service_id: str) -> Callable[[Any], dict]:
    def work(doc: Any) -> dict:
        from triage import cds_hooks

        if service_id != KB.fhir.cds_hooks.id:
            raise Refused(404, "not-found", f"service {service_id!r}: no such CDS service; "
                                            f"services: {KB.fhir.cds_hooks.id}")
        return cds_hooks.cards(doc)
    return work


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/fhir/Questionnaire/{qid}", summary="A FHIR R4 Questionnaire (SDC)",
           responses={200: {"content": {FHIR_JSON: {}}}, 404: {"description": "OperationOutcome"}})
    def get_questionnaire(qid: str) -> Response:
        from triage import fhir

        ids = {fhir.questionnaire_id(a): a for a in [None, *KB.fhir.audiences]}
        if qid not in ids:
            return _error(404, f"Questionnaire/{qid}: not found; Questionnaires: {', '.join(ids)}", "not-found")
        return JSONResponse(fhir.questionnaire(ids[qid]), media_type=FHIR_JSON)

    @r.post("/fhir/Questionnaire/$next-question", summary="SDC adaptive forms: the next question",
            description="A QuestionnaireResponse (or Parameters with 'questionnaire-response') in; the "
                        "same with the next question added to its contained Questionnaire out, "
                        "status 'completed' at the end. Errors are OperationOutcomes.")
    async def next_question(request: Request) -> Response:
        return await _run(request, _next_question)

    @r.post("/fhir/$assess", summary="Assess a QuestionnaireResponse: the results as a FHIR Bundle",
            description="A QuestionnaireResponse (or a case) in; a collection Bundle out with the "
                        "response, a RiskAssessment, ServiceRequest proposals, Flags and a Provenance.")
    async def assess_bundle(request: Request) -> Response:
        return await _run(request, _assess_bundle)

    @r.get("/cds-services", summary="CDS Hooks discovery")
    def cds_discovery() -> Response:
        from triage import cds_hooks

        return JSONResponse(cds_hooks.discovery())

    @r.post("/cds-services/{service_id}", summary="CDS Hooks: cards for a QuestionnaireResponse")
    async def cds_service(service_id: str, request: Request) -> Response:
        return await _run(request, _cards(service_id), media_type="application/json")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @r.api_route("/fhir/{rest:path}", methods=methods, include_in_schema=False)
    def fhir_unknown(rest: str, request: Request) -> Response:
        return _error(404, f"{request.method} /fhir/{rest}: no such FHIR endpoint; endpoints: GET "
                           "/fhir/Questionnaire/{id}, POST /fhir/Questionnaire/$next-question, POST /fhir/$assess",
                      "not-supported")

    @r.api_route("/cds-services/{rest:path}", methods=methods, include_in_schema=False)
    def cds_unknown(rest: str, request: Request) -> Response:
        return _error(405 if request.method == "GET" and rest else 404,
                      f"{request.method} /cds-services/{rest}: not a CDS Hooks endpoint here; "
                      "GET /cds-services, POST /cds-services/{id}", "not-supported")

    return r
