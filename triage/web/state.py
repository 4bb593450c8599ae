"""The answers a web page carries: one hidden form field (JSON, question id -> answer, in the
order given), signed by the server. Nothing is kept on the server, so every request reads them
again as if new: first the signature (HMAC-SHA256 with the deployment's secret, so a page
changed by another site, an extension or a proxy is refused: nobody can drop a ticked red flag
from a page and get a calmer result), then the shape by a Pydantic type, then every answer
through the questionnaire session (the same checks the terminal makes).

The secret is ``TRIAGE_SECRET`` (shared by every worker and server of one deployment);
without it each process makes a random one (``dystonia-triage serve`` makes one and hands it
to its workers), so pages from before a restart are refused and the person starts again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from typing import Any, Optional, Union

from pydantic import StrictInt, StrictStr, TypeAdapter, ValidationError

from triage.questionnaire.answers import AnswerError
from triage.questionnaire.session import Questionnaire, Session

MAX_ANSWERS_CHARS = 8_000  # a complete set of answers is well under 1,000 characters
SECRET_ENV = "TRIAGE_SECRET"
MIN_SECRET_CHARS = 16
_PROCESS_SECRET = secrets.token_bytes(32)  # when TRIAGE_SECRET is not set: this process only
_CONTEXT = b"dystonia-triage answers v1\0"

_SHAPE = TypeAdapter(dict[StrictStr, Union[StrictInt, StrictStr, list[StrictStr], None]])


class BadAnswers(Exception):
    """The answers carried by a page are not valid; the message names the answer."""


def _secret() -> bytes:
    given = os.environ.get(SECRET_ENV)
    return given.encode("utf-8") if given else _PROCESS_SECRET


def _mac(body: str, secret: Optional[bytes] = None) -> str:
    digest = hmac.new(secret or _secret(), _CONTEXT + body.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def sign(body: str, secret: Optional[bytes] = None) -> str:
    """``body`` with the server's signature in front: ``SIGNATURE.BODY`` (``secret``: another
    server's, for tests that post to one)."""
    return f"{_mac(body, secret)}.{body}"


def dump(answers: dict[str, Any]) -> str:
    """The hidden field's value: the answers as JSON, signed."""
    return sign(json.dumps(answers, separators=(",", ":"), ensure_ascii=False))


def load(iv: Questionnaire, raw: Optional[str]) -> Session:
    """The session of the answers a page carries (the hidden field); raises :class:`BadAnswers`."""
    if not raw:
        return iv.session()
    if len(raw) > MAX_ANSWERS_CHARS:
        raise BadAnswers("answers: too long")
    mac, dot, body = raw.partition(".")
    if not dot or not hmac.compare_digest(mac.encode("utf-8", "replace"), _mac(body).encode("ascii")):
        raise BadAnswers("answers: not signed by this server (the page was changed, or comes from "
                         "another server or from before it restarted)")
    from triage.inputs import InputProblem, load_json

    try:
        data = _SHAPE.validate_python(load_json(body, "answers"))
    except InputProblem as exc:
        raise BadAnswers(str(exc)) from None
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
