"""The knowledge base: the YAML files in ``knowledge/``, validated strictly at load.

Every file is read into Pydantic models with ``extra="forbid"``; cross-references (a symptom's
regions, a red flag's care level, a source key, ...) are checked after all files are read. A
problem raises :class:`~triage.errors.KnowledgeError` naming the file and the key.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from triage.questionnaire import questions as qmod
from triage import casefields
from triage.errors import KnowledgeError
from triage.paths import knowledge_dir

Id = str


class Strict(BaseModel):
    """Base of every knowledge model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class AudienceText(Strict):
    """Words for each person who may be answering: ``self`` ("you"), ``caregiver`` ("the person
    you care for"), ``clinician`` ("the patient"), ``educator`` ("the person in the case")."""

    self_: str = Field(alias="self", min_length=1)
    caregiver: str = Field(min_length=1)
    clinician: str = Field(min_length=1)
    educator: str = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


# A text that is the same for everyone, or worded for each respondent.
Worded = Union[str, AudienceText]


def worded(text: Worded, respondent: Optional[str]) -> str:
    """The words for ``respondent`` (``None``: the person themselves)."""
    if isinstance(text, str):
        return text
    return text.self_ if respondent in (None, "self") else getattr(text, respondent)


class Choice(Strict):
    """One allowed value of a case field, with the words people read."""

    id: Id
    label: str
    description: Optional[str] = None


class CaseVocabulary(Strict):
    """``case.yaml``: the scalar fields of a case and their allowed values."""

    age_min: int
    age_max: int
    respondent: list[Choice]
    onset: list[Choice]
    course: list[Choice]
    dopamine_blocker: list[Choice]


class Symptom(Strict):
    id: Id
    label: str
    seed: bool
    regions: list[Id]


class Region(Strict):
    id: Id
    label: str
    focal_type: Id
    upper_body: bool
    limb: Optional[Literal["upper", "lower"]] = None
    side: Optional[Literal["left", "right"]] = None
    tremor_site: Optional[Id] = None  # checked against tremor_sites at load


class Contiguity(Strict):
    a: Id
    b: Id
    disputed: bool = False
    note: Optional[str] = None


class Feature(Strict):
    id: Id
    label: str
    hallmark: bool = False


class TremorSite(Strict):
    id: Id
    label: str


class HistoryItem(Strict):
    id: Id
    label: str


class RedFlag(Strict):
    id: Id
    label: str
    care_level: Id
    source: str
    # the sign is itself an involuntary movement or posture (eyes forced upward, spasms that
    # do not stop): it counts as a movement complaint, even when no symptom is ticked
    movement: bool = False


class CareLevel(Strict):
    id: Id
    rank: int
    label: str
    action: Worded
    # an emergency: shown at once, before any other question, and on every page after it
    emergency: bool = False


class Codes(Strict):
    icd10cm: Optional[str] = None
    snomed: Optional[str] = None
    hpo: Optional[str] = None


class DystoniaType(Strict):
    id: Id
    kind: Literal["distribution", "syndrome"]
    rank: int
    label: str
    description: str
    codes: Codes = Codes.model_construct()  # no validator built at import


class Support(Strict):
    id: Id
    rank: int
    label: str


class Mimic(Strict):
    id: Id
    label: str
    description: str
    codes: Codes = Codes.model_construct()  # no validator built at import
    source: str


class Cause(Strict):
    id: Id
    label: str
    description: str
    codes: Codes = Codes.model_construct()  # no validator built at import


class NextStepEntry(Strict):
    """A next step: its words, and (optional) its words on an emergency result, where it comes
    after emergency care."""

    id: Id
    short: str = Field(min_length=1)  # a few words, lower case: "genetic testing"
    text: Worded
    after_emergency: Optional[Worded] = None
    with_reason: bool = False  # the report says why, from the rules behind it


class TreatmentOption(Strict):
    """A treatment a neurologist may discuss (``treatments.yaml``), in plain words.
    ``medicine``: taken by mouth, so the words about the prescriber follow it."""

    id: Id
    label: str = Field(min_length=1)
    text: str = Field(min_length=1)
    medicine: bool = False


class TreatmentEntry(Strict):
    """One option for one candidate type or look-alike, with its source and, optionally,
    when it is considered for that pattern. ``with_step``: the option is listed only when the
    result has this next step (levodopa beside the levodopa trial, which the rules give for an
    early onset only)."""

    option: Id
    source: str
    note: Optional[str] = None
    with_step: Optional[Id] = None


