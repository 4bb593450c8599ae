"""``assess(case) -> Assessment``: pure, no I/O, no prompts."""

from __future__ import annotations

from typing import Optional, Union

import orjson
from pydantic import BaseModel, ValidationError

from triage import engine as engine_mod
from triage import knowledge as kbase
from triage.errors import CaseError
from triage.models import (
    KB,
    Assessment,
    Candidate,
    Case,
    Code,
    Finding,
    NextStep,
    RedFlagFinding,
    TraceEntry,
)

# The canonical FHIR code system URIs (HL7 Terminology, THO): the knowledge key -> (URI, name).
SYSTEMS = {
    "icd10cm": ("http://hl7.org/fhir/sid/icd-10-cm", "ICD-10-CM"),
    "snomed": ("http://snomed.info/sct", "SNOMED CT"),
    "hpo": ("http://human-phenotype-ontology.org", "HPO"),
}


def case_facts(case: Case) -> list[dict]:
    """The answer facts of a case, one per answer (rules/facts.yaml says which field is which)."""
    facts: list[dict] = []
    for name, field in engine_mod.default().book.case_fields:
        value = getattr(case, field)
        if isinstance(value, list):
            facts += [{"t": name, "v": v} for v in value if v is not None]
        elif value is not None:
            facts.append({"t": name, "v": value})
    return facts


def to_case(data: Union[Case, dict]) -> Case:
    """Validate a case; a problem raises :class:`CaseError` naming the field."""
    if isinstance(data, Case):
        return data
    from triage.validation import describe

    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise CaseError(describe(exc)) from None


def _built(model, **values):
    """A model instance from values that are valid by construction (they come from the
    knowledge base and the rules, both checked at load): what ``model_construct`` does,
    without its per-field bookkeeping. Every field is given, so every field counts as set."""
    return _made(model, values)


def _made(model, values: dict):
    """:func:`_built` from a dict of the values (no keyword call: the trace makes one per firing)."""
    obj = _new(model)
    _set(obj, "__dict__", values)
    _set_fields(obj, set(values))
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


# what BaseModel's own __setattr__ would route: its slots, set through their descriptors
_set = object.__setattr__
_new = object.__new__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _codes(codes, skip: tuple[str, ...] = ()) -> list[Code]:
    """The codes of a type, cause or look-alike; ``display`` is the code's own title. The code
    systems in ``skip`` are left out."""
    out = []
    for key, (system, _name) in SYSTEMS.items():
        value = getattr(codes, key, None)
        if value and key not in skip:
            out.append(_built(Code, system=system, code=value, display=getattr(KB.code_titles, key)[value]))
    return out


def _fields(model) -> dict:
    return model.__dict__


def to_json(assessment: Assessment, indent: bool = False) -> bytes:
    """The assessment as JSON, byte for byte what ``model_dump_json()`` (or ``indent=2``) gives,
    in a quarter of the time (orjson walks the models' fields, which hold plain JSON values in
    their declared order; tests/test_render_identical.py compares the two on every test case)."""
    return orjson.dumps(assessment, default=_fields, option=orjson.OPT_INDENT_2 if indent else 0)


def assess(data: Union[Case, dict]) -> Assessment:
    """Assess one case. Pure: the same case always gives the same assessment."""
    case = to_case(data)
    eng = engine_mod.default()
    run = eng.run(case_facts(case))
    return _assessment(case, run, eng.book)


class _Tables:
    """What every assessment looks up in the knowledge base, gathered once per knowledge base."""

    def __init__(self, kb) -> None:
        self.kb = kb
        self.types, self.causes, self.mimics = kb.by_id("types"), kb.by_id("causes"), kb.by_id("mimics")
        self.care_levels, self.red_flags = kb.by_id("care_levels"), kb.by_id("red_flags")
        self.next_steps = kb.by_id("next_steps")
        self.regions = list(kb.by_id("regions"))
        self.support_rank = {s.id: s.rank for s in kb.support}
        self.order = {name: {item: i for i, item in enumerate(kb.by_id(name))}
                      for name in ("causes", "mimics", "next_steps")}
        self.cause_first = kb.coding.cause_first
        self.disclaimer = kb.text.disclaimer


