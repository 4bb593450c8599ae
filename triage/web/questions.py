"""Where the web page gets its questions and its next-question logic.

The questions are the shared question data (``knowledge/questions.yaml``, loaded and checked
by :mod:`triage.questions`); the web page never words a question itself. The page talks to an
*interview* object with the shape of the questionnaire library's ``Interview``: ``questions``,
``by_id``, ``text``, ``kb``, ``active(answers)``, ``case(answers)``,
``next_question(state)``, ``audience(state)``, ``wording(q, state)``, ``offered(q, state)``,
``why(q, state)`` and ``answer_label(q, value)``; and to ``check_answer(q, value, answers)``.

INTERIM: until the questionnaire library (the adaptive next-question logic) is on main,
:class:`InterimInterview` stands in for it: it asks every question whose condition on earlier
answers holds, in the file's order, without the check of whether an answer could still change
the result. :func:`default` is the one place to switch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Optional

from triage.questions import Question


class AnswerError(ValueError):
    """An answer a question does not accept; the message says what it accepts."""


@dataclass
class State:
    """The answers so far (question id -> answer), in the order they were given."""

    answers: dict[str, Any] = field(default_factory=dict)
    audience: Optional[str] = None


def number_bounds(q: Question, answers: dict) -> tuple[int, int]:
    low, high = q.min or 0, q.max if q.max is not None else 0
    if q.max_from is not None and isinstance(answers.get(q.max_from), int):
        high = min(high, answers[q.max_from])
    return low, high


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


class InterimInterview:
    """INTERIM stand-in for the questionnaire library's ``Interview`` (see the module doc)."""

    def __init__(self, kb=None):
        if kb is None:
            from triage import knowledge

            kb = knowledge.default()
        self.kb = kb
        self.questions: list[Question] = list(kb.questions)
        self.by_id = {q.id: q for q in self.questions}
        self.text = kb.interview

    def active(self, answers: dict) -> dict:
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
                return self._ids(q, state.answers[q.id])[0]
        return None

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

    def _ids(self, q: Question, value: Any) -> list[str]:
        if value is None:
            return []
        codes = value if isinstance(value, list) else [value]
        return [i for code in codes for i in q.choice(code).ids]

    def case(self, answers: dict) -> dict:
        """The case the answers that count make (the reports' own answers-to-case mapping)."""
        from triage.fhir import case_from_answers

        return case_from_answers(self.active(answers)).model_dump(mode="json", exclude_unset=True)

    def offered(self, q: Question, state: State) -> list:
        """The choices to show (INTERIM: all of them)."""
        return list(q.choices)

    def why(self, q: Question, state: State) -> list[str]:
        """Why ``q`` is asked (INTERIM: only the reason the question data gives)."""
        return [q.always] if q.always else []

    def next_question(self, state: State) -> Optional[Question]:
        active = self.active(state.answers)
        for q in self.questions:
            if q.id not in state.answers and q.applies(active):
                return q
        return None


@functools.lru_cache(maxsize=1)
def default():
    """The interview the web page asks (INTERIM: :class:`InterimInterview`)."""
    return InterimInterview()