class TreatmentWords(Strict):
    """``treatments.yaml`` ``treatment_words``: the heading and the words around the options."""

    heading: str = Field(min_length=1)
    intro: str = Field(min_length=1)
    for_pattern: str = Field(min_length=1)  # "For {labels}."
    source: str = Field(min_length=1)
    prescriber: Worded


class Service(Strict):
    """A service a clinic may offer (``specialists.yaml``); the clinic directory names these ids."""

    id: Id
    label: str = Field(min_length=1)


class SpecialistNeeds(Strict):
    """Which services a result needs, so that the clinics offering them come first: ``always``
    for every result with a candidate or a look-alike, ``for_types`` for a candidate type, and
    ``never_first`` services that alone never make a clinic the first suggestion."""

    always: list[Id]
    for_types: dict[Id, list[Id]] = {}
    never_first: list[Id] = []


class SpecialistWords(Strict):
    """``specialists.yaml`` ``specialist_words``: the find-a-specialist step's words."""

    heading: str = Field(min_length=1)
    intro: str = Field(min_length=1)
    offer: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    label: str = Field(min_length=1)
    hint: str = Field(min_length=1)
    button: str = Field(min_length=1)
    not_found: str = Field(min_length=1)  # {what}, {suggestions}
    nearest: str = Field(min_length=1)  # {matches}
    ambiguous: str = Field(min_length=1)  # {what}, {matches}: a town in several states
    far: str = Field(min_length=1)  # {distance}: the nearest clinic is far away
    far_miles: int = Field(gt=0)
    no_suggestions: str = Field(min_length=1)
    empty: str = Field(min_length=1)
    near: str = Field(min_length=1)  # {place}
    listed: str = Field(min_length=1)  # {place}: the clinics command
    with_service: str = Field(min_length=1)  # {service}
    none_offer: str = Field(min_length=1)  # {service}
    distance: str = Field(min_length=1)  # {miles}, {km}
    offers: str = Field(min_length=1)
    offers_unknown: str = Field(min_length=1)
    example: str = Field(min_length=1)
    not_stored: str = Field(min_length=1)
    call_first: str = Field(min_length=1)
    limit: int = Field(ge=1, le=20)


class Setting(Strict):
    value: int
    about: str
    source: str


class Source(Strict):
    key: str
    # shown as "(Source: CITATION)": a citation wholly in brackets of its own would be shown in two
    citation: str = Field(min_length=1, pattern=r"^(?:[^(].*|\(.*[^)])$")
    url: Optional[str] = None


class Text(Strict):
    # worded for each respondent: "Please see one" to a patient, "refer the patient" to a nurse
    disclaimer: Worded

    def disclaimer_for(self, respondent: Optional[str] = None) -> str:
        """The disclaimer for ``respondent`` (None: before anyone is known, the patient's)."""
        return worded(self.disclaimer, respondent)

    emergency_first: str
    support_label: dict[str, str]
    nothing_found: str


class About(Strict):
    """``about.yaml``: the knowledge base's own version (MAJOR.MINOR.PATCH)."""

    version: str = Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")
    title: str


CodeSystemKey = Literal["icd10cm", "snomed", "hpo"]


class CodeTitles(Strict):
    """``codes.yaml``: the title of every code used, by code system."""

    icd10cm: dict[str, str] = {}
    snomed: dict[str, str] = {}
    hpo: dict[str, str] = {}


class CodingRules(Strict):
    """``codes.yaml`` ``coding``: how the codes combine (the ICD-10-CM tabular notes).

    ``cause_first``: causes coded instead of the patterns' ICD-10-CM codes, each with the note
    shown beside the codes."""

    cause_first: dict[str, str] = {}


class ReportWords(Strict):
    """``report.yaml`` ``report``: the headings and labels of the appointment report."""

    title: str
    subtitle: str
    date: str
    tool: str
    knowledge: str
    about_heading: str
    answered_by: str
    age: str
    onset_age: str
    not_given: str
    years: str
    care_heading: str
    care_level: str
    what_to_do: str
    red_flags_heading: str
    answers_heading: str
    present: str
    absent: str
    unsure: str
    none_recorded: str
    absent_not_known: str
    topic: str
    answer: str
    candidates_heading: str
    candidates_intro: str
    pattern: str
    match: str
    why: str
    codes: str
    coding_note: str
    coded_by_cause: str
    regions_taken: str
    nothing_found: str
    causes_heading: str
    mimics_heading: str
    next_steps_heading: str
    after_emergency_heading: str
    step_reason: str
    ask_heading: str
    notes_heading: str
    disclaimer_heading: str
    why_skip_layers: list[str] = []
    respondent: dict[str, str]
    topics: dict[str, str]


