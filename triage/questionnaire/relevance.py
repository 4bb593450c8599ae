"""Which questions (and which checklist choices) could still change the result.

Derived from the rule book first, then checked in a small bounded way:

1. *What an answer adds.* Each candidate answer is turned into the answer facts the engine
   would assert. The engine asserts only facts that some rule reads (the rule book says which
   fact types and values each rule tests), so an answer whose facts no rule reads can change
   nothing and costs no engine run. A question all of whose answers are like that is never
   asked for the triage (it may still be asked for the record).
2. *Distinct fact sets only.* Candidate answers are the choices, ``yes`` for a yes/no (no and
   not sure add no fact), and for a number one value per interval between the thresholds the
   rules compare against. Answers that add the same facts are weighed once.
3. *Numbers by band.* The rules compare numbers (ages) only with constants (the settings'
   thresholds), so two ages between the same thresholds fire the same rules. The rule book's
   thresholds cut the ages into bands, and relevance weighs each case with its ages moved to
   the start of their band (the loader's check keeps this sound: it is used only while no
   rule tests a number for equality).
4. *A signature per fact set.* What a person reads in an assessment (care level, candidates
   and support, causes, look-alikes, warning signs, next steps) depends only on the facts
   asserted, so it is computed once per distinct (banded) fact set and kept (a few hundred
   bytes each, bounded): a web page that carries answers in the same bands again costs no
   engine run.

:attr:`Assessor.runs` counts the engine runs, so the benchmark can state the cost per step.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Hashable, Mapping, Optional

from triage.questionnaire.answers import bounds
from triage.questionnaire.questions import YES, Question

if TYPE_CHECKING:  # pragma: no cover
    from triage.models import Assessment

# Bounds of the caches, in entries and in bytes (whichever is reached first): signatures are
# small tuples; full assessments (with their trace, about 90 KB each) are kept only for the
# last few cases a person looked at. The bytes are estimated when an entry is kept.
SIGNATURES_KEPT = 16_384
FACT_SETS_KEPT = 4_096
ASSESSMENTS_KEPT = 256
SIGNATURES_BYTES = 16 * 2**20
FACT_SETS_BYTES = 16 * 2**20
ASSESSMENTS_BYTES = 32 * 2**20


def weigh(value: Any, _depth: int = 0) -> int:
    """Roughly the bytes ``value`` holds: containers and strings by ``sys.getsizeof``, deeply;
    a Pydantic model (an assessment) by the length of its JSON."""
    import sys

    if hasattr(value, "model_dump_json"):
        return 2 * len(value.model_dump_json())
    size = sys.getsizeof(value)
    if _depth < 8 and isinstance(value, (tuple, list, frozenset, set)):
        size += sum(weigh(v, _depth + 1) for v in value)
    elif _depth < 8 and isinstance(value, dict):
        size += sum(weigh(k, _depth + 1) + weigh(v, _depth + 1) for k, v in value.items())
    elif _depth < 8 and hasattr(value, "__dataclass_fields__"):
        size += sum(weigh(getattr(value, f), _depth + 1) for f in value.__dataclass_fields__)
    return size


class _LRU:
    def __init__(self, size: int, max_bytes: Optional[int] = None):
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.data: OrderedDict = OrderedDict()  # key -> (value, its bytes)
        self.lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key][0]
        value = make()
        cost = weigh(key) + weigh(value) if self.max_bytes is not None else 0
        with self.lock:
            if key in self.data:  # another thread kept it meanwhile
                return value
            self.data[key] = (value, cost)
            self.bytes += cost
            while len(self.data) > self.size or (self.max_bytes is not None and self.bytes > self.max_bytes
                                                 and len(self.data) > 1):
                _, (_, freed) = self.data.popitem(last=False)
                self.bytes -= freed
        return value


def signature(a: "Assessment") -> tuple:
    """What a person reads in an assessment (not the rule trace)."""
    return (a.care_level, tuple((c.type, c.support) for c in a.candidates),
            tuple(f.id for f in a.causes), tuple(f.id for f in a.mimics),
            tuple(f.id for f in a.red_flags), tuple(s.id for s in a.next_steps))


@dataclass(frozen=True)
class Summary:
    signature: tuple
    care_level: str
    care_because: tuple[str, ...]


class Assessor:
    """Assessments of the cases answers make, keyed by the facts the rules read."""

    def __init__(self) -> None:
        self.runs = 0  # engine runs (the cost of relevance)
        self._signatures = _LRU(SIGNATURES_KEPT, SIGNATURES_BYTES)
        self._assessments = _LRU(ASSESSMENTS_KEPT, ASSESSMENTS_BYTES)
        self._facts = _LRU(FACT_SETS_KEPT, FACT_SETS_BYTES)
        self._regions: dict[tuple[str, ...], tuple[str, ...]] = {}  # at most 2**12 symptom sets

    @functools.cached_property
    def engine(self):
        from triage import engine

        return engine.default()

    def facts(self, case: Mapping[str, Any]) -> frozenset:
        """The identities of the answer facts of a case that some rule reads."""
        from triage import engine
        from triage.assessment import case_facts, to_case

        key = _case_key(case)

        def make() -> frozenset:
            found = self.engine.answer_facts(case_facts(to_case(dict(case))))
            return frozenset(engine.fact_key(f) for f in found)

        return self._facts.get(key, make)

    def assessment(self, case: Mapping[str, Any]) -> "Assessment":
        """The full assessment (with its trace) of a case."""
        from triage.assessment import assess

        def make():
            self.runs += 1
            return assess(dict(case))

        return self._assessments.get(_case_key(case), make)

    def summary(self, case: Mapping[str, Any]) -> "Summary":
        """What a person reads in the case's assessment, and the rules behind its care level:
        computed once per distinct fact set (ages by band)."""
        banded = self.banded(case)

        def make() -> Summary:
            a = self.assessment(banded)
            return Summary(signature(a), a.care_level, tuple(a.care_because))

        return self._signatures.get(self.facts(banded), make)

    def signature(self, case: Mapping[str, Any]) -> tuple:
        """:func:`signature` of the case's assessment."""
        return self.summary(case).signature

    @functools.cached_property
    def _bands(self) -> Optional[list[int]]:
        """Where the ages' bands start: every number the rules compare with, and the one
        after it. ``None`` when some rule tests a number for equality (no banding then)."""
        from triage.rulebook import NUMERIC

        starts = {0}
        for rule in self.engine.book.rules:
            for p in rule.when + rule.unless:
                for t in p.tests:
                    numbers = t.value if isinstance(t.value, (list, tuple)) else [t.value]
                    if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
                        if t.op not in NUMERIC:
                            return None
                        starts |= {int(t.value), int(t.value) + 1}
        return sorted(starts)

    def banded(self, case: Mapping[str, Any]) -> dict:
        """The case with each number moved to the start of its band (the same rules fire)."""
        from triage.questionnaire.questions import NUMBER_FIELDS

        bands = self._bands
        out = dict(case)
        if bands is None:
            return out
        for name in NUMBER_FIELDS:
            value = out.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                out[name] = max(b for b in bands if b <= value)
        return out

    def derived_regions(self, symptoms: tuple[str, ...]) -> list[str]:
        """The regions the rules derive from the symptoms alone (a case naming no region)."""
        key = tuple(sorted(set(symptoms)))
        if key not in self._regions:
            self._regions[key] = tuple(self.assessment({"version": 1, "symptoms": list(key)}).regions)
        return list(self._regions[key])


