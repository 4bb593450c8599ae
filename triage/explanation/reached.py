"""How a result was reached, as data: every conclusion walked back, rule by rule, to the answers
and to the literature behind each rule (MYCIN's HOW), built from one engine
:class:`~triage.engine.Run` (the firings record which facts each rule matched and what it
concluded, so the chains are the ones that actually fired). Nothing here decides anything
clinical; the words are the rules' explanations and the fact descriptions in ``rules/facts.yaml``.
"""

from __future__ import annotations

from typing import Optional, Union


from triage import engine as engine_mod
from triage.assessment import assess, case_facts, to_case
from triage.engine import Run, fact_key
from triage.knowledge import worded
from triage.models import KB, Case
from triage.rulebook import RuleBook
from triage.explanation.why_not import _WhyNot
from triage.explanation.nodes import (
    KINDS,
    FactNode,
    RuleNode,
    ConclusionNode,
    Explanation,
    _source,
    describe_fact,
)


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
            label = getattr(item, "label", None) or worded(getattr(item, "text", None) or value, case.respondent)
            c = b.conclusion(kind, fact, " ".join(label.split()), support.get(value) if kind == "candidate" else None)
            if kind == "candidate" and value in support:
                # the support level has its own chain: add the rules that set it
                sfact = next(f for f in run.of_type("support") if f["of"] == value)
                seen = {fact_key(sfact)}
                c.because += [b.rule_node(i, seen) for i in run.producers.get(fact_key(sfact), [])]
            conclusions.append(c)
    found = list(run.facts.values())
    from triage import treatments

    return Explanation(
        case=case.model_dump(mode="json", exclude_none=True),
        care_level=a.care_level,
        conclusions=conclusions,
        not_concluded=_WhyNot(run, book, found, case_facts(case)).all(),
        treatments=treatments.for_result(KB, a, case.respondent),
        disclaimer=KB.text.disclaimer_for(case.respondent),
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