AskKind = Literal["candidates", "causes", "mimics", "next_steps", "care_levels"]


class AskQuestion(Strict):
    """A question the person may want to ask the neurologist, shown when ``when`` matches;
    worded for whoever answered (``Worded``)."""

    text: Worded
    when: Optional[dict[AskKind, Union[Literal["any"], list[Id]]]] = None
    unless: Optional[dict[AskKind, list[Id]]] = None  # not shown when any of these is in the result


class ChartTerms(Strict):
    """Clinical shorthand for every id, for the nurse summary."""

    respondent: dict[str, str]
    symptoms: dict[str, str]
    regions: dict[str, str]
    features: dict[str, str]
    history: dict[str, str]
    red_flags: dict[str, str]
    onset: dict[str, str]
    course: dict[str, str]
    dopamine_blocker: dict[str, str]
    tremor_sites: dict[str, str]
    types: dict[str, str]
    causes: dict[str, str]
    mimics: dict[str, str]
    next_steps: dict[str, str]
    care_levels: dict[str, str]


class ChartWords(Strict):
    """``report.yaml`` ``chart``: the labels of the nurse summary."""

    title: str
    respondent: str
    age: str
    onset_age: str
    years: str
    not_given: str
    positives: str
    regions: str
    negatives: str
    unsure: str
    red_flags: str
    none: str
    none_reported: str
    care: str
    candidates: str
    causes: str
    mimics: str
    workup: str
    workup_after: str
    because: str
    coding: str
    tool: str
    knowledge: str
    absent_not_known: str
    none_known: str
    others_denied: str
    negation: str
    all_denied: str
    negative_fields: list[Literal[tuple(f.name for f in casefields.FIELDS if f.table and f.name != "respondent")]]  # type: ignore[valid-type]
    terms: ChartTerms


class FhirSettings(Strict):
    """``fhir.yaml``: canonical URLs and names of the FHIR export."""

    base: str = Field(pattern=r"^(https?|urn):[^\s]+[^/\s]$")
    questionnaire_id: str = Field(pattern=r"^[A-Za-z0-9\-.]{1,64}$")
    name: str = Field(pattern=r"^[A-Z][A-Za-z0-9_]{0,254}$")
    publisher: str
    status: Literal["draft", "active", "retired"]
    regions_item_text: str
    questionnaire_version: str = Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")
    audiences: list[Literal["self", "caregiver", "clinician", "educator"]]
    none_display: str = Field(min_length=1)
    units: dict[str, "FhirUnit"]
    risk_probability: dict[str, Literal["negligible", "low", "moderate", "high", "certain"]]
    subject_display: str
    risk_title: str
    flag_category: str
    tool_display: str
    constraint_max_from: str
    constraint_none: str
    cds_hooks: "CdsHooksSettings"
    emergency_answers: list["EmergencyAnswer"] = []


class EmergencyAnswer(Strict):
    """An answer that makes an emergency on its own (see ``fhir.yaml``), shown on the form."""

    rule: str
    question: str
    answer: str
    with_: str = Field(alias="with")
    care_level: str


class FhirUnit(Strict):
    system: str
    code: str
    display: str


class CdsHooksSettings(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9\-]{1,64}$")
    hook: str
    title: str
    description: str
    indicator: dict[str, Literal["info", "warning", "critical"]]
    candidates_heading: str
    next_steps_heading: str
    red_flags_heading: str


