"""The questionnaire and one person's session of it: what every front end drives.

:class:`Questionnaire` holds a knowledge base's questions with the rules that decide which to
ask (:mod:`~triage.questionnaire.relevance`), the one mapping between answers and the case
(:mod:`~triage.questionnaire.record`) and the one answer parser
(:mod:`~triage.questionnaire.answers`). :class:`Session` is one interview: the answers in the
order given, what was asked, the next question, the current assessment and whether an
emergency must be shown now. A front end only renders what the session says and hands back
what the person typed or ticked.

Pure and testable: no input, no output. The rules engine is built on the first answer that
needs it, so the first question appears quickly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from triage.questionnaire import answers as answers_mod
from triage.questionnaire.answers import AnswerError
from triage.questionnaire.questions import Question
from triage.questionnaire.record import Record
from triage.questionnaire.relevance import Assessor, Relevance

if TYPE_CHECKING:  # pragma: no cover
    from triage.knowledge import KnowledgeBase
    from triage.models import Assessment, Asked


@dataclass(frozen=True)
class Emergency:
    """An emergency to show: the care level's words and what made it one."""

    level: str
    label: str
    action: str
    reasons: list[str]  # the warning signs given, and the care rules' own words

    def because(self) -> str:
        """The reasons as one sentence ("A; B."), for a banner."""
        return "; ".join(r.strip().rstrip(".") for r in self.reasons) + "."


class Questionnaire:
    """The questions of a knowledge base, and the rules that decide which to ask."""

    def __init__(self, kb: Optional["KnowledgeBase"] = None):
        if kb is None:
            from triage import knowledge

            kb = knowledge.default()
        self.kb = kb
        self.text = kb.interview
        self.questions: list[Question] = list(kb.questions)
        self.by_id = {q.id: q for q in self.questions}
        self.assessor = Assessor()
        self.record = Record(kb, self.assessor.derived_regions)
        self.relevance = Relevance(self.record, self.assessor, self.questions)
        # what an interview's checklist showed (see Record.asked)
        self.shown = lambda q, before, ticked: [c.id for c in self.relevance.offered(q, before, ticked)]
        self.levels = kb.by_id("care_levels")
        self.sections = {s.id: s.title for s in kb.sections}

    @functools.cached_property
    def book(self):
        """The compiled rule book (builds the engine)."""
        return self.assessor.engine.book

    def session(self, answers: Optional[Mapping[str, Any]] = None, *, audience: Optional[str] = None) -> "Session":
        """A session, optionally continued from answers given before (each checked in
        question order; a problem raises :class:`AnswerError` naming the question)."""
        s = Session(self, audience=audience)
        for q in self.questions:
            if answers and q.id in answers:
                try:
                    s.answer(q.id, answers[q.id])
                except AnswerError as exc:
                    raise AnswerError(f"{q.id}: {exc}") from None
        for qid in answers or ():
            if qid not in self.by_id:
                raise AnswerError(f"{qid}: not a question of this questionnaire; "
                                  f"questions: {', '.join(self.by_id)}")
        return s

    # -- care levels ----------------------------------------------------------------------------
    def is_emergency(self, level: str) -> bool:
        return self.kb.is_emergency(level)

    def rank(self, level: str) -> int:
        return self.levels[level].rank  # type: ignore[attr-defined]


