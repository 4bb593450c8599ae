"""SDC adaptive forms: ``Questionnaire/$next-question``, driven by the questionnaire core.

In: a QuestionnaireResponse (alone, or as the ``questionnaire-response`` parameter of a
``Parameters``) with the answers so far and, after the first call, the contained Questionnaire
of the questions asked so far. Out: the same response with the contained Questionnaire
extended by the next question, exactly the one the terminal and the web page would ask next
(:meth:`Session.next_question`, red flags first, only what could change the result; a
checklist offers :meth:`Session.offered`), worded for whoever is answering; ``status``
``completed`` when no question is left. The emergency the answers reach (whatever made it
one) is a display item with what to do now; at the end a display item gives the result.

Nothing here decides what to ask or what an answer means: the session does. A number question
answered "I don't know" is an item without an answer, as in every response this tool reads.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

from triage import fhir
from triage.models import KB

ADAPTIVE_ID = "adaptive"
ADAPTIVE_EXT = f"{fhir.SDC}/sdc-questionnaire-questionnaireAdaptive"
QUESTIONNAIRE_PROFILE = f"{fhir.SDC}/sdc-questionnaire-adapt"
RESPONSE_PROFILE = f"{fhir.SDC}/sdc-questionnaireresponse-adapt"
PARAMETER = "questionnaire-response"
# the parts of the caller's response kept as they were (the rest is rebuilt from the answers)
KEPT = ("id", "identifier", "basedOn", "partOf", "subject", "encounter", "author", "source")


@functools.lru_cache(maxsize=1)
def _questionnaire():
    from triage.questionnaire.session import Questionnaire

    return Questionnaire(KB)


def unwrap(doc: Any, name: str) -> dict:
    """The QuestionnaireResponse of a request body: the resource, or the ``questionnaire-response``
    parameter of a ``Parameters`` resource."""
    if isinstance(doc, dict) and doc.get("resourceType") == "Parameters":
        params = doc.get("parameter")
        found = [p for p in params if isinstance(p, dict) and p.get("name") == PARAMETER] if isinstance(params, list) else []
        if len(found) != 1 or not isinstance(found[0].get("resource"), dict):
            raise fhir.ResponseError(f"{name}: Parameters: expected one parameter {PARAMETER!r} with a "
                                     "QuestionnaireResponse resource")
        doc = found[0]["resource"]
    if not isinstance(doc, dict) or doc.get("resourceType") != "QuestionnaireResponse":
        raise fhir.ResponseError(f"{name}: expected a QuestionnaireResponse (or Parameters with {PARAMETER!r})")
    return doc


def session_of(doc: dict, name: str = "body"):
    """The questionnaire session a response's answers make (and the audience it is worded for)."""
    from triage.questionnaire.answers import AnswerError

    if doc.get("status") not in ("in-progress", "completed"):
        raise fhir.ResponseError(f"{name}: status: {doc.get('status')!r}; an adaptive response is "
                                 "'in-progress' (or 'completed' at the end)")
    answers, regions, _status = fhir.answers_from_response(doc, name)
    if regions is not None:
        raise fhir.ResponseError(f"{name}: {fhir.REGIONS_ITEM}: not part of the adaptive questionnaire "
                                 "(the regions come from the answers)")
    audience = fhir.response_audience(doc, name) if doc.get("questionnaire") else None
    try:
        return _questionnaire().session(answers, audience=audience), audience
    except AnswerError as exc:
        raise fhir.ResponseError(f"{name}: {exc}") from None


def next_question(body: Any, name: str = "body") -> dict:
    """The ``$next-question`` operation: the response with the next question added (or
    ``completed``); a problem raises :class:`~triage.fhir.ResponseError` naming the item."""
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    doc = unwrap(body, name)
    fhir.check_shape(doc, name)
    session, audience = session_of(doc, name)
    nxt = session.next_question()
    who = session.who()
    iv = _questionnaire()
    asked = [q for q in iv.questions if q.id in session.answers or (nxt is not None and q.id == nxt.id)]
    items: list[dict] = [i for i in fhir._intro_items()]
    emergency = session.emergency()
    if emergency is not None:
        items.append({"linkId": fhir.ADAPTIVE_DISPLAYS[0], "type": "display",
                      "text": f"{emergency.label}. {' '.join(emergency.action.split())} "
                              f"{KB.interview.emergency_because}: {emergency.because()}"})
    for section in KB.sections:
        group = []
        for q in asked:
            if q.section != section.id:
                continue
            group.append(fhir.question_item(q, who, offered=session.offered(q) if q is nxt else None))
            if q.fills == "red_flags":
                group += fhir.emergency_items()
        if group:
            items.append({"linkId": f"section.{section.id}", "type": "group", "text": section.title, "item": group})
    status = "in-progress" if nxt is not None else "completed"
    if nxt is None:
        a = session.assessment()
        items.append({"linkId": fhir.ADAPTIVE_DISPLAYS[1], "type": "display",
                      "text": f"{a.care_label}. {' '.join(a.care_action.split())} {' '.join(a.disclaimer.split())}"})
    contained = {
        "resourceType": "Questionnaire", "id": ADAPTIVE_ID, "meta": {"profile": [QUESTIONNAIRE_PROFILE]},
        "extension": [{"url": ADAPTIVE_EXT, "valueBoolean": True}],
        "derivedFrom": [f"{fhir.questionnaire_url(audience)}|{fhir.questionnaire_version()}"],
        "status": "active", "subjectType": ["Patient"], "title": KB.interview.title, "item": items,
    }
    out: dict[str, Any] = {"resourceType": "QuestionnaireResponse"}
    out.update({k: doc[k] for k in KEPT if k in doc})
    made = fhir.response_from_answers(session.active, status=status)
    out.update({"meta": {"profile": [RESPONSE_PROFILE]}, "contained": [contained],
                "questionnaire": f"#{ADAPTIVE_ID}", "status": status, "authored": made["authored"],
                "item": made["item"]})
    QuestionnaireResponse.model_validate(out)
    return out


def asked_next(response: dict) -> Optional[str]:
    """The question the contained Questionnaire adds and the response does not answer yet."""
    answered = set(fhir.find_items(response, "response"))
    for item in _all_items(response["contained"][0]):
        if item["type"] not in ("group", "display") and item["linkId"] not in answered:
            return item["linkId"]
    return None


def _all_items(doc: dict) -> list[dict]:
    out = []
    for item in doc.get("item", []):
        out.append(item)
        out += _all_items(item)
    return out