class KnowledgeBase(Strict):
    """All of ``knowledge/`` in one object."""

    case: CaseVocabulary
    symptoms: list[Symptom]
    tremor_sites: list[TremorSite]
    regions: list[Region]
    contiguous: list[Contiguity]
    features: list[Feature]
    history: list[HistoryItem]
    red_flags: list[RedFlag]
    care_levels: list[CareLevel]
    types: list[DystoniaType]
    support: list[Support]
    mimics: list[Mimic]
    causes: list[Cause]
    next_steps: list[NextStepEntry]
    settings: dict[str, Setting]
    sources: list[Source]
    text: Text
    sections: list[qmod.Section]
    questions: list[qmod.Question]
    interview: qmod.InterviewText
    about: About
    code_titles: CodeTitles
    coding: CodingRules
    report: ReportWords
    ask_neurologist: list[AskQuestion]
    chart: ChartWords
    fhir: FhirSettings
    treatment_options: list[TreatmentOption]
    treatments: dict[Id, list[TreatmentEntry]]
    treatment_words: TreatmentWords
    services: list[Service]
    specialist_needs: SpecialistNeeds
    specialist_words: SpecialistWords

    _indexes: dict = PrivateAttr(default_factory=dict)

    # -- look-ups -------------------------------------------------------------------------
    def by_id(self, table: str) -> dict[str, BaseModel]:
        """The items of a list table keyed by id (or ``key`` for sources)."""
        index = self._indexes.get(table)
        if index is None:
            index = {getattr(i, "key", None) or i.id: i for i in getattr(self, table)}
            self._indexes[table] = index
        return index

    def attributes(self, table: str, item_id: str) -> dict:
        """An item's attributes as facts carry them: its fields, its position in its table
        (``order``) and, for a region, the regions it touches (``touches``)."""
        key = (table, item_id)
        cached = self._indexes.get(key)
        if cached is None:
            index = self.by_id(table)
            item = index.get(item_id)
            cached = {} if item is None else dict(item)
            if item is not None:
                cached["order"] = list(index).index(item_id)
            if table == "regions" and item is not None:
                cached["touches"] = sorted(
                    {e.b for e in self.contiguous if e.a == item_id}
                    | {e.a for e in self.contiguous if e.b == item_id}
                )
            self._indexes[key] = cached
        return cached

    def setting(self, name: str) -> int:
        return self.settings[name].value

    def ids(self, table: str) -> list[str]:
        return list(self.by_id(table))

    def is_emergency(self, care_level: str) -> bool:
        """Whether a care level is an emergency (``emergency: true`` in care_levels.yaml): the
        one test every front end, report and suggestion uses."""
        level = self.by_id("care_levels").get(care_level)
        return bool(level is not None and level.emergency)  # type: ignore[attr-defined]

    def question(self, question_id: str) -> qmod.Question:
        """A question of ``questions.yaml`` by id."""
        return self.by_id("questions")[question_id]  # type: ignore[return-value]


# --- loading -----------------------------------------------------------------------------

# file -> the top-level keys it holds (a file holding one list has the key of that list)
FILES: dict[str, tuple[str, ...]] = {
    "case.yaml": ("case",),
    "symptoms.yaml": ("symptoms", "tremor_sites"),
    "regions.yaml": ("regions", "contiguous"),
    "features.yaml": ("features", "history"),
    "red_flags.yaml": ("red_flags",),
    "care_levels.yaml": ("care_levels",),
    "types.yaml": ("types", "support"),
    "mimics.yaml": ("mimics",),
    "causes.yaml": ("causes",),
    "next_steps.yaml": ("next_steps",),
    "settings.yaml": ("settings",),
    "sources.yaml": ("sources",),
    "text.yaml": ("text",),
    "questions.yaml": ("sections", "questions", "interview"),
    "about.yaml": ("about",),
    "codes.yaml": ("code_titles", "coding"),
    "report.yaml": ("report", "ask_neurologist", "chart"),
    "fhir.yaml": ("fhir",),
    "treatments.yaml": ("treatment_options", "treatments", "treatment_words"),
    "specialists.yaml": ("services", "specialist_needs", "specialist_words"),
}
OPTIONAL_FILES: dict[str, tuple[str, ...]] = {}

ICD10CM = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-Z]{1,4})?$")
HPO = re.compile(r"^HP:[0-9]{7}$")
SNOMED = re.compile(r"^[0-9]{6,18}$")


def read_yaml(path: Path) -> object:
    """Parse one YAML file; a syntax error names the file and line."""
    import yaml  # only when the knowledge base is read from its files (not from its cache)

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path}: not valid YAML: {exc}") from None


def _describe(exc: ValidationError, file: Path, owner: dict[str, str]) -> str:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        top = str(loc[0]) if loc else ""
        where = owner.get(top, file.name)
        key = ".".join(str(p) for p in loc)
        lines.append(f"{where}: {key}: {err['msg']}")
    return "; ".join(lines)


