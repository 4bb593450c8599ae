"""The project's codes published as FHIR R4 ``CodeSystem`` and ``ValueSet`` resources.

Every code the tool emits in the project's own systems (``<base>/CodeSystem/<name>``) is in one
of these, with exactly one display: the answers (one system per case field, one per question
whose choices have words of their own, ``answer`` for yes / no / not sure / none of these), the
questions themselves, and the result vocabularies (patterns, causes, look-alikes, care levels,
support, next steps). One ValueSet per question lists the answers it takes. All generated from
the knowledge base; validated with fhir.resources.
"""

from __future__ import annotations

from typing import Any, Optional

from triage.knowledge import worded
from triage import casefields, fhir
from triage.models import KB

# The result vocabularies: code system name -> the knowledge table it lists.
RESULT_TABLES = {"types": "types", "causes": "causes", "mimics": "mimics", "care-levels": "care_levels",
                 "support": "support", "next-steps": "next_steps"}


def result_coding(table: str, item_id: str) -> dict:
    """The coding of a result item (a pattern, a cause, a care level ...) in its code system."""
    name = next(n for n, t in RESULT_TABLES.items() if t == table)
    item: Any = KB.by_id(table)[item_id]
    return {"system": fhir.code_system(name), "code": item_id, "display": _display(table, item)}


def _display(table: str, item: Any) -> str:
    if table == "next_steps":
        return item.short
    return item.label


def _concepts() -> dict[str, dict[str, dict]]:
    """system URL -> code -> concept, every code with its one display."""
    systems: dict[str, dict[str, dict]] = {}

    def add(system: str, code: str, display: str, definition: Optional[str] = None) -> None:
        concepts = systems.setdefault(system, {})
        have = concepts.get(code)
        if have is not None and have["display"] != display:
            raise AssertionError(f"{system}#{code}: two displays, {have['display']!r} and {display!r}")
        concept = {"code": code, "display": display}
        if definition:
            concept["definition"] = " ".join(definition.split())
        concepts.setdefault(code, concept)

    for field in casefields.FIELDS:
        if not field.table:
            continue
        for item in casefields.items(KB, field.name):
            add(fhir.code_system(field.name), item.id, item.label, getattr(item, "description", None))
    for q in KB.questions:
        add(fhir.QUESTION_SYSTEM, q.id, q.short)
        if q.kind == "number":
            continue
        for _value, coding, _ids in fhir._options(q):
            add(coding["system"], coding["code"], coding["display"])
    add(fhir.QUESTION_SYSTEM, KB.fhir.questionnaire_id, KB.interview.title)
    for name, table in RESULT_TABLES.items():
        for item in getattr(KB, table):
            definition = getattr(item, "description", None) or getattr(item, "text", None) or getattr(item, "action", None)
            add(fhir.code_system(name), item.id, _display(table, item),
                None if definition is None else worded(definition, None))
    return systems


def _name(system: str) -> str:
    tail = system.rsplit("/", 1)[1]
    return "DystoniaTriage" + "".join(p.capitalize() for p in tail.split("-"))


def code_systems() -> list[dict]:
    """One CodeSystem per project code system, validated."""
    from fhir.resources.R4B.codesystem import CodeSystem

    out = []
    for system, concepts in _concepts().items():
        tail = system.rsplit("/", 1)[1]
        doc = {
            "resourceType": "CodeSystem", "id": f"{KB.fhir.questionnaire_id}-{tail}", "url": system,
            "version": fhir.questionnaire_version(), "name": _name(system),
            "title": f"{KB.interview.title}: {tail.replace('-', ' ')}", "status": KB.fhir.status,
            "publisher": KB.fhir.publisher, "caseSensitive": True, "content": "complete",
            "count": len(concepts), "concept": list(concepts.values()),
        }
        CodeSystem.model_validate(doc)
        out.append(doc)
    return out


def value_set_url(q) -> str:
    return f"{KB.fhir.base}/ValueSet/question-{q.id.replace('_', '-')}"


def value_sets() -> list[dict]:
    """One ValueSet per choice question: the answers it takes, by code system."""
    from fhir.resources.R4B.valueset import ValueSet

    out = []
    for q in KB.questions:
        if q.kind == "number":
            continue
        includes: dict[str, list[dict]] = {}
        for _value, coding, _ids in fhir._options(q):
            includes.setdefault(coding["system"], []).append({"code": coding["code"], "display": coding["display"]})
        doc = {
            "resourceType": "ValueSet", "id": f"{KB.fhir.questionnaire_id}-question-{q.id.replace('_', '-')}",
            "url": value_set_url(q), "version": fhir.questionnaire_version(),
            "name": "DystoniaTriage" + "".join(p.capitalize() for p in q.id.split("_")) + "Answers",
            "title": f"{KB.interview.title}: answers to “{q.short}”", "status": KB.fhir.status,
            "publisher": KB.fhir.publisher,
            "compose": {"include": [{"system": s, "version": fhir.questionnaire_version(), "concept": c}
                                    for s, c in includes.items()]},
        }
        ValueSet.model_validate(doc)
        out.append(doc)
    return out


def terminology_bundle() -> dict:
    """Every CodeSystem and ValueSet in one ``collection`` Bundle."""
    return fhir.bundle(code_systems() + value_sets())


def displays() -> dict[tuple[str, str], str]:
    """(system, code) -> its one display, for every project code."""
    return {(s, c): concept["display"] for s, concepts in _concepts().items() for c, concept in concepts.items()}
