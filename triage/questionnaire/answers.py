"""What an answer is, for every kind of question: one parser and one validator that every
front end uses (the terminal, the web page, ``--resume``, FHIR import).

An answer is a choice id (``one_of``), a list of choice ids (``several_of``; the empty list is
its "none of these"), ``yes`` / ``no`` / ``unsure`` (``yes_no``), or a whole number or ``None``
for "I don't know" (``number``). :func:`check` validates such a value; :func:`parse` reads what
a person typed or ticked (strings) into one. Both raise :class:`AnswerError`, whose message is
in the knowledge base's words (``questions.yaml``'s ``interview``) and says what is accepted.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

from triage.questionnaire.questions import InterviewText, Question

# The "none of these" answer of a checklist, as a form or a key press gives it.
NONE = "none"
# A whole number as a person types it: ASCII digits only (no "²" or "①"), at most three.
_WHOLE = re.compile(r"[0-9]{1,3}")


class AnswerError(ValueError):
    """An answer a question does not accept; the message says what it accepts."""


def bounds(q: Question, answers: Mapping[str, Any]) -> tuple[int, int]:
    """The whole numbers a number question accepts, given the earlier answers (the age at
    onset cannot pass the present age)."""
    low, high = q.min or 0, q.max if q.max is not None else 0
    if q.max_from is not None:
        limit = answers.get(q.max_from)
        if isinstance(limit, int) and not isinstance(limit, bool):
            high = min(high, limit)
    return low, high


def check(q: Question, value: Any, answers: Mapping[str, Any], words: InterviewText) -> None:
    """Raise :class:`AnswerError` unless ``value`` is an answer ``q`` accepts after ``answers``."""
    if q.kind == "number":
        low, high = bounds(q, answers)
        if value is None:
            if not q.optional:
                raise AnswerError(words.number_invalid.format(min=low, max=high))
            return
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise AnswerError(words.number_invalid.format(min=low, max=high))
        return
    allowed = q.answer_ids()
    if q.kind == "several_of":
        if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
            raise AnswerError(words.choice_invalid_ids.format(answers=", ".join(allowed)))
        bad = [v for v in value if v not in allowed]
        if bad or len(set(value)) != len(value):
            raise AnswerError(words.choice_invalid_ids.format(answers=", ".join(allowed)))
        return
    if not isinstance(value, str) or value not in allowed:
        raise AnswerError(words.choice_invalid_ids.format(answers=", ".join(allowed)))


def parse(q: Question, given: Sequence[str], answers: Mapping[str, Any], words: InterviewText,
          questions: Optional[Mapping[str, Question]] = None) -> Any:
    """The answer that what a person gave means: for a number, the text typed (one string,
    empty for "I don't know"); for a choice, the ids ticked or chosen (``"none"`` for a
    checklist's "none of these"). Raises :class:`AnswerError` in the knowledge base's words."""
    given = [str(v).strip() for v in given]
    if q.kind == "number":
        low, high = bounds(q, answers)
        text = given[0] if given else ""
        if not text:
            if q.optional:
                return None
            raise AnswerError(words.number_invalid.format(min=low, max=high))
        if not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
            if _WHOLE.fullmatch(text) and q.max_from and int(text) <= (q.max or 0):
                other = questions[q.max_from].short if questions and q.max_from in questions else q.max_from
                raise AnswerError(words.number_above.format(limit=high, other=other))
            raise AnswerError(words.number_invalid.format(min=low, max=high))
        return int(text)
    if q.kind == "several_of":
        none = q.none or ""
        given = [v for v in given if v]
        if not given:
            raise AnswerError(words.several_empty.format(none=none))
        if NONE in given and q.none:
            if len(set(given)) > 1:
                raise AnswerError(words.several_none_conflict.format(none=none))
            return []
        allowed = q.answer_ids()
        if any(v not in allowed for v in given):
            raise AnswerError(words.choose_one)
        return [c for c in allowed if c in given]  # in the question's order, once each
    if len(given) != 1 or given[0] not in q.answer_ids():
        raise AnswerError(words.choose_one)
    return given[0]


__all__ = ["AnswerError", "NONE", "bounds", "check", "parse"]
