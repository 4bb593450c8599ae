"""The pieces every explanation is made of, as data: facts, rules, conclusions, reasons, what
was not concluded, with their sources; and a fact in words."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel

from triage.models import KB
from triage.rulebook import RuleBook
from triage.treatments import Treatments

# Fact types whose absence is worth explaining: the conclusions a learner asks "why not?" about.
WHY_NOT_KINDS = ("candidate", "mimic", "cause", "care")
# Conclusion kinds shown, in this order, with the knowledge table that labels them.
KINDS = {
    "care_level": "care_levels",
    "candidate": "types",
    "cause": "causes",
    "mimic": "mimics",
    "next_step": "next_steps",
}
OP_WORDS = {"eq": "", "ne": "not", "in": "one of", "lt": "below", "gt": "above",
            "le": "at most", "ge": "at least"}


# --- the explanation, as data ----------------------------------------------------------------


class SourceRef(BaseModel):
    key: str
    citation: str = ""
    url: Optional[str] = None


class FactNode(BaseModel):
    """A fact a rule matched: an answer, or a conclusion of earlier rules (then ``by`` holds
    the rules that concluded it)."""

    text: str
    origin: Literal["answer", "concluded"]
    fact: dict[str, Any]
    field: Optional[str] = None  # the case field, for answers
    by: list["RuleNode"] = []
    shown_above: bool = False  # its chain is already shown higher up in the same tree


class RuleNode(BaseModel):
    rule: str
    layer: str
    explain: str
    source: SourceRef
    matched: list[FactNode] = []


class ConclusionNode(BaseModel):
    kind: str
    id: str
    label: str
    detail: Optional[str] = None  # the support of a candidate
    because: list[RuleNode]


class Reason(BaseModel):
    """Why a rule did not fire: a ``when`` pattern no fact matched, or an ``unless`` fact."""

    kind: Literal["missing", "blocked"]
    text: str
    found: list[str] = []  # facts that did match the patterns before the missing one
    instead: list[str] = []  # facts of the missing kind that are there but do not fit
    blocking: list[str] = []  # the facts that blocked it
    blocking_rules: list[str] = []  # the rules behind the blocking facts
    deeper: list["WhyNot"] = []  # why the missing fact was not concluded either


class WhyNot(BaseModel):
    kind: str
    id: Optional[str] = None  # the value the rule would conclude, when it is fixed
    label: str
    rule: str
    explain: str
    source: SourceRef
    reasons: list[Reason]


class Explanation(BaseModel):
    """An assessment with the reasoning behind every part of it."""

    case: dict[str, Any]
    care_level: str
    conclusions: list[ConclusionNode]
    not_concluded: list[WhyNot]
    # what a neurologist may discuss for the patterns concluded, each with its sources; none on
    # an emergency result (:func:`triage.treatments.for_result`)
    treatments: Optional[Treatments] = None
    disclaimer: str


FactNode.model_rebuild()
Reason.model_rebuild()


# --- building it -------------------------------------------------------------------------------


def _source(key: str) -> SourceRef:
    src = KB.by_id("sources").get(key)
    return SourceRef(key=key, citation=src.citation if src else "", url=src.url if src else None)


def _label(book: RuleBook, fact_type: str, value: Any) -> Optional[str]:
    spec = book.facts.get(fact_type)
    if spec is None or not spec.values or not isinstance(value, str):
        return None
    name = spec.values
    if name.startswith("case."):
        items = {c.id: c for c in getattr(KB.case, name.split(".", 1)[1], [])}
    else:
        try:
            items = KB.by_id(name)
        except AttributeError:
            return None
    item = items.get(value)
    label = getattr(item, "label", None) or getattr(item, "text", None)
    if label is not None and not isinstance(label, str):
        from triage.knowledge import worded

        label = worded(label, None)
    return " ".join(label.split()) if label else None


def describe_fact(book: RuleBook, fact: dict) -> str:
    """A fact in a line: ``region = neck (neck)``; extra attributes the rules set are shown."""
    t = str(fact.get("t"))
    extras = {k: v for k, v in fact.items() if k not in ("t", "v", "sid")}
    spec = book.facts.get(t)
    if spec and spec.knowledge:  # attributes copied from the knowledge base are noise here
        extras = {k: v for k, v in extras.items() if k not in spec.knowledge.attributes}
    if "v" not in fact:
        body = t + "".join(f" {k}={v}" for k, v in extras.items())
        return body
    value = fact["v"]
    text = t if value is True else f"{t} = {value}"
    label = _label(book, t, value)
    if label and label != value:
        text += f" ({label})"
    if extras:
        text += " [" + ", ".join(f"{k}: {v}" for k, v in extras.items()) + "]"
    return text


