"""FHIR R4 export and import: the questions as a ``Questionnaire``, answers and cases as a
``QuestionnaireResponse``, and a ``QuestionnaireResponse`` back to a case.

Everything is generated from the question data (``knowledge/questions.yaml``) and validated
with ``fhir.resources`` (its R4B models, which read R4 JSON for these two resources). That
library checks structure, not code bindings, so the codes are checked here: every answer
must be one of its question's options.

The mapping:

* ``linkId`` = the question id; the sections are ``group`` items (``section.<id>``).
* Choices are ``answerOption`` codings. A choice that sets one contract id of its own name
  (most of them) is coded in the project's code system of that case field
  (``<base>/CodeSystem/<field>``) with the contract id as the code; a choice that sets other
  ids (the side of a hand or foot) is coded in ``<base>/CodeSystem/question-<id>`` and lists
  the contract ids it sets in an extension. yes / no / not sure and "none of these" are
  coded in ``<base>/CodeSystem/answer``.
* ``enableWhen`` comes from each question's condition; help text is a ``display`` child item
  with the ``help`` item control.
* The questions cannot say that a symptom's usual body region is *not* involved, so a
  response made from a case that names its regions also carries them exactly, in the hidden
  item ``case.regions``. Without it, the regions are those the answers imply, as in the
  interview: the regions the rules derive from the symptoms, minus those a side question
  refines, plus those the answers name.

An answer set is a dict, question id -> answer, as the interview keeps it: a choice id
(one_of), a list of choice ids (several_of; ``[]`` is "none of these"), ``yes``/``no``/
``unsure`` (yes_no), a whole number or ``None`` for "I don't know" (number).
"""

from __future__ import annotations

import datetime as _dt
import functools
from pathlib import Path
from typing import Any, Optional, Union

from pydantic import ValidationError

from triage.questionnaire import questions as qmod
from triage.errors import CaseError
from triage.knowledge import worded
from triage.models import KB, Asked, Case
from triage.questionnaire.questions import NO, TESTS, UNSURE, YES, Question

HL7 = "http://hl7.org/fhir/StructureDefinition"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition"
ITEM_CONTROL = "http://hl7.org/fhir/questionnaire-item-control"
OPTION_EXCLUSIVE = f"{HL7}/questionnaire-optionExclusive"
UNIT = f"{HL7}/questionnaire-unit"
TARGET_CONSTRAINT = f"{HL7}/targetConstraint"
REGIONS_ITEM = "case.regions"
DISCLAIMER_ITEM = "intro.disclaimer"
EMERGENCY_FIRST_ITEM = "intro.emergency"
EMERGENCY_ITEM = "red_flags.emergency"  # + "." + care level id
EMERGENCY_SUFFIX = "emergency"  # a question's id + "." + this + "." + the answer (answer_emergency_items)
# the display items an adaptive form ($next-question) adds: the emergency now, and the result
ADAPTIVE_DISPLAYS = ("adaptive.emergency", "adaptive.result")
NONE_CODE = "none"
STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")
ASSESSABLE = ("in-progress", "completed", "amended", "stopped")
# A response is a few levels deep (section, question, answer, coding); anything far deeper is
# refused before it is parsed further, so a hostile document cannot exhaust the stack.
MAX_DEPTH = 32
MAX_ITEMS = 2000

QUESTIONS: dict[str, Question] = {q.id: q for q in KB.questions}


class ResponseError(CaseError):
    """A QuestionnaireResponse that cannot be read as a case; the message names the item."""


# --- URLs and codings -------------------------------------------------------------------------


def _base() -> str:
    return KB.fhir.base


def questionnaire_version() -> str:
    """The Questionnaire's business version (``fhir.yaml``); responses must name it or none."""
    return KB.fhir.questionnaire_version


def questionnaire_id(audience: Optional[str] = None) -> str:
    return KB.fhir.questionnaire_id + (f"-{audience}" if audience else "")


def questionnaire_url(audience: Optional[str] = None) -> str:
    """The canonical URL of the Questionnaire (of the one worded for ``audience``)."""
    return f"{_base()}/Questionnaire/{questionnaire_id(audience)}"


def questionnaire_urls() -> dict[str, Optional[str]]:
    """Every canonical URL of the family -> its audience (``None``: the plain one)."""
    out: dict[str, Optional[str]] = {questionnaire_url(): None}
    out.update({questionnaire_url(a): a for a in KB.fhir.audiences})
    return out


