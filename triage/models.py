"""The case and the assessment: the contract every front end speaks (version 1).

The allowed ids come from a knowledge base, so the models, their JSON Schema and their error
messages always list exactly the ids the rules know. :func:`for_kb` builds the models of any
knowledge base (``check --knowledge DIR`` validates that folder's teaching cases against that
folder's vocabulary); the names of this module (``Case``, ``Assessment``, ``KB``, ...) are
those of the process's default knowledge base, built when first used, not at import.

The case's fields are declared once, in :mod:`triage.casefields`.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from triage import casefields


def _build(KB) -> SimpleNamespace:  # noqa: N803 - the knowledge base, as the models read it
    """Every model of the contract for knowledge base ``KB``."""
    def _choice(ids):
        return Literal[tuple(ids)]


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


    class CaseBase(BaseModel):
        """What a person answered. Only ``version`` is required; a missing list is empty and a
        missing scalar is unknown."""

        model_config = ConfigDict(extra="forbid", json_schema_extra={"title": "Case"})

        version: Literal[1]

        @field_validator("version", mode="before")
        @classmethod
        def _version_is_the_number_one(cls, value):
            # Literal[1] alone would take true and 1.0 for 1: a wrong type must be refused, not coerced
            if isinstance(value, bool) or isinstance(value, float):
                return str(value).lower()  # fails the Literal, and the message shows what was given
            return value

        @model_validator(mode="after")
        def _onset_not_after_age(self):
            if self.age is not None and self.onset_age is not None and self.onset_age > self.age:
                raise ValueError(
                    f"onset_age ({self.onset_age}) is greater than age ({self.age}); "
                    "the age at onset cannot be later than the present age"
                )
            return self


    def _case_fields():
        out = {}
        for f in casefields.FIELDS:
            if f.kind == "number":
                out[f.name] = (Optional[int], Field(default=None, ge=KB.case.age_min, le=KB.case.age_max, strict=True))
            elif f.kind == "list":
                out[f.name] = (list[_choice(casefields.allowed_ids(KB, f.name))], [])
            else:
                out[f.name] = (Optional[_choice(casefields.allowed_ids(KB, f.name))], None)
        return out


    Case = create_model("Case", __base__=CaseBase, __module__=__name__, **_case_fields())


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
        coding_note: Optional[str] = Field(
            default=None, description="how the codes combine when a cause is coded instead of the "
            "patterns (the ICD-10-CM tabular notes), with what else to code")
        disclaimer: str = Field(min_length=1)
        trace: list[TraceEntry] = []


    ListField = Literal[tuple(casefields.LIST_FIELDS)]


    class Asked(BaseModel):
        """What a questionnaire knows beyond the case: the ids it asked about that were answered
        "no" (``absent``) or "not sure" (``unsure``), by case list field. A bare case file has
        none, so a report of it can only list what the case records."""

        model_config = ConfigDict(extra="forbid")

        absent: dict[ListField, list[str]] = {}
        unsure: dict[ListField, list[str]] = {}

        @model_validator(mode="after")
        def _known_ids(self) -> "Asked":
            allowed = {name: casefields.allowed_ids(KB, name) or [] for name in casefields.LIST_FIELDS}
            for group in ("absent", "unsure"):
                for field, ids in getattr(self, group).items():
                    for i in ids:
                        if i not in allowed[field]:
                            raise ValueError(f"{group}.{field}: unknown id {i!r}; allowed: {', '.join(allowed[field])}")
            return self

    return SimpleNamespace(**{k: v for k, v in locals().items() if not k.startswith('_') or k == '_choice'})


_BUILT: dict[int, tuple] = {}  # id(kb) -> (kb, its models); the kb is kept so the id stays its own


def for_kb(kb) -> SimpleNamespace:
    """The models (``Case``, ``Assessment``, ``Asked``, the id types ...) of a knowledge base."""
    built = _BUILT.get(id(kb))
    if built is None or built[0] is not kb:
        built = _BUILT[id(kb)] = (kb, _build(kb))
    return built[1]


def __getattr__(name: str):
    # The default knowledge base's models, built on first use (not at import).
    from triage import knowledge

    models = for_kb(knowledge.default())
    try:
        return getattr(models, name)
    except AttributeError:
        raise AttributeError(name) from None
