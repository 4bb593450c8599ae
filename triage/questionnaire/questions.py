"""The questionnaire as data: ``knowledge/questions.yaml``, validated strictly at load.

The same questions drive every front end (the terminal interview, the web page, the FHIR
Questionnaire export), so nothing here knows about terminals or HTML. Every reference is
checked when the knowledge base loads: the case field a question fills, the contract ids its
choices set, the earlier questions its condition reads. A problem names the file and the key.

Light to import: only Pydantic, no rules engine.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Mapping, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["yes_no", "one_of", "several_of", "number"]
Audience = Literal["self", "caregiver", "clinician", "educator"]
AUDIENCES: tuple[str, ...] = ("self", "caregiver", "clinician", "educator")
YES, NO, UNSURE = "yes", "no", "unsure"
YES_NO_ANSWERS = (YES, NO, UNSURE)
ID = re.compile(r"^[a-z][a-z0-9_]*$")

# The case fields a question may fill (declared once, in triage/casefields.py): list fields
# take several ids, scalar fields one; number fields take a whole number.
from triage.casefields import LIST_FIELDS, NUMBER_FIELDS, SCALAR_FIELDS  # noqa: E402
from triage import casefields as _fields  # noqa: E402


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Wording(_Strict):
    """A question's words for each audience; ``anyone`` before the respondent is known."""

    anyone: Optional[str] = None
    self_: str = Field(alias="self", min_length=1)
    caregiver: str = Field(min_length=1)
    clinician: str = Field(min_length=1)
    educator: str = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    def for_(self, audience: Optional[str]) -> str:
        """The wording for ``audience``; ``None`` means not yet known."""
        if audience is None:
            return self.anyone or self.self_
        return self.self_ if audience == "self" else getattr(self, audience)


TESTS = ("any_of", "none_of", "at_least", "at_most", "answered", "ticked")


class Condition(_Strict):
    """A test on the answer to an earlier question. Exactly one test is given."""

    question: str
    any_of: Optional[list[str]] = None
    none_of: Optional[list[str]] = None
    at_least: Optional[int] = None
    at_most: Optional[int] = None
    answered: Optional[bool] = None
    ticked: Optional[bool] = None  # a checklist: some choice ticked (true), or "none of these" (false)

    @model_validator(mode="after")
    def _one_test(self) -> "Condition":
        tests = [k for k in TESTS if getattr(self, k) is not None]
        if len(tests) != 1:
            raise ValueError(f"a condition has exactly one test: {', '.join(TESTS)} "
                             f"(got {', '.join(tests) or 'none'})")
        return self

    def holds(self, answers: Mapping[str, Any], *, record: bool = False) -> bool:
        """Whether this condition holds for ``answers`` (question id -> answer).

        ``record``: the answers are a record (a case file, a saved response), not an interview
        in progress. There, "after that question was answered" also holds when that question
        is absent: a case file that names body regions without symptoms never answered the
        symptoms question, and saying "none of these" for it would invent a denial."""
        have = answers.get(self.question)
        if self.answered is not None:
            if record and self.answered and self.question not in answers:
                return True
            return (have is not None) == self.answered
        if have is None:
            return False
        if self.ticked is not None:
            return bool(have) == self.ticked
        values = set(have) if isinstance(have, list) else {have}
        if self.any_of is not None:
            return bool(values & set(self.any_of))
        if self.none_of is not None:
            return not values & set(self.none_of)
        if not isinstance(have, int) or isinstance(have, bool):
            return False
        if self.at_least is not None:
            return have >= self.at_least
        return have <= self.at_most  # type: ignore[operator]


class _Conditional(_Strict):
    """Something that holds only when every condition in ``when`` holds (one condition, or a
    list of them; none: always)."""

    when: list[Condition] = []

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, dict) else value

    def applies(self, answers: Mapping[str, Any], *, record: bool = False) -> bool:
        """Whether the conditions hold for the earlier answers (question id -> answer);
        ``record``: see :meth:`Condition.holds`."""
        return all(c.holds(answers, record=record) for c in self.when)


class ForTheRecord(_Conditional):
    """Why a question is asked even when no answer can change the triage: the neurologist
    needs the answer. Asked when its conditions hold (none: whenever the question applies)."""

    reason: str = Field(min_length=1)


