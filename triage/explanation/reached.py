"""How a result was reached, as data: every conclusion walked back, rule by rule, to the answers
and to the literature behind each rule (MYCIN's HOW), built from one engine
:class:`~triage.engine.Run` (the firings record which facts each rule matched and what it
concluded, so the chains are the ones that actually fired). Nothing here decides anything
clinical; the words are the rules' explanations and the fact descriptions in ``rules/facts.yaml``.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel

from triage import engine as engine_mod
from triage.assessment import assess, case_facts, to_case
from triage.engine import Run, fact_key
from triage.models import KB, Case
from triage.rulebook import RuleBook

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


class _Builder:
    def __init__(self, run: Run, book: RuleBook):
        self.run, self.book = run, book
        self.answers = {fact_key(f) for f in run.answers}

    def fact_node(self, fact: dict, before: int, seen: set) -> FactNode:
        key = fact_key(fact)
        text = describe_fact(self.book, fact)
        if key in self.answers:
            field = self.book.facts[fact["t"]].from_case
            return FactNode(text=text, origin="answer", fact=fact, field=field)
        if key in seen:
            return FactNode(text=text, origin="concluded", fact=fact, shown_above=True)
        seen.add(key)
        producers = [i for i in self.run.producers.get(key, []) if i < before]
        return FactNode(text=text, origin="concluded", fact=fact,
                        by=[self.rule_node(i, seen) for i in producers])

    def rule_node(self, index: int, seen: set) -> RuleNode:
        firing = self.run.firings[index]
        rule = self.book.rule(firing.rule)
        return RuleNode(
            rule=rule.id, layer=rule.layer, explain=rule.explain, source=_source(rule.source),
            matched=[self.fact_node(f, index, seen) for f in firing.matched.values()],
        )

    def conclusion(self, kind: str, fact: dict, label: str, detail: Optional[str] = None) -> ConclusionNode:
        key = fact_key(fact)
        seen = {key}
        nodes = [self.rule_node(i, seen) for i in self.run.producers.get(key, [])]
        return ConclusionNode(kind=kind, id=str(fact["v"]), label=label, detail=detail, because=nodes)




# --- the public functions --------------------------------------------------------------------


def explain(data: Union[Case, dict]) -> Explanation:
    """Explain the assessment of one case, conclusion by conclusion, and what was not concluded."""
    case = to_case(data)
    eng = engine_mod.default()
    run = eng.run(case_facts(case))
    return explain_run(case, run, eng.book)


def explain_run(case: Case, run: Run, book: RuleBook) -> Explanation:
    from triage.explanation.why_not import _WhyNot

    b = _Builder(run, book)
    support = {f["of"]: f["v"] for f in run.of_type("support")}
    conclusions: list[ConclusionNode] = []
    a = assess(case)
    order = {
        "candidate": [c.type for c in a.candidates],
        "cause": [c.id for c in a.causes],
        "mimic": [m.id for m in a.mimics],
        "next_step": [s.id for s in a.next_steps],
        "care_level": [a.care_level],
    }
    for kind, table in KINDS.items():
        items = KB.by_id(table)
        facts = {f["v"]: f for f in run.of_type(kind)}
        for value in order[kind]:
            fact = facts[value]
            item = items[value]
            label = getattr(item, "label", None) or getattr(item, "text", None) or value
            c = b.conclusion(kind, fact, " ".join(label.split()), support.get(value) if kind == "candidate" else None)
            if kind == "candidate" and value in support:
                # the support level has its own chain: add the rules that set it
                sfact = next(f for f in run.of_type("support") if f["of"] == value)
                seen = {fact_key(sfact)}
                c.because += [b.rule_node(i, seen) for i in run.producers.get(fact_key(sfact), [])]
            conclusions.append(c)
    found = list(run.facts.values())
    return Explanation(
        case=case.model_dump(mode="json", exclude_none=True),
        care_level=a.care_level,
        conclusions=conclusions,
        not_concluded=_WhyNot(run, book, found, case_facts(case)).all(),
        disclaimer=KB.text.disclaimer,
    )


def rules_named(ex: Explanation) -> set[str]:
    """Every rule id the explanation names as having fired (not the 'why not' part)."""
    out: set[str] = set()

    def walk_rule(n: RuleNode) -> None:
        out.add(n.rule)
        for f in n.matched:
            for r in f.by:
                walk_rule(r)

    for c in ex.conclusions:
        for n in c.because:
            walk_rule(n)
    return out