def _case_key(case: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in case.items()))


class Relevance:
    """Which questions and choices could change the result, given the answers so far."""

    def __init__(self, record, assessor: Assessor, questions: list[Question]):
        self.record = record
        self.assessor = assessor
        self.questions = questions

    @functools.cached_property
    def thresholds(self) -> list[int]:
        """Every number the rules compare a fact with (settings resolved)."""
        from triage.rulebook import NUMERIC

        book = self.assessor.engine.book
        found = {t.value for r in book.rules for p in r.when + r.unless for t in p.tests
                 if t.op in NUMERIC and isinstance(t.value, (int, float)) and not isinstance(t.value, bool)}
        return sorted(int(v) for v in found)

    def candidates(self, q: Question, answers: Mapping[str, Any]) -> list[Any]:
        """Answers that stand for every way ``q`` can change the case: each choice on its own
        (yes for yes_no, since no and not sure add nothing), and for numbers the bounds and
        the numbers next to every threshold the rules compare against."""
        if q.kind == "yes_no":
            return [YES]
        if q.kind == "one_of":
            return [c.id for c in q.choices]
        if q.kind == "several_of":
            return [[c.id] for c in q.choices]
        low, high = bounds(q, answers)
        for other in self.questions:  # not below a number that may not exceed it (the age, below the onset)
            given = answers.get(other.id)
            if other.max_from == q.id and isinstance(given, int) and not isinstance(given, bool):
                low = max(low, given)
        values = {low, high}
        for t in self.thresholds:
            values |= {t - 1, t, t + 1}
        return sorted(v for v in values if low <= v <= high)

    def contexts(self, q: Question, base: Mapping[str, Any]) -> list[dict]:
        """The answers to weigh ``q`` against: none, or one answer to another unanswered
        question that fills the same case field (an arm and a leg make hemidystonia only
        when both sides are known)."""
        found: list[dict] = [{}]
        for other in self.questions:
            if other.id != q.id and other.fills == q.fills and other.id not in base and other.applies(base):
                found += [{other.id: v} for v in self.candidates(other, base)]
        return found

    @functools.cached_property
    def _follow_ups(self) -> dict[str, list[Question]]:
        """question id -> the questions asked only after some answer to it (their condition
        names it): an urge before the movement opens "can you hold it back"."""
        out: dict[str, list[Question]] = {}
        for q in self.questions:
            for c in q.when:
                out.setdefault(c.question, []).append(q)
        return out

    def _variants(self, q: Question, ctx: dict, value: Any) -> list[dict]:
        """The answer to weigh, alone and with each answer to a follow-up it opens."""
        with_value = {**ctx, q.id: value}
        out = [with_value]
        for f in self._follow_ups.get(q.id, []):
            if f.id not in ctx and f.applies(with_value) and not f.applies(ctx):
                out += [{**with_value, f.id: w} for w in self.candidates(f, with_value)]
        return out

    def changing(self, q: Question, answers: Mapping[str, Any], values: list, *, first: bool) -> list:
        """The answers among ``values`` that change the assessment, in some context (alone, or
        with an answer to a follow-up question they open); with ``first``, stop at the first
        one found."""
        base_answers = {k: v for k, v in answers.items() if k != q.id}
        found: list = []
        for context in self.contexts(q, base_answers):
            ctx = {**base_answers, **context}
            base_case = self.record.case(ctx)
            base_facts = self.assessor.facts(self.assessor.banded(base_case))
            base_sig = None
            weighed: set = set()
            for value in values:
                if value in found:
                    continue
                for variant in self._variants(q, ctx, value):
                    case = self.record.case(variant)
                    facts = self.assessor.facts(self.assessor.banded(case))
                    if facts == base_facts or facts in weighed:
                        continue  # adds nothing any rule reads, or the same as an answer weighed
                    weighed.add(facts)
                    if base_sig is None:
                        base_sig = self.assessor.signature(base_case)
                    if self.assessor.signature(case) != base_sig:
                        found.append(value)
                        if first:
                            return found
                        break
        return found

    def matters(self, q: Question, answers: Mapping[str, Any]) -> bool:
        """Whether some answer to ``q`` could change the assessment, given ``answers``."""
        if q.always:
            return True
        return bool(self.changing(q, answers, self.candidates(q, answers), first=True))

    def offered(self, q: Question, answers: Mapping[str, Any], ticked: Optional[list] = None) -> list:
        """The choices to show: for a several_of question that is not always asked, only those
        that could change the assessment on their own, plus any already ticked. A question
        asked for the record offers every choice: the neurologist needs the whole answer (a
        body-region question every region the answers do not already point to)."""
        for_record = q.record is not None and q.record.applies(answers)
        if for_record and q.kind == "several_of" and q.fills == "regions":
            case = self.record.case({k: v for k, v in answers.items() if k != q.id})
            had = set(self.assessor.assessment(self.assessor.banded(case)).regions)  # the rules' regions
            ticked_set = set(ticked or ())
            return [c for c in q.choices if c.id not in had or c.id in ticked_set]
        if q.kind != "several_of" or q.always or for_record:
            return list(q.choices)
        singles = self.candidates(q, answers)
        changing = {v[0] for v in self.changing(q, answers, singles, first=False)}
        ticked_set = set(ticked or ())
        return [c for c in q.choices if c.id in changing or c.id in ticked_set]

    def adds_facts(self, q: Question, answers: Mapping[str, Any], values: Optional[list] = None) -> bool:
        """Whether some answer to ``q`` adds a fact that a rule reads."""
        base_answers = {k: v for k, v in answers.items() if k != q.id}
        a = self.assessor
        base = a.facts(a.banded(self.record.case(base_answers)))
        for value in values if values is not None else self.candidates(q, base_answers):
            if a.facts(a.banded(self.record.case({**base_answers, q.id: value}))) - base:
                return True
        return False


__all__ = ["Assessor", "Relevance", "signature"]
