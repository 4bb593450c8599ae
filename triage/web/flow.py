"""The stateless questionnaire flow behind the web page.

Nothing is kept on the server: every page carries all the answers so far in one hidden form
field (JSON: question id -> answer, in the order given). On every request they are validated
again as if new: the shape by a Pydantic type, every answer against its question (the same
check the terminal uses), and the case they make by the contract's ``Case`` model. So a
tampered or stale page can never reach the rules with anything a person could not answer.

Which question comes next is the questionnaire's own decision (``next_question``); this module
only adds the page's way back and forward through answers already given.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, TypeAdapter, ValidationError

from triage import knowledge
from triage.questions import Question
from triage.interview import AnswerError, State, check_answer, number_bounds

MAX_ANSWERS_CHARS = 8_000  # a complete set of answers is well under 1,000 characters
NONE = "none"  # the form value of a several_of question's "none of these" box

Answers = dict[str, Any]
_SHAPE = TypeAdapter(dict[StrictStr, Union[StrictInt, StrictStr, list[StrictStr], None]])


class Messages(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    choose_one: str
    tick_some: str
    whole_number: str
    number_required: str
    not_above: str
    bad_answers: str


class _Words(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    messages: Messages


@functools.lru_cache(maxsize=1)
def messages() -> Messages:
    doc = knowledge.read_yaml(Path(__file__).with_name("words.yaml"))
    return _Words.model_validate(doc).messages


class BadAnswers(Exception):
    """The answers carried by a page are not valid; the message names the answer."""


def dump(answers: Answers) -> str:
    """The hidden field's value."""
    return json.dumps(answers, separators=(",", ":"), ensure_ascii=False)


def load(iv, raw: Optional[str]) -> Answers:
    """Read and validate the hidden field; raises :class:`BadAnswers`."""
    if not raw:
        return {}
    if len(raw) > MAX_ANSWERS_CHARS:
        raise BadAnswers("answers: too long")
    try:
        data = _SHAPE.validate_json(raw)
    except ValidationError as exc:
        raise BadAnswers(f"answers: {exc.errors()[0]['msg']}") from None
    so_far: Answers = {}
    for qid, value in data.items():
        q = iv.by_id.get(qid)
        if q is None:
            raise BadAnswers(f"answers.{qid}: not a question of this questionnaire")
        try:
            check_answer(q, value, so_far)
        except AnswerError as exc:
            raise BadAnswers(f"answers.{qid}: {exc}") from None
        so_far[qid] = value
    validate_case(iv, data)
    return data


def validate_case(iv, answers: Answers):
    """The contract case the answers make, validated by the ``Case`` model."""
    from triage.assessment import to_case
    from triage.errors import CaseError

    try:
        return to_case(iv.case(answers))
    except CaseError as exc:
        raise BadAnswers(str(exc)) from None


def given(iv, answers: Answers) -> list[str]:
    """The answers that count (their question's condition holds), in the order given."""
    active = iv.active(answers)
    return [qid for qid in answers if qid in active]


def frontier(iv, answers: Answers) -> Optional[Question]:
    """The questionnaire's next question; ``None`` when it has nothing more to ask."""
    return iv.next_question(State(answers=dict(answers)))


def after(iv, answers: Answers, qid: str) -> Optional[Question]:
    """The question to show after ``qid``: the next answer already given (to check it), else
    the questionnaire's next question; ``None``: on to the review."""
    order = given(iv, answers)
    if qid in order and order.index(qid) + 1 < len(order):
        return iv.by_id[order[order.index(qid) + 1]]
    return frontier(iv, answers)


def before(iv, answers: Answers, qid: str) -> Optional[Question]:
    """The question to show on "Back" from ``qid``; ``None``: the start page."""
    order = given(iv, answers)
    i = order.index(qid) if qid in order else len(order)
    return iv.by_id[order[i - 1]] if i > 0 else None


def parse(iv, q: Question, values: list[str], answers: Answers, state: State) -> tuple[Any, Optional[str]]:
    """The answer a submitted form gives to ``q``: ``(value, None)`` or ``(None, message)``."""
    m = messages()
    values = [v.strip() for v in values]
    if q.kind == "several_of":
        none = q.none or ""
        if not values:
            return None, m.tick_some.format(none=none)
        if NONE in values:
            if len(values) > 1:
                return None, iv.text.several_none_conflict.format(none=none)
            return [], None
        chosen = [c for c in q.answer_ids() if c in values]
        if len(chosen) != len(set(values)):
            return None, m.choose_one
        return chosen, None
    if q.kind == "number":
        text = values[0] if values else ""
        low, high = q.min or 0, q.max or 0
        wrong = (m.whole_number if q.optional else m.number_required).format(min=low, max=high)
        if not text:
            return (None, None) if q.optional else (None, wrong)
        if not text.isdigit() or not low <= int(text) <= high:
            return None, wrong
        value = int(text)
        limit = number_bounds(q, answers)[1]
        if value > limit:
            other = iv.wording(iv.by_id[q.max_from], state) if q.max_from else ""
            return None, m.not_above.format(other=other, limit=limit)
        return value, None
    if len(values) != 1 or values[0] not in q.answer_ids():
        return None, m.choose_one
    return values[0], None