def code_system(name: str) -> str:
    """The project's code system for a case field, a question, or ``answer``."""
    return f"{_base()}/CodeSystem/{name.replace('_', '-')}"


ANSWER_SYSTEM = code_system("answer")
QUESTION_SYSTEM = code_system("question")


def _answer_coding(code: str, display: str) -> dict:
    return {"system": ANSWER_SYSTEM, "code": code, "display": display}


def _shared(q: Question, choice) -> bool:
    """Whether a choice is coded in its case field's code system: it sets one id of its own
    name and shows that id's own words (so every code has one display)."""
    if choice.ids != [choice.id]:
        return False
    return choice.label is None or choice.label == qmod.id_label(KB, q.fills, choice.id)


def _choice_coding(q: Question, choice) -> dict:
    system = code_system(q.fills) if _shared(q, choice) else code_system(f"question-{q.id}")
    label = choice.label or qmod.id_label(KB, q.fills, choice.ids[0])
    return {"system": system, "code": choice.id, "display": label}


def _none_coding(q: Question) -> dict:
    if q.none == KB.fhir.none_display:
        return _answer_coding(NONE_CODE, KB.fhir.none_display)
    return {"system": code_system(f"question-{q.id}"), "code": NONE_CODE, "display": q.none}


def _options(q: Question) -> list[tuple[str, dict, list[str]]]:
    """(answer value, coding, contract ids it sets) for every option of a choice question."""
    if q.kind == "yes_no":
        words = KB.interview
        return [(YES, _answer_coding(YES, words.answer_yes), [q.value or ""]),
                (NO, _answer_coding(NO, words.answer_no), []),
                (UNSURE, _answer_coding(UNSURE, words.answer_unsure), [])]
    out = [(c.id, _choice_coding(q, c), c.ids) for c in q.choices]
    if q.kind == "several_of" and q.none:
        out.append((NONE_CODE, _none_coding(q), []))
    return out


def _coding_of(q: Question, value: str) -> dict:
    for v, coding, _ids in _options(q):
        if v == value:
            return coding
    raise KeyError(value)


def question_coding(q: Question) -> dict:
    """The code of a question itself (what an EHR maps to an Observation code)."""
    return {"system": QUESTION_SYSTEM, "code": q.id, "display": q.short}


def _item_control(code: str, display: str) -> dict:
    return {"url": f"{HL7}/questionnaire-itemControl", "valueCodeableConcept": {
        "coding": [{"system": ITEM_CONTROL, "code": code, "display": display}]}}


def _key(*parts: str) -> str:
    return "-".join(p.replace("_", "-").replace(".", "-") for p in parts)


def _answers_of(link: str) -> str:
    return f"%resource.repeat(item).where(linkId='{link}').answer"


def constraints(q: Question) -> list[dict]:
    """The constraints the tool enforces on ``q`` beyond the form's own rules, declared as
    SDC ``targetConstraint`` extensions with FHIRPath (evaluated on the response)."""
    out = []

    def constraint(key: str, expression: str, human: str) -> dict:
        return {"url": TARGET_CONSTRAINT, "extension": [
            {"url": "key", "valueId": key},
            {"url": "severity", "valueCode": "error"},
            {"url": "expression", "valueExpression": {"language": "text/fhirpath", "expression": expression}},
            {"url": "human", "valueString": human},
            {"url": "location", "valueString": f"{_answers_of(q.id)}"},
        ]}

    if q.kind == "number" and q.max_from:
        mine, other = f"{_answers_of(q.id)}.value", f"{_answers_of(q.max_from)}.value"
        out.append(constraint(_key(q.id, "max-from", q.max_from),
                              f"{mine}.empty() or {other}.empty() or {mine} <= {other}",
                              KB.fhir.constraint_max_from.format(question=q.short,
                                                                 other=QUESTIONS[q.max_from].short)))
    if q.kind == "several_of" and q.none:
        answers = _answers_of(q.id)
        out.append(constraint(_key(q.id, "none-exclusive"),
                              f"{answers}.where(value.code = '{NONE_CODE}').empty() or {answers}.count() = 1",
                              KB.fhir.constraint_none.format(none=q.none, question=q.short)))
    return out


# --- the Questionnaire --------------------------------------------------------------------------