class QChoice(_Strict):
    """One answer to a question, bound to the contract ids it puts in the case."""

    id: str
    label: Optional[str] = None  # default: the knowledge base's label of the id it sets
    description: Optional[str] = None
    sets: Optional[list[str]] = None  # default: [id]

    @property
    def ids(self) -> list[str]:
        return list(self.sets) if self.sets is not None else [self.id]


SHORT_MAX = 30  # a review row "Sensory trick: Yes" must fit a narrow terminal


class Question(_Conditional):
    id: str
    short: str = Field(min_length=2, max_length=SHORT_MAX)  # the review screen's label
    section: str
    fills: str
    kind: Kind
    ask: Wording
    help: Union[str, Wording, None] = None  # the same for everyone, or worded per audience
    value: Optional[str] = None
    choices: list[QChoice] = []
    none: Optional[str] = None
    replaces: list[str] = []
    min: Optional[int] = None
    max: Optional[int] = None
    max_from: Optional[str] = None
    unit: Optional[str] = None
    optional: bool = False
    always: Optional[str] = None
    record: Optional[ForTheRecord] = None  # asked for the record when it holds (see ForTheRecord)
    # the interview skips the question unless these hold (a clinical judgement that it means
    # nothing otherwise); unlike ``when``, a record may still carry its answer
    skip_unless: list[Condition] = []

    @field_validator("skip_unless", mode="before")
    @classmethod
    def _one_or_many_skip(cls, value: object) -> object:
        return [value] if isinstance(value, dict) else value

    def worth_asking(self, answers: Mapping[str, Any]) -> bool:
        """Whether the interview may ask this question after ``answers`` (see ``skip_unless``;
        whether it applies at all is :meth:`applies`)."""
        return all(c.holds(answers) for c in self.skip_unless)

    def help_for(self, audience: Optional[str]) -> Optional[str]:
        """The help under the question for ``audience`` (``None``: not yet known)."""
        if self.help is None or isinstance(self.help, str):
            return self.help
        return self.help.for_(audience)

    def choice(self, choice_id: str) -> QChoice:
        for c in self.choices:
            if c.id == choice_id:
                return c
        raise KeyError(choice_id)

    def quiet_answer(self):
        """The answer of someone with nothing to report (no, none, not known), used by scripted
        runs such as the benchmarks and the tests' key scripts."""
        if self.kind == "yes_no":
            return "no"
        if self.kind == "several_of":
            return []
        if self.kind == "number":
            return None
        codes = [c.id for c in self.choices]
        return next((c for c in ("none", "unknown", "unsure", "gradual") if c in codes), codes[0])

    def answer_ids(self) -> list[str]:
        """The codes an answer may take (yes / no / unsure for yes_no)."""
        if self.kind == "yes_no":
            return list(YES_NO_ANSWERS)
        return [c.id for c in self.choices]


class Section(_Strict):
    id: str
    title: str


