"""The FHIR endpoints of ``serve``, as an EHR integrator uses them: SDC ``$next-question`` asks
exactly what the terminal asks, in the same order, to the same assessment, for every teaching
case; ``$assess`` gives the results Bundle; the CDS Hooks service gives cards; every error is an
OperationOutcome naming the problem, never a traceback."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.fhir_validators import assert_valid
from tests.test_fhir import items
from tests.test_questionnaire_parity import story_of, terminal
from triage import assess, fhir, fhir_adaptive, teaching
from triage.assessment import to_case
from triage.models import KB

FHIR = {"content-type": "application/fhir+json"}
RED = next(q for q in KB.questions if q.fills == "red_flags")


@pytest.fixture(scope="module")
def client():
    from triage.web.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def post(client, path: str, doc, status: int = 200) -> dict:
    r = client.post(path, content=json.dumps(doc), headers=FHIR)
    assert r.status_code == status, r.text[:800]
    return r.json()


def answer(response: dict, qid: str, value) -> dict:
    """What a form filler sends back: the answers so far plus the new one, with the contained
    Questionnaire it was given."""
    answers, _regions, _status = fhir.answers_from_response(response)
    doc = fhir.response_from_answers({**answers, qid: value}, status="in-progress")
    doc.update({"questionnaire": response["questionnaire"], "contained": response["contained"]})
    return doc


def offered(response: dict, qid: str) -> list[str]:
    item = next(i for i in items(response["contained"][0]) if i["linkId"] == qid)
    return [o["valueCoding"]["code"] for o in item.get("answerOption", [])]


def drive(client, story: dict, keep: list | None = None) -> tuple[list[str], dict, list[str]]:
    """Answer $next-question from a story to the end: (questions asked, last response,
    questions after which an emergency showed)."""
    response = post(client, "/fhir/Questionnaire/$next-question",
                    {"resourceType": "QuestionnaireResponse", "status": "in-progress"})
    asked: list[str] = []
    emergencies: list[str] = []
    for _ in range(60):
        if keep is not None:
            keep.append(response)
        if response["status"] == "completed":
            return asked, response, emergencies
        qid = fhir_adaptive.asked_next(response)
        assert qid is not None
        asked.append(qid)
        q = KB.question(qid)
        if q.kind != "number":  # a form filler can only answer with the options the item offers
            options = [value for value, _coding, _ids in fhir._options(q)]
            if q.kind == "several_of":
                assert offered(response, qid) and set(offered(response, qid)) <= set(options), qid
            else:
                assert offered(response, qid) == options, qid  # a yes/no or one-of item offers every answer
        value = story[qid]
        if q.kind == "several_of":
            value = [v for v in offered(response, qid) if v in value]  # ticked on the form, in its order
        response = post(client, "/fhir/Questionnaire/$next-question", answer(response, qid, value))
        shown = [i for i in items(response["contained"][0]) if i["linkId"] == fhir.ADAPTIVE_DISPLAYS[0]]
        if shown and (not emergencies or emergencies[-1] != "shown"):
            emergencies.append(qid)
    raise AssertionError("$next-question never completed")


@pytest.mark.parametrize("tc", teaching.default(), ids=lambda tc: tc.id)
def test_next_question_asks_what_the_terminal_asks_to_the_same_assessment(tc, client, tmp_path):
    story = story_of(tc.case)
    t = terminal(story, tmp_path)
    asked, last, _emergencies = drive(client, story)
    assert asked == t["asked"]
    assert asked[0] == RED.id  # red flags first
    case, _asked = fhir.case_from_response(last)  # the final response reads as a case, like any other
    assert case.model_dump() == to_case(t["case"]).model_dump()
    ours = assess(case).model_dump(exclude={"trace"})
    assert ours == t["assessment"].model_dump(exclude={"trace"})
    result = next(i for i in items(last["contained"][0]) if i["linkId"] == fhir.ADAPTIVE_DISPLAYS[1])
    assert t["assessment"].care_label in result["text"] and " ".join(t["assessment"].disclaimer.split()) in result["text"]


def test_an_emergency_red_flag_shows_what_to_do_now_at_once(client):
    response = post(client, "/fhir/Questionnaire/$next-question",
                    {"resourceType": "QuestionnaireResponse", "status": "in-progress"})
    response = post(client, "/fhir/Questionnaire/$next-question", answer(response, RED.id, ["swallowing_difficulty"]))
    (shown,) = [i for i in items(response["contained"][0]) if i["linkId"] == fhir.ADAPTIVE_DISPLAYS[0]]
    level = KB.by_id("care_levels")["emergency_ambulance"]
    from triage.knowledge import worded

    assert " ".join(worded(level.action, None).split()) in shown["text"]


def test_a_parameters_body_and_a_respondents_questionnaire_are_followed(client):
    start = {"resourceType": "QuestionnaireResponse", "status": "in-progress",
             "questionnaire": f"{fhir.questionnaire_url('caregiver')}|{fhir.questionnaire_version()}"}
    response = post(client, "/fhir/Questionnaire/$next-question",
                    {"resourceType": "Parameters", "parameter": [{"name": "questionnaire-response", "resource": start}]})
    first = next(i for i in items(response["contained"][0]) if i["linkId"] == RED.id)
    assert first["text"] == " ".join(RED.ask.for_("caregiver").split())
    assert response["contained"][0]["derivedFrom"] == [start["questionnaire"]]


def test_everything_the_api_emits_validates(client):
    kept: list[dict] = []
    drive(client, story_of(teaching.by_id("acute_dystonic_reaction").case), keep=kept)
    bundle = post(client, "/fhir/$assess", fhir.response_from_case(teaching.by_id("breathing_difficulty").case))
    error = post(client, "/fhir/$assess", {"resourceType": "QuestionnaireResponse", "status": "done"}, 422)
    assert_valid(kept + [bundle, error, client.get("/fhir/Questionnaire/dystonia-triage-clinician").json()])


def test_assess_gives_the_results_bundle_of_the_response_sent(client):
    qr = fhir.response_from_case(teaching.by_id("breathing_difficulty").case)
    bundle = post(client, "/fhir/$assess", qr)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[0] == "QuestionnaireResponse" and "RiskAssessment" in kinds and "Flag" in kinds
    assert bundle["entry"][0]["resource"] == qr


# --- CDS Hooks -------------------------------------------------------------------------------------


def hook_request(qr, where: str = "prefetch") -> dict:
    doc: dict = {"hook": KB.fhir.cds_hooks.hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                 "context": {"userId": "Practitioner/1", "patientId": "1"}}
    if where == "prefetch":
        doc["prefetch"] = {"questionnaireResponse": {"resourceType": "Bundle", "type": "searchset",
                                                     "entry": [{"resource": qr}]}}
    else:
        doc["context"]["questionnaireResponse"] = qr
    return doc


def test_cds_discovery_lists_the_service_with_its_prefetch(client):
    services = client.get("/cds-services").json()["services"]
    (s,) = services
    assert s["id"] == KB.fhir.cds_hooks.id and s["hook"] == KB.fhir.cds_hooks.hook
    assert "QuestionnaireResponse?" in s["prefetch"]["questionnaireResponse"]
    # it finds the tool's own responses, which name the Questionnaire of whoever answered
    searched = s["prefetch"]["questionnaireResponse"].split("&questionnaire=")[1].split("&")[0].split(",")
    for who in ("self", "caregiver", "clinician", "educator"):
        named = fhir.response_from_answers({"red_flags": [], "respondent": who})["questionnaire"]
        assert named.split("|")[0] in searched, who


@pytest.mark.parametrize("tc", teaching.default(), ids=lambda tc: tc.id)
def test_cds_cards_say_the_care_level_candidates_and_next_steps_with_the_disclaimer(tc, client):
    a = assess(tc.case)
    where = "context" if tc.id < "c" else "prefetch"
    (card,) = post(client, f"/cds-services/{KB.fhir.cds_hooks.id}", hook_request(fhir.response_from_case(tc.case), where))["cards"]
    emergency = KB.by_id("care_levels")[a.care_level].emergency
    assert (card["indicator"] == "critical") == emergency
    action = " ".join(a.care_action.split())
    assert len(card["summary"]) < 140
    assert card["summary"] == action or (card["summary"].endswith("…") and action.startswith(card["summary"][:-1]))
    assert " ".join(a.disclaimer.split()) in card["detail"]
    for c in a.candidates:
        assert c.label in card["detail"]
    for s in a.next_steps:
        assert " ".join(s.text.split()) in card["detail"]
    for f in a.red_flags:
        assert f.label in card["detail"]


def test_a_hook_without_a_response_gets_no_card(client):
    doc = hook_request(None)
    doc["prefetch"] = {"questionnaireResponse": None}
    assert post(client, f"/cds-services/{KB.fhir.cds_hooks.id}", doc) == {"cards": []}


# --- errors: OperationOutcome, never a traceback ---------------------------------------------------


def deep_response(levels: int) -> dict:
    doc = fhir.response_from_answers({RED.id: ["breathing_difficulty"]})
    inner: dict = {"linkId": "x"}
    for i in range(levels):
        inner = {"linkId": f"g{i}", "item": [inner]}
    doc["item"].append(inner)
    return doc


@pytest.mark.parametrize("path", ["/fhir/Questionnaire/$next-question", "/fhir/$assess",
                                  f"/cds-services/{KB.fhir.cds_hooks.id}"])
@pytest.mark.parametrize("body, status, says", [
    ("{", 400, "not valid JSON"),
    ('{"resourceType": "QuestionnaireResponse", "status": "in-progress", "status": "completed"}', 400, "appears twice"),
    ("[" * 100_000 + "]" * 100_000, 400, "nested too deeply"),
    ("1" * 5000, 400, "far too long"),
    (json.dumps(deep_response(150)), 422, "nested"),
    (json.dumps({**fhir.response_from_answers({}), "questionnaire": f"{fhir.questionnaire_url()}|0.9"}), 422,
     "version 0.9 of the questionnaire"),
])
def test_every_fhir_endpoint_refuses_bad_input_with_an_operation_outcome(client, path, body, status, says):
    if path.startswith("/cds-services") and body.startswith("{\"resourceType\": \"QuestionnaireResponse\"") \
            and "0.9" in body:
        body = json.dumps(hook_request(json.loads(body), "context"))
    elif path.startswith("/cds-services") and status == 422:
        body = json.dumps(hook_request(json.loads(body), "context"))
    r = client.post(path, content=body, headers=FHIR)
    assert r.status_code == status, r.text[:500]
    doc = r.json()
    assert doc["resourceType"] == "OperationOutcome"
    assert says in doc["issue"][0]["diagnostics"]
    assert "Traceback" not in r.text
    assert doc["issue"][1]["diagnostics"] == " ".join(KB.text.emergency_first.split())


def test_unknown_fhir_paths_methods_and_media_types_get_an_operation_outcome(client):
    for r, status in [(client.get("/fhir/Patient/1"), 404), (client.get("/fhir/Questionnaire/phq-9"), 404),
                      (client.post("/cds-services/other", content="{}", headers=FHIR), 422),
                      (client.post("/fhir/$assess", content="{}", headers={"content-type": "text/plain"}), 415)]:
        assert r.json()["resourceType"] == "OperationOutcome", r.text
        assert r.status_code in (status, 404), r.text


@pytest.mark.parametrize("path", ["/fhir/Questionnaire/$next-question", "/fhir/$assess",
                                  f"/cds-services/{KB.fhir.cds_hooks.id}"])
def test_what_the_server_refuses_before_an_endpoint_reads_it_is_an_operation_outcome_too(client, path):
    """Too large a body (413) and a post from another site (403) are refused by the server's
    guard before the FHIR code runs: an EHR still gets an OperationOutcome it can read. CDS
    Hooks services take calls from another site's page (the spec asks for CORS)."""
    from triage.web.app import MAX_INPUT_BYTES

    big = client.post(path, content=b" " * (MAX_INPUT_BYTES + 1), headers=FHIR)
    cross = client.post(path, content=b"{}", headers={**FHIR, "origin": "https://elsewhere.example",
                                                       "sec-fetch-site": "cross-site"})
    refused = [(big, 413, "too-long", "too large")]
    if path.startswith("/cds-services"):
        assert cross.status_code == 422 and cross.headers["access-control-allow-origin"] == "*"
    else:
        refused.append((cross, 403, "security", "another site"))
        assert "access-control-allow-origin" not in cross.headers
    for r, status, code, says in refused:
        assert r.status_code == status, r.text[:300]
        assert r.headers["content-type"].startswith("application/fhir+json")
        doc = r.json()
        assert doc["resourceType"] == "OperationOutcome"
        assert doc["issue"][0]["code"] == code and says in doc["issue"][0]["diagnostics"]
        assert doc["issue"][1]["diagnostics"] == " ".join(KB.text.emergency_first.split())
    assert_valid([r.json() for r, *_ in refused])