@dataclass
class Session:
    """One interview: the answers so far (question id -> answer) in the order given."""

    questionnaire: Questionnaire
    answers: dict[str, Any] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    audience: Optional[str] = None  # forced by --for; else the respondent's answer
    previous: dict[str, Any] = field(default_factory=dict)  # answers taken back, offered again
    asked: list[str] = field(default_factory=list)  # question ids in the order put to the person
    emergency_seen: Optional[tuple] = None  # the last emergency shown (level, reasons)

    # -- what counts ------------------------------------------------------------------------------
    @property
    def active(self) -> dict:
        return self.questionnaire.record.active(self.answers)

    def who(self) -> Optional[str]:
        """Who is answering (the audience the words are for); ``None`` until known."""
        if self.audience:
            return self.audience
        for q in self.questionnaire.questions:
            if q.fills == "respondent" and q.id in self.answers:
                return self.questionnaire.record.ids(q, self.answers[q.id])[0]
        return None

    def case(self) -> dict:
        """The contract case the answers make."""
        return self.questionnaire.record.case(self.answers)

    def assessment(self) -> "Assessment":
        return self.questionnaire.assessor.assessment(self.case())

    def record(self) -> "Asked":
        """What was asked and answered no or not sure: the report's pertinent negatives."""
        return self.questionnaire.record.asked(self.active, shown=self.questionnaire.shown)

    # -- which question next ----------------------------------------------------------------------
    def next_question(self) -> Optional[Question]:
        """The first question, in the file's order, that is unanswered, whose condition holds
        and whose answer could change the result; ``None`` when the interview is complete."""
        active = self.active
        rel = self.questionnaire.relevance
        for q in self.questionnaire.questions:
            if q.id in self.answers or not q.applies(active) or not q.worth_asking(active):
                continue
            if (q.record is not None and q.record.applies(active)) or rel.matters(q, active):
                return q
        return None

    def complete(self) -> bool:
        return self.next_question() is None

    def skipped(self) -> list[Question]:
        """Questions that apply but were not asked, because no answer could change the result."""
        active = self.active
        return [q for q in self.questionnaire.questions if q.id not in self.answers and q.applies(active)]

    def offered(self, q: Question) -> list:
        """The choices to show for ``q`` (a checklist shows only those that could matter)."""
        return self.questionnaire.relevance.offered(q, self.active, self.default(q.id))

    def bounds(self, q: Question) -> tuple[int, int]:
        return answers_mod.bounds(q, self.active)

    # -- answering ----------------------------------------------------------------------------------
    def parse(self, q: Question, given: Sequence[str]) -> Any:
        """What the person typed or ticked, as an answer to ``q`` (raises :class:`AnswerError`)."""
        return answers_mod.parse(q, given, self.active, self.questionnaire.text, self.questionnaire.by_id)

    def answer(self, qid: str, value: Any) -> None:
        """Record an answer (checked); answers that it makes impossible are taken back."""
        iv = self.questionnaire
        q = iv.by_id.get(qid)
        if q is None:
            raise AnswerError(f"{qid}: not a question of this questionnaire")
        answers_mod.check(q, value, self.answers, iv.text)
        new = {**self.answers, qid: value}
        dropped = []
        for other in list(new):  # answers this one makes impossible (an onset after the age)
            if other != qid:
                try:
                    answers_mod.check(iv.by_id[other], new[other], new, iv.text)
                except AnswerError:
                    dropped.append(other)
                    del new[other]
        from triage.assessment import to_case
        from triage.errors import CaseError

        try:
            to_case(iv.record.case(new))
        except CaseError as exc:  # an impossible case (the message names the field)
            raise AnswerError(str(exc)) from None
        for other in dropped:
            self.take_back(other)
        self.answers[qid] = value
        self.previous.pop(qid, None)
        if qid not in self.order:
            self.order.append(qid)

    def preset(self, qid: str, value: Any) -> None:
        """An answer known before the interview (``--for``): not in the order, so not "back"."""
        answers_mod.check(self.questionnaire.by_id[qid], value, self.answers, self.questionnaire.text)
        self.answers[qid] = value

    def take_back(self, qid: str) -> None:
        if qid in self.answers:
            self.previous[qid] = self.answers.pop(qid)
        if qid in self.order:
            self.order.remove(qid)

    def back(self) -> Optional[str]:
        """Take back the last answer; returns its question id (``None`` at the start)."""
        if not self.order:
            return None
        qid = self.order[-1]
        self.take_back(qid)
        return qid

    def default(self, qid: str) -> Any:
        """The answer to offer first: the current one, or one taken back."""
        return self.answers.get(qid, self.previous.get(qid))

    def has_default(self, qid: str) -> bool:
        return qid in self.answers or qid in self.previous

    def mark_asked(self, qid: str) -> None:
        if qid not in self.asked:
            self.asked.append(qid)

    # -- moving through answers already given (the web page's Back and Next) -------------------
    def given(self) -> list[str]:
        """The answers that count, in the order given."""
        active = self.active
        return [qid for qid in self.answers if qid in active]

    def after(self, qid: str) -> Optional[Question]:
        """The question to show after ``qid``: the next answer already given (to check it), else
        the next question; ``None``: on to the review."""
        order = self.given()
        if qid in order and order.index(qid) + 1 < len(order):
            return self.questionnaire.by_id[order[order.index(qid) + 1]]
        return self.next_question()

    def before(self, qid: str) -> Optional[Question]:
        """The question to show on "Back" from ``qid``; ``None``: the start."""
        order = self.given()
        i = order.index(qid) if qid in order else len(order)
        return self.questionnaire.by_id[order[i - 1]] if i > 0 else None

    # -- emergencies --------------------------------------------------------------------------------
    def emergency(self) -> Optional[Emergency]:
        """The emergency the current answers reach (care_levels.yaml marks which levels are
        emergencies), or ``None``. Front ends keep it visible on every later page."""
        iv = self.questionnaire
        # what makes an emergency does not depend on the exact ages: the summary weighs them by band
        summary = iv.assessor.summary(self.case())
        if not iv.is_emergency(summary.care_level):
            return None
        level = iv.levels[summary.care_level]
        flags = iv.kb.by_id("red_flags")
        reasons = [flags[f].label for f in summary.signature[4]]  # type: ignore[attr-defined]
        # the fact types the warning-sign answers become (rules/facts.yaml)
        signs = {name for name, field in iv.book.case_fields if field == "red_flags"}
        for rule_id in summary.care_because:
            rule = iv.book.rule(rule_id)
            # a rule that reads a warning sign says only that the sign is an emergency: the
            # sign itself is the reason, listed above
            reads_a_sign = any(p.fact in signs for p in rule.when)
            if rule.layer == "care" and not reads_a_sign and rule.explain not in reasons:
                reasons.append(rule.explain)
        from triage.knowledge import worded

        return Emergency(level.id, level.label, worded(level.action, self.who()), reasons)  # type: ignore[attr-defined]

    def note_emergency(self) -> None:
        """Record the current emergency as shown (a page that showed it before this request)."""
        now = self.emergency()
        self.emergency_seen = None if now is None else (now.level, tuple(now.reasons))

    def emergency_to_show(self) -> Optional[Emergency]:
        """The emergency to show at once after the last answer: one the person has not been
        shown yet (none shown since the answers last reached no emergency, or a higher level),
        whatever made it one. Showing it is
        recorded, so it interrupts once; it stays in :meth:`emergency` for every later page."""
        now = self.emergency()
        if now is None:
            self.emergency_seen = None  # taken back: a later emergency interrupts again
            return None
        key = (now.level, tuple(now.reasons))
        seen = self.emergency_seen
        if seen is not None and self.questionnaire.rank(seen[0]) >= self.questionnaire.rank(now.level):
            return None  # shown already at this level (the banner keeps every reason in view)
        self.emergency_seen = key
        return now

    # -- words ----------------------------------------------------------------------------------------
    def wording(self, q: Question) -> str:
        return q.ask.for_(self.who())

    def shows_rule_ids(self) -> bool:
        """Whether the rules behind a result are shown with their ids (and sources): to a
        clinician or an educator; a patient or a carer reads each rule in its own words."""
        return self.who() in ("clinician", "educator")

    def shows_chart(self) -> bool:
        """Whether the result comes with the chart summary (the nurse's block to paste into
        the record): for a clinician. A patient or a carer has the report to bring."""
        return self.who() == "clinician"

    def chart(self, a: "Assessment") -> str:
        """The chart summary of the result ``a`` of these answers, with what was answered
        "no" or "not sure" (the same block as ``assess --format summary``)."""
        from triage import report
        from triage.assessment import to_case

        return report.summary(a, to_case(self.case()), asked=self.record())

    def help(self, q: Question) -> Optional[str]:
        """The help shown under ``q``, worded for whoever is answering."""
        return q.help_for(self.who())

    def answer_label(self, q: Question, value: Any) -> str:
        t = self.questionnaire.text
        if q.kind == "number":
            return t.dont_know if value is None else f"{value}" + (f" {q.unit}" if q.unit else "")
        if q.kind == "yes_no":
            return t.yes_no_label(value)
        if isinstance(value, list):
            return ", ".join(q.choice(v).label or v for v in value) if value else (q.none or "")
        return q.choice(value).label or value

    def review(self) -> list[tuple[Question, str]]:
        """The answers that count, in question order, with their words."""
        active = self.active
        return [(q, self.answer_label(q, active[q.id])) for q in self.questionnaire.questions if q.id in active]


__all__ = ["Questionnaire", "Session", "Emergency", "AnswerError"]