class InterviewText(_Strict):
    """The words of the interview itself, the same for every audience."""

    title: str
    welcome: Union[str, Wording]
    emergency_now: Union[str, Wording]
    welcome_keys: str
    welcome_keys_plain: str
    keys: str
    answer_yes: str
    answer_no: str
    answer_unsure: str
    dont_know: str
    why: str
    back: str
    why_title: str
    why_rule: str
    why_always: str
    why_none: str
    why_no_change: str
    why_opens: str
    why_changes: str
    why_changes_together: str
    why_if: str
    why_if_ticked: str
    why_at_most: str
    why_at_least: str
    why_between: str
    why_care: str
    why_adds: str
    why_removes: str
    why_support: str
    why_candidate: str
    why_cause: str
    why_mimic: str
    why_rules: str
    why_rule_stops: str
    why_answer: str
    why_or: str
    number_prompt: str
    number_invalid: str
    several_instruction: str
    several_empty: str
    several_none_conflict: str
    several_plain: str
    choice_invalid: str
    choose_one: str
    choice_invalid_ids: str
    number_above: str
    emergency_go_on: Union[str, Wording]
    emergency_after: Union[str, Wording]
    emergency_because: str
    bad_answers: str
    review_title: str
    review_row: str
    review_prompt: str
    review_done: str
    not_answered: str
    skipped: str
    result_title: str
    chart_title: str
    how_prompt: str
    how_title: str
    how_answers: str
    how_rules: str
    how_done: str
    firing: str
    save_case: Union[str, Wording]
    save_report: Union[str, Wording]
    file_name: str
    saved: str
    save_failed: str
    interrupted: str
    resume_hint: str
    resumed: str
    save_exists: str
    save_new_name: str
    save_again: str
    quit: str
    # The numbers the emergency advice calls (tel: links on the web page): settings, per deployment.
    emergency_phone: str = Field(pattern=r"^\+?[0-9]{2,15}$")
    clinic_phone: Optional[str] = Field(default=None, pattern=r"^\+?[0-9]{3,15}$")
    call_emergency: str
    call_clinic: str
    not_a_terminal: str
    end_of_input: str
    goodbye: Union[str, Wording]

    def worded(self, name: str, audience: Optional[str]) -> str:
        """The words ``name`` for ``audience`` (a text that is the same for everyone, or worded
        for each respondent)."""
        text = getattr(self, name)
        return text if isinstance(text, str) else text.for_(audience)

    def yes_no_label(self, code: str) -> str:
        return {YES: self.answer_yes, NO: self.answer_no, UNSURE: self.answer_unsure}[code]


Answer = Union[str, int, list[str], None]


def allowed_ids(kb, field: str) -> Optional[list[str]]:
    """The contract ids a case field takes (``None`` for number fields)."""
    return _fields.allowed_ids(kb, field) if field in _fields.BY_NAME else None


def id_label(kb, field: str, value: str) -> str:
    """The knowledge base's words for a contract id of a case field."""
    for item in _fields.items(kb, field):
        if item.id == value:
            return item.label
    raise KeyError(value)


