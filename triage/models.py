"""The case and the assessment: the contract every front end speaks (version 1).

The allowed ids come from the knowledge base, so the models, their JSON Schema and their error
messages always list exactly the ids the rules know.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from triage import knowledge

KB = knowledge.default()


def _choice(ids: list[str]):
    return Literal[tuple(ids)]  # type: ignore[valid-type]


SymptomId = _choice(KB.ids("symptoms"))
RegionId = _choice(KB.ids("regions"))
FeatureId = _choice([f.id for f in KB.features])
HistoryId = _choice([h.id for h in KB.history])
RedFlagId = _choice(KB.ids("red_flags"))
TypeId = _choice(KB.ids("types"))
CauseId = _choice(KB.ids("causes"))
MimicId = _choice(KB.ids("mimics"))
NextStepId = _choice(KB.ids("next_steps"))
CareLevelId = _choice(KB.ids("care_levels"))
SupportId = _choice(KB.ids("support"))
RespondentId = _choice([c.id for c in KB.case.respondent])
OnsetId = _choice([c.id for c in KB.case.onset])
CourseId = _choice([c.id for c in KB.case.course])
DopamineBlockerId = _choice([c.id for c in KB.case.dopamine_blocker])


def _age():
    return Field(default=None, ge=KB.case.age_min, le=KB.case.age_max, strict=True)


class Case(BaseModel):
    """What a person answered. Only ``version`` is required; a missing list is empty and a
    missing scalar is unknown."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"title": "Case"})

    version: Literal[1]
    respondent: Optional[RespondentId] = None
    age: Optional[int] = _age()
    onset_age: Optional[int] = _age()
    symptoms: list[SymptomId] = []
    regions: list[RegionId] = []
    features: list[FeatureId] = []
    onset: Optional[OnsetId] = None
    course: Optional[CourseId] = None
    dopamine_blocker: Optional[DopamineBlockerId] = None
    history: list[HistoryId] = []
    red_flags: list[RedFlagId] = []

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_the_number_one(cls, value):
        # Literal[1] alone would take true and 1.0 for 1: a wrong type must be refused, not coerced
        if isinstance(value, bool) or isinstance(value, float):
            return str(value).lower()  # fails the Literal, and the message shows what was given
        return value

    @model_validator(mode="after")
    def _onset_not_after_age(self) -> "Case":
        if self.age is not None and self.onset_age is not None and self.onset_age > self.age:
            raise ValueError(
                f"onset_age ({self.onset_age}) is greater than age ({self.age}); "
                "the age at onset cannot be later than the present age"
            )
        return self


class Code(BaseModel):
    """A code in a standard terminology."""

    system: str
    code: str
    display: Optional[str] = None


class Candidate(BaseModel):
    type: TypeId
    label: str
    support: SupportId
    because: list[str]
    description: str = ""
    codes: list[Code] = []


class Finding(BaseModel):
    """A cause or a look-alike condition."""

    id: str
    label: str = ""
    description: str = ""
    because: list[str] = []
    codes: list[Code] = []


class RedFlagFinding(BaseModel):
    id: RedFlagId
    label: str
    care_level: CareLevelId


class NextStep(BaseModel):
    id: NextStepId
    text: str
    because: list[str] = []


class TraceEntry(BaseModel):
    """One rule firing, for explanations."""

    rule: str
    layer: str
    explain: str
    source: str
    matched: dict[str, dict]
    concluded: list[dict]


class Assessment(BaseModel):
    """What the rules concluded about a case. It never diagnoses."""

    model_config = ConfigDict(json_schema_extra={"title": "Assessment"})

    version: Literal[1] = 1
    care_level: CareLevelId
    care_label: str = ""
    care_action: str = ""
    care_because: list[str] = []
    candidates: list[Candidate] = []
    causes: list[Finding] = []
    mimics: list[Finding] = []
    red_flags: list[RedFlagFinding] = []
    next_steps: list[NextStep] = []
    regions: list[RegionId] = Field(default=[], description="the body regions the rules took as involved")
    disclaimer: str = Field(min_length=1)
    trace: list[TraceEntry] = []


ListField = Literal["symptoms", "regions", "features", "history", "red_flags"]


class Asked(BaseModel):
    """What a questionnaire knows beyond the case: the ids it asked about that were answered
    "no" (``absent``) or "not sure" (``unsure``), by case list field. A bare case file has
    none, so a report of it can only list what the case records."""

    model_config = ConfigDict(extra="forbid")

    absent: dict[ListField, list[str]] = {}
    unsure: dict[ListField, list[str]] = {}

    @model_validator(mode="after")
    def _known_ids(self) -> "Asked":
        allowed = {"symptoms": KB.ids("symptoms"), "regions": KB.ids("regions"),
                   "features": [f.id for f in KB.features], "history": [h.id for h in KB.history],
                   "red_flags": KB.ids("red_flags")}
        for group in ("absent", "unsure"):
            for field, ids in getattr(self, group).items():
                for i in ids:
                    if i not in allowed[field]:
                        raise ValueError(f"{group}.{field}: unknown id {i!r}; allowed: {', '.join(allowed[field])}")
        return self
