"""Why a question is asked (MYCIN's WHY), how a result was reached (HOW), and which rules an
answer set firing: the explanations a questionnaire session gives, worked out from the rules.

Every word comes from the knowledge base (``questions.yaml``'s ``interview`` and the rules'
own ``explain``); nothing here prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Optional

from triage.questionnaire.questions import Question
from triage.questionnaire.relevance import signature

if TYPE_CHECKING:  # pragma: no cover
    from triage.models import Assessment
    from triage.questionnaire.session import Session

# the facts a person reads in the result (what an answer can change)
RESULT_FACTS = {"candidate", "raised", "lowered", "support", "cause", "mimic", "care", "care_level",
                "next_step"}
# those that only sum up other conclusions (not shown to non-educators)
SUMMING_FACTS = {"care_level", "support"}


@dataclass
class Effect:
    """What one answer (or a range of numbers) would change, and the rules behind it."""

    answers: list[str]  # the answers with this effect, in words ("Yes", "20 or younger")
    changes: list[str]  # what changes, in words
    chain: list[str]  # rule ids, from the rules that read the answer to those that conclude
    concluding: list[str]  # the rules among them that conclude a result
    stopped: list[str]  # the rules among them that no longer apply


def why(session: "Session", q: Question) -> list[str]:
    """Why ``q`` is asked, generated from the rules: what each answer that would change the
    result changes, in the knowledge base's words, and the rules behind those changes.
    Educators get the whole chain of rules, from the rules that read the answer to those that
    conclude, with their ids; others the concluding rules' words. Lines that start with spaces
    belong to the line above them."""
    iv = session.questionnaire
    t = iv.text
    lines: list[str] = []
    if q.always:
        lines.append(t.why_always.format(reason=q.always))
    hint = session.help(q)
    if hint:
        lines.append(hint)
    educator = session.who() == "educator"
    if q.always and not educator:
        return lines  # asked on every path: the reason is the answer (educators get the rules too)
    active = session.active
    values = None
    if q.kind == "several_of":  # only the choices on the screen
        values = [[c.id] for c in session.offered(q)]
    found, context = effects(session, q, active, values)
    if not found:
        if not q.always:
            # a question whose answer opens another one (an urge, then whether it can be held
            # back) is asked for that question, even when no rule reads its own answer
            opens = [f for f in iv.questions if f.id != q.id and any(c.question == q.id for c in f.when)]
            if opens:
                lines.append(t.why_opens.format(questions="; ".join(session.wording(f) for f in opens)))
            else:
                lines.append(t.why_no_change if iv.relevance.adds_facts(q, active, values) else t.why_none)
        return lines
    lines.append(t.why_changes if not context else t.why_changes_together.format(
        other="; ".join(iv.by_id[k].short for k in context)))
    rules: list[str] = []
    stopped: list[str] = []
    for effect in found:
        template = t.why_if_ticked if q.kind == "several_of" else t.why_if
        answer = t.why_or.join(t.why_answer.format(answer=a) for a in effect.answers)
        lines.append("  " + template.format(answer=answer, changes="; ".join(effect.changes)))
        rules += [r for r in (effect.chain if educator else effect.concluding) if r not in rules]
        stopped += [r for r in effect.stopped if r not in stopped]
    lines.append(t.why_rules)
    for rule_id in rules:
        rule = iv.book.rule(rule_id)
        if not educator:
            lines.append("  " + rule.explain)
        elif rule_id in stopped:
            lines.append("  " + t.why_rule_stops.format(rule=rule.id, explain=rule.explain))
        else:
            lines.append("  " + t.why_rule.format(rule=rule.id, explain=rule.explain))
    return lines


def effects(session: "Session", q: Question, answers: dict, values: Optional[list] = None) -> tuple[list[Effect], dict]:
    """What each answer to ``q`` that would change the result changes, against the answers so
    far (answers with the same effect together; numbers as ranges), and the rules behind it.
    When no answer changes anything on its own, the first answer to another pending question of
    the same case field with which one does (an arm and a leg make hemidystonia only when both
    sides are known) is returned as the context."""
    rel = session.questionnaire.relevance
    base_answers = {k: v for k, v in answers.items() if k != q.id}
    if values is None:
        values = rel.candidates(q, base_answers)
    for context in rel.contexts(q, base_answers):
        found = _effects_in(session, q, {**base_answers, **context}, values)
        if found:
            return found, context
    return [], {}


def _effects_in(session: "Session", q: Question, answers: dict, values: list) -> list[Effect]:
    iv = session.questionnaire
    rec, assessor = iv.record, iv.assessor
    base_case = assessor.banded(rec.case(answers))  # the rules behind a change: ages by band
    base_facts = assessor.facts(base_case)
    base_sig = assessor.signature(base_case)
    found: list[tuple[Any, Optional[tuple]]] = []  # (answer, its effect or None)
    details: dict[tuple, tuple[list[str], list[str], list[str]]] = {}
    for value in values:
        case = assessor.banded(rec.case({**answers, q.id: value}))
        effect = None
        if assessor.facts(case) != base_facts and assessor.signature(case) != base_sig:
            base, after = assessor.assessment(base_case), assessor.assessment(case)
            effect = tuple(_changes(session, base, after))
            if effect not in details:
                details[effect] = _chain(session, base, after)
        found.append((value, effect))
    groups: list[tuple[list, Optional[tuple]]] = []
    for value, effect in found:  # numbers: neighbours with the same effect make a range
        if q.kind == "number" and groups and groups[-1][1] == effect:
            groups[-1][0].append(value)
        else:
            groups.append(([value], effect))
    out: list[Effect] = []
    for i, (group, effect) in enumerate(groups):
        if effect is None:
            continue
        if q.kind == "number":
            low = group[0]
            high = groups[i + 1][0][0] - 1 if i + 1 < len(groups) else group[-1]
            words = [_range_words(session, low, high, values[0], values[-1])]
        else:
            words = [session.answer_label(q, v) for v in group]
        chain, concluding, stopped = details[effect]
        out.append(Effect(words, list(effect), chain, concluding, stopped))
    if q.kind != "number":  # answers with the same effect together
        merged: dict[tuple, Effect] = {}
        for e in out:
            key = tuple(e.changes)
            if key in merged:
                merged[key].answers += e.answers
            else:
                merged[key] = e
        out = list(merged.values())
    return out


def _range_words(session: "Session", low: int, high: int, lowest: int, highest: int) -> str:
    t = session.questionnaire.text
    if low == high:
        return str(low)
    if low == lowest:
        return t.why_at_most.format(max=high)
    if high == highest:
        return t.why_at_least.format(min=low)
    return t.why_between.format(min=low, max=high)


def _changes(session: "Session", before: "Assessment", after: "Assessment") -> list[str]:
    """What differs between two assessments, in the knowledge base's words (not the warning
    signs: they only repeat the answers)."""
    iv = session.questionnaire
    t = iv.text
    out: list[str] = []
    if after.care_level != before.care_level:
        out.append(t.why_care.format(label=after.care_label))
    steps = {s.id: s for s in iv.kb.next_steps}
    groups = [
        ([c.type for c in before.candidates], [c.type for c in after.candidates],
         {c.type: c.label for c in before.candidates + after.candidates}, t.why_candidate),
        ([f.id for f in before.causes], [f.id for f in after.causes],
         {f.id: f.label for f in before.causes + after.causes}, t.why_cause),
        ([f.id for f in before.mimics], [f.id for f in after.mimics],
         {f.id: f.label for f in before.mimics + after.mimics}, t.why_mimic),
        ([s.id for s in before.next_steps], [s.id for s in after.next_steps],
         {i: s.short for i, s in steps.items()}, "{label}"),
    ]
    added: list[str] = []
    removed: list[str] = []
    for old, new, labels, words in groups:
        added += [words.format(label=labels[i]) for i in new if i not in old]
        removed += [words.format(label=labels[i]) for i in old if i not in new]
    if added:
        out.append(t.why_adds.format(items=", ".join(added)))
    if removed:
        out.append(t.why_removes.format(items=", ".join(removed)))
    old_support = {c.type: c.support for c in before.candidates}
    for c in after.candidates:
        if c.type in old_support and old_support[c.type] != c.support:
            out.append(t.why_support.format(label=c.label, support=c.support))
    return out


def _entry_key(e) -> str:
    return e.rule + json.dumps(e.matched, sort_keys=True)


def _chain(session: "Session", before: "Assessment", after: "Assessment") -> tuple[list[str], list[str], list[str]]:
    """The rules behind the difference between two assessments: every rule that fires only in
    ``after`` on the way to a conclusion that differs (from the rules that read the answer on),
    and the rules whose conclusion the difference takes away. Returns (the whole chain, the
    rules among them that conclude a result, the rules that no longer apply), in firing order."""
    def key(fact: dict) -> str:
        return json.dumps(fact, sort_keys=True)

    old_facts = {key(f) for e in before.trace for f in e.concluded}
    new_facts = {key(f) for e in after.trace for f in e.concluded}
    old_entries = {_entry_key(e) for e in before.trace}
    new_entries = {_entry_key(e) for e in after.trace}
    fresh = [e for e in after.trace if _entry_key(e) not in old_entries]
    gone = [e for e in before.trace if _entry_key(e) not in new_entries]

    def ends(e, others: set) -> bool:
        return any(f.get("t") in RESULT_FACTS and key(f) not in others for f in e.concluded)

    chain: set[str] = set()
    wanted = {key(f) for e in fresh if ends(e, old_facts) for f in e.concluded}
    for e in reversed(fresh):  # back from the conclusions to the rules that read the answer
        if e.rule in chain or any(key(f) in wanted for f in e.concluded):
            chain.add(e.rule)
            wanted |= {key(f) for f in e.matched.values()}
    ordered = [e.rule for e in fresh if e.rule in chain]
    stopped = [e.rule for e in gone if ends(e, new_facts) and e.rule not in ordered]
    ordered = list(dict.fromkeys(ordered + stopped))
    book = session.questionnaire.book
    concluding = [r for r in ordered if set(book.rule(r).concludes()) & RESULT_FACTS - SUMMING_FACTS]
    return ordered, concluding, list(dict.fromkeys(stopped))


def how(session: "Session", assessment: "Assessment", rule_ids: Iterable[str]) -> dict[str, list[str]]:
    """How a result was reached: the rules behind it (in their own words; with their ids for
    a clinician or an educator, as the web page shows them) and the answers they matched."""
    iv = session.questionnaire
    rule_ids = list(rule_ids)
    book = iv.book
    ids = session.shows_rule_ids()
    rules = [f"{r}: {book.rule(r).explain}" if ids else book.rule(r).explain for r in rule_ids]
    from_case = {name: spec.from_case for name, spec in book.facts.items() if spec.from_case}
    active = session.active
    found: list[str] = []
    for entry in assessment.trace:
        if entry.rule not in rule_ids:
            continue
        for fact in entry.matched.values():
            field_name = from_case.get(fact.get("t", ""))
            if field_name is None:
                continue
            for q in iv.questions:
                if q.fills != field_name or q.id not in active:
                    continue
                value = active[q.id]
                if q.kind == "number" and value == fact.get("v") or \
                        q.kind != "number" and fact.get("v") in iv.record.ids(q, value):
                    line = f"{session.wording(q)} {session.answer_label(q, value)}"
                    if line not in found:
                        found.append(line)
    return {"rules": rules, "answers": found}


def new_firings(session: "Session", before: Optional["Assessment"], after: "Assessment") -> list[str]:
    """The rules that fire after an answer that did not fire before (for educators)."""
    old = {_entry_key(e) for e in before.trace} if before else set()
    out = []
    for e in after.trace:
        if _entry_key(e) not in old:
            line = session.questionnaire.text.firing.format(rule=e.rule, explain=e.explain)
            if line not in out:
                out.append(line)
    return out


__all__ = ["Effect", "why", "effects", "how", "new_firings", "signature"]