def check(kb, where: str) -> list[str]:
    """Every reference of the questions, checked against the knowledge base."""
    problems: list[str] = []
    seen: dict[str, Question] = {}
    sections = {s.id for s in kb.sections}
    if len(sections) != len(kb.sections):
        problems.append(f"{where}: sections: duplicate section id")
    respondent_at = next((i for i, q in enumerate(kb.questions) if q.fills == "respondent"), None)
    for i, q in enumerate(kb.questions):
        at = f"{where}: questions.{i} ({q.id})"
        if not ID.match(q.id):
            problems.append(f"{at}.id: must be lower_snake_case")
        if q.id in seen:
            problems.append(f"{at}.id: duplicate question id {q.id!r}")
        same = [o.id for o in seen.values() if o.short.casefold() == q.short.casefold()]
        if same:
            problems.append(f"{at}.short: {q.short!r} is already the short label of {same[0]!r}")
        if q.section not in sections:
            problems.append(f"{at}.section: unknown section {q.section!r}; known: {', '.join(sorted(sections))}")
        if respondent_at is not None and i < respondent_at and not q.ask.anyone:
            problems.append(f"{at}.ask.anyone: needed, the question comes before the one asking who is answering")
        field = q.fills
        if field not in LIST_FIELDS and field not in SCALAR_FIELDS and field not in NUMBER_FIELDS:
            known = ", ".join([*LIST_FIELDS, *SCALAR_FIELDS, *NUMBER_FIELDS])
            problems.append(f"{at}.fills: {field!r} is not a case field; case fields: {known}")
            seen[q.id] = q
            continue
        allowed = allowed_ids(kb, field)
        expected = {"number": NUMBER_FIELDS, "several_of": tuple(LIST_FIELDS),
                    "yes_no": tuple(LIST_FIELDS),
                    "one_of": tuple(LIST_FIELDS) + SCALAR_FIELDS}[q.kind]
        if field not in expected:
            problems.append(f"{at}.kind: a {q.kind} question cannot fill {field!r}")
        # kind-specific keys
        if q.kind == "yes_no":
            if q.value is None:
                problems.append(f"{at}.value: a yes_no question names the id a yes adds")
            elif allowed is not None and q.value not in allowed:
                problems.append(f"{at}.value: {q.value!r} is not a known {field} id; allowed: {', '.join(allowed)}")
        elif q.value is not None:
            problems.append(f"{at}.value: only yes_no questions have a value")
        if q.kind in ("one_of", "several_of"):
            if not q.choices:
                problems.append(f"{at}.choices: a {q.kind} question needs choices")
        elif q.choices:
            problems.append(f"{at}.choices: a {q.kind} question has no choices")
        if q.none is not None and q.kind != "several_of":
            problems.append(f"{at}.none: only several_of questions have a 'none' answer")
        choice_ids: set[str] = set()
        for j, c in enumerate(q.choices):
            cat = f"{at}.choices.{j}"
            if not ID.match(c.id):
                problems.append(f"{cat}.id: must be lower_snake_case")
            if c.id in choice_ids:
                problems.append(f"{cat}.id: duplicate choice id {c.id!r}")
            choice_ids.add(c.id)
            if not c.ids:
                problems.append(f"{cat}.sets: empty; a choice sets at least one id")
            if field in SCALAR_FIELDS and len(c.ids) != 1:
                problems.append(f"{cat}.sets: {field!r} takes one value")
            for v in c.ids:
                if allowed is not None and v not in allowed:
                    problems.append(f"{cat}.sets: {v!r} is not a known {field} id; allowed: {', '.join(allowed)}")
            if c.label is None and len(c.ids) != 1:
                problems.append(f"{cat}.label: needed when a choice sets several ids")
        if q.replaces:
            if field != "regions":
                problems.append(f"{at}.replaces: only questions that fill regions replace regions")
            for v in q.replaces:
                if allowed is not None and v not in allowed:
                    problems.append(f"{at}.replaces: {v!r} is not a known region")
        # numbers
        if q.kind == "number":
            lo, hi = kb.case.age_min, kb.case.age_max
            if q.min is None or q.max is None:
                problems.append(f"{at}: a number question needs min and max")
            else:
                if not lo <= q.min <= q.max <= hi:
                    problems.append(f"{at}.min/max: must satisfy {lo} <= min <= max <= {hi} (case.yaml)")
            if q.max_from is not None:
                other = seen.get(q.max_from)
                if other is None:
                    problems.append(f"{at}.max_from: {q.max_from!r} is not an earlier question")
                elif other.kind != "number":
                    problems.append(f"{at}.max_from: {q.max_from!r} is not a number question")
        else:
            for key in ("min", "max", "max_from", "unit"):
                if getattr(q, key) is not None:
                    problems.append(f"{at}.{key}: only number questions have {key}")
            if q.optional:
                problems.append(f"{at}.optional: only number questions are optional (others offer 'not sure')")
        # conditions
        conditions = [(f"{at}.when.{j}", c) for j, c in enumerate(q.when)]
        conditions += [(f"{at}.skip_unless.{j}", c) for j, c in enumerate(q.skip_unless)]
        if q.record is not None:
            conditions += [(f"{at}.record.when.{j}", c) for j, c in enumerate(q.record.when)]
        for cat, cond in conditions:
            other = seen.get(cond.question)
            if other is None:
                problems.append(f"{cat}.question: {cond.question!r} is not an earlier question")
                continue
            codes: Optional[list[str]] = cond.any_of if cond.any_of is not None else cond.none_of
            if codes is not None:
                answer_ids = other.answer_ids()
                if other.kind == "number":
                    problems.append(f"{cat}: {cond.question!r} is a number question; use at_least or at_most")
                for code in codes:
                    if code not in answer_ids:
                        problems.append(f"{cat}: {code!r} is not an answer of {cond.question!r}; answers: {', '.join(answer_ids)}")
            if (cond.at_least is not None or cond.at_most is not None) and other.kind != "number":
                problems.append(f"{cat}: at_least / at_most need a number question, {cond.question!r} is {other.kind}")
            if cond.ticked is not None and (other.kind != "several_of" or cat.split(".")[-2] == "when"
                                            and ".record." not in cat):
                problems.append(f"{cat}: ticked needs a checklist and is for record.when or skip_unless "
                                "(the FHIR form's enableWhen cannot say it)")
        if q.always is not None and not q.always.strip():
            problems.append(f"{at}.always: give the reason it is always asked")
        seen[q.id] = q
    return problems
