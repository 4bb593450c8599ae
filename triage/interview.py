"""The questionnaire's logic, without any terminal: given the answers so far, which question
comes next, what case they make, why a question is asked and how a result was reached.

Pure and testable: no input, no output, no questionary. The questions are data
(``knowledge/questions.yaml``); which of them are asked is decided at run time from the rules:

* a question is asked only when its condition on earlier answers holds, and
* only when some answer to it could change the assessment given the answers so far
  (a *counterfactual* check: the case is assessed with each possible answer and without one;
  when no answer changes the care level, the candidates and their support, the causes, the
  look-alikes, the warning signs or the next steps, the question is not asked). Answers no
  rule reads are skipped without assessing anything. Questions marked ``always`` are always
  asked (the file gives the reason).

Because the next question is recomputed from all answers each time, a question skipped early
is asked later if a later answer makes it matter. Building the engine is deferred until the
first answer needs it, so the first question appears quickly.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Optional

from triage import questions as qmod
from triage.questions import NO, UNSURE, YES, Question

if TYPE_CHECKING:  # pragma: no cover
    from triage.knowledge import KnowledgeBase
    from triage.models import Assessment

class AnswerError(ValueError):
    """An answer a question does not accept; the message says what it accepts."""


# --- the state of one interview ------------------------------------------------------------


@dataclass
class State:
    """The answers so far (question id -> answer), in the order they were given.

    An answer is a choice id (one_of), a list of choice ids (several_of), ``yes``/``no``/
    ``unsure`` (yes_no), or a whole number or ``None`` for "I don't know" (number)."""

    answers: dict[str, Any] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    audience: Optional[str] = None  # forced by --for; else the respondent's answer
    previous: dict[str, Any] = field(default_factory=dict)  # answers taken back, as defaults


def check_answer(q: Question, value: Any, answers: dict) -> None:
    """Raise :class:`AnswerError` unless ``value`` is an answer ``q`` accepts."""
    if q.kind == "number":
        if value is None:
            if not q.optional:
                raise AnswerError("an answer is needed")
            return
        if not isinstance(value, int) or isinstance(value, bool):
            raise AnswerError(f"expected a whole number, got {value!r}")
        low, high = number_bounds(q, answers)
        if not low <= value <= high:
            raise AnswerError(f"{value} is outside {low} to {high}")
        return
    allowed = q.answer_ids()
    if q.kind == "several_of":
        if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
            raise AnswerError("expected a list of answer ids")
        bad = [v for v in value if v not in allowed]
        if bad:
            raise AnswerError(f"{bad[0]!r} is not an answer; answers: {', '.join(allowed)}")
        return
    if value not in allowed:
        raise AnswerError(f"{value!r} is not an answer; answers: {', '.join(allowed)}")


def number_bounds(q: Question, answers: dict) -> tuple[int, int]:
    """The whole numbers a number question accepts, given the earlier answers."""
    low, high = q.min or 0, q.max if q.max is not None else 0
    if q.max_from is not None and isinstance(answers.get(q.max_from), int):
        high = min(high, answers[q.max_from])
    return low, high


# --- the interview -------------------------------------------------------------------------


def _case_key(case: dict) -> str:
    return json.dumps(case, sort_keys=True)


@functools.lru_cache(maxsize=16384)
def _assess_key(key: str) -> "Assessment":
    from triage.assessment import assess

    return assess(json.loads(key))


@functools.lru_cache(maxsize=16384)
def _facts_key(key: str) -> dict:
    from triage import engine
    from triage.assessment import case_facts, to_case

    facts = engine.default().answer_facts(case_facts(to_case(json.loads(key))))
    return {engine.fact_key(f): f for f in facts}


class Interview:
    """The questions of a knowledge base, and the rules that decide which to ask."""

    def __init__(self, kb: Optional["KnowledgeBase"] = None):
        if kb is None:
            from triage import knowledge

            kb = knowledge.default()
        self.kb = kb
        self.questions: list[Question] = list(kb.questions)
        self.by_id = {q.id: q for q in self.questions}
        self.text = kb.interview

    # -- the engine, loaded on first use --------------------------------------------------
    @functools.cached_property
    def engine(self):
        from triage import engine

        return engine.default()

    def warm_up(self) -> None:
        """Build the engine now (for a background thread while the first question shows)."""
        self.assess({"version": 1})

    def assess(self, case: dict) -> "Assessment":
        """The assessment of a case (cached: the same case is assessed once per process)."""
        self.engine  # noqa: B018 - build the engine first (and only once)
        return _assess_key(_case_key(case))

    # -- which answers count ----------------------------------------------------------------
    def active(self, answers: dict) -> dict:
        """The answers of questions whose condition holds, in question order (an answer to a
        question that no longer applies, after an earlier answer changed, does not count)."""
        out: dict = {}
        for q in self.questions:
            if q.id in answers and q.applies(out):
                out[q.id] = answers[q.id]
        return out

    def audience(self, state: State) -> Optional[str]:
        if state.audience:
            return state.audience
        for q in self.questions:
            if q.fills == "respondent" and q.id in state.answers:
                return self._choice_ids(q, state.answers[q.id])[0]
        return None

    # -- the case ---------------------------------------------------------------------------
    def _choice_ids(self, q: Question, value: Any) -> list[str]:
        """The contract ids an answer puts in the case."""
        if value is None:
            return []
        if q.kind == "yes_no":
            return [q.value] if value == YES else []  # type: ignore[list-item]
        codes = value if isinstance(value, list) else [value]
        return [i for code in codes for i in q.choice(code).ids]

    def case(self, answers: dict) -> dict:
        """The contract case the answers make (``version`` 1; unanswered fields left out)."""
        active = self.active(answers)
        case: dict[str, Any] = {"version": 1}
        lists: dict[str, list[str]] = {}
        region_questions: list[Question] = []
        for q in self.questions:
            if q.id not in active:
                continue
            value = active[q.id]
            if q.kind == "number":
                if value is not None:
                    case[q.fills] = value
            elif q.fills in qmod.LIST_FIELDS:
                if q.fills == "regions":
                    region_questions.append(q)
                items = lists.setdefault(q.fills, [])
                items += [i for i in self._choice_ids(q, value) if i not in items]
            else:
                case[q.fills] = self._choice_ids(q, value)[0]
        for name in qmod.LIST_FIELDS:
            if name != "regions" and lists.get(name):
                case[name] = lists[name]
        if lists.get("regions"):
            case["regions"] = self._regions(case, region_questions, active)
        return case

    def _regions(self, case: dict, region_questions: list[Question], active: dict) -> list[str]:
        """Regions named in answers replace those the rules derive from the symptoms, so the
        derived ones are kept, minus those an answer refines (a side-unknown arm that the
        person placed on the left), plus those the answers name."""
        derived = list(self.assess(case).regions)
        replaced = {r for q in region_questions for r in q.replaces}
        regions = [r for r in derived if r not in replaced]
        for q in region_questions:
            regions += [r for r in self._choice_ids(q, active[q.id]) if r not in regions]
        order = self.kb.ids("regions")
        return sorted(regions, key=order.index)

    # -- which question next ----------------------------------------------------------------
    def possible_answers(self, q: Question, answers: dict) -> list[Any]:
        """Answers that stand for every way ``q`` can change the case: each choice on its own
        (yes for yes_no, since no and not sure add nothing), and for numbers the bounds and
        the numbers next to every threshold the rules compare against."""
        if q.kind == "yes_no":
            return [YES]
        if q.kind == "one_of":
            return [c.id for c in q.choices]
        if q.kind == "several_of":
            return [[c.id] for c in q.choices]
        low, high = number_bounds(q, answers)
        values = {low, high}
        for t in self.thresholds:
            values |= {t - 1, t, t + 1}
        return sorted(v for v in values if low <= v <= high)

    @functools.cached_property
    def thresholds(self) -> list[int]:
        """Every number the rules compare a fact with (settings resolved)."""
        from triage.rulebook import NUMERIC

        book = self.engine.book
        found = {t.value for r in book.rules for p in r.when + r.unless for t in p.tests
                 if t.op in NUMERIC and isinstance(t.value, (int, float)) and not isinstance(t.value, bool)}
        return sorted(int(v) for v in found)

    @staticmethod
    def signature(a: "Assessment") -> tuple:
        """What a person reads in an assessment (not the rule trace)."""
        return (a.care_level, tuple((c.type, c.support) for c in a.candidates),
                tuple(f.id for f in a.causes), tuple(f.id for f in a.mimics),
                tuple(f.id for f in a.red_flags), tuple(s.id for s in a.next_steps))

    def answer_facts(self, case: dict) -> dict[tuple, dict]:
        """The answer facts of a case that some rule reads (keyed by identity)."""
        self.engine  # noqa: B018
        return dict(_facts_key(_case_key(case)))

    def added_facts(self, q: Question, answers: dict, values: Optional[list] = None) -> list[dict]:
        """The facts that some answer to ``q`` (or one of ``values``) adds to the case and
        that a rule reads."""
        base_answers = {k: v for k, v in answers.items() if k != q.id}
        base = self.answer_facts(self.case(base_answers))
        out: dict[tuple, dict] = {}
        for value in values if values is not None else self.possible_answers(q, base_answers):
            for key, fact in self.answer_facts(self.case({**base_answers, q.id: value})).items():
                if key not in base:
                    out.setdefault(key, fact)
        return list(out.values())

    def _contexts(self, q: Question, base_answers: dict) -> list[dict]:
        """The answers to weigh ``q`` against: none, or one answer to another unanswered
        question that fills the same case field (an arm and a leg make hemidystonia only
        when both sides are known)."""
        contexts: list[dict] = [{}]
        for other in self.questions:
            if other.id != q.id and other.fills == q.fills and other.id not in base_answers \
                    and other.applies(base_answers):
                contexts += [{other.id: v} for v in self.possible_answers(other, base_answers)]
        return contexts

    def _changing(self, q: Question, answers: dict, values: list, first: bool) -> list:
        """The answers among ``values`` that change the assessment, in some context; with
        ``first``, stop at the first one found."""
        base_answers = {k: v for k, v in answers.items() if k != q.id}
        found: list = []
        for context in self._contexts(q, base_answers):
            ctx = {**base_answers, **context}
            base_case = self.case(ctx)
            base_facts = set(self.answer_facts(base_case))
            base_sig = None
            for value in values:
                if value in found:
                    continue
                case = self.case({**ctx, q.id: value})
                if set(self.answer_facts(case)) == base_facts:
                    continue  # this answer adds nothing any rule reads
                if base_sig is None:
                    base_sig = self.signature(self.assess(base_case))
                if self.signature(self.assess(case)) != base_sig:
                    found.append(value)
                    if first:
                        return found
        return found

    def matters(self, q: Question, answers: dict) -> bool:
        """Whether some answer to ``q`` could change the assessment, given ``answers``."""
        if q.always:
            return True
        return bool(self._changing(q, answers, self.possible_answers(q, answers), first=True))

    def offered(self, q: Question, state: State) -> list[qmod.QChoice]:
        """The choices to show: for a several_of question that is not always asked, only those
        that could change the assessment on their own, plus any already ticked."""
        if q.kind != "several_of" or q.always:
            return list(q.choices)
        active = self.active(state.answers)
        singles = self.possible_answers(q, active)
        changing = {v[0] for v in self._changing(q, active, singles, first=False)}
        ticked = set(self.default(state, q.id) or ())
        return [c for c in q.choices if c.id in changing or c.id in ticked]

    def next_question(self, state: State) -> Optional[Question]:
        """The first question, in the file's order, that is unanswered, whose condition holds
        and whose answer could change the result; ``None`` when the interview is complete."""
        active = self.active(state.answers)
        for q in self.questions:
            if q.id in state.answers or not q.applies(active):
                continue
            if self.matters(q, active):
                return q
        return None

    def skipped(self, state: State) -> list[Question]:
        """Questions that apply but were not asked, because no answer could change the result."""
        active = self.active(state.answers)
        return [q for q in self.questions if q.id not in state.answers and q.applies(active)]

    # -- changing the state -------------------------------------------------------------------
    def answer(self, state: State, qid: str, value: Any) -> None:
        """Record an answer (checked); answers that it makes impossible are taken back."""
        q = self.by_id[qid]
        check_answer(q, value, state.answers)
        state.answers[qid] = value
        state.previous.pop(qid, None)
        if qid not in state.order:
            state.order.append(qid)
        for other in list(state.answers):
            if other == qid:
                continue
            try:
                check_answer(self.by_id[other], state.answers[other], state.answers)
            except AnswerError:
                self.take_back(state, other)

    def resume(self, answers: dict, audience: Optional[str] = None) -> State:
        """The state of an interview continued from saved answers (question id -> answer),
        each checked against its question, in the order of the questions."""
        state = State(audience=audience)
        for q in self.questions:
            if q.id in answers:
                self.answer(state, q.id, answers[q.id])
        return state

    def take_back(self, state: State, qid: str) -> None:
        if qid in state.answers:
            state.previous[qid] = state.answers.pop(qid)
        if qid in state.order:
            state.order.remove(qid)

    def back(self, state: State) -> Optional[str]:
        """Take back the last answer; returns its question id (``None`` at the start)."""
        if not state.order:
            return None
        qid = state.order[-1]
        self.take_back(state, qid)
        return qid

    def default(self, state: State, qid: str) -> Any:
        """The answer to offer first: the current one, or one taken back."""
        return state.answers.get(qid, state.previous.get(qid))

    # -- words ----------------------------------------------------------------------------------
    def wording(self, q: Question, state: State) -> str:
        return q.ask.for_(self.audience(state))

    def answer_label(self, q: Question, value: Any) -> str:
        if q.kind == "number":
            return self.text.dont_know if value is None else f"{value}" + (f" {q.unit}" if q.unit else "")
        if q.kind == "yes_no":
            return self.text.yes_no_label(value)
        if isinstance(value, list):
            return ", ".join(q.choice(v).label or v for v in value) if value else (q.none or "")
        return q.choice(value).label or value

    def review(self, state: State) -> list[tuple[Question, str]]:
        """The answers that count, in question order, with their words."""
        active = self.active(state.answers)
        return [(q, self.answer_label(q, active[q.id])) for q in self.questions if q.id in active]

    def why(self, q: Question, state: State) -> list[str]:
        """Why ``q`` is asked (MYCIN's WHY), generated from the rules: what each answer that
        would change the result changes, in the knowledge base's words, and the rules behind
        those changes. Educators get the whole chain of rules, from the rules that read the
        answer to those that conclude, with their ids; others the concluding rules' words.
        Lines that start with spaces belong to the line above them."""
        t = self.text
        lines: list[str] = []
        if q.always:
            lines.append(t.why_always.format(reason=q.always))
        if q.help:
            lines.append(q.help)
        active = self.active(state.answers)
        values = None
        if q.kind == "several_of":  # only the choices on the screen
            values = [[c.id] for c in self.offered(q, state)]
        effects, context = self.effects(q, active, values)
        if not effects:
            if not q.always:
                lines.append(t.why_none if not self.added_facts(q, active, values) else t.why_no_change)
            return lines
        lines.append(t.why_changes if not context else t.why_changes_together.format(
            other="; ".join(self.by_id[k].short for k in context)))
        educator = self.audience(state) == "educator"
        rules: list[str] = []
        stopped: list[str] = []
        for effect in effects:
            template = t.why_if_ticked if q.kind == "several_of" else t.why_if
            answer = t.why_or.join(t.why_answer.format(answer=a) for a in effect.answers)
            lines.append("  " + template.format(answer=answer, changes="; ".join(effect.changes)))
            rules += [r for r in (effect.chain if educator else effect.concluding) if r not in rules]
            stopped += [r for r in effect.stopped if r not in stopped]
        lines.append(t.why_rules)
        book = self.engine.book
        for rule_id in rules:
            rule = book.rule(rule_id)
            if not educator:
                lines.append("  " + rule.explain)
            elif rule_id in stopped:
                lines.append("  " + t.why_rule_stops.format(rule=rule.id, explain=rule.explain))
            else:
                lines.append("  " + t.why_rule.format(rule=rule.id, explain=rule.explain))
        return lines

    def effects(self, q: Question, answers: dict, values: Optional[list] = None) -> tuple[list["Effect"], dict]:
        """What each answer to ``q`` that would change the result changes, against the answers
        so far (answers with the same effect together; numbers as ranges), and the rules behind
        it. When no answer changes anything on its own, the first answer to another pending
        question of the same case field with which one does (an arm and a leg make
        hemidystonia only when both sides are known) is returned as the context."""
        base_answers = {k: v for k, v in answers.items() if k != q.id}
        if values is None:
            values = self.possible_answers(q, base_answers)
        for context in self._contexts(q, base_answers):
            ctx = {**base_answers, **context}
            found = self._effects_in(q, ctx, values)
            if found:
                return found, context
        return [], {}

    def _effects_in(self, q: Question, answers: dict, values: list) -> list["Effect"]:
        base_case = self.case(answers)
        base_facts = set(self.answer_facts(base_case))
        base = self.assess(base_case)
        found: list[tuple[Any, Optional[tuple]]] = []  # (answer, its effect or None)
        details: dict[tuple, tuple[list[str], list[str], list[str]]] = {}
        for value in values:
            case = self.case({**answers, q.id: value})
            effect = None
            if set(self.answer_facts(case)) != base_facts:
                after = self.assess(case)
                if self.signature(after) != self.signature(base):
                    changes = self._changes(base, after)
                    effect = tuple(changes)
                    details.setdefault(effect, self._chain(base, after))
            found.append((value, effect))
        out: list[Effect] = []
        groups: list[tuple[list, Optional[tuple]]] = []
        for value, effect in found:  # numbers: neighbours with the same effect make a range
            if q.kind == "number" and groups and groups[-1][1] == effect:
                groups[-1][0].append(value)
            else:
                groups.append(([value], effect))
        for i, (group, effect) in enumerate(groups):
            if effect is None:
                continue
            if q.kind == "number":
                low = group[0]
                high = groups[i + 1][0][0] - 1 if i + 1 < len(groups) else group[-1]
                words = [self._range_words(low, high, values[0], values[-1])]
            else:
                words = [self.answer_label(q, v) for v in group]
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

    def _range_words(self, low: int, high: int, lowest: int, highest: int) -> str:
        t = self.text
        if low == high:
            return str(low)
        if low == lowest:
            return t.why_at_most.format(max=high)
        if high == highest:
            return t.why_at_least.format(min=low)
        return t.why_between.format(min=low, max=high)

    def _changes(self, before: "Assessment", after: "Assessment") -> list[str]:
        """What differs between two assessments, in the knowledge base's words (not the
        warning signs: they only repeat the answers)."""
        t = self.text
        out: list[str] = []
        if after.care_level != before.care_level:
            out.append(t.why_care.format(label=after.care_label))
        steps = {s.id: s for s in self.kb.next_steps}
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

    def _chain(self, before: "Assessment", after: "Assessment") -> tuple[list[str], list[str], list[str]]:
        """The rules behind the difference between two assessments: every rule that fires
        only in ``after`` on the way to a conclusion that differs (from the rules that read
        the answer on), and the rules whose conclusion the difference takes away. Returns
        (the whole chain, the rules among them that conclude a result, the rules that no
        longer apply), in firing order."""
        def key(fact: dict) -> str:
            return json.dumps(fact, sort_keys=True)

        def entry_key(e) -> str:
            return e.rule + json.dumps(e.matched, sort_keys=True)

        old_facts = {key(f) for e in before.trace for f in e.concluded}
        new_facts = {key(f) for e in after.trace for f in e.concluded}
        old_entries = {entry_key(e) for e in before.trace}
        new_entries = {entry_key(e) for e in after.trace}
        fresh = [e for e in after.trace if entry_key(e) not in old_entries]
        gone = [e for e in before.trace if entry_key(e) not in new_entries]

        def ends(e, others: set) -> bool:
            return any(f.get("t") in _RESULT_FACTS and key(f) not in others for f in e.concluded)

        chain: set[str] = set()
        wanted = {key(f) for e in fresh if ends(e, old_facts) for f in e.concluded}
        for e in reversed(fresh):  # back from the conclusions to the rules that read the answer
            if e.rule in chain or any(key(f) in wanted for f in e.concluded):
                chain.add(e.rule)
                wanted |= {key(f) for f in e.matched.values()}
        ordered = [e.rule for e in fresh if e.rule in chain]
        stopped = [e.rule for e in gone if ends(e, new_facts) and e.rule not in ordered]
        ordered = list(dict.fromkeys(ordered + stopped))
        book = self.engine.book
        concluding = [r for r in ordered
                      if set(book.rule(r).concludes()) & _RESULT_FACTS - _SUMMING_FACTS]
        return ordered, concluding, list(dict.fromkeys(stopped))

    def how(self, assessment: "Assessment", rule_ids: Iterable[str], state: State) -> dict[str, list[str]]:
        """How a result was reached: the rules behind it and the answers they matched."""
        rule_ids = list(rule_ids)
        book = self.engine.book
        rules = [f"{r}: {book.rule(r).explain}" for r in rule_ids]
        from_case = {name: spec.from_case for name, spec in book.facts.items() if spec.from_case}
        active = self.active(state.answers)
        answers: list[str] = []
        for entry in assessment.trace:
            if entry.rule not in rule_ids:
                continue
            for fact in entry.matched.values():
                field_name = from_case.get(fact.get("t", ""))
                if field_name is None:
                    continue
                for q in self.questions:
                    if q.fills != field_name or q.id not in active:
                        continue
                    value = active[q.id]
                    if q.kind == "number" and value == fact.get("v") or \
                            q.kind != "number" and fact.get("v") in self._choice_ids(q, value):
                        line = f"{self.wording(q, state)} {self.answer_label(q, value)}"
                        if line not in answers:
                            answers.append(line)
        return {"rules": rules, "answers": answers}

    def new_firings(self, before: Optional["Assessment"], after: "Assessment") -> list[str]:
        """The rules that fire after an answer that did not fire before (for educators)."""
        def key(e) -> str:
            return e.rule + json.dumps(e.matched, sort_keys=True)

        old = {key(e) for e in before.trace} if before else set()
        out = []
        for e in after.trace:
            if key(e) not in old:
                line = self.text.firing.format(rule=e.rule, explain=e.explain)
                if line not in out:
                    out.append(line)
        return out


@dataclass
class Effect:
    """What one answer (or a range of numbers) would change, and the rules behind it."""

    answers: list[str]  # the answers with this effect, in words ("Yes", "20 or younger")
    changes: list[str]  # what changes, in words
    chain: list[str]  # rule ids, from the rules that read the answer to those that conclude
    concluding: list[str]  # the rules among them that conclude a result
    stopped: list[str]  # the rules among them that no longer apply


# the facts a person reads in the result (what an answer can change)
_RESULT_FACTS = {"candidate", "raised", "lowered", "support", "cause", "mimic", "care", "care_level",
                 "next_step"}
# those that only sum up other conclusions (not shown to non-educators)
_SUMMING_FACTS = {"care_level", "support"}

__all__ = ["Interview", "State", "Effect", "AnswerError", "check_answer", "number_bounds", "YES", "NO", "UNSURE"]
