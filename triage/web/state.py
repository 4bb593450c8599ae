"""The answers a web page carries: one hidden form field (JSON, question id -> answer, in the
order given). Nothing is kept on the server, so every request reads them again as if new: the
shape by a Pydantic type, then every answer through the questionnaire session (the same checks
the terminal makes), so a tampered or stale page never reaches the rules with anything a
person could not answer.
"""

from __future__ import annotations

import json
from typing import Any, Optional, Union

from pydantic import StrictInt, StrictStr, TypeAdapter, ValidationError

from triage.questionnaire.answers import AnswerError
from triage.questionnaire.session import Questionnaire, Session

MAX_ANSWERS_CHARS = 8_000  # a complete set of answers is well under 1,000 characters

_SHAPE = TypeAdapter(dict[StrictStr, Union[StrictInt, StrictStr, list[StrictStr], None]])


class BadAnswers(Exception):
    """The answers carried by a page are not valid; the message names the answer."""


def dump(answers: dict[str, Any]) -> str:
    """The hidden field's value."""
    return json.dumps(answers, separators=(",", ":"), ensure_ascii=False)


def load(iv: Questionnaire, raw: Optional[str]) -> Session:
    """The session of the answers a page carries (the hidden field); raises :class:`BadAnswers`."""
    if not raw:
        return iv.session()
    if len(raw) > MAX_ANSWERS_CHARS:
        raise BadAnswers("answers: too long")
    try:
        data = _SHAPE.validate_json(raw)
    except ValidationError as exc:
        raise BadAnswers(f"answers: {exc.errors()[0]['msg']}") from None
    try:
        session = iv.session(data)
    except AnswerError as exc:
        raise BadAnswers(f"answers.{exc}") from None
    # the order the answers were given in (the hidden field keeps it): Back and Next follow it
    session.order = [qid for qid in data if qid in session.answers]
    session.answers = {qid: session.answers[qid] for qid in session.order}
    session.note_emergency()  # the page carrying these answers has shown their emergency
    return session
