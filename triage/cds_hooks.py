"""A CDS Hooks service: the discovery document and the cards for a QuestionnaireResponse.

The service (``fhir.yaml`` ``cds_hooks``) reads the patient's latest dystonia triage response,
from the prefetch (``questionnaireResponse``: the resource, or a search Bundle whose first
QuestionnaireResponse is used) or the hook's context (``context.questionnaireResponse``), and
returns one card: the care level's action as the summary, ``critical`` for an emergency level,
the candidate patterns, warning signs and next steps in the detail, the disclaimer always.
"""

from __future__ import annotations

import uuid
from typing import Any

from triage import fhir
from triage.models import KB

PREFETCH_KEY = "questionnaireResponse"
SUMMARY_MAX = 140  # CDS Hooks: a card's summary is under 140 characters


class HookError(fhir.ResponseError):
    """A CDS Hooks request that cannot be answered; the message names the field."""


def discovery() -> dict:
    s = KB.fhir.cds_hooks
    return {"services": [{
        "hook": s.hook, "id": s.id, "title": s.title, "description": " ".join(s.description.split()),
        "prefetch": {PREFETCH_KEY: ("QuestionnaireResponse?subject={{context.patientId}}"
                                    # the plain Questionnaire and each respondent's (a search value list is an OR)
                                    f"&questionnaire={','.join(fhir.questionnaire_urls())}&_sort=-authored&_count=1")},
    }]}


def _response_of(request: Any) -> tuple[Any, str]:
    if not isinstance(request, dict):
        raise HookError("body: expected a CDS Hooks request (a JSON object)")
    for key in ("hook", "hookInstance"):
        if not isinstance(request.get(key), str):
            raise HookError(f"body: {key}: required (a string)")
    context = request.get("context")
    if context is not None and not isinstance(context, dict):
        raise HookError("body: context: expected an object")
    prefetch = request.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise HookError("body: prefetch: expected an object")
    if context and context.get(PREFETCH_KEY) is not None:
        return context[PREFETCH_KEY], f"context.{PREFETCH_KEY}"
    if prefetch and prefetch.get(PREFETCH_KEY) is not None:
        found = prefetch[PREFETCH_KEY]
        where = f"prefetch.{PREFETCH_KEY}"
        if isinstance(found, dict) and found.get("resourceType") == "Bundle":
            entries = found.get("entry") or []
            responses = [e.get("resource") for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                         and e["resource"].get("resourceType") == "QuestionnaireResponse"]
            return (responses[0] if responses else None), f"{where}.entry[0].resource"
        return found, where
    return None, ""


def cards(request: Any) -> dict:
    """The cards for a CDS Hooks request (no response to read: no card)."""
    from triage.assessment import assess

    doc, where = _response_of(request)
    if doc is None:
        return {"cards": []}
    case, _asked = fhir.case_from_response(doc, where)
    a = assess(case)
    words = KB.fhir.cds_hooks
    summary = " ".join(a.care_action.split())
    if len(summary) >= SUMMARY_MAX:
        summary = summary[:SUMMARY_MAX - 2].rstrip() + "…"
    lines = [f"**{a.care_label}**", ""]
    if a.red_flags:
        lines += [words.red_flags_heading] + [f"- {f.label}" for f in a.red_flags] + [""]
    if a.candidates:
        lines += [words.candidates_heading]
        lines += [f"- {c.label}: {KB.text.support_label.get(c.support, c.support)}" for c in a.candidates] + [""]
    if a.next_steps:
        lines += [words.next_steps_heading] + [f"- {' '.join(s.text.split())}" for s in a.next_steps] + [""]
    if a.coding_note:
        lines += [a.coding_note, ""]
    lines.append(f"*{' '.join(a.disclaimer.split())}*")
    card = {
        "uuid": str(uuid.uuid4()), "summary": summary, "indicator": words.indicator[a.care_level],
        "detail": "\n".join(lines), "source": {"label": KB.fhir.tool_display},
    }
    return {"cards": [card]}
