"""The stateless questionnaire flow behind the web page.

Nothing is kept on the server: every page carries all the answers so far in one hidden form
field (JSON). On every request they are validated again, the same way as at the start: the
shape by a Pydantic type, every answer against its question, and the case they make by the
contract's ``Case`` model. So a tampered or stale page can never reach the rules with anything
a person could not have answered.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, TypeAdapter, ValidationError

from triage import knowledge
from triage.web.questions import UNKNOWN, AnswerValue, Choice, Question, Questions

MAX_ANSWERS_CHARS = 8_000  # a complete set of answers is well under 1,000 characters
NONE = "none"  # the form value of a several_of question's "none of these" box
YES_NO = ("yes", "no", "unsure")

Answers = dict[str, AnswerValue]
_SHAPE = TypeAdapter(dict[StrictStr, Union[StrictInt, StrictStr, list[StrictStr]]])


class Messages(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    choose_one: str
    tick_some: str
    none_conflict: str
    whole_number: str
    number_required: str
    not_above: str
    bad_answers: str


class Labels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    yes: str
    no: str
    unsure: str
    not_known: str


class _Words(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    messages: Messages
    labels: Labels


@functools.lru_cache(maxsize=1)
def words() -> _Words:
    doc = knowledge.read_yaml(Path(__file__).with_name("words.yaml"))
    return _Words.model_validate(doc)


def messages() -> Messages:
    return words().messages


def yes_no_choices() -> tuple[Choice, ...]:
    labels = words().labels
    return tuple(Choice(code, getattr(labels, code)) for code in YES_NO)


class BadAnswers(Exception):
    """The answers carried by a page are not valid; the message names the answer."""


def dump(answers: Answers) -> str:
    """The hidden field's value."""
    return json.dumps(answers, separators=(",", ":"), ensure_ascii=False)


def load(qs: Questions, raw: Optional[str]) -> Answers:
    """Read and validate the hidden field; raises :class:`BadAnswers`."""
    if not raw:
        return {}
    if len(raw) > MAX_ANSWERS_CHARS:
        raise BadAnswers("answers: too long")
    try:
        data = _SHAPE.validate_json(raw)
    except ValidationError as exc:
        raise BadAnswers(f"answers: {exc.errors()[0]['msg']}") from None
    for qid, value in data.items():
        q = qs.by_id.get(qid)
        if q is None:
            raise BadAnswers(f"answers.{qid}: not a question of this questionnaire")
        problem = check(q, value)
        if problem:
            raise BadAnswers(f"answers.{qid}: {problem}")
    validate_case(qs, data)
    return data


def check(q: Question, value: AnswerValue) -> Optional[str]:
    """Why ``value`` is not an answer to ``q`` (``None`` when it is)."""
    if q.kind == "several_of":
        if not isinstance(value, list):
            return "expected a list of answer codes"
        bad = [v for v in value if v not in q.choice_ids()]
        if bad or len(set(value)) != len(value):
            return f"{bad[0] if bad else value!r} is not one of {', '.join(q.choice_ids())}"
    elif q.kind == "number":
        if value == UNKNOWN:
            return None
        if not isinstance(value, int) or not q.min <= value <= q.max:
            return f"expected a whole number from {q.min} to {q.max}, or {UNKNOWN!r}"
    else:
        allowed = list(YES_NO) if q.kind == "yes_no" else q.choice_ids()
        if value not in allowed:
            return f"{value!r} is not one of {', '.join(allowed)}"
    return None


def validate_case(qs: Questions, answers: Answers):
    """The contract case the answers make, validated by the ``Case`` model."""
    from triage.assessment import to_case
    from triage.errors import CaseError

    try:
        return to_case(qs.case(answers))
    except CaseError as exc:
        raise BadAnswers(str(exc)) from None


@dataclass
class Path_:
    """The questions asked for some answers, in order, and the first one still open."""

    asked: list[Question]
    answers: Answers  # only the answers on this path (others no longer apply)
    frontier: Optional[Question]

    def ids(self) -> list[str]:
        return [q.id for q in self.asked]


def path(qs: Questions, answers: Answers) -> Path_:
    """Replay the questionnaire on the answers: which questions it asks and in which order.

    The next-question logic decides each step from the answers before it, so changing an
    early answer can add questions (they become the frontier) or drop later ones.
    """
    partial: Answers = {}
    asked: list[Question] = []
    while True:
        q = qs.next_question(partial)
        if q is None or q.id in partial:
            return Path_(asked, partial, None)
        asked.append(q)
        if q.id not in answers:
            return Path_(asked, partial, q)
        partial[q.id] = answers[q.id]


def parse(qs: Questions, q: Question, values: list[str], answers: Answers) -> tuple[Optional[AnswerValue], Optional[str]]:
    """The answer a submitted form gives to ``q``: ``(value, None)`` or ``(None, message)``."""
    m = messages()
    values = [v.strip() for v in values]
    if q.kind == "several_of":
        none = q.none or ""
        if not values:
            return None, m.tick_some.format(none=none)
        if NONE in values:
            return (None, m.none_conflict.format(none=none)) if len(values) > 1 else ([], None)
        chosen = [c for c in q.choice_ids() if c in values]
        if len(chosen) != len(set(values)):
            return None, m.choose_one
        return chosen, None
    if q.kind == "number":
        text = values[0] if values else ""
        if not text:
            if q.optional:
                return UNKNOWN, None
            return None, m.number_required.format(min=q.min, max=q.max)
        if not text.isdigit() or not q.min <= int(text) <= q.max:
            return None, (m.whole_number if q.optional else m.number_required).format(min=q.min, max=q.max)
        value = int(text)
        limit = answers.get(q.max_from) if q.max_from else None
        if isinstance(limit, int) and value > limit:
            other = qs.by_id[q.max_from].wording(qs.audience(answers))
            return None, m.not_above.format(other=other, limit=limit)
        return value, None
    allowed = YES_NO if q.kind == "yes_no" else q.choice_ids()
    if len(values) != 1 or values[0] not in allowed:
        return None, m.choose_one
    return values[0], None