def load(directory: Path | None = None) -> KnowledgeBase:
    """Read and validate every file of the knowledge base in ``directory``."""
    directory = Path(directory) if directory else knowledge_dir()
    data: dict[str, object] = {}
    owner: dict[str, str] = {}
    for name, keys in {**FILES, **OPTIONAL_FILES}.items():
        path = directory / name
        if name in OPTIONAL_FILES and not path.exists():
            continue
        doc = read_yaml(path)
        if not isinstance(doc, dict):
            raise KnowledgeError(f"{path}: expected a mapping with the keys {', '.join(keys)}")
        extra = sorted(set(doc) - set(keys))
        if extra:
            raise KnowledgeError(
                f"{path}: unknown key {extra[0]!r}; allowed: {', '.join(keys)}"
            )
        for key in keys:
            if key not in doc:
                raise KnowledgeError(f"{path}: missing key {key!r}")
            data[key] = doc[key]
            owner[key] = str(path)
    try:
        kb = KnowledgeBase.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeError(_describe(exc, directory, owner)) from None
    check_references(kb, owner)
    return _with_choice_labels(kb)


def _with_choice_labels(kb: KnowledgeBase) -> KnowledgeBase:
    """Fill each choice's label from the knowledge base's words for the id it sets, so every
    front end reads the same words (a choice may give its own label in questions.yaml)."""
    resolved = []
    for q in kb.questions:
        choices = [c if c.label else c.model_copy(update={"label": qmod.id_label(kb, q.fills, c.ids[0])})
                   for c in q.choices]
        resolved.append(q.model_copy(update={"choices": choices}))
    out = kb.model_copy(update={"questions": resolved})
    out._indexes = {}
    return out


def check_references(kb: KnowledgeBase, owner: dict[str, str]) -> None:
    """Cross-file checks: every reference points at something that exists."""
    problems: list[str] = []

    def where(table: str) -> str:
        return owner.get(table, table)

    for table in ("symptoms", "regions", "features", "history", "red_flags", "care_levels",
                  "types", "support", "mimics", "causes", "next_steps", "sources", "treatment_options",
                  "services"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(kb, table)):
            key = getattr(item, "key", None) or item.id
            if key in seen:
                problems.append(f"{where(table)}: {table}.{i}: duplicate id {key!r}")
            seen.add(key)

    regions = set(kb.ids("regions"))
    types = set(kb.ids("types"))
    levels = set(kb.ids("care_levels"))
    sources = set(kb.ids("sources"))
    for i, s in enumerate(kb.symptoms):
        for r in s.regions:
            if r not in regions:
                problems.append(f"{where('symptoms')}: symptoms.{i}.regions: unknown region {r!r}")
    sites = {t.id for t in kb.tremor_sites}
    for i, region in enumerate(kb.regions):
        if region.tremor_site is not None and region.tremor_site not in sites:
            problems.append(f"{where('regions')}: regions.{i}.tremor_site: unknown tremor site {region.tremor_site!r}; "
                            f"known: {', '.join(sorted(sites))}")
        if region.focal_type not in types:
            problems.append(f"{where('regions')}: regions.{i}.focal_type: unknown type {region.focal_type!r}")
    for i, e in enumerate(kb.contiguous):
        for end in (e.a, e.b):
            if end not in regions:
                problems.append(f"{where('contiguous')}: contiguous.{i}: unknown region {end!r}")
    for i, f in enumerate(kb.red_flags):
        if f.care_level not in levels:
            problems.append(f"{where('red_flags')}: red_flags.{i}.care_level: unknown care level {f.care_level!r}")
        if f.source not in sources:
            problems.append(f"{where('red_flags')}: red_flags.{i}.source: unknown source {f.source!r}")
    for i, m in enumerate(kb.mimics):
        if m.source not in sources:
            problems.append(f"{where('mimics')}: mimics.{i}.source: unknown source {m.source!r}")
    for name, setting in kb.settings.items():
        if setting.source not in sources:
            problems.append(f"{where('settings')}: settings.{name}.source: unknown source {setting.source!r}")
    for label_key in kb.text.support_label:
        if label_key not in set(kb.ids("support")):
            problems.append(f"{where('text')}: text.support_label.{label_key}: unknown support level")
    for table in ("types", "mimics", "causes"):
        for i, item in enumerate(getattr(kb, table)):
            codes = item.codes
            if codes.icd10cm and not ICD10CM.match(codes.icd10cm):
                problems.append(f"{where(table)}: {table}.{i}.codes.icd10cm: malformed code {codes.icd10cm!r}")
            if codes.hpo and not HPO.match(codes.hpo):
                problems.append(f"{where(table)}: {table}.{i}.codes.hpo: malformed id {codes.hpo!r}")
            if codes.snomed and not SNOMED.match(codes.snomed):
                problems.append(f"{where(table)}: {table}.{i}.codes.snomed: malformed id {codes.snomed!r}")
    problems += _treatment_problems(kb, where, sources, types)
    problems += qmod.check(kb, where("questions"))
    problems += _report_problems(kb, where)
    if problems:
        raise KnowledgeError("; ".join(problems))


