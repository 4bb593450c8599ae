"""Teaching cases: short stories in plain words, each a valid case with the assessment that
the clinical conventions lead one to expect. They live in ``knowledge/cases/``, one YAML file
per case, and are validated strictly at load (unknown keys, unknown ids and invalid cases fail
with the file and the key named). They are run as tests and used by ``dystonia-triage cases``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from triage import knowledge as kbase
from triage.errors import KnowledgeError
from triage.paths import knowledge_dir


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expected(_Strict):
    """What the case should give, written from the clinical conventions (not from the engine).

    ``types`` is the full set of candidate types and ``types[0]`` the one listed first;
    ``causes`` and ``mimics`` are the full sets; ``next_steps`` are the key next steps (each
    must be present) and ``not_next_steps`` steps that must not be advised."""

    types: list[str] = []
    care_level: str
    causes: list[str] = []
    mimics: list[str] = []
    next_steps: list[str] = []
    not_next_steps: list[str] = []

    @model_validator(mode="after")
    def _known_ids(self, info: ValidationInfo) -> "Expected":
        kb = _kb(info)
        tables = {"types": "types", "care_level": "care_levels", "causes": "causes", "mimics": "mimics",
                  "next_steps": "next_steps", "not_next_steps": "next_steps"}
        for name, table in tables.items():
            value = getattr(self, name)
            allowed = kb.ids(table)
            for i in value if isinstance(value, list) else [value]:
                if i not in allowed:
                    raise ValueError(f"{name}: {i!r} is not a known id; allowed: {', '.join(allowed)}")
        return self


class TeachingCase(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    story: str = Field(min_length=1)
    teaching_point: str = Field(min_length=1)
    case: Any  # the contract's Case of the knowledge base the cases are loaded with
    expect: Expected
    # Set when the engine's result is known to differ from the clinical conventions; the case
    # then runs as an expected failure until the rules are fixed (the lead decides).
    known_disagreement: Optional[str] = None

    @field_validator("case", mode="before")
    @classmethod
    def _a_case(cls, value, info: ValidationInfo):
        from triage import models

        if isinstance(value, dict) and "version" not in value:
            value = {"version": 1, **value}
        return models.for_kb(_kb(info)).Case.model_validate(value)


def _kb(info: ValidationInfo):
    kb = (info.context or {}).get("kb")
    return kb if kb is not None else kbase.default()


def cases_dir(knowledge: Path | None = None) -> Path:
    return (Path(knowledge) if knowledge else knowledge_dir()) / "cases"


def load(directory: Path | None = None, kb=None) -> list[TeachingCase]:
    """Every teaching case in ``directory`` (default: knowledge/cases), sorted by file name,
    validated against knowledge base ``kb`` (default: the installed one)."""
    directory = Path(directory) if directory else cases_dir()
    out: list[TeachingCase] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = kbase.read_yaml(path)
        try:
            tc = TeachingCase.model_validate(doc, context={"kb": kb})
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'case file'}: {e['msg']}"
                               for e in exc.errors())
            raise KnowledgeError(f"{path}: {detail}") from None
        if tc.id != path.stem:
            raise KnowledgeError(f"{path}: id {tc.id!r} must match the file name {path.stem!r}")
        if tc.id in seen:
            raise KnowledgeError(f"{path}: id {tc.id!r} is already used by {seen[tc.id]}")
        seen[tc.id] = str(path)
        out.append(tc)
    return out


@functools.lru_cache(maxsize=1)
def default() -> list[TeachingCase]:
    return load()


def by_id(case_id: str, cases: list[TeachingCase] | None = None) -> Optional[TeachingCase]:
    return next((c for c in (cases if cases is not None else default()) if c.id == case_id), None)


def compare(tc: TeachingCase, result) -> list[str]:
    """How an assessment differs from the teaching case's expectations (empty: it agrees)."""
    e, problems = tc.expect, []
    types = [c.type for c in result.candidates]
    if sorted(types) != sorted(e.types):
        problems.append(f"types: expected {e.types}, got {types}")
    elif e.types and types[0] != e.types[0]:
        problems.append(f"first type: expected {e.types[0]}, got {types[0]}")
    if result.care_level != e.care_level:
        problems.append(f"care level: expected {e.care_level}, got {result.care_level}")
    for part in ("causes", "mimics"):
        got = sorted(i.id for i in getattr(result, part))
        if got != sorted(getattr(e, part)):
            problems.append(f"{part}: expected {sorted(getattr(e, part))}, got {got}")
    steps = {s.id for s in result.next_steps}
    missing = [s for s in e.next_steps if s not in steps]
    if missing:
        problems.append(f"next steps missing: {missing}")
    extra = [s for s in e.not_next_steps if s in steps]
    if extra:
        problems.append(f"next steps that should not be there: {extra}")
    return problems


def interview(tc: TeachingCase, kb=None) -> list[tuple[str, str]]:
    """The questions of knowledge/questions.yaml that lead to this case, in the educator's
    wording, each with the answer the case gives: what a class sees when it walks through the
    questionnaire (a yes/no the story does not report is answered no). Answers the
    questionnaire cannot give are listed last, with an empty question."""
    from triage.questionnaire.questions import NO
    from triage.questionnaire.session import Questionnaire

    iv = Questionnaire(kb) if kb is not None else _questionnaire()
    answers = iv.record.answers_from_case(tc.case)
    for q in iv.questions:  # a complete story: what it does not report is a no, or none of these
        active = iv.record.active(answers)
        if q.id not in answers and q.kind in ("yes_no", "several_of") and q.applies(active) and q.worth_asking(active):
            answers[q.id] = NO if q.kind == "yes_no" else []
    session = iv.session(answers, audience="educator")
    out = [(" ".join(session.wording(q).split()), label) for q, label in session.review()]
    made = iv.record.case(session.answers)
    data = tc.case.model_dump(mode="json")
    for field, values in data.items():
        if isinstance(values, list):
            left = [v for v in values if v not in made.get(field, []) and field != "regions"]
            if left:
                out.append(("", f"{field}: {', '.join(left)} (no question in the questionnaire gives this answer)"))
    return out


@functools.lru_cache(maxsize=1)
def _questionnaire():
    from triage.questionnaire.session import Questionnaire

    return Questionnaire()