def _enable_when(q: Question) -> tuple[list[dict], Optional[str]]:
    entries: list[list[dict]] = []
    for cond in q.when:
        other = QUESTIONS[cond.question]
        if cond.answered is not None:
            entries.append([{"question": other.id, "operator": "exists", "answerBoolean": cond.answered}])
        elif cond.any_of is not None:
            entries.append([{"question": other.id, "operator": "=", "answerCoding": _coding_of(other, c)}
                            for c in cond.any_of])
        elif cond.none_of is not None:
            entries.append([{"question": other.id, "operator": "!=", "answerCoding": _coding_of(other, c)}
                            for c in cond.none_of])
        elif cond.at_least is not None:
            entries.append([{"question": other.id, "operator": ">=", "answerInteger": cond.at_least}])
        else:
            entries.append([{"question": other.id, "operator": "<=", "answerInteger": cond.at_most}])
    flat = [e for group in entries for e in group]
    if not flat:
        return [], None
    several = [g for g in entries if len(g) > 1]
    any_of_groups = [g for g, c in zip(entries, q.when) if c.any_of is not None and len(g) > 1]
    if any_of_groups and len(entries) > 1:
        from triage.errors import KnowledgeError

        raise KnowledgeError(
            f"questions.yaml: {q.id}.when: a condition with several any_of answers cannot be "
            "combined with another condition in a FHIR enableWhen")
    behavior = "any" if any_of_groups else "all"
    return flat, (behavior if len(flat) > 1 or several else None)


def _is_required(q: Question) -> bool:
    """The warning signs must be answered (a response that skips them could hide an emergency)."""
    return q.fills == "red_flags"


def unanswered_required(answers: dict) -> list[str]:
    """The required questions (see :func:`_is_required`) that apply to ``answers`` but are not
    answered: a response that leaves any out cannot be ``completed``."""
    return [q.id for q in KB.questions if _is_required(q) and q.id not in answers and q.applies(answers, record=True)]


def question_item(q: Question, audience: Optional[str] = None, offered: Optional[list] = None) -> dict:
    """The Questionnaire item of a question, worded for ``audience``; ``offered`` limits a
    checklist's options to those choices (the adaptive form shows only those that matter)."""
    item: dict[str, Any] = {"linkId": q.id, "code": [question_coding(q)],
                            "text": " ".join(q.ask.for_(audience).split())}
    extensions: list[dict] = []
    if q.kind == "number":
        item["type"] = "integer"
        extensions += [{"url": f"{HL7}/minValue", "valueInteger": q.min},
                       {"url": f"{HL7}/maxValue", "valueInteger": q.max}]
        if q.unit:
            unit = KB.fhir.units[q.unit]
            extensions.append({"url": UNIT, "valueCoding": {"system": unit.system, "code": unit.code,
                                                            "display": unit.display}})
    else:
        item["type"] = "choice"
        item["repeats"] = q.kind == "several_of"
        if q.kind == "several_of":
            extensions.append(_item_control("check-box", "Check-box"))
        else:
            extensions.append(_item_control("radio-button", "Radio Button"))
        # only a checklist is narrowed to the choices that matter: a yes/no or one-of item
        # always offers every answer
        keep = None if offered is None or q.kind != "several_of" else {c.id for c in offered} | {NONE_CODE}
        options = []
        for value, coding, ids in _options(q):
            if keep is not None and value not in keep:
                continue
            option: dict[str, Any] = {"valueCoding": coding}
            option_ext: list[dict[str, Any]] = []
            if q.kind != "yes_no" and ids != [value] and ids:
                option_ext += [{"url": f"{_base()}/StructureDefinition/sets-case-ids",
                                "valueCoding": {"system": code_system(q.fills), "code": i}} for i in ids]
            if value == NONE_CODE and q.kind == "several_of":
                option_ext.append({"url": OPTION_EXCLUSIVE, "valueBoolean": True})
            if option_ext:
                option["extension"] = option_ext
            options.append(option)
        item["answerOption"] = options
    extensions += constraints(q)
    if extensions:
        item["extension"] = extensions
    if _is_required(q):
        item["required"] = True
    enable, behavior = _enable_when(q)
    if enable:
        item["enableWhen"] = enable
    if behavior:
        item["enableBehavior"] = behavior
    hint = q.help_for(audience)
    if hint:
        item["item"] = [{
            "linkId": f"{q.id}.help", "type": "display", "text": " ".join(hint.split()),
            "extension": [_item_control("help", "Help-Button")],
        }]
    return item