def test_an_ehr_page_can_call_the_cds_service_across_sites(client):
    """The browser's preflight gets the CORS answer, and the call itself gets its cards with
    the header that lets the page read them."""
    tc = teaching.by_id("acute_dystonic_reaction")
    url = f"/cds-services/{KB.fhir.cds_hooks.id}"
    pre = client.options(url, headers={"origin": "https://ehr.example", "access-control-request-method": "POST",
                                       "access-control-request-headers": "content-type"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "content-type" in pre.headers["access-control-allow-headers"]
    r = client.post(url, content=json.dumps(hook_request(fhir.response_from_case(tc.case), "context")),
                    headers={"content-type": "application/json", "origin": "https://ehr.example",
                             "sec-fetch-site": "cross-site"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert r.json()["cards"][0]["indicator"] == "critical"
    assert client.get("/cds-services", headers={"origin": "https://ehr.example"}).headers[
        "access-control-allow-origin"] == "*"


def test_a_red_flag_nested_in_an_answer_is_not_lost_through_the_api(client):
    doc = fhir.response_from_answers({RED.id: [], "respondent": "self"})
    red = next(i for i in items(doc) if i["linkId"] == RED.id)
    red["answer"] = [{"valueCoding": fhir._coding_of(RED, "breathing_difficulty")}]
    doc["item"][0]["item"].remove(red)
    next(i for i in items(doc) if i["linkId"] == "respondent")["answer"][0]["item"] = [red]
    bundle = post(client, "/fhir/$assess", doc)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert "Flag" in kinds
    risk = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "RiskAssessment")
    assert risk["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] in {
        c.id for c in KB.care_levels if c.emergency}


def test_the_json_api_gives_the_results_as_fhir_when_asked_by_its_accept_header(client):
    """``POST /api/assess`` with ``Accept: application/fhir+json``: the same Bundle as
    ``assess --format fhir-bundle``; an array gives a Bundle of Bundles; errors are
    OperationOutcomes. Without the header it stays the project's JSON."""
    tc = teaching.by_id("acute_dystonic_reaction")
    case = tc.case.model_dump(mode="json", exclude_none=True)
    accept = {"content-type": "application/json", "accept": "application/fhir+json"}
    one = client.post("/api/assess", content=json.dumps(case), headers=accept)
    assert one.status_code == 200 and one.headers["content-type"].startswith("application/fhir+json")
    bundle = one.json()
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert bundle["resourceType"] == "Bundle" and "RiskAssessment" in kinds and "Flag" not in kinds
    (risk,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "RiskAssessment"]
    assert risk["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == assess(tc.case).care_level
    two = client.post("/api/assess", content=json.dumps([case, case]), headers=accept).json()
    assert [e["resource"]["resourceType"] for e in two["entry"]] == ["Bundle", "Bundle"]
    assert_valid([bundle, two])
    bad = client.post("/api/assess", content=json.dumps({**case, "age": 400}), headers=accept)
    assert bad.status_code == 422 and bad.json()["resourceType"] == "OperationOutcome"
    assert "age" in bad.json()["issue"][0]["diagnostics"]
    plain = client.post("/api/assess", content=json.dumps(case), headers={"content-type": "application/json"})
    assert plain.headers["content-type"].startswith("application/json") and plain.json()["version"] == 1
