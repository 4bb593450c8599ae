"""The questions the web page asks, behind one small interface.

The page only needs: the questions in order (``Questions.questions``, ``by_id``), the next
question to ask for the answers so far (``next_question``), and the contract case the answers
make (``case``). An answer is keyed by question id and holds answer codes: one code for
``one_of`` and ``yes_no``, a list for ``several_of``, a whole number or ``"unknown"`` for
``number``.

INTERIM: until the shared question data (``knowledge/questions.yaml``) and its next-question
library are on main, the questions are generated from the knowledge base's contract fields,
with the wording of each question in ``interim_questions.yaml``. Switching means replacing
:func:`default` with an adapter over that library; nothing else in ``triage.web`` changes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict

from triage import knowledge

Kind = Literal["yes_no", "one_of", "several_of", "number"]
AnswerValue = Union[str, int, list[str]]
AUDIENCES = ("self", "caregiver", "clinician", "educator")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    description: Optional[str] = None


@dataclass(frozen=True)
class Question:
    id: str
    fills: str
    kind: Kind
    section: str
    ask: dict[str, str]
    help: Optional[str] = None
    none: Optional[str] = None
    choices: tuple[Choice, ...] = ()
    min: int = 0
    max: int = 120
    max_from: Optional[str] = None
    optional: bool = True
    always: Optional[str] = None
    unit: Optional[str] = None

    def wording(self, audience: Optional[str]) -> str:
        """The question in the words for this audience (``None``: not said yet)."""
        for key in (audience or "anyone", "self", "anyone"):
            if key in self.ask:
                return self.ask[key]
        return next(iter(self.ask.values()))

    def choice_ids(self) -> list[str]:
        return [c.id for c in self.choices]


@dataclass
class Questions:
    """The questionnaire: questions in the order of asking, and the rules of the flow."""

    questions: list[Question]
    by_id: dict[str, Question] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {q.id: q for q in self.questions}

    def audience(self, answers: dict[str, AnswerValue]) -> Optional[str]:
        value = answers.get("respondent")
        return value if isinstance(value, str) and value in AUDIENCES else None

    def next_question(self, answers: dict[str, AnswerValue]) -> Optional[Question]:
        """The first question not yet answered that is to be asked now; ``None`` when done.

        INTERIM: the follow-ups are asked only once at least one symptom was given. The
        shared library decides this from the rules instead.
        """
        has_symptoms = bool(answers.get("symptoms"))
        for q in self.questions:
            if q.id in answers:
                continue
            if q.id in _FOLLOW_UPS and not has_symptoms:
                continue
            return q
        return None

    def case(self, answers: dict[str, AnswerValue]) -> dict:
        """The contract case (a dict, not yet validated) that the answers make."""
        doc: dict = {"version": 1}
        for qid, value in answers.items():
            q = self.by_id[qid]
            if q.kind == "several_of":
                doc.setdefault(q.fills, [])
                doc[q.fills] += [v for v in value if v not in doc[q.fills]]
            elif q.kind == "yes_no":
                if value == "yes":
                    doc.setdefault(q.fills, []).append(q.id)
            elif q.kind == "number":
                if value != UNKNOWN:
                    doc[q.fills] = value
            else:
                doc[q.fills] = value
        return doc


_FOLLOW_UPS = {"regions", "features", "onset", "course"}


class _InterimQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    fills: str
    kind: Kind
    section: str
    ask: dict[str, str]
    help: Optional[str] = None
    none: Optional[str] = None


def _choices(kb: knowledge.KnowledgeBase, fills: str) -> tuple[Choice, ...]:
    if fills in ("respondent", "onset", "course", "dopamine_blocker"):
        items = getattr(kb.case, fills)
    else:
        items = getattr(kb, fills)
    return tuple(Choice(i.id, i.label, getattr(i, "description", None)) for i in items)


@functools.lru_cache(maxsize=1)
def default() -> Questions:
    """The questions the web page asks (INTERIM: generated from the knowledge base)."""
    kb = knowledge.default()
    doc = knowledge.read_yaml(Path(__file__).with_name("interim_questions.yaml"))
    out = []
    for raw in doc["questions"]:  # type: ignore[index]
        spec = _InterimQuestion.model_validate(raw)
        extra = {}
        if spec.kind == "number":
            extra = {"min": kb.case.age_min, "max": kb.case.age_max, "unit": "years",
                     "max_from": "age" if spec.id == "onset_age" else None}
        else:
            extra = {"choices": _choices(kb, spec.fills)}
        out.append(Question(**spec.model_dump(), **extra))
    return Questions(out)