def emergency_items(audience: Optional[str] = None) -> list[dict]:
    """One display item per emergency care level (care_levels.yaml ``emergency``), shown as
    soon as a warning sign of that level is ticked (red_flags.yaml gives each sign's level):
    what to do now, in words."""
    q = next(x for x in KB.questions if x.fills == "red_flags")
    out = []
    for level in sorted(KB.care_levels, key=lambda c: -c.rank):
        if not level.emergency:
            continue
        flags = [f.id for f in KB.red_flags if f.care_level == level.id]
        if not flags:
            continue
        item: dict[str, Any] = {
            "linkId": f"{EMERGENCY_ITEM}.{level.id}", "type": "display",
            "text": f"{level.label}. {' '.join(worded(level.action, audience).split())}",
            "enableWhen": [{"question": q.id, "operator": "=", "answerCoding": _coding_of(q, f)} for f in flags],
        }
        if len(flags) > 1:
            item["enableBehavior"] = "any"
        out.append(item)
    return out


def _answer_emergency_link(e) -> str:
    """The linkId of the display item of an answer that makes an emergency (``fhir.yaml``)."""
    return f"{e.question}.{EMERGENCY_SUFFIX}.{e.answer}"


def answer_emergency_items(q: Question, audience: Optional[str] = None) -> list[dict]:
    """The display items after ``q`` for an answer to it that makes an emergency on its own
    once a movement is reported (``fhir.yaml`` ``emergency_answers``): the care level, what to
    do now and the rule's words, shown when that answer is given and the other question is
    answered. The form cannot run the rules; the tests check each against them."""
    from triage import rulebook

    out = []
    for e in KB.fhir.emergency_answers:
        if e.question != q.id:
            continue
        level = KB.by_id("care_levels")[e.care_level]
        words = " ".join(f"{level.label}. {worded(level.action, audience)} {rulebook.default().rule(e.rule).explain}".split())
        movement = KB.question(e.with_)
        when = [{"question": q.id, "operator": "=", "answerCoding": _coding_of(q, e.answer)},
                {"question": movement.id, "operator": "exists", "answerBoolean": True}]
        if movement.kind == "several_of" and movement.none:  # answered, and not with "none of these"
            when.append({"question": movement.id, "operator": "!=", "answerCoding": _coding_of(movement, NONE_CODE)})
        out.append({"linkId": _answer_emergency_link(e), "type": "display", "text": words,
                    "enableWhen": when, "enableBehavior": "all"})
    return out


def _intro_items(audience: Optional[str] = None) -> list[dict]:
    return [
        {"linkId": DISCLAIMER_ITEM, "type": "display", "text": " ".join(KB.text.disclaimer_for(audience).split())},
        {"linkId": EMERGENCY_FIRST_ITEM, "type": "display", "text": " ".join(KB.text.emergency_first.split())},
    ]


def _regions_item() -> dict:
    return {
        "linkId": REGIONS_ITEM, "text": KB.fhir.regions_item_text, "type": "choice",
        "repeats": True, "readOnly": True,
        "extension": [{"url": f"{HL7}/questionnaire-hidden", "valueBoolean": True}],
        "answerOption": [{"valueCoding": {"system": code_system("regions"), "code": r.id,
                                          "display": r.label}} for r in KB.regions],
    }


def _audience_label(audience: str) -> str:
    return next(c.label for c in KB.case.respondent if c.id == audience)


def questionnaire(audience: Optional[str] = None) -> dict:
    """The FHIR R4 Questionnaire of every question, validated; a JSON-ready dict.

    ``audience`` (one of ``fhir.yaml`` ``audiences``): the Questionnaire worded for that
    respondent, with "who is answering" filled in; ``None``: worded for whoever answers."""
    from fhir.resources.R4B.questionnaire import Questionnaire

    if audience is not None and audience not in KB.fhir.audiences:
        raise ValueError(f"audience {audience!r}; allowed: {', '.join(KB.fhir.audiences)}")
    groups = []
    for section in KB.sections:
        items = []
        for q in KB.questions:
            if q.section != section.id:
                continue
            item = question_item(q, audience)
            if audience and q.fills == "respondent":  # who is answering: known (que-11: no initial[x])
                for option in item["answerOption"]:
                    if option["valueCoding"]["code"] == audience:
                        option["initialSelected"] = True
                item["readOnly"] = True
            items.append(item)
            if q.fills == "red_flags":
                items += emergency_items(audience)
            items += answer_emergency_items(q, audience)
        if items:
            groups.append({"linkId": f"section.{section.id}", "type": "group", "text": section.title,
                           "item": items})
    title = KB.interview.title + (f" ({_audience_label(audience)})" if audience else "")
    doc = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(audience),
        "url": questionnaire_url(audience),
        "version": questionnaire_version(),
        "name": KB.fhir.name + (audience.capitalize() if audience else ""),
        "title": title,
        "status": KB.fhir.status,
        "subjectType": ["Patient"],
        "publisher": KB.fhir.publisher,
        "description": " ".join(KB.text.disclaimer_for(audience).split()),
        "code": [{"system": QUESTION_SYSTEM, "code": KB.fhir.questionnaire_id, "display": KB.interview.title}],
        "item": _intro_items(audience) + groups + [_regions_item()],
    }
    if audience:
        doc["derivedFrom"] = [f"{questionnaire_url()}|{questionnaire_version()}"]
    Questionnaire.model_validate(doc)
    return doc