def _treatment_problems(kb: KnowledgeBase, where, sources: set[str], types: set[str]) -> list[str]:
    """The treatments name only types, look-alikes, options and sources that exist; the
    specialist needs name only services and types that exist. (Whether every type and
    look-alike has treatments is ``check``'s to say.)"""
    problems: list[str] = []
    options = set(kb.ids("treatment_options"))
    patterns = types | set(kb.ids("mimics"))
    at = where("treatments")
    for pattern, entries in kb.treatments.items():
        if pattern not in patterns:
            problems.append(f"{at}: treatments.{pattern}: unknown type or look-alike; known: {', '.join(sorted(patterns))}")
        for i, e in enumerate(entries):
            if e.option not in options:
                problems.append(f"{at}: treatments.{pattern}.{i}.option: unknown treatment option {e.option!r}; "
                                f"known: {', '.join(sorted(options))}")
            if e.source not in sources:
                problems.append(f"{at}: treatments.{pattern}.{i}.source: unknown source {e.source!r}")
            if e.with_step is not None and e.with_step not in kb.ids("next_steps"):
                problems.append(f"{at}: treatments.{pattern}.{i}.with_step: unknown next step {e.with_step!r}; "
                                f"known: {', '.join(kb.ids('next_steps'))}")
    services = set(kb.ids("services"))
    needs, at = kb.specialist_needs, where("specialist_needs")
    named = [("always", s) for s in needs.always] + [("never_first", s) for s in needs.never_first]
    named += [(f"for_types.{t}", s) for t, ss in needs.for_types.items() for s in ss]
    for key, service in named:
        if service not in services:
            problems.append(f"{at}: specialist_needs.{key}: unknown service {service!r}; known: {', '.join(sorted(services))}")
    for t in needs.for_types:
        if t not in types:
            problems.append(f"{at}: specialist_needs.for_types.{t}: unknown type")
    return problems


def _report_problems(kb: KnowledgeBase, where) -> list[str]:
    """The report data names only ids that exist, and gives words for every id it must."""
    problems: list[str] = []

    def exactly(label: str, got: dict, expected: list[str]) -> None:
        for key in expected:
            if key not in got:
                problems.append(f"{label}: missing {key!r}")
        for key in got:
            if key not in expected:
                problems.append(f"{label}: unknown id {key!r}; allowed: {', '.join(expected)}")

    case_ids = {name: casefields.allowed_ids(kb, name) or [] for name in casefields.SCALAR_FIELDS}
    tables: dict[str, list[str]] = {
        **case_ids,
        **{name: casefields.allowed_ids(kb, name) or [] for name in casefields.LIST_FIELDS},
        "types": kb.ids("types"), "causes": kb.ids("causes"),
        "mimics": kb.ids("mimics"), "next_steps": kb.ids("next_steps"),
        "care_levels": kb.ids("care_levels"),
    }
    report, chart = where("report"), where("chart")
    exactly(f"{report}: report.respondent", kb.report.respondent, case_ids["respondent"])
    exactly(f"{report}: report.topics", kb.report.topics,
            [f.name for f in casefields.FIELDS if f.table and f.name != "respondent"])
    for name in ChartTerms.model_fields:
        exactly(f"{chart}: chart.terms.{name}", getattr(kb.chart.terms, name), tables[name])
    kinds = {"candidates": tables["types"], "causes": tables["causes"], "mimics": tables["mimics"],
             "next_steps": tables["next_steps"], "care_levels": tables["care_levels"]}
    for i, q in enumerate(kb.ask_neurologist):
        for key, tests in (("when", q.when), ("unless", q.unless)):
            for kind, ids in (tests or {}).items():
                for item in ([] if ids == "any" else ids):
                    if item not in kinds[kind]:
                        problems.append(f"{where('ask_neurologist')}: ask_neurologist.{i}.{key}.{kind}: "
                                        f"unknown id {item!r}")
    for table in ("types", "mimics", "causes"):
        for i, item in enumerate(getattr(kb, table)):
            for system in CodeTitles.model_fields:
                code = getattr(item.codes, system)
                if code and code not in getattr(kb.code_titles, system):
                    problems.append(f"{where(table)}: {table}.{i}.codes.{system}: {code!r} has no title "
                                    f"in {where('code_titles')} (code_titles.{system})")
    problems += _fhir_problems(kb, where)
    return problems