_tables: Optional[_Tables] = None


def _tables_of(kb) -> _Tables:
    global _tables
    tables = _tables
    if tables is None or tables.kb is not kb:
        tables = _tables = _Tables(kb)
    return tables


def _trace(run, book) -> list[TraceEntry]:
    """One trace entry per firing, from the engine's own records (valid by construction)."""
    heads, made = book.trace_heads, _made
    return [made(TraceEntry, {**heads[f.rule], "matched": f.matched, "concluded": f.concluded})
            for f in run.firings]


def _assessment(case: Case, run, book) -> Assessment:
    """The assessment, built once from the engine's run: every value in it comes from the
    knowledge base or the rules, so no part is validated again."""
    tables = _tables_of(KB)
    types, causes, mimics = tables.types, tables.causes, tables.mimics
    support_rank = tables.support_rank

    support = {f["of"]: f for f in run.of_type("support")}
    cause_ids = [f["v"] for f in run.of_type("cause")]
    # codes.yaml ``coding``: a cause coded instead of the patterns (a drug-induced dystonia)
    # takes the patterns' ICD-10-CM codes away; they keep their HPO phenotype ids.
    coded_by = next((c for c in causes if c in cause_ids and c in tables.cause_first), None)
    skip = ("icd10cm",) if coded_by else ()
    candidates = []
    for fact in run.of_type("candidate"):
        t = types[fact["v"]]
        level = support.get(t.id)
        because = run.because(fact)
        if level:
            because += [r for r in run.because(level) if r not in because]
        candidates.append(_built(
            Candidate, type=t.id, label=t.label, support=level["v"] if level else "possible",
            because=because, description=t.description, codes=_codes(t.codes, skip),
        ))
    # KNOWLEDGE: hemidystonia first, myoclonus-dystonia before the distribution type; the
    # types' rank says so, and support orders candidates of equal rank.
    candidates.sort(key=lambda c: (types[c.type].rank, -support_rank[c.support]))

    def findings(fact_type: str, table: dict) -> list[Finding]:
        out = []
        for fact in run.of_type(fact_type):
            item = table[fact["v"]]
            out.append(_built(Finding, id=item.id, label=item.label, description=item.description,
                              because=run.because(fact), codes=_codes(item.codes)))
        order = tables.order[fact_type + "s"]
        return sorted(out, key=lambda f: order[f.id])

    involved = {f["v"] for f in run.of_type("region")}
    level_fact = run.of_type("care_level")[0]
    level = tables.care_levels[level_fact["v"]]
    flags = tables.red_flags
    next_steps = tables.next_steps
    step_order = tables.order["next_steps"]
    steps = sorted(run.of_type("next_step"), key=lambda f: step_order[f["v"]])
    trace = _trace(run, book)
    return _built(
        Assessment,
        version=1,
        care_level=level.id,
        care_label=level.label,
        care_action=kbase.worded(level.action, case.respondent),
        care_because=run.because(level_fact),
        candidates=candidates,
        causes=findings("cause", causes),
        mimics=findings("mimic", mimics),
        red_flags=[_built(RedFlagFinding, id=f.id, label=f.label, care_level=f.care_level)
                   for f in flags.values() if f.id in case.red_flags],
        next_steps=[_built(NextStep, id=f["v"], text=kbase.worded(next_steps[f["v"]].text, case.respondent),
                           because=run.because(f))
                    for f in steps],
        regions=[r for r in tables.regions if r in involved],
        coding_note=" ".join(tables.cause_first[coded_by].split()) if coded_by else None,
        disclaimer=kbase.worded(tables.disclaimer, case.respondent),
        trace=trace,
    )