def questionnaires() -> list[dict]:
    """The plain Questionnaire and one per respondent."""
    return [questionnaire()] + [questionnaire(a) for a in KB.fhir.audiences]


# --- answers <-> QuestionnaireResponse ---------------------------------------------------------


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def response_from_answers(answers: dict, *, status: str = "completed", regions: Optional[list[str]] = None,
                          authored: Optional[str] = None) -> dict:
    """A QuestionnaireResponse of an answer set (question id -> answer), validated.

    ``regions``: the case's body regions, carried exactly in the hidden ``case.regions`` item.
    A response that leaves a required item unanswered (the warning signs) is ``in-progress``
    whatever ``status`` asks: a ``completed`` one would break the Questionnaire's rules.
    """
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    if status not in STATUSES:
        raise ValueError(f"status {status!r}; allowed: {', '.join(STATUSES)}")
    check_answers(answers)
    if status == "completed" and unanswered_required(answers):
        status = "in-progress"  # the Questionnaire's required items are not all answered
    # who answered: the response names their Questionnaire and gives each question as it was
    # worded for them ("How old is the patient?" for a nurse)
    respondent = next((answers[q.id] for q in KB.questions if q.fills == "respondent" and q.id in answers), None)
    audience = respondent if respondent in KB.fhir.audiences else None
    groups = []
    for section in KB.sections:
        items = []
        for q in KB.questions:
            if q.section != section.id or q.id not in answers:
                continue
            items.append(_response_item(q, answers[q.id], audience))
        if items:
            groups.append({"linkId": f"section.{section.id}", "text": section.title, "item": items})
    if regions:
        labels = {r.id: r.label for r in KB.regions}
        groups.append({"linkId": REGIONS_ITEM, "text": KB.fhir.regions_item_text, "answer": [
            {"valueCoding": {"system": code_system("regions"), "code": r, "display": labels[r]}}
            for r in regions]})
    doc = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url(audience)}|{questionnaire_version()}",
        "status": status,
        "authored": authored or _now(),
        "item": groups,
    }
    QuestionnaireResponse.model_validate(doc)
    return doc


def bundle(resources: list[dict]) -> dict:
    """Several resources in one FHIR ``collection`` Bundle (a batch of responses)."""
    from fhir.resources.R4B.bundle import Bundle

    doc = {"resourceType": "Bundle", "type": "collection", "timestamp": _now(),
           "entry": [{"resource": r} for r in resources]}
    Bundle.model_validate(doc)
    return doc


def in_progress_response(answers: dict, *, regions: Optional[list[str]] = None) -> dict:
    """An ``in-progress`` QuestionnaireResponse of the answers so far (for an interrupted
    interview); :func:`answers_from_response` reads it back to resume."""
    return response_from_answers(answers, status="in-progress", regions=regions)


def save_in_progress(path: Union[str, Path], answers: dict) -> Path:
    """Save the answers so far as an ``in-progress`` QuestionnaireResponse (JSON), atomically
    and readable by the owner only. ``answers_from_response(json.loads(text))`` reads it back.
    """
    import json

    from triage.files import save_text

    return save_text(path, json.dumps(in_progress_response(answers), indent=2, ensure_ascii=False) + "\n")


def _response_item(q: Question, value: Any, audience: Optional[str] = None) -> dict:
    item: dict[str, Any] = {"linkId": q.id, "text": " ".join(q.ask.for_(audience).split())}
    if q.kind == "number":
        if value is not None:
            item["answer"] = [{"valueInteger": value}]
        return item
    values = value if isinstance(value, list) else [value]
    if q.kind == "several_of" and not values:
        if not q.none:
            return item  # no "none of these" answer to give: asked, nothing chosen
        values = [NONE_CODE]
    item["answer"] = [{"valueCoding": _coding_of(q, v)} for v in values]
    return item