def _fhir_problems(kb: KnowledgeBase, where) -> list[str]:
    """The coding rules and the FHIR settings name only ids that exist, and cover every one."""
    problems: list[str] = []
    causes = kb.by_id("causes")
    for cause in kb.coding.cause_first:
        if cause not in causes:
            problems.append(f"{where('coding')}: coding.cause_first.{cause}: unknown cause; "
                            f"causes: {', '.join(causes)}")
        elif not causes[cause].codes.icd10cm:  # type: ignore[attr-defined]
            problems.append(f"{where('coding')}: coding.cause_first.{cause}: the cause has no ICD-10-CM code")
    fhir = where("fhir")
    levels = kb.by_id("care_levels")
    indicator = kb.fhir.cds_hooks.indicator
    for level in levels:
        if level not in indicator:
            problems.append(f"{fhir}: fhir.cds_hooks.indicator: missing care level {level!r}")
    for level, value in indicator.items():
        if level not in levels:
            problems.append(f"{fhir}: fhir.cds_hooks.indicator.{level}: unknown care level")
        elif levels[level].emergency and value != "critical":  # type: ignore[attr-defined]
            problems.append(f"{fhir}: fhir.cds_hooks.indicator.{level}: an emergency care level's card "
                            f"is critical, not {value!r}")
    for support in kb.ids("support"):
        if support not in kb.fhir.risk_probability:
            problems.append(f"{fhir}: fhir.risk_probability: missing support level {support!r}")
    for key in kb.fhir.risk_probability:
        if key not in kb.ids("support"):
            problems.append(f"{fhir}: fhir.risk_probability.{key}: unknown support level")
    for q in kb.questions:
        if q.unit and q.unit not in kb.fhir.units:
            problems.append(f"{fhir}: fhir.units: no UCUM code for {q.unit!r} (questions.yaml {q.id}.unit)")
    questions = {q.id: q for q in kb.questions}
    for i, e in enumerate(kb.fhir.emergency_answers):
        at = f"{fhir}: fhir.emergency_answers.{i}"
        asked = questions.get(e.question)
        if asked is None or asked.kind != "one_of":
            problems.append(f"{at}.question: {e.question!r} is not a one-of question of questions.yaml")
        elif e.answer not in [c.id for c in asked.choices]:
            problems.append(f"{at}.answer: {e.answer!r} is not a choice of {e.question}; choices: "
                            f"{', '.join(c.id for c in asked.choices)}")
        if e.with_ not in questions:
            problems.append(f"{at}.with: {e.with_!r} is not a question of questions.yaml")
        if e.care_level not in levels or not levels[e.care_level].emergency:  # type: ignore[attr-defined]
            problems.append(f"{at}.care_level: {e.care_level!r} is not an emergency care level")
    return problems


def fingerprint() -> str:
    """A short hash of the knowledge base and the rules as installed (every YAML file's bytes),
    shown on reports beside ``about.version`` so that two copies can be told apart."""
    return _fingerprint()


@functools.lru_cache(maxsize=1)
def _fingerprint() -> str:
    import hashlib

    from triage.paths import rules_dir

    digest = hashlib.sha256()
    for folder in (knowledge_dir(), rules_dir()):
        for path in sorted(folder.glob("*.yaml")):
            digest.update(f"{folder.name}/{path.name}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def default() -> KnowledgeBase:
    """The project's own knowledge base, loaded once per process (from its validated cache
    when the files have not changed: see :mod:`triage.kbcache`)."""
    from triage import kbcache

    return kbcache.load_default()