def check_answers(answers: dict) -> None:
    """Every answer names a known question and is an answer that question accepts."""
    from triage.questionnaire.answers import AnswerError, check

    for qid, value in answers.items():
        q = QUESTIONS.get(qid)
        if q is None:
            raise ResponseError(f"{qid}: unknown question; questions: {', '.join(QUESTIONS)}")
        try:
            check(q, value, answers, KB.interview)
        except AnswerError as exc:
            raise ResponseError(f"{qid}: {value!r}: {exc}") from None


def check_shape(doc: Any, name: str) -> None:
    """Refuse a document nested deeper than :data:`MAX_DEPTH` or with more than
    :data:`MAX_ITEMS` items, before anything recursive reads it (no stack is exhausted)."""
    stack: list[tuple[Any, int]] = [(doc, 0)]
    items = 0
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ResponseError(f"{name}: nested more than {MAX_DEPTH} levels deep; a QuestionnaireResponse of "
                                "this questionnaire is a few levels deep (section, question, answer)")
        if isinstance(node, dict):
            if isinstance(node.get("item"), list):
                items += len(node["item"])
                if items > MAX_ITEMS:
                    raise ResponseError(f"{name}: more than {MAX_ITEMS} items; this questionnaire has "
                                        f"{len(QUESTIONS)} questions")
            stack += [(v, depth + 1) for v in node.values()]
        elif isinstance(node, list):
            stack += [(v, depth + 1) for v in node]


def check_canonical(canonical: Any, name: str, field: str = "questionnaire") -> Optional[str]:
    """The audience of the Questionnaire a response names (``None``: the plain one); another
    Questionnaire, or another version of this one, is refused with the reason."""
    if not isinstance(canonical, str):
        raise ResponseError(f"{name}: {field}: expected the canonical URL of this tool's questionnaire")
    url, _, version = canonical.partition("|")
    urls = questionnaire_urls()
    if url not in urls:
        raise ResponseError(f"{name}: {field}: {canonical!r} is not this tool's questionnaire "
                            f"({questionnaire_url()})")
    if version and version != questionnaire_version():
        raise ResponseError(
            f"{name}: {field}: the response is for version {version} of the questionnaire, and this tool "
            f"reads version {questionnaire_version()}: its questions or answer codes differ, so its answers "
            f"could be misread; answer the questionnaire again (version {questionnaire_version()})")
    return urls[url]


def find_items(doc: dict, name: str, known: Optional[set] = None) -> dict[str, tuple[str, dict]]:
    """Every answered item of a response by linkId, wherever it sits: under a section or any
    other group, under another item's answer (``answer.item``), at the top. A question that
    appears twice, an unknown linkId, or an item with both ``item`` and ``answer`` (FHIR rule
    qrs-1) is refused naming the place; nothing is skipped, so no warning sign is lost."""
    containers = {f"section.{s.id}" for s in KB.sections} | {DISCLAIMER_ITEM, EMERGENCY_FIRST_ITEM}
    containers |= {i["linkId"] for i in emergency_items()} | {f"{q.id}.help" for q in KB.questions}
    containers |= {_answer_emergency_link(e) for e in KB.fhir.emergency_answers}  # no need to word them
    containers |= set(ADAPTIVE_DISPLAYS)
    containers |= known or set()
    found: dict[str, tuple[str, dict]] = {}
    stack: list[tuple[list, str]] = [(doc.get("item") or [], "item")]
    while stack:
        items, path = stack.pop(0)
        siblings: dict[str, str] = {}
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            if not isinstance(item, dict):
                raise ResponseError(f"{name}: {where}: expected an item (a JSON object)")
            link = item.get("linkId")
            if not link or not isinstance(link, str):
                raise ResponseError(f"{name}: {where}: linkId is missing")
            if item.get("item") and item.get("answer"):
                raise ResponseError(f"{name}: {where} ({link}): has both item and answer; FHIR rule qrs-1: "
                                    "nested items go beneath the answer (answer.item) or the item, not both")
            if link in siblings:
                raise ResponseError(f"{name}: {where}: linkId {link!r} repeats at {siblings[link]}; FHIR rule "
                                    "qrs-2: repeated answers are combined in the answer list of one item")
            siblings[link] = where
            if link in containers or (link not in QUESTIONS and link != REGIONS_ITEM and not item.get("answer")
                                      and item.get("item")):
                if item.get("answer"):
                    raise ResponseError(f"{name}: {where} ({link}): a section or display item has no answer")
                stack.append((item.get("item") or [], f"{where}.item"))
                continue
            if link != REGIONS_ITEM and link not in QUESTIONS:
                raise ResponseError(f"{name}: {where}: linkId {link!r} is not a question of this "
                                    f"questionnaire; questions: {', '.join(QUESTIONS)}")
            if link in found:
                raise ResponseError(f"{name}: {where}: question {link!r} is answered twice "
                                    f"(also at {found[link][0]})")
            found[link] = (where, item)
            stack.append((item.get("item") or [], f"{where}.item"))
            for j, ans in enumerate(item.get("answer") or []):
                if isinstance(ans, dict) and ans.get("item"):
                    stack.append((ans["item"], f"{where}.answer[{j}].item"))
    return found


def answers_from_response(doc: Any, name: str = "input") -> tuple[dict, Optional[list[str]], str]:
    """Read a QuestionnaireResponse: ``(answers, exact regions or None, status)``.

    The resource is validated with fhir.resources, then every item and code is checked against
    the questions; a problem raises :class:`ResponseError` naming the item and what is allowed.
    Items are found by linkId wherever they sit (see :func:`find_items`).
    """
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    if not isinstance(doc, dict) or doc.get("resourceType") != "QuestionnaireResponse":
        raise ResponseError(f"{name}: not a FHIR QuestionnaireResponse")
    check_shape(doc, name)
    try:
        QuestionnaireResponse.model_validate(doc)
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:10]:
            where = ".".join(str(p) for p in err["loc"]) or "(resource)"
            lines.append(f"{where}: {err['msg']}")
        raise ResponseError(f"{name}: not a valid FHIR R4 QuestionnaireResponse:\n  " + "\n  ".join(lines)) from None
    status = doc.get("status")
    if status not in STATUSES:
        raise ResponseError(f"{name}: status: {status!r} is not a QuestionnaireResponse status; "
                            f"allowed: {', '.join(STATUSES)}")
    if status not in ASSESSABLE:
        raise ResponseError(f"{name}: status: the response is marked {status!r}, so it is not assessed")
    canonical = doc.get("questionnaire")
    if canonical is not None:
        response_audience(doc, name)
    found = find_items(doc, name)
    return _answers_of_items(found, name) + (status,)


def contained_questionnaire(doc: dict, name: str) -> Optional[dict]:
    """The contained Questionnaire a response names (``questionnaire: "#id"``, as an SDC
    adaptive response does), or ``None`` when it names a canonical URL."""
    canonical = doc.get("questionnaire")
    if not isinstance(canonical, str) or not canonical.startswith("#"):
        return None
    for res in doc.get("contained") or []:
        if isinstance(res, dict) and res.get("resourceType") == "Questionnaire" and res.get("id") == canonical[1:]:
            return res
    raise ResponseError(f"{name}: questionnaire: {canonical!r} names a contained Questionnaire that is not there")


def response_audience(doc: dict, name: str) -> Optional[str]:
    """The respondent the Questionnaire a response answers is worded for (``None``: the plain
    one); another Questionnaire or version is refused with the reason. A contained
    (adaptive) Questionnaire must say which one it is derived from."""
    contained = contained_questionnaire(doc, name)
    if contained is None:
        return check_canonical(doc.get("questionnaire"), name)
    derived = contained.get("derivedFrom") or []
    if len(derived) != 1:
        raise ResponseError(f"{name}: contained Questionnaire {contained.get('id')!r}: derivedFrom: expected the "
                            f"canonical of this tool's questionnaire ({questionnaire_url()}|{questionnaire_version()})")
    return check_canonical(derived[0], name, "contained Questionnaire derivedFrom")


def _answers_of_items(found: dict[str, tuple[str, dict]], name: str) -> tuple[dict, Optional[list[str]]]:
    answers: dict[str, Any] = {}
    for q in KB.questions:  # in question order, so conditions see earlier answers
        if q.id not in found:
            continue
        where, item = found[q.id]
        value = _read_answer(q, item.get("answer") or [], f"{name}: {where} ({q.id})")
        if value is _UNANSWERED:
            continue
        if not q.applies(answers, record=True):
            raise ResponseError(f"{name}: {where} ({q.id}): answered, but the question does not apply "
                                f"to the earlier answers (it is asked only when {_describe_when(q)})")
        answers[q.id] = value
    regions = None
    if REGIONS_ITEM in found:
        where, item = found[REGIONS_ITEM]
        regions = []
        for j, ans in enumerate(item.get("answer") or []):
            coding = ans.get("valueCoding") or {}
            if coding.get("system") != code_system("regions") or coding.get("code") not in KB.ids("regions"):
                raise ResponseError(
                    f"{name}: {where}.answer[{j}] ({REGIONS_ITEM}): expected a coding in "
                    f"{code_system('regions')} with one of: {', '.join(KB.ids('regions'))}")
            if coding["code"] not in regions:
                regions.append(coding["code"])
    return answers, regions


_UNANSWERED = object()


def _describe_when(q: Question) -> str:
    parts = []
    for c in q.when:
        for key in TESTS:
            value = getattr(c, key)
            if value is not None:
                shown = ", ".join(value) if isinstance(value, list) else value
                parts.append(f"{c.question} {key.replace('_', ' ')} {shown}")
    return " and ".join(parts)


def _read_answer(q: Question, answers: list, where: str) -> Any:
    if q.kind == "number":
        if not answers:
            return None if q.optional else _UNANSWERED
        if len(answers) != 1 or set(answers[0]) - {"item"} != {"valueInteger"}:
            raise ResponseError(f"{where}: expected one valueInteger answer")
        value = answers[0]["valueInteger"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ResponseError(f"{where}: valueInteger must be a whole number, got {value!r}")
        low, high = q.min or 0, q.max if q.max is not None else value
        if not low <= value <= high:
            raise ResponseError(f"{where}: {value} is outside {low} to {high}")
        return value
    if not answers:
        return _UNANSWERED
    options = _options(q)
    by_system: dict[str, list[str]] = {}
    for _v, c, _i in options:
        by_system.setdefault(c["system"], []).append(c["code"])
    allowed = "; ".join(f"{', '.join(codes)} (system {system})" for system, codes in by_system.items())
    values = []
    for j, ans in enumerate(answers):
        coding = ans.get("valueCoding")
        if coding is None or set(ans) - {"valueCoding", "item"}:
            raise ResponseError(f"{where}.answer[{j}]: expected a valueCoding; allowed: {allowed}")
        match = next((v for v, c, _i in options
                      if c["code"] == coding.get("code") and c["system"] == coding.get("system")), None)
        if match is None:
            raise ResponseError(f"{where}.answer[{j}]: {coding.get('code')!r} in "
                                f"{coding.get('system')!r} is not an answer to this question; allowed: {allowed}")
        values.append(match)
    if q.kind == "several_of":
        if NONE_CODE in values and len(values) > 1:
            raise ResponseError(f"{where}: {NONE_CODE!r} cannot be given together with other answers")
        return [] if values == [NONE_CODE] else list(dict.fromkeys(values))
    if len(values) != 1:
        raise ResponseError(f"{where}: expected one answer, got {len(values)}")
    return values[0]


# --- answers <-> case: the questionnaire's own mapping ----------------------------------------


@functools.lru_cache(maxsize=1)
def _record():
    from triage.questionnaire.session import Questionnaire

    return Questionnaire(KB).record


def case_from_answers(answers: dict, regions: Optional[list[str]] = None) -> Case:
    """The case an answer set makes, as the interview builds it (``regions``, when given, are
    the case's regions exactly)."""
    from triage.assessment import to_case

    return to_case(_record().case(answers, regions))


def asked_from_answers(answers: dict) -> Asked:
    """What the answers say was asked and answered "no" or "not sure", for the report."""
    return _record().asked(answers)


def answers_from_case(case: Case, asked: Optional[Asked] = None) -> dict:
    """Answers that make ``case`` (with its regions carried separately when it names any), and
    the "no" and "not sure" answers ``asked`` records."""
    return _record().answers_from_case(case, asked)


def response_from_case(case: Case, *, status: str = "completed", authored: Optional[str] = None,
                       asked: Optional[Asked] = None) -> dict:
    """The QuestionnaireResponse of a case; reading it back gives the same case (and, with the
    ``asked`` record of a questionnaire, the same "no" and "not sure" answers).

    A case says only what was reported: one that reports no warning sign, without a record
    that they were asked and denied, leaves the required warning-signs item unanswered, so its
    response is ``in-progress`` (a ``completed`` one would break the Questionnaire's rules)."""
    return response_from_answers(answers_from_case(case, asked), status=status,
                                 regions=list(case.regions) or None, authored=authored)


def case_from_response(doc: Any, name: str = "input") -> tuple[Case, Asked]:
    """The case a QuestionnaireResponse makes, and what it says was asked."""
    answers, regions, _status = answers_from_response(doc, name)
    try:
        case = case_from_answers(answers, regions)
    except CaseError as exc:
        raise ResponseError(f"{name}: the answers do not make a valid case: {exc}") from None
    return case, asked_from_answers(answers)
